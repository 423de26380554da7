import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Options } from 'tsup';

/**
 * One build recipe for every package: the library entry as ESM (.js, .d.ts) and, unless `esmOnly`, as
 * CommonJS (.cjs, .d.cts); any CLI entry as ESM only (a bin needs one format).
 * `.sql` files are embedded as text so the published package carries the statements from the repository's
 * sql/ folder without reading files at run time.
 *
 * The CommonJS build bundles the dependencies that ship ESM only (p-map, ...): `require()` of them from a
 * CJS wrapper breaks at run time (the interop wraps Node's require(esm) namespace a second time), while
 * bundled they are plain CommonJS. Their licence notices go into the bundle's banner.
 */
const PRIVATE_BUNDLED = '@batchline/cli-kit';

export function packageBuild(opts: {
  entry: string[];
  esmOnly: boolean;
  /** Further library entry points (name -> source), e.g. a subpath export; ESM only, sharing chunks with the main one. */
  subpaths?: Record<string, string>;
  splitBins?: boolean;
}): Options[] {
  const [lib, ...bins] = opts.entry;
  const packageDir = process.cwd();
  // Cleaned here, once, before tsup starts its builds in parallel (tsup's own `clean` would race between them).
  rmSync(path.join(packageDir, 'dist'), { recursive: true, force: true });
  const common: Options = {
    // The bins' shared command-line convention is a private workspace package: bundled, never a dependency.
    noExternal: [PRIVATE_BUNDLED],
    target: 'node22',
    platform: 'node',
    sourcemap: true,
    loader: { '.sql': 'text' },
    splitting: false,
    clean: false,
  };
  const subpaths = opts.subpaths ?? {};
  // Split into chunks: a module the code loads with `await import()` (an adapter, a subpath's code) stays in its own
  // chunk, with its dependencies, instead of being inlined with its imports hoisted to the top of the entry.
  // (The CommonJS build needs no chunks: esbuild already runs such a module's require() calls only when it loads.)
  const builds: Options[] = [{ ...common, entry: { index: lib!, ...subpaths }, format: ['esm'], dts: true, splitting: true }];
  if (!opts.esmOnly) {
    const bundled = esmOnlyDependencies(packageDir);
    builds.push({
      ...common,
      entry: [lib!],
      format: ['cjs'],
      dts: true,
      noExternal: [PRIVATE_BUNDLED, ...bundled],
      // Code that needs its own location reads `import.meta.url ?? __filename`: an empty import.meta is expected here.
      esbuildOptions: (options) => {
        options.logOverride = { ...options.logOverride, 'empty-import-meta': 'silent' };
      },
      ...(bundled.length > 0 ? { banner: { js: licenceNotice(packageDir, bundled) } } : {}),
    });
  }
  if (bins.length > 0) builds.push({ ...common, entry: bins, format: ['esm'], dts: false, splitting: opts.splitBins ?? false });
  return builds;
}

/** The package's dependencies that `require()` cannot load as CommonJS: no `require` export, or an ES module file. */
export function esmOnlyDependencies(packageDir: string): string[] {
  const pkg = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const require = createRequire(path.join(packageDir, 'package.json'));
  return Object.keys(pkg.dependencies ?? {}).filter((name) => {
    let file: string;
    try {
      file = require.resolve(name);
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ERR_PACKAGE_PATH_NOT_EXPORTED';
    }
    if (file.endsWith('.mjs')) return true;
    if (!file.endsWith('.js')) return false;
    const owner = nearestPackageJson(file);
    return owner !== undefined && (JSON.parse(readFileSync(owner, 'utf8')) as { type?: string }).type === 'module';
  });
}

function nearestPackageJson(file: string): string | undefined {
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'package.json');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** A banner comment carrying the name, version and licence text of each bundled package (MIT and the like require it). */
function licenceNotice(packageDir: string, names: string[]): string {
  const require = createRequire(path.join(packageDir, 'package.json'));
  const parts = names.map((name) => {
    const pkgFile = nearestPackageJson(require.resolve(name))!;
    const dir = path.dirname(pkgFile);
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string; license?: string };
    const licenceFile = readdirSync(dir).find((f) => /^licen[cs]e(\.md|\.txt)?$/i.test(f));
    const text = licenceFile ? readFileSync(path.join(dir, licenceFile), 'utf8').trim() : `License: ${pkg.license ?? 'see package'}`;
    return `${name}@${pkg.version} (${pkg.license ?? 'unknown licence'}), bundled into this CommonJS build:\n\n${text}`;
  });
  return `/*!\n${parts.join('\n\n').replaceAll('*/', '* /')}\n*/`;
}
