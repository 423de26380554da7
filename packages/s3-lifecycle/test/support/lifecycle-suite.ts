import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type BatchId, toBatchId } from '@batchline/batch-id';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchDeleteError,
  BatchFileError,
  BatchInProgressError,
  type BatchLifecycle,
  BatchNotClaimedError,
  type BatchState,
  createBatchLifecycle,
  InvalidEntityError,
  type LifecycleOptions,
  type ObjectStore,
  type ProgressEvent,
} from '../../src/index.js';
import { expectedManifestFiles, firehosePath, land, makeLandingFiles, snapshot } from './batches.js';
import { InjectedFailure, InstrumentedStore } from './instrumented-store.js';
import { type StoreFixture, listKeys } from './store-contract.js';

const BATCH = toBatchId('20260102T0310');
const BATCH_2 = toBatchId('20260102T0320');

let cases = 0;
/** Each test works under its own root, so tests share one store without seeing each other. */
function freshRoot(): string {
  return `case-${++cases}-${Date.now().toString(36)}/`;
}

export function describeLifecycle(name: string, open: () => Promise<StoreFixture>): void {
  describe(`batch lifecycle: ${name}`, () => {
    let fixture: StoreFixture;
    let store: ObjectStore;
    beforeAll(async () => {
      fixture = await open();
      store = fixture.store;
    });
    afterAll(async () => fixture?.close());

    function lifecycle(root: string, inner: ObjectStore = store, options: LifecycleOptions = {}): BatchLifecycle {
      // Files land right before each claim here; settling has tests of its own.
      return createBatchLifecycle(inner, { root, concurrency: 8, settleSeconds: 0, ...options });
    }

    it('claims exactly the landed files into processing/<id>/, keeping paths and bytes, and archives them to processed/<id>/', async () => {
      const root = freshRoot();
      const files = makeLandingFiles(37, { awkward: true });
      const life = lifecycle(root);
      await land(store, life.landingPrefix('orders'), files);

      const claimed = await life.claim('orders', BATCH);
      expect(claimed.state).toBe('claimed');
      expect(claimed.files).toEqual(expectedManifestFiles(files));
      expect(claimed.bytes).toBe(files.reduce((s, f) => s + f.bytes.length, 0));
      expect(claimed.transitions.map((t) => t.state)).toEqual(['claiming', 'claimed']);
      expect(await listKeys(store, `${root}orders/landing/`)).toEqual([]);
      const processing = await snapshot(store, `${root}orders/processing/${BATCH}/`);
      expect(processing.size).toBe(files.length);
      for (const f of files) expect(processing.get(`${root}orders/processing/${BATCH}/${f.path}`)?.equals(f.bytes), f.path).toBe(true);
      expect(life.processingKey('orders', BATCH, files[0]!.path)).toBe(`${root}orders/processing/${BATCH}/${files[0]!.path}`);

      const archived = await life.archive('orders', BATCH);
      expect(archived.state).toBe('archived');
      expect(archived.files).toEqual(claimed.files);
      expect(archived.transitions.map((t) => t.state)).toEqual(['claiming', 'claimed', 'archiving', 'archived']);
      expect(await listKeys(store, `${root}orders/processing/`)).toEqual([]);
      const processed = await snapshot(store, `${root}orders/processed/${BATCH}/`);
      expect(processed.size).toBe(files.length);
      for (const f of files) expect(processed.get(`${root}orders/processed/${BATCH}/${f.path}`)?.equals(f.bytes), f.path).toBe(true);
      expect(await life.readManifest('orders', BATCH)).toEqual(archived);
      expect(await listKeys(store, `${root}_batchline/manifests/`)).toEqual([`${root}_batchline/manifests/orders/${BATCH}.json`]);
    });

    it('sends one copy (or rename) per file, and per batch a number of other requests that does not grow with the files', async () => {
      // No HEAD, GET or state write per file: claim and archive of 20 and of 60 files differ only in their copies.
      const requestsFor = async (count: number) => {
        const root = freshRoot();
        const files = makeLandingFiles(count);
        await land(store, `${root}orders/landing/`, files);
        const manifestGets = { claim: 0, archive: 0 };
        const counting = (operation: 'claim' | 'archive') =>
          new InstrumentedStore(store, {
            before: (method, args) => void (method === 'get' && String(args[0]).includes('_batchline/manifests/') && manifestGets[operation]++),
          });
        const claiming = counting('claim');
        await lifecycle(root, claiming).claim('orders', BATCH);
        const archiving = counting('archive');
        await lifecycle(root, archiving).archive('orders', BATCH);
        return { claim: { ...claiming.counts }, archive: { ...archiving.counts }, manifestGets };
      };
      const few = await requestsFor(20);
      const more = await requestsFor(60);
      for (const operation of ['claim', 'archive'] as const) {
        const { copy: fewCopies, move: fewMoves, ...fewOther } = few[operation];
        const { copy: moreCopies, move: moreMoves, ...moreOther } = more[operation];
        expect(fewCopies + fewMoves).toBe(20);
        expect(moreCopies + moreMoves).toBe(60);
        expect(moreOther).toEqual(fewOther);
      }
      // A manifest is fetched once per operation (archive reads it before taking the lease, then only HEADs it).
      expect(few.manifestGets).toEqual({ claim: 0, archive: 1 });
    });

    it('leaves a file that lands after the manifest was written for the next batch, on the first run and on replay', async () => {
      const root = freshRoot();
      const files = makeLandingFiles(12);
      const late = { path: firehosePath('orders-stream', new Date(Date.UTC(2026, 0, 2, 3, 59))), bytes: Buffer.from('late,1\n') };
      const counted = new InstrumentedStore(store, {
        async after(method, args, result) {
          if (method === 'putIfAbsent' && result === true && String(args[0]).includes('_batchline/manifests/')) {
            await store.put(`${root}orders/landing/${late.path}`, late.bytes);
          }
        },
      });
      const life = lifecycle(root, counted);
      await land(store, life.landingPrefix('orders'), files);
      const first = await life.claim('orders', BATCH);
      expect(first.files).toEqual(expectedManifestFiles(files));
      expect(await listKeys(store, `${root}orders/landing/`)).toEqual([`${root}orders/landing/${late.path}`]);

      const copiesBefore = counted.counts.copy + counted.counts.move;
      const replay = await lifecycle(root, counted).claim('orders', BATCH);
      expect(replay).toEqual(first);
      expect(counted.counts.copy + counted.counts.move).toBe(copiesBefore);
      expect(await listKeys(store, `${root}orders/landing/`)).toEqual([`${root}orders/landing/${late.path}`]);

      const next = await life.claim('orders', BATCH_2);
      expect(next.files).toEqual(expectedManifestFiles([late]));
    });

    it('records an empty landing prefix as an empty batch, and archives it', async () => {
      const life = lifecycle(freshRoot());
      const claimed = await life.claim('customers', BATCH);
      expect(claimed).toMatchObject({ state: 'claimed', files: [], bytes: 0, entity: 'customers', batchId: BATCH });
      expect((await life.archive('customers', BATCH)).state).toBe('archived');
    });

    it('refuses to archive a batch that was never claimed, naming it', async () => {
      const life = lifecycle(freshRoot());
      await expect(life.archive('orders', BATCH)).rejects.toBeInstanceOf(BatchNotClaimedError);
      await expect(life.archive('orders', BATCH)).rejects.toThrow(`orders/${BATCH}`);
    });

    it('uses the configured root for data, manifests and leases', async () => {
      const base = freshRoot();
      const life = lifecycle(`${base}firehose/`);
      await land(store, life.landingPrefix('orders'), makeLandingFiles(3));
      expect(life.landingPrefix('orders')).toBe(`${base}firehose/orders/landing/`);
      await life.claim('orders', BATCH);
      const keys = await listKeys(store, base);
      expect(keys.every((k) => k.startsWith(`${base}firehose/`))).toBe(true);
      expect(keys).toContain(`${base}firehose/_batchline/manifests/orders/${BATCH}.json`);
      expect(keys.filter((k) => k.includes('/processing/'))).toHaveLength(3);
    });

    it('rejects a bad entity, batch id or root with an error naming the value, before touching the store', async () => {
      const counted = new InstrumentedStore(store);
      const life = lifecycle(freshRoot(), counted);
      await expect(life.claim('../orders', BATCH)).rejects.toBeInstanceOf(InvalidEntityError);
      await expect(life.claim('Orders', BATCH)).rejects.toThrow('"Orders"');
      await expect(life.claim('orders', '2026-01-02' as BatchId)).rejects.toThrow('2026-01-02');
      await expect(life.archive('orders', '../../x' as BatchId)).rejects.toThrow('../../x');
      expect(counted.requests).toBe(0);
      expect(() => createBatchLifecycle(store, { root: 'firehose' })).toThrow(/"firehose".*end with/);
      expect(() => createBatchLifecycle(store, { root: '../' })).toThrow(/Invalid lifecycle root/);
      expect(() => life.processingKey('orders', BATCH, '../../escape')).toThrow(/Invalid object key/);
    });

    it('reports counts and bytes per state', async () => {
      const root = freshRoot();
      const life = lifecycle(root);
      const a = makeLandingFiles(5);
      const b = makeLandingFiles(3);
      const waiting = makeLandingFiles(2);
      const size = (fs: typeof a) => fs.reduce((s, f) => s + f.bytes.length, 0);
      await land(store, life.landingPrefix('orders'), a);
      await life.claim('orders', BATCH);
      await life.archive('orders', BATCH);
      await land(store, life.landingPrefix('orders'), b);
      await life.claim('orders', BATCH_2);
      await land(store, life.landingPrefix('orders'), waiting);
      const status = await life.status('orders');
      expect(status).toEqual({
        entity: 'orders',
        landing: { files: 2, bytes: size(waiting), waiting: 2, settling: 0, pinned: 0, skipped: 0 },
        processing: { batches: 1, files: 3, bytes: size(b) },
        processed: { batches: 1, files: 5, bytes: size(a) },
        batches: [
          { batchId: BATCH, state: 'archived' satisfies BatchState, files: 5, bytes: size(a), updatedAt: expect.any(String) },
          { batchId: BATCH_2, state: 'claimed' satisfies BatchState, files: 3, bytes: size(b), updatedAt: expect.any(String) },
        ],
        skipped: [],
        corrupt: [],
      });
    });

    it('finishes an interrupted move: files found in both places get their delete, then the batch completes', async () => {
      const root = freshRoot();
      const files = makeLandingFiles(9);
      let fail = true;
      let transfers = 0;
      const flaky = new InstrumentedStore(store, {
        before(method) {
          if (!fail) return;
          if ((method === 'copy' || method === 'move') && ++transfers === 6) throw new InjectedFailure('runner died mid-move');
        },
      });
      const life = lifecycle(root, flaky);
      await land(store, life.landingPrefix('orders'), files);
      await expect(life.claim('orders', BATCH)).rejects.toBeInstanceOf(InjectedFailure);
      expect((await life.readManifest('orders', BATCH))?.state).toBe('claiming');
      await expect(life.archive('orders', BATCH)).rejects.toThrow(/claim did not finish/);
      // Make sure at least one file sits in both places, as after a copy whose delete never ran.
      const stillLanding = (await listKeys(store, `${root}orders/landing/`)).map((k) => k.slice(`${root}orders/landing/`.length));
      expect(stillLanding.length).toBeGreaterThan(0);
      await store.copy(`${root}orders/landing/${stillLanding[0]}`, life.processingKey('orders', BATCH, stillLanding[0]!));
      fail = false;
      expect((await life.claim('orders', BATCH)).state).toBe('claimed');
      expect(await listKeys(store, `${root}orders/landing/`)).toEqual([]);
      const processing = await snapshot(store, `${root}orders/processing/${BATCH}/`);
      expect(processing.size).toBe(9);
      for (const f of files) expect(processing.get(life.processingKey('orders', BATCH, f.path))?.equals(f.bytes), f.path).toBe(true);
    });

    it('surfaces per-key delete errors, naming the keys, and a re-run finishes the deletes', async () => {
      const root = freshRoot();
      const files = makeLandingFiles(4);
      await land(store, `${root}orders/landing/`, files);
      // A store without an atomic move, whose DeleteObjects refuses one key (as S3 does per key).
      const refusing: ObjectStore = {
        location: store.location,
        list: (p) => store.list(p),
        head: (k) => store.head(k),
        get: (k) => store.get(k),
        put: (k, b) => store.put(k, b),
        putIfAbsent: (k, b) => store.putIfAbsent(k, b),
        putIfMatch: (k, b, e) => store.putIfMatch(k, b, e),
        copy: (s, t, o) => store.copy(s, t, o),
        deleteMany: async (keys) => {
          const [first, ...rest] = keys;
          const outcomes = await store.deleteMany(rest);
          return [{ key: first!, error: { code: 'AccessDenied', message: 'Access Denied' } }, ...outcomes];
        },
      };
      const error = await lifecycle(root, refusing).claim('orders', BATCH).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BatchDeleteError);
      expect((error as Error).message).toMatch(/AccessDenied/);
      const refusedKey = (error as BatchDeleteError).failures[0]!.key;
      expect(refusedKey.startsWith(`${root}orders/landing/`)).toBe(true);
      expect(await listKeys(store, `${root}orders/landing/`)).toEqual([refusedKey]);
      expect((await lifecycle(root).claim('orders', BATCH)).state).toBe('claimed');
      expect(await listKeys(store, `${root}orders/landing/`)).toEqual([]);
      expect(await listKeys(store, `${root}orders/processing/`)).toHaveLength(4);
    });

    it('fails loudly, naming the file, when a pinned file is in neither place', async () => {
      const root = freshRoot();
      const files = makeLandingFiles(4);
      const life = lifecycle(root);
      await land(store, life.landingPrefix('orders'), files);
      const claimed = await life.claim('orders', BATCH);
      const victim = claimed.files[2]!.path;
      await store.deleteMany([life.processingKey('orders', BATCH, victim)]);
      const error = await life.archive('orders', BATCH).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BatchFileError);
      expect((error as BatchFileError).path).toBe(victim);
      expect((error as Error).message).toContain(victim);
      expect((error as Error).message).toMatch(/neither/);
    });

    it('refuses to move a landing file that was replaced after the batch pinned it', async () => {
      const root = freshRoot();
      const files = makeLandingFiles(3);
      const target = files[1]!;
      const sneaky = new InstrumentedStore(store, {
        async after(method, args, result) {
          if (method === 'putIfAbsent' && result === true && String(args[0]).includes('_batchline/manifests/')) {
            await store.put(`${root}orders/landing/${target.path}`, 'rewritten');
          }
        },
      });
      const life = lifecycle(root, sneaky);
      await land(store, life.landingPrefix('orders'), files);
      const error = await life.claim('orders', BATCH).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BatchFileError);
      expect((error as Error).message).toContain(target.path);
      expect((error as Error).message).toMatch(/replaced/);
      expect(await store.head(life.processingKey('orders', BATCH, target.path))).toBeUndefined();
    });

    it('reports progress as files move', async () => {
      const events: ProgressEvent[] = [];
      const life = lifecycle(freshRoot(), store, { onProgress: (e) => events.push(e) });
      await land(store, life.landingPrefix('orders'), makeLandingFiles(6));
      await life.claim('orders', BATCH);
      await life.archive('orders', BATCH);
      expect(events.filter((e) => e.step === 'claim').map((e) => e.done)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(events.filter((e) => e.step === 'archive').every((e) => e.total === 6 && e.batchId === BATCH)).toBe(true);
    });

    it('lets exactly one of 20 concurrent claims of a batch proceed; the others get BatchInProgressError', async () => {
      const root = freshRoot();
      const files = makeLandingFiles(25);
      await land(store, `${root}orders/landing/`, files);
      // The winner may not list landing/ until every contender has been answered, so losers
      // cannot be explained by the winner having finished early.
      let settled = 0;
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const gated = new InstrumentedStore(store, {
        async before(method) {
          if (method === 'list') {
            settled++;
            if (settled === 20) open();
            await gate;
          }
        },
      });
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () =>
          lifecycle(root, gated)
            .claim('orders', BATCH)
            .finally(() => {
              if (++settled === 20) open();
            }),
        ),
      );
      const winners = results.filter((r) => r.status === 'fulfilled');
      const losers = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(19);
      for (const reason of losers) {
        expect(reason).toBeInstanceOf(BatchInProgressError);
        expect((reason as Error).message).toMatch(/claim of orders\/20260102T0310 is held by/);
      }
      expect(gated.counts.copy + gated.counts.move).toBe(files.length);
      expect(await listKeys(store, `${root}orders/processing/`)).toHaveLength(files.length);
      expect(await listKeys(store, `${root}orders/landing/`)).toEqual([]);
    });

    it('with wait: true, 20 concurrent claims all return the one manifest and every file moves once', async () => {
      const root = freshRoot();
      const files = makeLandingFiles(25);
      await land(store, `${root}orders/landing/`, files);
      const counted = new InstrumentedStore(store);
      const manifests = await Promise.all(
        Array.from({ length: 20 }, () => lifecycle(root, counted, { lease: { wait: true, pollMs: 10 } }).claim('orders', BATCH)),
      );
      for (const m of manifests) expect(m).toEqual(manifests[0]);
      expect(manifests[0]!.files).toEqual(expectedManifestFiles(files));
      expect(counted.counts.copy + counted.counts.move).toBe(files.length);
    });

    it('a lease left by a crashed runner blocks others until it expires; the same owner resumes at once', async () => {
      const root = freshRoot();
      await land(store, `${root}orders/landing/`, makeLandingFiles(4));
      // A runner that dies right after taking the lease (before pinning anything).
      const crashing = new InstrumentedStore(store, {
        before(method, args) {
          if (method === 'list') throw new InjectedFailure('crash');
          if (method === 'putIfMatch' && String(args[0]).includes('_batchline/leases/')) throw new InjectedFailure('release lost');
        },
      });
      await expect(lifecycle(root, crashing, { lease: { owner: 'runner-a', ttlMs: 2000 } }).claim('orders', BATCH)).rejects.toBeInstanceOf(InjectedFailure);
      const blocked = await lifecycle(root, store, { lease: { owner: 'runner-b', ttlMs: 2000 } })
        .claim('orders', BATCH)
        .catch((e: unknown) => e);
      expect(blocked).toBeInstanceOf(BatchInProgressError);
      expect((blocked as BatchInProgressError).details.owner).toBe('runner-a');
      const waited = await lifecycle(root, store, { lease: { owner: 'runner-b', wait: true, pollMs: 20 } }).claim('orders', BATCH);
      expect(waited.files).toHaveLength(4);

      const root2 = freshRoot();
      await land(store, `${root2}orders/landing/`, makeLandingFiles(2));
      await expect(lifecycle(root2, crashing, { lease: { owner: 'runner-a' } }).claim('orders', BATCH)).rejects.toBeInstanceOf(InjectedFailure);
      expect((await lifecycle(root2, store, { lease: { owner: 'runner-a' } }).claim('orders', BATCH)).files).toHaveLength(2);
    });

    it('takes over at once a lease whose holder was a process on this host that no longer exists', async () => {
      const root = freshRoot();
      const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
      const deadOwner = `${hostname()}:${dead.stdout}:${randomUUID()}`;
      const life = lifecycle(root);
      const key = `${root}_batchline/leases/runs/${BATCH}.json`;
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
      await store.put(key, JSON.stringify({ version: 1, owner: deadOwner, purpose: 'run', acquiredAt: new Date().toISOString(), expiresAt }));
      const lease = await life.acquireRunLease(BATCH);
      expect(lease.owner).not.toBe(deadOwner);
      await lease.release();
      // A live holder (this very process, under another id) is waited for.
      const liveOwner = `${hostname()}:${process.pid}:${randomUUID()}`;
      await store.put(key, JSON.stringify({ version: 1, owner: liveOwner, purpose: 'run', acquiredAt: new Date().toISOString(), expiresAt }));
      await expect(life.acquireRunLease(BATCH)).rejects.toBeInstanceOf(BatchInProgressError);
    });

    it('gives the pipeline a one-run-per-batch lease', async () => {
      const life = lifecycle(freshRoot());
      const lease = await life.acquireRunLease(BATCH, { owner: 'run-1' });
      await expect(life.acquireRunLease(BATCH, { owner: 'run-2' })).rejects.toBeInstanceOf(BatchInProgressError);
      await lease.release();
      const next = await life.acquireRunLease(BATCH, { owner: 'run-2' });
      expect(next.owner).toBe('run-2');
      await next.release();
    });
  });
}
