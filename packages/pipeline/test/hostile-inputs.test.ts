// Issue 11: hostile inputs and interrupts, table-driven, against the built `batchline` bin (and the other
// three bins where the input is theirs). Every case asserts the exit code, that the message names the
// offending value, and that the store and the warehouse are unchanged, or consistent after a rerun.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchIdForSchedule } from '@batchline/batch-id';
import { createBatchLifecycle, openObjectStore } from '@batchline/s3-lifecycle';
import { demoDataset } from '../src/demo.js';
import { toCsv } from '../src/sample-data.js';
import { type CliResult, cleanEnv, runCli, startCli, storeSnapshot } from './cli-helpers.js';
import { dumpWarehouse } from './helpers.js';

const BATCH = '20260101T0000';
const data = demoDataset(0.001);
const require = createRequire(import.meta.url);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'batchline-hostile-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Workspace {
  readonly root: string;
  readonly bucket: string;
  readonly store: string;
  readonly duck: string;
  readonly warehouse: string;
  readonly flags: string[];
  readonly env: Record<string, string>;
}

/** A store with one landing file per entity (as Firehose delivers them) and a warehouse path not made yet. */
async function workspace(name: string, options: { gzipOrders?: Buffer } = {}): Promise<Workspace> {
  const root = path.join(dir, name.replace(/[^a-z0-9]+/gi, '-'));
  const bucket = path.join(root, 'bucket');
  const store = pathToFileURL(bucket).href;
  const duck = path.join(root, 'w.duckdb');
  const lifecycle = createBatchLifecycle(openObjectStore(store));
  await lifecycle.store.put(`${lifecycle.landingPrefix('orders')}2026/01/01/00/orders-1`, options.gzipOrders ?? toCsv('orders', data.batch1.orders));
  await lifecycle.store.put(`${lifecycle.landingPrefix('customers')}2026/01/01/00/customers-1`, toCsv('customers', data.batch1.customers));
  // Files written a moment ago are complete here: no settling wait.
  return { root, bucket, store, duck, warehouse: `duckdb://${duck}`, flags: ['--store', store, '--warehouse', `duckdb://${duck}`], env: { BATCHLINE_SETTLE_SECONDS: '0' } };
}

/**
 * Every file under the workspace with a hash of its bytes: "unchanged" means byte for byte, leases, locks
 * and the store's capability probe aside (a run refused after taking its lease leaves it released:
 * bookkeeping, not content).
 */
async function tree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  if (!existsSync(root)) return out;
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const file = path.join(e.parentPath, e.name);
    const rel = path.relative(root, file);
    if (/_batchline[\\/](leases|store-checks)[\\/]/.test(rel) || rel.includes('.batchline-locks')) continue;
    out[rel] = createHash('sha1').update(await readFile(file)).digest('hex');
  }
  return out;
}

/** What a clean run of the workspace's batch leaves: store objects and warehouse tables. */
let clean: { store: Record<string, unknown>; tables: Record<string, string[]> } | undefined;
async function cleanRun(): Promise<NonNullable<typeof clean>> {
  if (clean) return clean;
  const ws = await workspace('clean');
  const r = await runCli(['run', '--batch', BATCH, ...ws.flags], { cwd: ws.root, env: ws.env });
  expect(r.code, r.stderr).toBe(0);
  clean = { store: await storeSnapshot(ws.bucket), tables: await dumpWarehouse(ws.duck) };
  return clean;
}

async function expectConsistentAfterRerun(ws: Workspace): Promise<void> {
  const rerun = await runCli(['run', '--batch', BATCH, ...ws.flags], { cwd: ws.root, env: ws.env });
  expect(rerun.code, rerun.stderr).toBe(0);
  const want = await cleanRun();
  expect(await storeSnapshot(ws.bucket)).toEqual(want.store);
  expect(await dumpWarehouse(ws.duck)).toEqual(want.tables);
  expect(await readdir(path.join(ws.bucket, '.batchline-tmp')).catch(() => [])).toEqual([]);
}

function expectClean(r: CliResult): void {
  // Untrusted values are escaped: no raw ESC, no stack trace without --verbose.
  expect(r.stderr).not.toContain('\u001b');
  expect(r.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
}

interface Case {
  readonly name: string;
  readonly args: (ws: Workspace) => string[];
  readonly env?: (ws: Workspace) => Record<string, string>;
  readonly prepare?: (ws: Workspace) => Promise<void>;
  readonly code: number;
  /** Text the message must contain: the offending value, as the message quotes it. */
  readonly names: (ws: Workspace) => string;
  /** What the message must also say (the expectation). */
  readonly says?: RegExp;
  /** Default: the workspace is unchanged byte for byte. */
  readonly after?: 'unchanged' | 'rerun';
  readonly stdout?: (ws: Workspace) => string;
}

const run = (ws: Workspace, ...more: string[]) => ['run', '--batch', BATCH, ...ws.flags, ...more];
const badBatchIds = ["2026'; DROP TABLE x; --", '../x', '', '20261301T0000', '20261126T0315/../../etc', '\u001b[31m20261126T0315\nINFO ok'];

const CASES: Case[] = [
  // --batch: refused while parsing, before any file, store or warehouse is touched.
  ...badBatchIds.map(
    (value): Case => ({
      name: `run --batch ${JSON.stringify(value)}`,
      args: (ws) => ['run', '--batch', value, ...ws.flags],
      code: 2,
      names: () => `Invalid batch id ${JSON.stringify(value)}`,
      says: /expected YYYYMMDDTHHMM in UTC/,
    }),
  ),
  { name: 'status --batch with ESC and newline', args: (ws) => ['status', '--batch', '\u001b]0;owned\u0007x\ny', ...ws.flags], code: 2, names: () => 'Invalid batch id "\\u001b]0;owned\\u0007x\\ny"' },
  // Instants and crons.
  { name: 'plan --at 2026-02-30T00:00Z', args: () => ['plan', '--at', '2026-02-30T00:00Z'], code: 2, names: () => '"2026-02-30T00:00Z"', says: /is not a date on the calendar/ },
  { name: 'plan --at without a zone', args: () => ['plan', '--at', '2026-11-26T03:17'], code: 2, names: () => '"2026-11-26T03:17"', says: /expected an ISO-8601 instant with a zone/ },
  { name: 'plan --at 24:00', args: () => ['plan', '--at', '2026-11-26T24:00Z'], code: 2, names: () => '"2026-11-26T24:00Z"', says: /is not a time of day/ },
  { name: 'plan --cron with minute 61', args: () => ['plan', '--cron', '61 * * * *'], code: 2, names: () => '"61 * * * *"', says: /expected five fields/ },
  { name: 'plan --cron with six fields', args: () => ['plan', '--cron', '0 */5 * * * *'], code: 2, names: () => '"0 */5 * * * *"', says: /has 6 fields/ },
  ...['5 * * * *', '30 2 * * *', '0 6 * * 1', '10,40 * * * *'].map(
    (cron): Case => ({
      name: `plan --cron ${JSON.stringify(cron)} (an ordinary schedule is accepted)`,
      args: () => ['plan', '--cron', cron, '--at', '2026-11-26T03:01:00Z'],
      code: 0,
      names: () => '',
      stdout: () => `${batchIdForSchedule(cron, new Date('2026-11-26T03:01:00Z'))}\n`,
    }),
  ),
  // Configuration: environment, file.
  { name: 'BATCHLINE_LEASE_SECONDS=-5', args: (ws) => run(ws), env: () => ({ BATCHLINE_LEASE_SECONDS: '-5' }), code: 2, names: () => 'leaseSeconds (BATCHLINE_LEASE_SECONDS)', says: />=10; got "-5"/ },
  { name: 'BATCHLINE_CONCURRENCY=lots', args: (ws) => run(ws), env: () => ({ BATCHLINE_CONCURRENCY: 'lots' }), code: 2, names: () => 'got "lots"', says: /concurrency \(BATCHLINE_CONCURRENCY\)/ },
  { name: 'BATCHLINE_ON_ERROR=ignore', args: (ws) => run(ws), env: () => ({ BATCHLINE_ON_ERROR: 'ignore' }), code: 2, names: () => 'got "ignore"', says: /onError \(BATCHLINE_ON_ERROR\)/ },
  { name: 'BATCHLINE_CRON=* * *', args: () => ['plan'], env: () => ({ BATCHLINE_CRON: '* * *' }), code: 2, names: () => '"* * *"', says: /cron \(BATCHLINE_CRON\)/ },
  {
    name: 'config file that is not JSON',
    args: (ws) => ['plan', '--config', path.join(ws.root, 'bad.json')],
    prepare: async (ws) => writeFile(path.join(ws.root, 'bad.json'), '{ store: nope'),
    code: 2,
    names: (ws) => JSON.stringify(path.join(ws.root, 'bad.json')),
    says: /is not valid JSON/,
  },
  {
    name: 'config file with an unknown key',
    args: (ws) => ['plan', '--config', path.join(ws.root, 'bad.json')],
    prepare: async (ws) => writeFile(path.join(ws.root, 'bad.json'), JSON.stringify({ stroe: 'file://x' })),
    code: 2,
    names: () => 'stroe',
    says: /Unrecognized key/,
  },
  { name: '--config naming a missing file', args: (ws) => ['plan', '--config', path.join(ws.root, 'missing.json')], code: 2, names: (ws) => JSON.stringify(path.join(ws.root, 'missing.json')), says: /not found/ },
  {
    name: '--config naming a directory',
    args: (ws) => ['plan', '--config', path.join(ws.root, 'conf.d')],
    prepare: async (ws) => mkdir(path.join(ws.root, 'conf.d')),
    code: 2,
    names: (ws) => JSON.stringify(path.join(ws.root, 'conf.d')),
    says: /is a directory/,
  },
  {
    name: 'a config file with a UTF-8 byte-order mark is read',
    args: (ws) => ['plan', '--config', path.join(ws.root, 'bom.json'), '--at', '2026-11-26T03:01:00Z'],
    prepare: async (ws) => writeFile(path.join(ws.root, 'bom.json'), `\uFEFF${JSON.stringify({ cron: '5 * * * *' })}`),
    code: 0,
    names: () => '',
    stdout: () => '20261126T0205\n',
  },
  // Store URLs, checked where they enter.
  { name: 'store file:// with a query and traversal', args: (ws) => ['status', '--store', `${pathToFileURL(ws.root).href}/q?x=1&y=../../etc`, '--warehouse', ws.warehouse], code: 2, names: (ws) => JSON.stringify(`${pathToFileURL(ws.root).href}/q?x=1&y=../../etc`), says: /query \(\?\) or fragment/ },
  { name: 'store file:// with %2e%2e', args: (ws) => ['status', '--store', `${pathToFileURL(ws.root).href}/%2e%2e/%2e%2e/etc`, '--warehouse', ws.warehouse], code: 2, names: () => '%2e%2e/%2e%2e/etc"', says: /"\.\." segment \(also when percent-encoded\)/ },
  { name: 'store s3:// with a bad bucket name', args: (ws) => ['status', '--store', 's3://My_Bucket/x', '--warehouse', ws.warehouse], code: 2, names: () => '"s3://My_Bucket/x"', says: /Invalid S3 bucket name "My_Bucket"/ },
  { name: 'store with an unknown scheme', args: (ws) => ['status', '--store', 'ftp://nope', '--warehouse', ws.warehouse], code: 2, names: () => 'got "ftp://nope"', says: /expected a store URL/ },
  {
    name: 'store path that is a regular file (status)',
    args: (ws) => ['status', '--store', pathToFileURL(path.join(ws.root, 'afile')).href, '--warehouse', ws.warehouse],
    prepare: async (ws) => writeFile(path.join(ws.root, 'afile'), 'not a directory'),
    code: 2,
    names: (ws) => JSON.stringify(path.join(ws.root, 'afile')),
    says: /which is not a directory; expected a directory/,
  },
  {
    name: 'store path that is a regular file (run)',
    args: (ws) => ['run', '--batch', BATCH, '--store', pathToFileURL(path.join(ws.root, 'afile')).href, '--warehouse', ws.warehouse],
    prepare: async (ws) => writeFile(path.join(ws.root, 'afile'), 'not a directory'),
    code: 2,
    names: (ws) => JSON.stringify(path.join(ws.root, 'afile')),
    says: /not a directory/,
  },
  // Warehouse URLs and files.
  { name: 'duckdb:// with a query', args: (ws) => run(ws, '--warehouse', `${ws.warehouse}?threads=4`), code: 2, names: (ws) => JSON.stringify(`${ws.warehouse}?threads=4`), says: /query \(\?\) or fragment/ },
  { name: 'duckdb:// with bad percent-encoding', args: (ws) => run(ws, '--warehouse', 'duckdb://./w%zz.duckdb'), code: 2, names: () => '"duckdb://./w%zz.duckdb"', says: /bad percent-encoding/ },
  { name: 'warehouse with an unknown scheme', args: (ws) => run(ws, '--warehouse', 'postgres://db/x'), code: 2, names: () => 'got "postgres://db/x"', says: /expected a warehouse URL/ },
  {
    name: 'warehouse file that is not a DuckDB database',
    args: (ws) => run(ws),
    prepare: async (ws) => writeFile(ws.duck, 'my notes\n'.repeat(500)),
    code: 2,
    names: (ws) => JSON.stringify(ws.duck),
    says: /is not a DuckDB database file; expected/,
  },
  // status only reads.
  {
    // (A store directory that does not exist at all is a typo until shown otherwise: exit 2, tested below.)
    name: 'status with an empty store and no warehouse yet creates no warehouse or directory',
    args: (ws) => ['status', '--store', pathToFileURL(path.join(ws.root, 'emptybucket')).href, '--warehouse', `duckdb://${path.join(ws.root, 'nodir', 'w.duckdb')}`],
    prepare: async (ws) => {
      await mkdir(path.join(ws.root, 'emptybucket'), { recursive: true });
    },
    code: 0,
    names: (ws) => JSON.stringify(path.join(ws.root, 'nodir', 'w.duckdb')),
    says: /nothing has run against it yet|nothing has run against it/,
  },
  // Leases.
  {
    name: 'a corrupt run lease',
    args: (ws) => run(ws),
    prepare: async (ws) => {
      await mkdir(path.join(ws.bucket, '_batchline', 'leases', 'runs'), { recursive: true });
      await writeFile(path.join(ws.bucket, '_batchline', 'leases', 'runs', `${BATCH}.json`), '{"owner": "half a file');
    },
    code: 2,
    names: () => `"_batchline/leases/runs/${BATCH}.json"`,
    says: /is not a valid batchline record/,
  },
  {
    name: 'a run lease that expires in 2099',
    args: (ws) => run(ws),
    prepare: async (ws) => {
      await mkdir(path.join(ws.bucket, '_batchline', 'leases', 'runs'), { recursive: true });
      const record = { version: 1, owner: 'elsewhere:4242:8c1c3f1e-2b3f-4f5e-9a6b-0c1d2e3f4a5b', purpose: `run of batch ${BATCH}`, acquiredAt: '2026-01-01T00:00:00.000Z', expiresAt: '2099-01-01T00:00:00.000Z' };
      await writeFile(path.join(ws.bucket, '_batchline', 'leases', 'runs', `${BATCH}.json`), JSON.stringify(record));
    },
    code: 75,
    names: () => '"2099-01-01T00:00:00.000Z"',
    says: /implausibly far ahead[^]*delete the lease object "_batchline\/leases\/runs\/20260101T0000.json"/,
  },
  // The other bins' inputs.
  {
    name: 'batchline produce with a corrupt checkpoint file',
    args: (ws) => ['produce', '--file', path.join(ws.root, 'orders.csv'), '--stream', 'orders', '--checkpoint-file', path.join(ws.root, 'cp.json'), '--drain', '--store', ws.store],
    prepare: async (ws) => {
      await writeFile(path.join(ws.root, 'orders.csv'), '1,7,F,10.25,2024-03-01,1-URGENT,Clerk#1,0,c\n');
      await writeFile(path.join(ws.root, 'cp.json'), '{"files": [half');
    },
    code: 2,
    names: (ws) => JSON.stringify(path.join(ws.root, 'cp.json')),
    says: /is not valid JSON[^]*move it away to start over/,
  },
  { name: 'batchline produce --landing-prefix without =', args: (ws) => ['produce', '--file', path.join(ws.root, 'none.csv'), '--stream', 'orders', '--landing-prefix', 'orders', '--drain'], code: 2, names: () => 'got "orders"', says: /must look like stream=prefix\// },
  // QA 18:40: a prefix that climbs out or is absolute is configuration too (exit 2), not a failed run.
  ...['../x/', '/abs/'].map((prefix) => ({
    name: `batchline produce --landing-prefix orders=${prefix}`,
    args: (ws: Workspace) => ['produce', '--file', path.join(ws.root, 'none.csv'), '--stream', 'orders', '--landing-prefix', `orders=${prefix}`, '--drain', '--store', ws.store],
    code: 2,
    names: () => `got ${JSON.stringify(prefix)}`,
    says: /must be a relative key prefix/,
  })),
];

describe.concurrent('hostile inputs: exit code, the value named, store and warehouse untouched', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const ws = await workspace(c.name);
    await c.prepare?.(ws);
    const before = await tree(ws.root);
    const r = await runCli(c.args(ws), { cwd: ws.root, env: { ...ws.env, ...c.env?.(ws) } });
    expect(r.code, r.stderr).toBe(c.code);
    const names = c.names(ws);
    if (c.code !== 0) {
      expect(r.stderr).toContain(names);
      if (c.says) expect(r.stderr).toMatch(c.says);
    } else {
      if (c.says) expect(r.stdout + r.stderr).toMatch(c.says);
      if (names) expect(r.stdout + r.stderr).toContain(names);
    }
    if (c.stdout) expect(r.stdout).toBe(c.stdout(ws));
    expectClean(r);
    expect(await tree(ws.root)).toEqual(before);
  });
});

describe('a file:// store directory that does not exist (QA 18:37)', () => {
  it('doctor reports it as a failed check naming the path (exit 1) and creates nothing', async () => {
    const root = path.join(dir, 'missing-store');
    await mkdir(root, { recursive: true });
    const missing = path.join(root, 'nostore');
    const r = await runCli(['doctor', '--json', '--store', pathToFileURL(missing).href, '--warehouse', `duckdb://${path.join(root, 'none.duckdb')}`], { cwd: root, env: {} });
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: { id: string; ok: boolean; detail: string; fix?: string }[] };
    expect(report.ok).toBe(false);
    expect(report.checks.map((c) => [c.id, c.ok])).toEqual([['exists', false]]);
    expect(report.checks[0]!.detail).toContain(`the store directory ${JSON.stringify(missing)} does not exist`);
    expect(existsSync(missing)).toBe(false);
  });

  it('status says the store directory does not exist (exit 2) instead of "no batches yet"', async () => {
    const root = path.join(dir, 'missing-store-status');
    await mkdir(root, { recursive: true });
    const missing = path.join(root, 'no', 'such', 'dir');
    const r = await runCli(['status', '--store', pathToFileURL(missing).href, '--warehouse', `duckdb://${path.join(root, 'none.duckdb')}`], { cwd: root, env: {} });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`the store directory ${JSON.stringify(missing)}`);
    expect(r.stderr).toContain('does not exist');
    expect(r.stdout).not.toContain('no batches yet');
    expect(existsSync(missing)).toBe(false);
  });
});

describe('bad data and interrupts: consistent after the rerun', () => {
  it('a truncated gzip object fails the load by name with nothing loaded; the untouched batch of customers is intact', async () => {
    const whole = gzipSync(toCsv('orders', data.batch1.orders));
    const ws = await workspace('truncated gzip', { gzipOrders: whole.subarray(0, Math.floor(whole.length * 0.8)) });
    const r = await runCli(run(ws, '--json'), { cwd: ws.root, env: ws.env });
    expect(r.code).toBe(1);
    expectClean(r);
    const report = JSON.parse(r.stdout) as { status: string; error: string; tasks: { task: string; state: string; attempt: number }[] };
    expect(report.status).toBe('failed');
    expect(report.error).toMatch(/"processing\/20260101T0000\/2026\/01\/01\/00\/orders-1": truncated or corrupt gzip/);
    // Permanent: not retried.
    expect(report.tasks.find((t) => t.task === 'load:orders')).toMatchObject({ state: 'failed', attempt: 1 });
    expect(report.tasks.find((t) => t.task === 'transform')!.state).toBe('not-run');
    const tables = await dumpWarehouse(ws.duck);
    expect(tables['ORDERS_RAW']).toEqual([]);
    expect(tables['ORDER_CUSTOMER_DATE_PRICE']).toEqual([]);
    // The way out it names is the real one (QA 18:37): replace the object, repin, run.
    expect(report.error).toContain(
      `Way out: replace the object in processing/${BATCH}/ with a complete one, then \`batchline repin --batch ${BATCH}\` and \`batchline run --batch ${BATCH}\``,
    );
    await writeFile(path.join(ws.bucket, 'orders', 'processing', BATCH, '2026', '01', '01', '00', 'orders-1'), whole);
    const repin = await runCli(['repin', '--batch', BATCH, ...ws.flags], { cwd: ws.root, env: ws.env });
    expect(repin.code, repin.stderr).toBe(0);
    const rerun = await runCli(run(ws), { cwd: ws.root, env: ws.env });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect((await dumpWarehouse(ws.duck))['ORDERS_RAW']).toHaveLength(data.batch1.orders.length);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s mid-run: stops starting tasks, releases the lease, exits %i; the rerun equals a clean run', async (signal, code) => {
    const ws = await workspace(`signal ${signal}`);
    const pause = path.join(ws.root, 'pause');
    const started = startCli(run(ws), {
      cwd: ws.root,
      env: { ...ws.env, BATCHLINE_TEST_HOOKS: '1', BATCHLINE_PAUSE_AT: 'transform:before', BATCHLINE_PAUSE_FILE: pause },
    });
    while (!existsSync(`${pause}.paused`)) await sleep(50);
    started.child.kill(signal);
    const r = await started.done;
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toContain(`${signal}: stopping`);
    expect(r.stdout).toMatch(/transform\s+│ failed/);
    expect(r.stdout).toMatch(/archive:orders\s+│ not-run/);
    const lease = JSON.parse(await readFile(path.join(ws.bucket, '_batchline', 'leases', 'runs', `${BATCH}.json`), 'utf8')) as { released?: boolean };
    expect(lease.released).toBe(true);
    await expectConsistentAfterRerun(ws);
  });

  it('a run that loses its lease starts nothing more, reports failed (lost lease) and exits 1; the rerun equals a clean run', async () => {
    const ws = await workspace('lost lease');
    const pause = path.join(ws.root, 'pause');
    const leaseFile = path.join(ws.bucket, '_batchline', 'leases', 'runs', `${BATCH}.json`);
    const started = startCli(run(ws, '--json'), {
      cwd: ws.root,
      env: { ...ws.env, BATCHLINE_LEASE_SECONDS: '10', BATCHLINE_TEST_HOOKS: '1', BATCHLINE_PAUSE_AT: 'transform:before', BATCHLINE_PAUSE_FILE: pause },
    });
    while (!existsSync(`${pause}.paused`)) await sleep(50);
    // Another runner takes the lease over (as after an expiry): the next renewal finds it changed.
    const taken = { version: 1, owner: 'other-host:1:0b0e9c1a-7d1f-4c33-8e55-2d7a8f0c9b11', purpose: `run of batch ${BATCH}`, acquiredAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 60_000).toISOString() };
    await writeFile(leaseFile, JSON.stringify(taken));
    const r = await started.done;
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as { status: string; error: string; tasks: { task: string; state: string }[] };
    expect(report.status).toBe('failed');
    expect(report.error).toMatch(/^lost lease: /);
    expect(report.tasks.filter((t) => t.task.startsWith('archive:')).map((t) => t.state)).toEqual(['not-run', 'not-run']);
    // The other holder's record is left as it is.
    expect(JSON.parse(await readFile(leaseFile, 'utf8'))).toEqual(taken);
    await rm(leaseFile);
    await expectConsistentAfterRerun(ws);
  });

  it('status while a run holds the DuckDB file shows the store and says the warehouse is busy', async () => {
    const ws = await workspace('status busy');
    const pause = path.join(ws.root, 'pause');
    const started = startCli(run(ws), { cwd: ws.root, env: { ...ws.env, BATCHLINE_TEST_HOOKS: '1', BATCHLINE_PAUSE_AT: 'load:orders:before', BATCHLINE_PAUSE_FILE: pause } });
    while (!existsSync(`${pause}.paused`)) await sleep(50);
    const status = await runCli(['status', ...ws.flags], { cwd: ws.root, env: ws.env });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`${BATCH} │`));
    expect(status.stdout).toMatch(/warehouse busy: The DuckDB warehouse ".*w\.duckdb" is in use by another process \(PID \d+\)/);
    const json = await runCli(['status', '--json', ...ws.flags], { cwd: ws.root, env: ws.env });
    expect((JSON.parse(json.stdout) as { warehouse: { state: string } }).warehouse.state).toBe('busy');
    await writeFile(pause, '');
    expect((await started.done).code).toBe(0);
  });

  it('status lists a corrupt manifest on its own line and still shows every other batch', async () => {
    const ws = await workspace('corrupt manifest');
    expect((await runCli(run(ws), { cwd: ws.root, env: ws.env })).code).toBe(0);
    const key = '_batchline/manifests/orders/20260101T0015.json';
    await writeFile(path.join(ws.bucket, ...key.split('/')), '{"state": "claim');
    const before = await tree(ws.root);
    const r = await runCli(['status', ...ws.flags], { cwd: ws.root, env: ws.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^corrupt: "${key}": not JSON`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`${BATCH} │ done`));
    const json = JSON.parse((await runCli(['status', '--json', ...ws.flags], { cwd: ws.root, env: ws.env })).stdout) as { corrupt: { key: string }[]; batches: { batchId: string }[] };
    expect(json.corrupt.map((c) => c.key)).toEqual([key]);
    expect(json.batches.map((b) => b.batchId)).toEqual([BATCH]);
    expectClean(r);
    expect(await tree(ws.root)).toEqual(before);
  });

  it('temporary files a SIGKILLed run left in .batchline-tmp/ are swept by the next run', async () => {
    const ws = await workspace('sweep');
    const tmp = path.join(ws.bucket, '.batchline-tmp');
    await mkdir(tmp, { recursive: true });
    // A process id that is gone: a run killed mid-write leaves a file named after itself.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    await writeFile(path.join(tmp, `${hostname()}.${gone}.6f1c2b9a-3d4e-4f50-8a6b-7c8d9e0f1a2b`), 'half an object');
    await expectConsistentAfterRerun(ws);
  });

  it('a warehouse file left at 0 bytes by a kill while it was created is started afresh', async () => {
    const ws = await workspace('empty warehouse');
    await writeFile(ws.duck, '');
    await expectConsistentAfterRerun(ws);
  });
});

/** The four bins, resolved as installed packages. */
function binOf(pkg: string, name: string): string {
  const manifest = require.resolve(`${pkg}/package.json`);
  const bins = (JSON.parse(readFileSync(manifest, 'utf8')) as { bin: Record<string, string> }).bin;
  return path.join(path.dirname(manifest), bins[name]!);
}
const BINS = [
  { name: 'batchline', pkg: '@batchline/pipeline', bin: () => path.join(path.dirname(require.resolve('../package.json')), 'dist', 'cli.js') },
  { name: 'batchline-producer', pkg: '@batchline/kinesis-producer', bin: () => binOf('@batchline/kinesis-producer', 'batchline-producer') },
  { name: 'batchline-warehouse', pkg: '@batchline/snowflake-loader', bin: () => binOf('@batchline/snowflake-loader', 'batchline-warehouse') },
  { name: 'batch-id', pkg: '@batchline/batch-id', bin: () => binOf('@batchline/batch-id', 'batch-id') },
];

async function runBin(bin: string, args: string[], shell?: string): Promise<CliResult> {
  const child = shell
    ? spawn('sh', ['-c', `"${process.execPath}" "${bin}" ${args.join(' ')} ${shell}`], { cwd: dir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [bin, ...args], { cwd: dir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe.concurrent('one CLI convention for the four bins', () => {
  it('batchline produce --help names itself; batchline-producer refuses a bad --landing-prefix with exit 2', async () => {
    const cli = BINS[0]!.bin();
    const help = await runBin(cli, ['produce', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: batchline produce /);
    const bad = await runBin(cli, ['produce', '--no-such-option']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('(run batchline produce --help for usage)');
    const land = path.join(dir, 'producer-landing');
    const csv = path.join(dir, 'producer-none.csv');
    for (const prefix of ['../x/', '/abs/']) {
      const r = await runBin(BINS[1]!.bin(), ['--file', csv, '--stream', 'orders', '--drain', '--landing-dir', land, '--landing-prefix', `orders=${prefix}`]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`must be a relative key prefix, got ${JSON.stringify(prefix)}`);
    }
    expect(existsSync(land)).toBe(false);
  });
  it.each(BINS)('$name: --help, --version, no arguments, bad usage, a closed stdout', async ({ name, pkg, bin }) => {
    const file = bin();
    const version = (JSON.parse(await readFile(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version;
    const help = await runBin(file, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(new RegExp(`^Usage: ${name} `));
    const v = await runBin(file, ['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout).toBe(`${version}\n`);
    const none = await runBin(file, []);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(new RegExp(`^Usage: ${name} `));
    const bad = await runBin(file, ['--no-such-option']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown option '--no-such-option'");
    expect(bad.stderr).toContain(`(run ${name} --help for usage)`);
    // `... --help | head -1`, and a reader that never reads: no EPIPE crash.
    const head = await runBin(file, ['--help'], '| head -1');
    expect(head.stdout).toBe(help.stdout.split('\n')[0] + '\n');
    expect(head.stderr).toBe('');
    const closed = await runBin(file, ['--help'], '| true');
    expect(closed.stderr).toBe('');
  });
});
