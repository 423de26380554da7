// The command-line convention of the four batchline bins (batchline, batchline-producer,
// batchline-warehouse, batch-id), in one place. This private package is never published: tsup bundles it into
// each bin's build (see tsup.shared.ts), so the tarballs carry it without depending on it.
// commander parses; `-V, --version` and `-h, --help` everywhere; exit 0 done, 1 the work failed, 2 usage or
// configuration, 75 busy elsewhere, 130/143 after SIGINT/SIGTERM; a stack trace only with --verbose or DEBUG;
// a closed stdout (`bin --help | head -1`) is not a crash.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';

export const EXIT = { ok: 0, failed: 1, usage: 2, busy: 75, sigint: 130, sigterm: 143 } as const;

/**
 * The version in the package's own package.json, found upwards from the calling module (`from`: its
 * `import.meta.url`, or `__filename` in a CommonJS build), in src/ and dist/ alike.
 */
export function packageVersion(name: string, from: string | undefined): string {
  if (!from) return '0.0.0-unknown';
  let dir = path.dirname(from.startsWith('file:') ? fileURLToPath(from) : from);
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name && pkg.version) return pkg.version;
    } catch {
      // not here: look one level up
    }
    dir = path.dirname(dir);
  }
  return '0.0.0-unknown';
}

/** Escape what a terminal would act on: control characters other than newline and tab, C1, line separators, bidi overrides. */
export function terminalSafe(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** commander's error messages quote the bad argument as given: keep them to one line, escaped. */
export function oneLineSafe(text: string): string {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  return `${terminalSafe(body).replace(/\r?\n/g, '\\n')}\n`;
}

/** --verbose anywhere on the command line, or DEBUG set in the environment. */
export function wantsStack(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return argv.includes('--verbose') || (env['DEBUG'] !== undefined && env['DEBUG'] !== '' && env['DEBUG'] !== '0');
}

/** The exit code an error asks for through its `exitCode` (1 when it names none). */
export function exitCodeOf(error: unknown): number {
  const code = typeof error === 'object' && error !== null ? (error as { exitCode?: unknown }).exitCode : undefined;
  return code === 2 || code === 75 ? code : 1;
}

/**
 * commander's own outcomes: `--help` and `--version` are done (0); everything else it refuses
 * (unknown option, missing argument, no command given: help on stderr) is bad usage (2).
 */
export function commanderExitCode(error: unknown): number | undefined {
  if (!(error instanceof CommanderError)) return undefined;
  return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
}

/** Print a failure the convention's way and return the exit code to use. */
export function reportFailure(bin: string, error: unknown, io: { readonly stderr: (text: string) => void; readonly stack: boolean }): number {
  const fromCommander = commanderExitCode(error);
  if (fromCommander !== undefined) return fromCommander;
  const e = error instanceof Error ? error : new Error(String(error));
  io.stderr(`${bin}: ${terminalSafe(e.message)}\n`);
  if (io.stack && e.stack) io.stderr(`${terminalSafe(e.stack)}\n`);
  return exitCodeOf(error);
}

/** `bin --help | head -1` closes the pipe early: that is the reader's choice, so finish quietly. */
export function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok);
      throw error;
    });
  }
}
