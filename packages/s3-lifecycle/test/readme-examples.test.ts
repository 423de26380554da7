// Every code block of README.md, run or checked as written (see test-support/readme-examples.ts).
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { type CodeBlock, readmeBlocks, runExample, unclaimedBlocks } from '../../../test-support/readme-examples.js';

const packageDir = path.resolve(import.meta.dirname, '..');
const repoDir = path.resolve(packageDir, '..', '..');
const blocks = readmeBlocks(path.join(packageDir, 'README.md'));
const claimed = new Set<CodeBlock>();
const scratch = path.join(packageDir, 'test-results', 'readme');
const ts = blocks.filter((b) => b.lang === 'ts');
const usage = ts.find((b) => b.heading === 'Usage')!;

it('the S3 usage example (first block under "Usage") is run by readme-example-exits.test.ts, which needs it to exit by itself', () => {
  claimed.add(usage);
  // That test extracts the first ```ts block after "## Usage"; make sure it is this one and that it uses S3.
  const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');
  expect(/```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## Usage')))?.[1]).toBe(usage.code);
  expect(usage.code).toContain("openObjectStore('s3://");
});

it.each(ts.filter((b) => b !== usage && !b.code.startsWith('interface ')).map((b) => [b.line, b] as const))(
  'the example at line %i runs and exits 0 by itself',
  async (line, block) => {
    claimed.add(block);
    const cwd = path.join(scratch, `line-${line}`);
    rmSync(cwd, { recursive: true, force: true });
    mkdirSync(cwd, { recursive: true });
    const run = await runExample(block, { dir: scratch, cwd, env: { AWS_REGION: 'us-east-1' } });
    expect({ code: run.code, signal: run.signal, stderr: run.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  },
);

it('the ObjectStore interface in the README names the same members as the port (src/object-store.ts)', () => {
  const block = ts.find((b) => b.code.startsWith('interface ObjectStore'))!;
  claimed.add(block);
  const members = (text: string) => [...text.matchAll(/^\s*(?:readonly )?([a-zA-Z]+)\??[(:]/gm)].map((m) => m[1]).sort();
  const port = readFileSync(path.join(packageDir, 'src', 'object-store.ts'), 'utf8');
  const body = /export interface ObjectStore \{([\s\S]*?)\n\}/.exec(port)![1]!.replace(/\/\*\*[\s\S]*?\*\//g, '');
  expect(members(block.code).filter((m) => m !== 'interface')).toEqual(members(body));
});

it('the manifest example is valid JSON with the manifest fields', () => {
  const block = blocks.find((b) => b.lang === 'json')!;
  claimed.add(block);
  const manifest = JSON.parse(block.code) as Record<string, unknown>;
  expect(Object.keys(manifest)).toEqual(expect.arrayContaining(['version', 'entity', 'batchId', 'state', 'files', 'transitions', 'bytes']));
});

it('the install line names this package (scripts/check-packages.mjs installs its packed tarball)', () => {
  const block = blocks.find((b) => b.lang === 'sh' && b.code.startsWith('npm install'))!;
  claimed.add(block);
  expect(block.code.trim()).toBe('npm install @batchline/s3-lifecycle');
});

it('the benchmark commands name scripts that exist (the benchmark itself is not a test: it runs for minutes)', () => {
  const block = blocks.find((b) => b.lang === 'sh' && b.code.includes('bench/'))!;
  claimed.add(block);
  for (const script of block.code.match(/bench\/[\w.-]+\.ts/g) ?? []) expect(existsSync(path.join(repoDir, script)), script).toBe(true);
});

it('no README block goes unchecked', () => {
  expect(unclaimedBlocks(blocks, claimed)).toEqual([]);
});
