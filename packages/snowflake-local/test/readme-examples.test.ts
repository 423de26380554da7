// Every code block of README.md, run or checked as written (see test-support/readme-examples.ts): the examples start
// the server from the built package, in a process of their own, and must exit by themselves.
import path from 'node:path';
import { expect, it } from 'vitest';
import { type CodeBlock, readmeBlocks, runExample, unclaimedBlocks } from '../../../test-support/readme-examples.js';

const packageDir = path.resolve(import.meta.dirname, '..');
const blocks = readmeBlocks(path.join(packageDir, 'README.md'));
const claimed = new Set<CodeBlock>();
const scratch = path.join(packageDir, 'test-results', 'readme');

it.each(blocks.filter((b) => b.lang === 'ts').map((b) => [b.line, b] as const))('the example at line %i runs and exits 0 by itself', async (_line, block) => {
  claimed.add(block);
  const run = await runExample(block, { dir: scratch, env: { SNOWFLAKE_LOG_LEVEL: 'ERROR' } });
  expect({ code: run.code, signal: run.signal }, run.stderr).toEqual({ code: 0, signal: null });
});

it('the COPY INTO grammar lists the options the server accepts', () => {
  const block = blocks.find((b) => b.lang === '' && b.code.startsWith('COPY INTO'))!;
  claimed.add(block);
  for (const option of ['FILES', 'PATTERN', 'FILE_FORMAT', 'ON_ERROR', 'FORCE', 'VALIDATION_MODE']) expect(block.code).toContain(option);
});

it('no README block goes unchecked', () => {
  expect(unclaimedBlocks(blocks, claimed)).toEqual([]);
});
