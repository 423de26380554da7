#!/usr/bin/env node
// Checks what users install, not what the workspace sees:
// 1. publint and Are The Types Wrong on every published package;
// 2. every tarball carries LICENSE, README.md and its dist/ (and no src/ or test/);
// 3. all tarballs installed into an empty project (with the optional peer @duckdb/node-api, without the optional
//    peer snowflake-sdk, which must then be named when a snowflake:// warehouse connects), then one real call per package through `import` AND through `require`: a batch id, a claim
//    and archive on a file store, a load and transform on DuckDB, a producer drain into a directory
//    (scripts/package-smoke.cjs); the pipeline's runBatch through `import`; every bin;
// 4. the pending changesets release every unreleased package as exactly 0.1.0.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { installInto, packAll, publishedPackages, root } from './packed-install.mjs';

const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: 'inherit', ...opts });

let failures = 0;
function expectEqual(what, got, want) {
  if (got === want) console.log(`  ${what}: ok (${got})`);
  else {
    failures++;
    console.error(`FAILED: ${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }
}

const published = publishedPackages();

// 1. publint, attw
for (const { name, dir, pkg } of published) {
  // A package without a `require` condition ships ESM only (documented in its README).
  const esmOnly = !JSON.stringify(pkg.exports ?? {}).includes('"require"');
  for (const [tool, args] of [
    ['publint', ['--strict', dir]],
    ['attw', ['--pack', dir, '--format', 'table-flipped', ...(esmOnly ? ['--profile', 'esm-only'] : [])]],
  ]) {
    try {
      console.log(`\n> ${tool} ${name}`);
      run(bin(tool), args);
    } catch {
      failures++;
      console.error(`FAILED: ${tool} ${name}`);
    }
  }
}

// The figures the smoke calls must print, worked out here from their input, not from the packages.
const { ORDERS, CUSTOMERS } = createRequire(import.meta.url)('./package-smoke.cjs');
function expectedCalls() {
  const orders = ORDERS.trim().split('\n').map((line) => line.split(','));
  const customers = new Set(CUSTOMERS.trim().split('\n').map((line) => line.split(',')[0]));
  const fulfilled = orders.filter((o) => o[2] === 'F');
  const customerDays = new Set(fulfilled.filter((o) => customers.has(o[1])).map((o) => `${o[1]} ${o[4]}`));
  const slot = new Date('2026-11-26T03:17:00Z');
  slot.setUTCMinutes(Math.floor(slot.getUTCMinutes() / 15) * 15); // the */15 slot at or before 03:17
  const id = slot.toISOString().replace(/[-:]/g, '').slice(0, 13); // YYYYMMDDTHHMM
  const records = ORDERS.trim().split('\n').length + CUSTOMERS.trim().split('\n').length;
  const calls = {
    batchId: `${id} true false`,
    claimed: `2 files, ${Buffer.byteLength(ORDERS) + Buffer.byteLength(CUSTOMERS)} bytes`,
    warehouse: `${records} rows loaded, ${customerDays.size} curated, ${fulfilled.length} fulfilled`,
    archived: 'archived 1',
    s3Store: 's3://smoke-bucket/prefix/',
    producer: `${Buffer.byteLength(ORDERS)} bytes landed, same as the records: true`,
    snowflakeWithoutDriver:
      'WarehouseConfigError: snowflake:// needs the optional peer dependency snowflake-sdk: ' +
      `npm install snowflake-sdk@${published.find((p) => p.name === '@batchline/snowflake-loader').pkg.peerDependencies['snowflake-sdk']}`,
  };
  return { calls, curatedRows: customerDays.size };
}

const work = mkdtempSync(path.join(tmpdir(), 'batchline-pack-'));
try {
  // 2. what is in each tarball
  console.log('\n> npm pack every published package');
  const packed = packAll(published, work);
  for (const { name } of published) {
    const files = packed.get(name).files;
    const missing = ['LICENSE', 'README.md', 'package.json'].filter((f) => !files.includes(f));
    const stray = files.filter((f) => /^(src|test)\//.test(f));
    if (!files.some((f) => f.startsWith('dist/'))) missing.push('dist/');
    if (readFileSync(path.join(root, 'LICENSE'), 'utf8') !== readFileSync(path.join(published.find((p) => p.name === name).dir, 'LICENSE'), 'utf8')) {
      missing.push('LICENSE identical to the repository root LICENSE');
    }
    // A README link that leaves the package points at nothing once installed: it must be an absolute URL.
    const readme = readFileSync(path.join(published.find((p) => p.name === name).dir, 'README.md'), 'utf8');
    for (const [, target] of readme.matchAll(/\]\((\.\.\/[^)]*)\)/g)) missing.push(`README link ${target} (outside the package: use the repository URL)`);
    if (missing.length === 0 && stray.length === 0) console.log(`  ${name}: LICENSE, README.md, dist/ (${files.length} files)`);
    else {
      failures++;
      console.error(`FAILED: ${name} tarball: missing ${JSON.stringify(missing)}, should not ship ${JSON.stringify(stray)}`);
    }
  }

  // 3. install them all into an empty project, as another team would
  const project = path.join(work, 'consumer');
  mkdirSync(project);
  const loader = published.find((p) => p.name === '@batchline/snowflake-loader').pkg;
  const duckdb = `@duckdb/node-api@${loader.peerDependencies['@duckdb/node-api']}`;
  console.log(`\n> npm install <${published.length} tarballs> ${duckdb} into an empty project`);
  installInto(project, [...[...packed.values()].map((p) => p.tarball), duckdb]);
  copyFileSync(path.join(root, 'scripts', 'package-smoke.cjs'), path.join(project, 'package-smoke.cjs'));
  writeFileSync(path.join(project, 'via-import.mjs'), "import smoke from './package-smoke.cjs';\nawait smoke.main((name) => import(name));\n");
  writeFileSync(path.join(project, 'via-require.cjs'), "require('./package-smoke.cjs').main(async (name) => require(name));\n");
  const want = expectedCalls();
  for (const [how, file] of [
    ['import', 'via-import.mjs'],
    ['require', 'via-require.cjs'],
  ]) {
    try {
      const got = JSON.parse(execFileSync(process.execPath, [file], { cwd: project, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
      for (const key of Object.keys(want.calls)) expectEqual(`${key} via ${how}`, got[key], want.calls[key]);
    } catch (err) {
      failures++;
      console.error(`FAILED: the calls via ${how}: ${err.message}`);
    }
  }

  // The pipeline (ESM only): one whole run of a batch on a file store and DuckDB.
  try {
    const script = `
      import { mkdirSync, writeFileSync } from 'node:fs';
      import { pathToFileURL } from 'node:url';
      import { runBatch } from '@batchline/pipeline';
      import smoke from './package-smoke.cjs';
      const dir = process.argv[1];
      for (const [entity, body] of [['orders', smoke.ORDERS], ['customers', smoke.CUSTOMERS]]) {
        const landing = dir + '/store/' + entity + '/landing/2026/11/26/03';
        mkdirSync(landing, { recursive: true });
        writeFileSync(landing + '/' + entity + '-1-2026-11-26-03-10-00-x', body);
      }
      const report = await runBatch({ store: pathToFileURL(dir + '/store').href, warehouse: 'duckdb://' + dir + '/w.duckdb', batchId: '20261126T0315', settleSeconds: 0 });
      console.log(report.status, report.curated.rows);`;
    const runDir = path.join(work, 'pipeline-run');
    const got = execFileSync(process.execPath, ['--input-type=module', '-e', script, runDir], { cwd: project, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    expectEqual('pipeline runBatch via import', got.split('\n').pop(), `succeeded ${want.curatedRows}`);
  } catch (err) {
    failures++;
    console.error(`FAILED: pipeline runBatch via import: ${err.message}`);
  }

  // Every bin, from node_modules/.bin of the consumer.
  const bins = [
    ['batch-id', ['--cron', '0 * * * *', '--at', '2026-11-26T03:17:00Z'], '20261126T0300'],
    ...published.flatMap(({ pkg }) => Object.keys(pkg.bin ?? {}).map((name) => [name, ['--version'], pkg.version])),
  ];
  for (const [name, args, wanted] of bins) {
    try {
      const got = execFileSync(path.join(project, 'node_modules', '.bin', name), args, { cwd: project, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
      expectEqual(`bin ${name} ${args.join(' ')}`, got, wanted);
    } catch (err) {
      failures++;
      console.error(`FAILED: bin ${name}: ${err.message}`);
    }
  }
} catch (err) {
  failures++;
  console.error(`FAILED: packed install: ${err.message}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

// 4. The first release is 0.1.0: packages sit at 0.0.0 until then, so the pending changesets (patch or minor, never
// major) must take every unreleased package to exactly 0.1.0. Checked with changesets' own release plan.
const statusFile = path.join(tmpdir(), `batchline-changeset-status-${process.pid}.json`);
try {
  console.log('\n> changeset status: the first release of each package is 0.1.0');
  execFileSync(bin('changeset'), ['status', '--output', statusFile], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const plan = JSON.parse(readFileSync(statusFile, 'utf8'));
  for (const { name, pkg } of published) {
    if (pkg.version !== '0.0.0') continue; // released before: any bump is fine
    const release = plan.releases.find((r) => r.name === name);
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
