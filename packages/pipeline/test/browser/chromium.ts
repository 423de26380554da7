import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where Debian's `chromium` package puts its binary. */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
/** Used only when Debian's package cannot be installed (e.g. GitHub's Ubuntu runners ship Google Chrome). */
const FALLBACKS = ['/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

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
 * Find Chromium, or install Debian's `chromium` package when it is missing and we are root (or have
 * passwordless sudo) with apt-get (a fresh CI machine); failing that, a preinstalled Google Chrome. Quiet: apt's output is shown only when it fails. Idempotent: a present binary
 * costs one stat. Never throws, so a machine without a browser still runs every other test; the
 * browser test fails with the reason.
 */
export async function ensureChromium(env: NodeJS.ProcessEnv = process.env): Promise<ChromiumResult> {
  const found = findChromium(env);
  if (found) return { path: found };
  if (env['BATCHLINE_CHROMIUM']) return { error: `BATCHLINE_CHROMIUM=${JSON.stringify(env['BATCHLINE_CHROMIUM'])} is not an executable file` };
  const installed = await aptInstall(env);
  if ('path' in installed) return installed;
  const fallback = FALLBACKS.find(executable);
  return fallback ? { path: fallback } : installed;
}

/** `apt-get install chromium` as root, or through passwordless sudo; quiet unless it fails. */
async function aptInstall(env: NodeJS.ProcessEnv): Promise<ChromiumResult> {
  const aptGet = ['/usr/bin/apt-get', '/bin/apt-get'].find(executable);
  const root = process.getuid?.() === 0;
  const sudo = !root && executable('/usr/bin/sudo') && (await run('/usr/bin/sudo', ['-n', 'true']).then(() => true, () => false));
  if (!aptGet || (!root && !sudo)) {
    return { error: "Chromium is missing: install Debian's package (apt-get install chromium, as root) or set BATCHLINE_CHROMIUM to a Chromium binary" };
  }
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  // Waits for another apt/dpkg (e.g. unattended upgrades) instead of failing on its lock.
  const args = (...rest: string[]) => (sudo ? ['-n', 'env', 'DEBIAN_FRONTEND=noninteractive', aptGet, ...rest] : rest);
  const cmd = sudo ? '/usr/bin/sudo' : aptGet;
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  try {
    await run(cmd, args('-qq', ...lock, 'update'), { env: aptEnv, maxBuffer: 64 * 1024 * 1024 });
    await run(cmd, args('-qq', '-y', ...lock, 'install', '--no-install-recommends', 'chromium', 'fonts-dejavu-core'), { env: aptEnv, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    return { error: `apt-get could not install chromium: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
  const installed = findChromium(env);
  return installed ? { path: installed } : { error: 'apt-get installed chromium, but no chromium binary was found afterwards' };
}
