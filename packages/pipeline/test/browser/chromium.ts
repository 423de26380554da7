import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where Debian's `chromium` package puts its binary, and the names it is found under on PATH. */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The system Chromium: $BATCHLINE_CHROMIUM if set, else Debian's binary, else `chromium` on PATH. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const wanted = env['BATCHLINE_CHROMIUM'];
  if (wanted) return executable(wanted) ? wanted : undefined;
  for (const file of CANDIDATES) if (executable(file)) return file;
  for (const dir of (env['PATH'] ?? '').split(path.delimiter)) {
    if (dir && executable(path.join(dir, 'chromium'))) return path.join(dir, 'chromium');
  }
  return undefined;
}

export type ChromiumResult = { readonly path: string } | { readonly error: string };

/**
 * Find Chromium, or install Debian's `chromium` package when it is missing and we are root with apt-get
 * (a fresh CI machine). Quiet: apt's output is shown only when it fails. Idempotent: a present binary
 * costs one stat. Never throws, so a machine without a browser still runs every other test; the
 * browser test fails with the reason.
 */
export async function ensureChromium(env: NodeJS.ProcessEnv = process.env): Promise<ChromiumResult> {
  const found = findChromium(env);
  if (found) return { path: found };
  if (env['BATCHLINE_CHROMIUM']) return { error: `BATCHLINE_CHROMIUM=${JSON.stringify(env['BATCHLINE_CHROMIUM'])} is not an executable file` };
  const aptGet = ['/usr/bin/apt-get', '/bin/apt-get'].find(executable);
  if (!aptGet || process.getuid?.() !== 0) {
    return { error: 'Chromium is missing: install Debian\'s package (apt-get install chromium, as root) or set BATCHLINE_CHROMIUM to a Chromium binary' };
  }
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  // Waits for another apt/dpkg (e.g. unattended upgrades) instead of failing on its lock.
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  try {
    await run(aptGet, ['-qq', ...lock, 'update'], { env: aptEnv, maxBuffer: 64 * 1024 * 1024 });
    await run(aptGet, ['-qq', '-y', ...lock, 'install', '--no-install-recommends', 'chromium', 'fonts-dejavu-core'], {
      env: aptEnv,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    return { error: `apt-get could not install chromium: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
  const installed = findChromium(env);
  return installed ? { path: installed } : { error: 'apt-get installed chromium, but no chromium binary was found afterwards' };
}
