import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The test target depends on the build, so these tests run the bin users get.
export const bin = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
if (!existsSync(bin)) throw new Error(`${bin} is missing: build first (npx tsup in packages/pipeline, or nx run @batchline/pipeline:build)`);

/** The environment a child gets: ours without anything that would switch on GitHub Actions output or test hooks. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('GITHUB_') || k.startsWith('ACTIONS_') || k.startsWith('BATCHLINE_') || k === 'RUNNER_TEMP') continue;
    env[k] = v;
  }
  // Tests land their files and run at once: the files are complete, nothing needs to settle.
  return { ...env, BATCHLINE_SETTLE_SECONDS: '0', ...extra };
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function startCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): { child: ChildProcess; done: Promise<CliResult>; stderrSoFar: () => string } {
  const child = spawn(process.execPath, [bin, ...args], { cwd: options.cwd, env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done, stderrSoFar: () => stderr };
}

export function runCli(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<CliResult> {
  return startCli(args, options).done;
}

/** Every file under `dir`, as relative paths, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/**
 * The object store's content that must not depend on how a run got there: every data key,
 * and each manifest's state and pinned files (not its timestamps). Leases are left out.
 */
export async function storeSnapshot(bucket: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const rel of await listFiles(bucket)) {
    const key = rel.split(path.sep).join('/');
    if (key.startsWith('_batchline/leases/')) continue;
    if (key.startsWith('_batchline/manifests/')) {
      const m = JSON.parse(await readFile(path.join(bucket, rel), 'utf8')) as { state: string; files: unknown };
      out[key] = { state: m.state, files: m.files };
    } else if (!key.split('/').some((segment) => segment.startsWith('.'))) {
      // Dot-segments are the filesystem adapter's temp files (a put killed mid-write leaves one): not objects.
      out[key] = (await readFile(path.join(bucket, rel))).length;
    }
  }
  return out;
}

/** Run `fn` over `items` with at most `limit` at a time. */
export async function inPool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
