// README examples are tests: each package's test/readme-examples.test.ts runs every code block of its README
// as written (TypeScript/JavaScript in a process of its own, against the built packages, as an installed user
// would run it; commands through the package's bins; data blocks parsed and validated), and fails when a block
// is not claimed by any check, so a new example cannot go untested.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface CodeBlock {
  /** The info string: ts, js, sh, json, yaml, ... ('' for none). */
  readonly lang: string;
  readonly code: string;
  /** 1-based line of the opening fence, for messages. */
  readonly line: number;
  /** The nearest heading above the block. */
  readonly heading: string;
}

export function readmeBlocks(readmeFile: string): CodeBlock[] {
  const lines = readFileSync(readmeFile, 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^#{1,6} /.test(line)) heading = line.replace(/^#+ /, '');
    const fence = /^```(\S*)\s*$/.exec(line);
    if (!fence) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    blocks.push({ lang: fence[1]!, code: `${body.join('\n')}\n`, line: start + 1, heading });
  }
  return blocks;
}

/** Which check covers each block: a block no check claims makes the test fail with its line. */
export function unclaimedBlocks(blocks: readonly CodeBlock[], claimed: ReadonlySet<CodeBlock>): string[] {
  return blocks.filter((b) => !claimed.has(b)).map((b) => `line ${b.line} (\`\`\`${b.lang}, under "${b.heading}"): ${b.code.split('\n')[0]}`);
}

export interface ExampleRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Run a TypeScript or JavaScript block, unchanged, as an ES module in a process of its own (tsx), from a file in
 * `dir` (so `@batchline/*` and other packages resolve from there, to what `npm install` would give: the built
 * dist/). It must exit by itself: `timeoutMs` only bounds a hang.
 */
export async function runExample(
  block: CodeBlock,
  options: { dir: string; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<ExampleRun> {
  mkdirSync(options.dir, { recursive: true });
  const file = path.join(options.dir, `readme-line-${block.line}.mts`);
  writeFileSync(file, block.code);
  const tsx = path.resolve(import.meta.dirname, '..', 'node_modules', 'tsx', 'dist', 'cli.mjs');
  // Nx forces colour on its tasks; a pasted example prints plain text, so compare with that.
  const { FORCE_COLOR: _forcedColour, ...inherited } = process.env;
  const child = spawn(process.execPath, [tsx, file], {
    cwd: options.cwd ?? options.dir,
    env: { ...inherited, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const hung = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 50_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  clearTimeout(hung);
  return { code, signal, stdout, stderr };
}
