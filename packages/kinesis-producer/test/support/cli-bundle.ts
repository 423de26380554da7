import { build } from 'esbuild';
import path from 'node:path';

/**
 * Bundle the CLI from source into one file, so each of the kill test's many child
 * processes starts in a fraction of the time tsx needs (and tests never depend on a stale dist/).
 */
export async function bundleCli(outDir: string): Promise<string> {
  const outfile = path.join(outDir, 'batchline-producer.mjs');
  await build({
    entryPoints: [path.join(import.meta.dirname, '..', '..', 'src', 'cli.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    outfile,
    logLevel: 'warning',
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  return outfile;
}
