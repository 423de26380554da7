#!/usr/bin/env node
// Checks what users install, not what the workspace sees: for every published package,
// publint and Are The Types Wrong on the packed tarball; then @batchline/batch-id is packed,
// installed into an empty project, and used through import, require and its bin.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: 'inherit', ...opts });

let failures = 0;
const published = [];
for (const dir of readdirSync(path.join(root, 'packages')).sort()) {
  const pkgDir = path.join(root, 'packages', dir);
  let pkg;
  try {
    pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  } catch {
    continue;
  }
  if (pkg.private) continue;
  published.push(pkg.name);
  // A package without a `require` condition ships ESM only (documented in its README).
  const esmOnly = !JSON.stringify(pkg.exports ?? {}).includes('"require"');
  for (const [tool, args] of [
    ['publint', ['--strict', pkgDir]],
    ['attw', ['--pack', pkgDir, '--format', 'table-flipped', ...(esmOnly ? ['--profile', 'esm-only'] : [])]],
  ]) {
    try {
      console.log(`\n> ${tool} ${pkg.name}`);
      run(bin(tool), args);
    } catch {
      failures++;
      console.error(`FAILED: ${tool} ${pkg.name}`);
    }
  }
}

// Install the packed batch-id into an empty project, as another team would.
const work = mkdtempSync(path.join(tmpdir(), 'batchline-pack-'));
try {
  console.log('\n> npm pack @batchline/batch-id into an empty project');
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], {
    cwd: path.join(root, 'packages', 'batch-id'),
    encoding: 'utf8',
  }).trim().split('\n').pop();
  writeFileSync(path.join(work, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  run('npm', ['install', '--silent', '--no-audit', '--no-fund', '--prefer-offline', path.join(work, packed)], { cwd: work });
  const esm = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', "import { batchIdForSchedule } from '@batchline/batch-id'; console.log(batchIdForSchedule('*/15 * * * *', new Date('2026-11-26T03:17:00Z')))"],
    { cwd: work, encoding: 'utf8' },
  ).trim();
  const cjs = execFileSync(
    process.execPath,
    ['-e', "const { isBatchId } = require('@batchline/batch-id'); console.log(isBatchId('20261126T0315'), isBatchId('../x'))"],
    { cwd: work, encoding: 'utf8' },
  ).trim();
  const cli = execFileSync(path.join(work, 'node_modules', '.bin', 'batch-id'), ['--cron', '0 * * * *', '--at', '2026-11-26T03:17:00Z'], {
    cwd: work,
    encoding: 'utf8',
  }).trim();
  const checks = [
    ['import', esm, '20261126T0315'],
    ['require', cjs, 'true false'],
    ['bin', cli, '20261126T0300'],
  ];
  for (const [how, got, want] of checks) {
    if (got === want) console.log(`  ${how}: ok (${got})`);
    else {
      failures++;
      console.error(`FAILED: batch-id via ${how}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    }
  }
} catch (err) {
  failures++;
  console.error(`FAILED: packed batch-id install: ${err.message}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

console.log(`\ncheck-packages: ${published.length} packages, ${failures} failure(s)`);
process.exit(failures === 0 ? 0 : 1);
