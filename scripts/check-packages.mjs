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
const versions = new Map();
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
  versions.set(pkg.name, pkg.version);
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

// The first release is 0.1.0: packages sit at 0.0.0 until then, so the pending changesets (patch or minor, never
// major) must take every unreleased package to exactly 0.1.0. Checked with changesets' own release plan.
const statusFile = path.join(tmpdir(), `batchline-changeset-status-${process.pid}.json`);
try {
  console.log('\n> changeset status: the first release of each package is 0.1.0');
  execFileSync(bin('changeset'), ['status', '--output', statusFile], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const plan = JSON.parse(readFileSync(statusFile, 'utf8'));
  for (const name of published) {
    const release = plan.releases.find((r) => r.name === name);
    if (versions.get(name) !== '0.0.0') continue; // released before: any bump is fine
    if (release?.newVersion === '0.1.0') console.log(`  ${name}: 0.0.0 -> 0.1.0 ok`);
    else {
      failures++;
      console.error(
        `FAILED: ${name} would be released as ${JSON.stringify(release?.newVersion ?? 'nothing')}, want "0.1.0": ` +
          'an unreleased package needs a minor changeset and no major one',
      );
    }
  }
} catch (err) {
  failures++;
  console.error(`FAILED: changeset status: ${err.message}`);
} finally {
  rmSync(statusFile, { force: true });
}

console.log(`\ncheck-packages: ${published.length} packages, ${failures} failure(s)`);
process.exit(failures === 0 ? 0 : 1);
