import type { Options } from 'tsup';

/**
 * One build recipe for every package: the library entry as ESM + CJS with
 * .d.ts/.d.cts, and any CLI entry as ESM only (a bin needs one format).
 * `.sql` files are embedded as text so the published package carries the
 * statements from the repository's sql/ folder without reading files at run time.
 */
export function packageBuild(opts: { entry: string[]; esmOnly: boolean }): Options[] {
  const [lib, ...bins] = opts.entry;
  const common: Options = {
    target: 'node22',
    platform: 'node',
    sourcemap: true,
    loader: { '.sql': 'text' },
    splitting: false,
  };
  const builds: Options[] = [
    { ...common, entry: [lib!], format: opts.esmOnly ? ['esm'] : ['esm', 'cjs'], dts: true, clean: true },
  ];
  if (bins.length > 0) builds.push({ ...common, entry: bins, format: ['esm'], dts: false, clean: false });
  return builds;
}
