#!/usr/bin/env node
// `npm start`: build what is not built yet (Nx cache), quietly unless it fails, then run the demo.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
process.stderr.write('batchline: building the packages (cached after the first run)...\n');
const build = spawnSync(path.join(root, 'node_modules', '.bin', 'nx'), ['run-many', '-t', 'build', '--output-style=static'], {
  cwd: root,
  encoding: 'utf8',
  env: { ...process.env, NX_DAEMON: 'false' },
});
if (build.status !== 0) {
  process.stderr.write(`${build.stdout ?? ''}${build.stderr ?? ''}\nbatchline: the build failed (output above)\n`);
  process.exit(build.status ?? 1);
}
const demo = spawnSync(process.execPath, [path.join(root, 'packages', 'pipeline', 'dist', 'cli.js'), 'demo', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(demo.status ?? 1);
