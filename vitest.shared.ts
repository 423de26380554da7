import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { defineConfig, type Plugin } from 'vitest/config';

const root = import.meta.dirname;

/** Tests import sibling packages from source, so a change is visible without a rebuild. */
function workspaceAliases(): Record<string, string> {
  const aliases: Record<string, string> = {};
  for (const dir of readdirSync(path.join(root, 'packages'))) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(root, 'packages', dir, 'package.json'), 'utf8')) as { name: string };
      aliases[pkg.name] = path.join(root, 'packages', dir, 'src', 'index.ts');
    } catch {
      // not a package folder
    }
  }
  return aliases;
}

/** `.sql` files load as text, as tsup's text loader does in the build. */
function sqlAsText(): Plugin {
  return {
    name: 'batchline-sql-as-text',
    enforce: 'pre',
    load(id) {
      if (!id.endsWith('.sql')) return null;
      return `export default ${JSON.stringify(readFileSync(id, 'utf8'))};`;
    },
  };
}

export function packageTests(packageDir: string) {
  // The tests run on the `node` devDependency (Node 22), which npm puts first on PATH; fail loudly on an older Node.
  if (Number(process.versions.node.split('.')[0]) < 22) {
    throw new Error(
      `batchline tests need Node >= 22, but this is ${process.version} (${process.execPath}): run them through npm ` +
        '(`npm test`, `npx vitest run`), which puts node_modules/.bin/node first on PATH',
    );
  }
  return defineConfig({
    plugins: [sqlAsText()],
    resolve: { alias: workspaceAliases() },
    test: {
      root: packageDir,
      include: ['test/**/*.test.ts'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      pool: 'forks',
      // The JSON report feeds scripts/test-summary.mjs, which prints one total line for the whole repository.
      reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    },
  });
}
