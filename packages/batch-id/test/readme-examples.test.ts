// Every code block of README.md, run as written (see test-support/readme-examples.ts).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { type CodeBlock, readmeBlocks, runExample, unclaimedBlocks } from '../../../test-support/readme-examples.js';

const packageDir = path.resolve(import.meta.dirname, '..');
const blocks = readmeBlocks(path.join(packageDir, 'README.md'));
const claimed = new Set<CodeBlock>();
const scratch = path.join(packageDir, 'test-results', 'readme');

it.each(blocks.filter((b) => b.lang === 'ts').map((b) => [b.line, b] as const))('the TypeScript example at line %i runs and exits 0', async (_line, block) => {
  claimed.add(block);
  const run = await runExample(block, { dir: scratch, env: { BATCH: '20261126T0315' } });
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
});

it('every command of the bin example exits 0, and a commented id is what it prints', () => {
  const block = blocks.find((b) => b.lang === 'sh' && b.code.includes('npx @batchline/batch-id'))!;
  claimed.add(block);
  for (const line of block.code.trim().split('\n')) {
    const [command, comment = ''] = line.split(/\s+#\s+/);
    const out = execFileSync('sh', ['-c', command!], { cwd: packageDir, encoding: 'utf8' }).trim();
    const promised = /^(\d{8}T\d{4})$/.exec(comment.trim())?.[1];
    if (promised) expect(out, command).toBe(promised);
  }
});

it('the install line names this package (scripts/check-packages.mjs installs its packed tarball)', () => {
  const block = blocks.find((b) => b.lang === 'sh' && b.code.startsWith('npm install'))!;
  claimed.add(block);
  expect(block.code.trim()).toBe('npm install @batchline/batch-id');
});

it('no README block goes unchecked', () => {
  expect(unclaimedBlocks(blocks, claimed)).toEqual([]);
});
