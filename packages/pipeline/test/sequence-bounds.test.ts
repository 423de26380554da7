// Structural (not timed): a run and `status` read the manifests and task rows of the batches they work on or
// show, and of the sequence's open batches, never those of the settled history. Counted at the store and the
// warehouse on real parts (file store, DuckDB).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BatchId, formatBatchId } from '@batchline/batch-id';
import { FileObjectStore, type ListOptions, type ObjectStore, type StoredObject, createBatchLifecycle } from '@batchline/s3-lifecycle';
import { type Warehouse, openWarehouse } from '@batchline/snowflake-loader';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Sequence } from '../src/sequence.js';
import { pipelineStatus, renderStatus } from '../src/status.js';
import { type Bench, ROOT, curatedText, openBench, oracle } from './sequence-support.js';

/** Every request that names a key or lists a prefix, with the keys a listing yielded. */
interface Seen {
  listings: { prefix: string; startAfter?: string; keys: string[] }[];
  reads: string[];
}

/** An ObjectStore in front of another that records what is listed and read (it forwards everything). */
function recording(inner: FileObjectStore, seen: Seen): ObjectStore {
  return {
    location: inner.location,
    defaultSettleSeconds: inner.defaultSettleSeconds,
    async *list(prefix: string, options?: ListOptions): AsyncGenerator<StoredObject> {
      const entry = { prefix, ...(options?.startAfter ? { startAfter: options.startAfter } : {}), keys: [] as string[] };
      seen.listings.push(entry);
      for await (const o of inner.list(prefix, options)) {
        entry.keys.push(o.key);
        yield o;
      }
    },
    head: (key) => (seen.reads.push(key), inner.head(key)),
    get: (key, options) => (seen.reads.push(key), inner.get(key, options)),
    put: (key, body) => inner.put(key, body),
    putIfAbsent: (key, body) => inner.putIfAbsent(key, body),
    putIfMatch: (key, body, etag) => inner.putIfMatch(key, body, etag),
    copy: (s, t, o) => inner.copy(s, t, o),
    move: (s, t, o) => inner.move(s, t, o),
    deleteMany: (keys) => inner.deleteMany(keys),
    localPath: (key) => inner.localPath(key),
  };
}

/** The warehouse with every task-row read recorded: the batch ids each call asked for. */
function recordingTasks(inner: Warehouse, asked: BatchId[][]): Warehouse {
  return new Proxy(inner, {
    get(target, property) {
      if (property === 'readTasks') return (id: BatchId) => (asked.push([id]), target.readTasks(id));
      if (property === 'readTasksOf') return (ids: readonly BatchId[]) => (asked.push([...ids]), target.readTasksOf(ids));
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const MANIFESTS = `${ROOT}_batchline/manifests/`;
/** The batch id of a manifest key, or undefined for other keys. */
const manifestId = (key: string): string | undefined => (key.startsWith(MANIFESTS) ? key.slice(key.lastIndexOf('/') + 1, -'.json'.length) : undefined);
/** Hourly ids from 2026-01-05 00:00. */
const idAt = (hour: number): BatchId => formatBatchId(new Date(Date.UTC(2026, 0, 5, hour)));
const COUNT = 16;
const ids = Array.from({ length: COUNT }, (_, i) => idAt(i));

describe('a run and status read only the batches they work on or show', () => {
  let bench: Bench;
  let dir: string;
  let files: FileObjectStore;
  const seen: Seen = { listings: [], reads: [] };
  const asked: BatchId[][] = [];
  let warehouse: Warehouse;
  const reset = () => {
    seen.listings.length = 0;
    seen.reads.length = 0;
    asked.length = 0;
  };
  /** Manifest ids listed (yielded by a listing) or read, since the last reset. */
  const manifestIdsTouched = () =>
    new Set([...seen.listings.flatMap((l) => l.keys), ...seen.reads].map(manifestId).filter((id): id is string => id !== undefined));

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'batchline-bounds-'));
    files = new FileObjectStore(path.join(dir, 'bucket'));
    warehouse = await openWarehouse('duckdb://:memory:', { files });
    await warehouse.setup();
    bench = await openBench({ store: recording(files, seen), warehouse: recordingTasks(warehouse, asked) });
    for (const [i, id] of ids.entries()) {
      await bench.land({ entity: 'customers', path: `c/${i}`, customers: [{ key: i, name: `Customer#${i}` }] });
      await bench.land({ entity: 'orders', path: `o/${i}`, orders: [{ key: 100 + i, cust: i, status: 'F', cents: 100 + i, date: '2026-01-04' }] });
      expect((await bench.run(id)).status).toBe('succeeded');
    }
  }, 240_000);
  afterAll(async () => {
    await bench?.close();
    await warehouse?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a new batch on a settled sequence lists manifests only after settledThrough and reads no earlier batch', async () => {
    const lifecycle = createBatchLifecycle(files, { root: ROOT });
    expect((await new Sequence(lifecycle, warehouse).read()).value.settledThrough).toBe(ids.at(-1));
    reset();
    const next = idAt(COUNT);
    await bench.land({ entity: 'orders', path: 'o/next', orders: [{ key: 999, cust: 1, status: 'F', cents: 5, date: '2026-01-04' }] });
    expect((await bench.run(next)).status).toBe('succeeded');
    const manifestListings = seen.listings.filter((l) => l.prefix.startsWith(MANIFESTS));
    expect(manifestListings.length).toBeGreaterThan(0);
    for (const l of manifestListings) expect(l.startAfter, l.prefix).toBeDefined();
    expect([...manifestIdsTouched()].filter((id) => id < ids.at(-1)!)).toEqual([]);
    expect(asked.flat().filter((id) => id < ids.at(-1)!)).toEqual([]);
    ids.push(next);
  });

  it('status shows the newest batches and the one holding the sequence back, reading only those and the open ones', async () => {
    // A newer batch fails at its load (a bad record, abort): it holds the sequence back, and one after it waits.
    const failing = idAt(COUNT + 1);
    const waiting = idAt(COUNT + 2);
    await bench.land({ entity: 'orders', path: 'o/bad', orders: [{ key: 1000, cust: 1, status: 'F', cents: 5, date: '2026-01-04', bad: true }] });
    expect((await bench.run(failing)).status).toBe('failed');
    await bench.land({ entity: 'customers', path: 'c/late', customers: [{ key: 50, name: 'Late' }] });
    expect((await bench.run(waiting)).status).toBe('waiting');
    const lifecycle = createBatchLifecycle(bench.store, { root: ROOT });
    reset();
    const status = await pipelineStatus(lifecycle, bench.warehouse, { limit: 5 });
    // The oracle: the 5 newest ids the test ran, newest first.
    const all = [...ids, failing, waiting];
    expect(status.batches.map((b) => b.batchId)).toEqual(all.slice(-5).reverse());
    expect(status.sequence?.holdingBack?.batchId).toBe(failing);
    expect(status.sequence?.waiting).toEqual([waiting]);
    expect(status.batches[0]!.state).toBe(`waiting for ${failing}`);
    expect(status.batches[1]!.state).toMatch(/^failed at load:orders \(holds the sequence back\)$/);
    expect(status.batches[2]!.state).toBe('done');
    expect(renderStatus(status, false)).toContain(`sequence: batch ${failing} holds 1 later batch(es) back (${waiting})`);
    // Structural: nothing older than the shown batches was listed or read, in the store or the warehouse.
    const oldestShown = all.at(-5)!;
    expect([...manifestIdsTouched()].filter((id) => id < all.at(-8)!)).toEqual([]);
    for (const l of seen.listings.filter((x) => x.prefix.startsWith(MANIFESTS))) expect(l.startAfter, l.prefix).toBeDefined();
    expect(seen.reads.map(manifestId).filter((id) => id !== undefined && id < oldestShown)).toEqual([]);
    expect(seen.listings.filter((l) => l.prefix.includes('/processed/'))).toEqual([]);
    expect(asked.flat().filter((id) => id < oldestShown)).toEqual([]);
    expect(asked.length).toBe(2); // the sequence's open batches, then the shown ones: one query each

    // The held-back batch is shown even when it is older than the newest batches.
    const shownOld = await pipelineStatus(lifecycle, bench.warehouse, { limit: 1 });
    expect(shownOld.batches.map((b) => b.batchId)).toEqual([waiting, failing]);

    // The fix (quarantine) transforms both, in order; the sequence settles past them.
    const fixed = await bench.run(failing, { onError: 'quarantine' });
    expect(fixed.status).toBe('succeeded');
    expect(curatedText(await bench.warehouse.curatedRows())).toEqual(oracle(await bench.pinned()));
    const after = await pipelineStatus(lifecycle, bench.warehouse, { limit: 3 });
    expect(after.sequence?.holdingBack).toBeUndefined();
    expect(after.sequence?.settledThrough).toBe(waiting);
    expect(after.batches.map((b) => [b.batchId, b.state])).toEqual([waiting, failing, all.at(-3)!].map((id) => [id, 'done']));
  });

  it('a replay of a settled batch lowers settledThrough to the batch before it without listing the history, and the cascade settles again', async () => {
    const lifecycle = createBatchLifecycle(files, { root: ROOT });
    const sequence = new Sequence(lifecycle, warehouse);
    const target = ids[COUNT - 2]!;
    const settled = (await sequence.read()).value.settledThrough!;
    reset();
    await new Sequence(createBatchLifecycle(bench.store, { root: ROOT }), warehouse).reopen(target);
    expect((await sequence.read()).value.settledThrough).toBe(ids[COUNT - 3]);
    // Only the day before the target was listed (from a start key), nothing at or after it.
    const listings = seen.listings.filter((l) => l.prefix.startsWith(MANIFESTS));
    expect(listings.map((l) => l.startAfter)).toEqual(listings.map((l) => `${l.prefix}${formatBatchId(new Date(Date.UTC(2026, 0, 4, COUNT - 2)))}.json`));
    // Each listing stops at the first key past the day: one key at most at or after the target.
    for (const l of listings) expect(l.keys.map(manifestId).filter((id) => id! >= target).length, l.prefix).toBeLessThanOrEqual(1);
    const replay = await bench.run(target, { force: true });
    expect(replay.status).toBe('succeeded');
    expect(replay.sequence?.caughtUp.every((c) => c.status === 'succeeded' && c.batchId > target)).toBe(true);
    expect((await sequence.read()).value.settledThrough).toBe(settled);
    expect(curatedText(await bench.warehouse.curatedRows())).toEqual(oracle(await bench.pinned()));
  });

  it('with no batch in the day before, settledThrough goes to the minute before the reopened batch', async () => {
    const lifecycle = createBatchLifecycle(files, { root: ROOT });
    const sequence = new Sequence(lifecycle, warehouse);
    const first = ids[0]!;
    const settled = (await sequence.read()).value.settledThrough!;
    await sequence.reopen(first);
    const minuteBefore = formatBatchId(new Date(Date.UTC(2026, 0, 4, 23, 59)));
    expect((await sequence.read()).value.settledThrough).toBe(minuteBefore);
    // Nothing is lost: the view now covers every batch again, all transformed and fresh, and settle raises it back.
    const view = await sequence.view();
    expect(view.entries.map((e) => e.batchId)).toEqual((await bench.pinned()).map((p) => p.batchId));
    expect(view.entries.every((e) => e.transformed && !e.stale)).toBe(true);
    await sequence.settle();
    expect((await sequence.read()).value.settledThrough).toBe(settled);
  });
});
