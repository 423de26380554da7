// Every code block of README.md, run or checked as written (see test-support/readme-examples.ts). The examples
// run against the built packages and a real DuckDB file, from a scratch directory holding a landing batch.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { expect, it } from 'vitest';
import { type CodeBlock, readmeBlocks, runExample, unclaimedBlocks } from '../../../test-support/readme-examples.js';

const packageDir = path.resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { name: string; peerDependencies: Record<string, string> };
const blocks = readmeBlocks(path.join(packageDir, 'README.md'));
const claimed = new Set<CodeBlock>();
const scratch = path.join(packageDir, 'test-results', 'readme');
const cwd = path.join(scratch, 'project');
const block = (heading: string, lang: string) => {
  const found = blocks.find((b) => b.heading === heading && b.lang === lang);
  if (!found) throw new Error(`README.md has no \`\`\`${lang} block under "${heading}"`);
  claimed.add(found);
  return found;
};
const ok = { code: 0, signal: null, stderr: '' };

// The batch the examples load: the sample records of the "Input files" section, as Firehose objects in landing/.
const ORDERS = '1,7,F,100.50,2026-11-26,1-URGENT,Clerk#000000001,0,first order\n2,8,O,20.00,2026-11-26,2-HIGH,Clerk#000000002,0,open\n';
const CUSTOMERS = '7,Customer#000000007,Some street,3,25-989-741-2988,711.56,BUILDING,a customer\n';

it('the install block names this package and the peers at the ranges package.json declares', () => {
  const lines = block('Install', 'sh').code.trim().split('\n').map((l) => l.split('#')[0]!.trim());
  expect(lines).toEqual([
    `npm install ${pkg.name}`,
    `npm install @duckdb/node-api@${pkg.peerDependencies['@duckdb/node-api']}`,
    `npm install snowflake-sdk@${pkg.peerDependencies['snowflake-sdk']}`,
  ]);
  const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');
  expect(readme).toContain(`1,7,F,100.50,2026-11-26,1-URGENT,Clerk#000000001,0,first order`); // the sample used below
});

it('the DuckDB example loads and transforms the landing batch, then the replay example reloads it from processed/', async () => {
  rmSync(cwd, { recursive: true, force: true });
  for (const [entity, body] of [['orders', ORDERS], ['customers', CUSTOMERS]] as const) {
    const dir = path.join(cwd, '.batchline', 'store', entity, 'landing', '2026', '11', '26', '03');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${entity}-1-2026-11-26-03-10-00-0b5e3c52`), body);
  }
  const first = await runExample(block('Embedded DuckDB', 'ts'), { dir: scratch, cwd });
  expect({ code: first.code, signal: first.signal, stderr: first.stderr }).toEqual(ok);
  const lines = (text: string) => text.trim().split('\n').length;
  expect(first.stdout.split(' ').slice(0, 2)).toEqual([String(lines(ORDERS)), String(lines(CUSTOMERS))]);
  expect(first.stdout).toContain('curatedRows: 1'); // customer 7 on 2026-11-26; order 2 is open, not counted

  const archive: CodeBlock = {
    lang: 'ts',
    line: 0,
    heading: '(test: archive the batch)',
    code: "import { createBatchLifecycle, openObjectStore } from '@batchline/s3-lifecycle';\nconst store = openObjectStore('file://./.batchline/store');\nawait createBatchLifecycle(store).archive('orders', '20261126T0315');\nawait store.close();\n",
  };
  expect(await runExample(archive, { dir: scratch, cwd })).toMatchObject({ code: 0, stderr: '' });
  const replay = await runExample(block('Replaying an archived batch', 'ts'), { dir: scratch, cwd });
  expect({ code: replay.code, signal: replay.signal, stderr: replay.stderr }).toEqual(ok);
  expect(replay.stdout.trim()).toBe(String(lines(ORDERS)));
});

it('the command block: the duckdb setup and both print-setup commands run (the snowflake:// setup needs an account)', () => {
  const commands = block('The command', 'sh').code.replace(/\\\n\s*/g, '').trim().split('\n');
  const bin = path.join(packageDir, 'bin', 'batchline-warehouse.js');
  for (const command of commands) {
    if (command.includes('snowflake://')) continue; // a real Snowflake account: not available to tests
    const args = command.replace(/#.*$/, '').trim().split(/\s+/).slice(1).map((a) => a.replace(/^'(.*)'$/, '$1'));
    const out = execFileSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8' });
    if (args[0] === 'print-setup') expect(out, command).toMatch(/CREATE/);
  }
});

it('the workflow is valid YAML that grants id-token: write and runs load-batch.mjs', () => {
  const workflow = parse(block('Snowflake, from GitHub Actions with workload identity (no stored secret)', 'yaml').code) as {
    permissions: Record<string, string>;
    jobs: Record<string, { steps: Array<{ run?: string }> }>;
  };
  expect(workflow.permissions['id-token']).toBe('write');
  expect(workflow.jobs['batch']!.steps.some((s) => s.run?.includes('node load-batch.mjs'))).toBe(true);
});

it('load-batch.mjs is valid JavaScript (it runs only in GitHub Actions, against Snowflake)', () => {
  const js = block('Snowflake, from GitHub Actions with workload identity (no stored secret)', 'js');
  mkdirSync(scratch, { recursive: true });
  const file = path.join(scratch, 'load-batch.mjs');
  writeFileSync(file, js.code);
  execFileSync(process.execPath, ['--check', file]);
});

it('no README block goes unchecked', () => {
  expect(unclaimedBlocks(blocks, claimed)).toEqual([]);
});
