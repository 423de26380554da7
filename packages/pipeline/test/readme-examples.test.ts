// Every code block of README.md, run or checked as written (see test-support/readme-examples.ts). Commands run
// through the bins and the library example against the built packages, from scratch directories; S3 is the
// in-process test server on 127.0.0.1 (AWS_ENDPOINT_URL_S3), with credentials generated for the run.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TASK_NAMES, parseConfig } from '../src/index.js';
import { type CodeBlock, readmeBlocks, runExample, unclaimedBlocks } from '../../../test-support/readme-examples.js';
import { type S3Server, startS3Server, useGeneratedCredentials } from '../../s3-lifecycle/test/support/s3-server.js';

const packageDir = path.resolve(import.meta.dirname, '..');
const blocks = readmeBlocks(path.join(packageDir, 'README.md'));
const claimed = new Set<CodeBlock>();
const scratch = path.join(packageDir, 'test-results', 'readme');
const find = (test: (b: CodeBlock) => boolean, what: string) => {
  const found = blocks.find(test);
  if (!found) throw new Error(`README.md has no ${what}`);
  claimed.add(found);
  return found;
};
function freshDir(name: string): string {
  const dir = path.join(scratch, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

let server: S3Server;
beforeAll(async () => {
  useGeneratedCredentials();
  server = await startS3Server();
});
afterAll(async () => {
  await server?.close();
});

it('the task diagram names the seven tasks', () => {
  const diagram = find((b) => b.lang === '' && b.code.includes('transform'), 'task diagram');
  for (const task of TASK_NAMES) expect(diagram.code, task).toContain(task);
});

it('the install line names this package (scripts/check-packages.mjs installs its packed tarball)', () => {
  expect(find((b) => b.lang === 'sh' && b.code.startsWith('npm install'), 'install line').code.split('#')[0]!.trim()).toBe('npm install @batchline/pipeline');
});

it('the local commands of the usage block run in an empty project (through the bin npx finds): run, run --batch, replay --batch', () => {
  const block = find((b) => b.heading === 'Usage' && b.lang === 'sh', 'usage commands');
  const commands = block.code.trim().split('\n').map((l) => l.replace(/\s+#.*$/, '').trim());
  // demo: run by e2e.test.ts; setup/doctor --firehose need an account; status [...] shows an optional flag;
  // produce follows its files until stopped (see produce.test.ts).
  const local = commands.filter((c) => /^npx batchline (run|replay)\b/.test(c));
  expect(local).toHaveLength(3);
  const bin = path.join(packageDir, 'bin', 'batchline.js');
  // The current slot in a project of its own (an older batch after a newer one is refused by design: see "The
  // sequence"); then run --batch and replay --batch of that batch, in that order, in another.
  const currentSlot = freshDir('usage-now');
  const givenBatch = freshDir('usage-batch');
  for (const command of local) {
    const args = command.split(/\s+/).slice(2);
    const cwd = args.includes('--batch') ? givenBatch : currentSlot;
    const out = execFileSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, BATCHLINE_CONFIG: '' } });
    expect(out, command).toContain('succeeded');
  }
});

it('the config file example is a valid configuration', () => {
  const block = find((b) => b.lang === 'json' && b.heading === 'Configuration', 'config example');
  const config = parseConfig(JSON.parse(block.code), 'README.md');
  expect(config.store).toBe('s3://acme-data/firehose-root');
});

it('the library example runs a batch on S3 (the local test server) and DuckDB, and exits by itself', async () => {
  const block = find((b) => b.heading === 'Library API' && b.lang === 'ts', 'library example');
  // The bucket and a landed batch: one order of a known customer (S3 PUTs are atomic: nothing to settle).
  expect((await fetch(`${server.endpoint}/acme-data`, { method: 'PUT' })).ok).toBe(true);
  const landing = 'firehose-root/firehose/';
  server.direct.put('acme-data', `${landing}orders/landing/2026/11/26/03/orders-1-2026-11-26-03-10-00-a`, Buffer.from('1,7,F,100.50,2026-11-26,1-URGENT,Clerk#1,0,x\n'));
  server.direct.put('acme-data', `${landing}customers/landing/2026/11/26/03/customers-1-2026-11-26-03-10-00-b`, Buffer.from('7,Customer#7,street,3,25-1,1.00,BUILDING,x\n'));
  const cwd = freshDir('library');
  const run = await runExample(block, {
    dir: scratch,
    cwd,
    env: {
      AWS_ENDPOINT_URL_S3: server.endpoint,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY,
      AWS_REGION: 'us-east-1',
    },
  });
  expect({ code: run.code, signal: run.signal }, run.stderr).toEqual({ code: 0, signal: null });
  expect(run.stdout).toContain('succeeded');
  expect(run.stdout).toContain('rows: 1'); // report.curated: customer 7 on 2026-11-26
  expect(server.direct.etags('acme-data', `${landing}orders/processed/20261126T0315/`).size).toBe(1);
  expect(readFileSync(path.join(packageDir, 'README.md'), 'utf8')).toContain("store: 's3://acme-data/firehose-root'");
});

it('no README block goes unchecked', () => {
  expect(unclaimedBlocks(blocks, claimed)).toEqual([]);
});
