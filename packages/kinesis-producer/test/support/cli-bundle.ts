import { build, type Plugin } from 'esbuild';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The package loads the Firehose SDK lazily through createRequire, which a bundler cannot follow, and
 * the bundle lives in a temporary directory from which the SDK cannot be resolved: for the tests'
 * bundle, turn that lazy require into a plain one, so esbuild bundles the SDK as before.
 */
const bundleLazySdk: Plugin = {
  name: 'bundle-lazy-firehose-sdk',
  setup(b) {
    b.onLoad({ filter: /[\\/]sinks[\\/]firehose[\\/][^\\/]+\.ts$/ }, async (args) => ({
      contents: (await readFile(args.path, 'utf8')).replace(/\brequireSdk\(/g, 'require('),
      loader: 'ts',
    }));
  },
};

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
    plugins: [bundleLazySdk],
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  return outfile;
}
