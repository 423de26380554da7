import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASK_NAMES } from '../src/config.js';
import { demoBatchIds, demoDataset, demoPaths, produceDemoPart } from '../src/demo.js';
import { type CliResult, inPool, listFiles, runCli, storeSnapshot } from './cli-helpers.js';
import { dumpWarehouse } from './helpers.js';

/**
 * Kill a real `batchline run` (SIGKILL, from inside the process) at each task's boundaries and
 * inside each task, run it again, and compare the warehouse tables and the object store with a
 * clean run's. Every scenario starts from a copy of the same landing objects.
 */
const POINTS = ['before', 'during', 'after'] as const;
const SCENARIOS = TASK_NAMES.flatMap((task) => POINTS.map((point) => `${task}:${point}`));
const [BATCH] = demoBatchIds();

let base: string;
let seed: { bucket: string };
let clean: { tables: Record<string, string[]>; store: Record<string, unknown> };
const outcomes = new Map<
  string,
  { crashed: CliResult; afterCrash: Record<string, unknown>; rerun: CliResult; tables: Record<string, string[]>; store: Record<string, unknown> }
>();

async function scenarioDir(name: string): Promise<{ root: string; bucket: string; flags: string[]; warehouseFile: string }> {
  const root = path.join(base, name.replace(/:/g, '-'));
  const bucket = path.join(root, 'bucket');
  await cp(seed.bucket, bucket, { recursive: true });
  const warehouseFile = path.join(root, 'w.duckdb');
  return { root, bucket, warehouseFile, flags: ['--store', pathToFileURL(bucket).href, '--warehouse', `duckdb://${warehouseFile}`] };
}

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'batchline-crash-'));
  // Small landing objects, so a claim or archive killed "during" has moved some files but not all.
  const paths = demoPaths(path.join(base, 'seed'), 0.002);
  await produceDemoPart({ paths, part: demoDataset(0.002).batch1, index: 1, landingObjectBytes: 48 * 1024 });
  seed = { bucket: paths.bucket };

  const ref = await scenarioDir('clean');
  const cleanRun = await runCli(['run', '--batch', BATCH, ...ref.flags], { cwd: ref.root });
  if (cleanRun.code !== 0) throw new Error(`clean run failed: ${cleanRun.stderr}`);
  clean = { tables: await dumpWarehouse(ref.warehouseFile), store: await storeSnapshot(ref.bucket) };

  // Two at a time: each scenario is two short-lived processes; more would only contend for 2 cores.
  await inPool(SCENARIOS, 2, async (hook) => {
    const s = await scenarioDir(hook);
    const crashed = await runCli(['run', '--batch', BATCH, ...s.flags], {
      cwd: s.root,
      env: { BATCHLINE_TEST_HOOKS: '1', BATCHLINE_CRASH_AT: hook },
    });
    const afterCrash = await storeSnapshot(s.bucket);
    const rerun = await runCli(['run', '--batch', BATCH, ...s.flags], { cwd: s.root });
    outcomes.set(hook, { crashed, afterCrash, rerun, tables: await dumpWarehouse(s.warehouseFile), store: await storeSnapshot(s.bucket) });
  });
}, 240_000);

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('crash recovery: SIGKILL at every task boundary and inside every task', () => {
  it('the seed has several landing objects per entity, so "during" a move means half-moved', async () => {
    const files = await listFiles(seed.bucket);
    expect(files.filter((f) => f.startsWith(`orders${path.sep}landing`)).length).toBeGreaterThanOrEqual(4);
    expect(clean.tables['ORDERS_RAW']!.length).toBe(demoDataset(0.002).batch1.orders.length);
    expect(clean.tables['ORDER_CUSTOMER_DATE_PRICE']!.length).toBeGreaterThan(0);
  });

  it.each(SCENARIOS)('killed at %s: the rerun finishes and everything equals a clean run', (hook) => {
    const o = outcomes.get(hook)!;
    expect(o.crashed.signal).toBe('SIGKILL');
    expect(o.crashed.stderr).toContain(`test hooks armed (crash at ${hook})`);
    expect(o.rerun.stderr).not.toContain('test hooks armed');
    expect(o.rerun.code, o.rerun.stderr).toBe(0);
    expect(o.rerun.stdout).toContain(`batch ${BATCH}: succeeded`);
    expect(o.tables).toEqual(clean.tables);
    expect(o.store).toEqual(clean.store);
  });

  it('a kill inside a claim or an archive interrupts the move, which the rerun completes', () => {
    const keys = (snapshot: Record<string, unknown>, prefix: string) => Object.keys(snapshot).filter((k) => k.startsWith(prefix));
    const state = (snapshot: Record<string, unknown>, entity: string) => (snapshot[`_batchline/manifests/${entity}/${BATCH}.json`] as { state: string }).state;
    for (const entity of ['orders', 'customers']) {
      const claim = outcomes.get(`claim:${entity}:during`)!;
      const archive = outcomes.get(`archive:${entity}:during`)!;
      // Killed after the first file moved: the manifest still says the move is under way.
      expect(state(claim.afterCrash, entity)).toBe('claiming');
      expect(keys(claim.afterCrash, `${entity}/processing/`).length).toBeGreaterThan(0);
      expect(state(archive.afterCrash, entity)).toBe('archiving');
      expect(keys(archive.afterCrash, `${entity}/processed/`).length).toBeGreaterThan(0);
      // After the rerun, nothing is left anywhere but processed/.
      for (const o of [claim, archive]) {
        expect(keys(o.store, `${entity}/landing/`).length + keys(o.store, `${entity}/processing/`).length).toBe(0);
        expect(state(o.store, entity)).toBe('archived');
      }
    }
  });

  it('the rerun skips what finished before the kill and reruns the killed task', () => {
    // Killed after load:orders' work but before the runner recorded it: the loader marked it
    // succeeded in the same transaction as the rows, so the rerun skips it.
    expect(outcomes.get('load:orders:after')!.rerun.stdout).toMatch(/load:orders\s+│ skipped/);
    // Killed inside transform: it runs again (attempt 2); both claims were done and are skipped.
    const t = outcomes.get('transform:during')!.rerun.stdout;
    expect(t).toMatch(/claim:orders\s+│ skipped/);
    expect(t).toMatch(/transform\s+│ succeeded │ 2/);
    // Killed before claim:orders did anything: it runs again.
    expect(outcomes.get('claim:orders:before')!.rerun.stdout).toMatch(/claim:orders\s+│ succeeded │ 2/);
  });
});
