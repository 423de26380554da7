import { randomBytes } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { toBatchId } from '@batchline/batch-id';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acquireLease,
  BatchFileError,
  BatchInProgressError,
  type BatchLifecycle,
  type BatchManifest,
  BatchStateError,
  CorruptObjectError,
  createBatchLifecycle,
  type LifecycleOptions,
  type ObjectStore,
  PinnedFileChangedError,
  type PinPlan,
} from '../../src/index.js';
import { type LandedFile, expectedManifestFiles, firehosePath, land, makeLandingFiles, snapshot } from './batches.js';
import { InjectedFailure, InstrumentedStore } from './instrumented-store.js';
import { AWKWARD_KEYS, type StoreFixture, listKeys, md5Etag, readAll } from './store-contract.js';

const A = toBatchId('20260102T0300');
const B = toBatchId('20260102T0305');
const C = toBatchId('20260102T0310');

/** Keys S3 accepts that once broke loaders: they must flow through a batch like any other. */
const ACCEPTED = [...AWKWARD_KEYS, 'awkward/amp&hash#pct%25 quote\'s.csv', 'awkward/Ωmega/ça-va-ß.csv'];

/**
 * What the suite needs beyond the store: how to put entries into landing/ that the store's own put would
 * refuse (a control character, a backslash, a symbolic link...), and the reason each must be reported with.
 */
export interface UntakeableEntries {
  /** Creates the entries under `landingPrefix` and returns path (relative to landing/) -> expected reason pattern. */
  create(landingPrefix: string): Promise<Map<string, RegExp>>;
}

let cases = 0;
function freshRoot(): string {
  return `multi-${++cases}-${Date.now().toString(36)}/`;
}

/** The batch each file ended in, from the store's own state (file in processing/<id>/ or processed/<id>/), keyed by path. */
async function homes(store: ObjectStore, root: string, entity: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const where of ['processing', 'processed']) {
    const prefix = `${root}${entity}/${where}/`;
    for await (const o of store.list(prefix)) {
      const rest = o.key.slice(prefix.length);
      const slash = rest.indexOf('/');
      const path = rest.slice(slash + 1);
      out.set(path, [...(out.get(path) ?? []), rest.slice(0, slash)]);
    }
  }
  return out;
}

export function describeMultiBatch(
  name: string,
  open: () => Promise<StoreFixture>,
  extras: { untakeable: (fixture: StoreFixture) => UntakeableEntries; settling: 'filesystem' | 's3' },
): void {
  describe(`batches of one entity at once: ${name}`, () => {
    let fixture: StoreFixture;
    let store: ObjectStore;
    beforeAll(async () => {
      fixture = await open();
      store = fixture.store;
    });
    afterAll(async () => fixture?.close());

    function lifecycle(root: string, inner: ObjectStore, options: LifecycleOptions = {}): BatchLifecycle {
      return createBatchLifecycle(inner, { root, concurrency: 8, settleSeconds: 0, ...options });
    }

    it('situation 1: two claims of different batches at once both finish, and every landed file ends in exactly one batch', async () => {
      const root = freshRoot();
      const files = makeLandingFiles(300);
      await land(store, `${root}orders/landing/`, files);
      // Make the race as likely as it can be: the first claim to list landing/ waits until the other
      // one lists it too, or is seen waiting for the entity's claim lock (a refused create of its lock).
      let listings = 0;
      let refusedLocks = 0;
      let open!: () => void;
      const bothThere = new Promise<void>((resolve) => (open = resolve));
      const gated = new InstrumentedStore(store, {
        async before(method, args) {
          if (method === 'list' && String(args[0]) === `${root}orders/landing/`) {
            if (++listings >= 2) open();
            await Promise.race([bothThere, new Promise((resolve) => setTimeout(resolve, 30_000))]);
          }
        },
        after(method, args, result) {
          if (method === 'putIfAbsent' && result === false && String(args[0]).includes('/leases/claims/') && ++refusedLocks >= 1) open();
        },
      });
      const runs = await Promise.allSettled([
        lifecycle(root, gated, { lease: { owner: 'runner-a', pollMs: 20 } }).claim('orders', A),
        lifecycle(root, gated, { lease: { owner: 'runner-b', pollMs: 20 } }).claim('orders', B),
      ]);
      const failures = runs.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
      expect(failures).toEqual([]);
      const [a, b] = runs.map((r) => (r as PromiseFulfilledResult<BatchManifest>).value);
      expect(a!.state).toBe('claimed');
      expect(b!.state).toBe('claimed');
      // No file pinned twice, and together the two manifests pin every landed file.
      const pathsA = new Set(a!.files.map((f) => f.path));
      expect(b!.files.filter((f) => pathsA.has(f.path))).toEqual([]);
      expect([...a!.files, ...b!.files].map((f) => f.path).sort()).toEqual(files.map((f) => f.path).sort());
      // The store agrees: each file once, in the batch that pinned it, with its bytes; landing/ is empty.
      const where = await homes(store, root, 'orders');
      for (const f of files) expect(where.get(f.path), f.path).toEqual([pathsA.has(f.path) ? A : B]);
      expect(await listKeys(store, `${root}orders/landing/`)).toEqual([]);
      const bytes = await snapshot(store, `${root}orders/processing/`);
      const expected = new Map(files.map((f) => [`${root}orders/processing/${pathsA.has(f.path) ? A : B}/${f.path}`, md5Etag(f.bytes)]));
      expect(new Map([...bytes].map(([k, v]) => [k, md5Etag(v)]))).toEqual(expected);
    }, 120_000);

    it('a claim killed right after its manifest said claimed leaves no open-claim marker once the batch is archived', async () => {
      const root = freshRoot();
      await land(store, `${root}orders/landing/`, makeLandingFiles(3));
      // Die on the request that removes the marker: the manifest already says claimed.
      const dying = new InstrumentedStore(store, {
        before(method, args) {
          if (method === 'deleteMany' && (args[0] as string[]).some((k) => k.includes('/_batchline/pending/orders/'))) {
            throw new InjectedFailure('runner died after the claimed transition');
          }
        },
      });
      await expect(lifecycle(root, dying, { lease: { owner: 'runner-a', pollMs: 20 } }).claim('orders', A)).rejects.toThrow(/runner died/);
      const rerun = lifecycle(root, store, { lease: { owner: 'runner-a', pollMs: 20 } });
      expect((await rerun.claim('orders', A)).state).toBe('claimed');
      expect(await listKeys(store, `${root}_batchline/pending/orders/`)).toHaveLength(1); // left by the dead claim
      await rerun.archive('orders', A);
      expect(await listKeys(store, `${root}_batchline/pending/orders/`)).toEqual([]);
    });

    it('a claim leaves out the files of a batch whose claim was interrupted; that batch then finishes with exactly its files', async () => {
      const root = freshRoot();
      const first = makeLandingFiles(20);
      await land(store, `${root}orders/landing/`, first);
      let moves = 0;
      const dying = new InstrumentedStore(store, {
        before(method) {
          if ((method === 'copy' || method === 'move') && ++moves === 4) throw new InjectedFailure('runner died mid-claim');
        },
      });
      await expect(lifecycle(root, dying, { lease: { owner: 'runner-a' } }).claim('orders', A)).rejects.toBeInstanceOf(InjectedFailure);
      const later = makeLandingFiles(7);
      await land(store, `${root}orders/landing/`, later);
      const b = await lifecycle(root, store, { lease: { owner: 'runner-b' } }).claim('orders', B);
      expect(b.files).toEqual(expectedManifestFiles(later));
      const a = await lifecycle(root, store, { lease: { owner: 'runner-a' } }).claim('orders', A);
      expect(a.files).toEqual(expectedManifestFiles(first));
      const where = await homes(store, root, 'orders');
      for (const f of first) expect(where.get(f.path), f.path).toEqual([A]);
      for (const f of later) expect(where.get(f.path), f.path).toEqual([B]);
      expect(await listKeys(store, `${root}orders/landing/`)).toEqual([]);
      // Nothing of the open-claim bookkeeping is left once both finished.
      expect(await listKeys(store, `${root}_batchline/pending/orders/`)).toEqual([]);
    });

    it('a claiming manifest left by an older version (no pending marker) still keeps its files from the next claim', async () => {
      const root = freshRoot();
      const files = makeLandingFiles(6);
      await land(store, `${root}orders/landing/`, files);
      // What the previous version left after situation 1: a manifest stuck in claiming, files still in landing/.
      const stuck = {
        version: 1,
        entity: 'orders',
        batchId: A,
        state: 'claiming',
        files: expectedManifestFiles(files),
        bytes: files.reduce((sum, f) => sum + f.bytes.length, 0),
        transitions: [{ state: 'claiming', at: new Date().toISOString() }],
      };
      await store.put(`${root}_batchline/manifests/orders/${A}.json`, JSON.stringify(stuck));
      const later = makeLandingFiles(3);
      await land(store, `${root}orders/landing/`, later);
      expect((await lifecycle(root, store).claim('orders', B)).files).toEqual(expectedManifestFiles(later));
      expect((await lifecycle(root, store).claim('orders', A)).files).toEqual(expectedManifestFiles(files));
      expect(await listKeys(store, `${root}orders/landing/`)).toEqual([]);
    });

    it('a manifest a claim cannot read while looking for open batches stops the claim, naming it and the way out', async () => {
      const root = freshRoot();
      await land(store, `${root}orders/landing/`, makeLandingFiles(2));
      await store.put(`${root}_batchline/manifests/orders/${A}.json`, '{"version": 1, "state": "claim');
      const error = await lifecycle(root, store).claim('orders', B).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptObjectError);
      expect((error as Error).message).toContain(`manifests/orders/${A}.json`);
      expect((error as Error).message).toMatch(/new claims of orders stop until it is repaired/);
      expect(await lifecycle(root, store).readManifest('orders', B)).toBeUndefined();
      expect(await listKeys(store, `${root}orders/landing/`)).toHaveLength(2);
    });

    it('beforeList and beforePin run under the claim lock for a new claim only; throwing refuses it and writes nothing', async () => {
      const root = freshRoot();
      const files = makeLandingFiles(5);
      await land(store, `${root}orders/landing/`, files);
      const life = lifecycle(root, store);
      await life.claim('orders', A);
      const more = makeLandingFiles(4);
      await land(store, `${root}orders/landing/`, more);
      const seen: PinPlan[] = [];
      const refusal = new Error('sealed below 20260102T0310');
      const refused = await life
        .claim('orders', B, {
          beforePin: (plan) => {
            seen.push(plan);
            throw refusal;
          },
        })
        .catch((e: unknown) => e);
      expect(refused).toBe(refusal);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.files).toEqual(expectedManifestFiles(more));
      expect(seen[0]!.batchIds).toEqual([A]);
      expect(await life.readManifest('orders', B)).toBeUndefined();
      expect(await listKeys(store, `${root}orders/landing/`)).toHaveLength(more.length);
      expect(await listKeys(store, `${root}_batchline/pending/orders/`)).toEqual([]);
      let listed = 0;
      const counting = new InstrumentedStore(store, {
        before(method, args) {
          if (method === 'list' && String(args[0]).endsWith('/landing/')) listed++;
        },
      });
      await expect(lifecycle(root, counting).claim('orders', B, { beforeList: () => Promise.reject(refusal) })).rejects.toBe(refusal);
      expect(listed).toBe(0);
      // A claim that returns an existing manifest does not ask.
      let asked = 0;
      await life.claim('orders', A, { beforeList: () => void asked++, beforePin: () => void asked++ });
      expect(asked).toBe(0);
      // The lock was released each time: the next claim goes through.
      expect((await life.claim('orders', B)).files).toEqual(expectedManifestFiles(more));
    });

    it('holdClaimLock makes new claims of the entity wait until the holder is done', async () => {
      const root = freshRoot();
      await land(store, `${root}orders/landing/`, makeLandingFiles(3));
      const life = lifecycle(root, store, { lease: { pollMs: 10 } });
      const order: string[] = [];
      let claimed!: Promise<BatchManifest>;
      await life.holdClaimLock('orders', 'raise the seal', async () => {
        claimed = lifecycle(root, store, { lease: { pollMs: 10 } }).claim('orders', A);
        claimed.then(() => order.push('claim'), () => order.push('claim failed'));
        await sleep(300); // long enough for the claim to reach the lock (it cannot pass it either way)
        order.push('hold done');
      });
      expect((await claimed).files).toHaveLength(3);
      expect(order).toEqual(['hold done', 'claim']);
    });

    it('keys S3 accepts flow through; entries the store cannot take stay in landing/ and are reported with their reason', async () => {
      const root = freshRoot();
      const good: LandedFile[] = [...makeLandingFiles(4), ...ACCEPTED.map((path) => ({ path, bytes: Buffer.from(`1,${path},x\n`) }))];
      await land(store, `${root}orders/landing/`, good);
      const bad = await extras.untakeable(fixture).create(`${root}orders/landing/`);
      const life = lifecycle(root, store);
      const manifest = await life.claim('orders', A);
      expect(manifest.files).toEqual(expectedManifestFiles(good));
      const skipped = new Map((manifest.skipped ?? []).map((s) => [s.path, s.reason]));
      expect([...skipped.keys()].sort()).toEqual([...bad.keys()].sort());
      for (const [path, reason] of bad) expect(skipped.get(path), path).toMatch(reason);
      // They stay, the next claim skips them again without failing, and status lists them.
      const again = await life.claim('orders', B);
      expect(again.files).toEqual([]);
      expect((again.skipped ?? []).map((s) => s.path).sort()).toEqual([...bad.keys()].sort());
      const status = await life.status('orders');
      expect(status.skipped.map((s) => s.path).sort()).toEqual([...bad.keys()].sort());
      expect(status.landing.skipped).toBe(bad.size);
      expect(status.landing.waiting).toBe(0);
      const processing = await snapshot(store, `${root}orders/processing/${A}/`);
      for (const f of good) expect(processing.get(`${root}orders/processing/${A}/${f.path}`)?.equals(f.bytes), f.path).toBe(true);
    });

    if (extras.settling === 'filesystem') {
      it('situation 5: a file still being written is left for the next batch (default settleSeconds on a directory), which takes it whole', async () => {
        const root = freshRoot();
        const growing = firehosePath('orders-stream', new Date(Date.UTC(2026, 0, 2, 2, 59)));
        const key = `${root}orders/landing/${growing}`;
        const parts = [randomBytes(4000), randomBytes(4000), randomBytes(4000)];
        await store.put(key, parts[0]!);
        // The writer appends again right before the claim lists landing/, as `cp` would mid-copy.
        const writing = new InstrumentedStore(store, {
          async before(method, args) {
            if (method === 'list' && String(args[0]) === `${root}orders/landing/`) await store.put(key, Buffer.concat(parts.slice(0, 2)));
          },
        });
        const life = createBatchLifecycle(writing, { root, concurrency: 8 }); // the store's default settleSeconds
        const first = await life.claim('orders', A);
        expect(first.files).toEqual([]);
        expect(first.skipped).toEqual([{ key, path: growing, reason: expect.stringMatching(/^still settling: last changed .* settleSeconds is 5;/) }]);
        expect((await life.status('orders')).landing).toMatchObject({ settling: 1, waiting: 0 });
        const whole = Buffer.concat(parts);
        await store.put(key, whole);
        await sleep(1200);
        const next = await createBatchLifecycle(store, { root, settleSeconds: 1 }).claim('orders', B);
        expect(next.files).toEqual([{ path: growing, size: whole.length, etag: md5Etag(whole) }]);
        expect((await readAll(store, `${root}orders/processing/${B}/${growing}`)).equals(whole)).toBe(true);
      });
    } else {
      it('situation 5 on S3: PUTs are atomic, so by default nothing settles; settleSeconds still applies when set', async () => {
        const root = freshRoot();
        const files = makeLandingFiles(4);
        await land(store, `${root}orders/landing/`, files);
        const held = await createBatchLifecycle(store, { root, settleSeconds: 3600 }).claim('orders', A);
        expect(held.files).toEqual([]);
        expect((held.skipped ?? []).map((s) => s.path).sort()).toEqual(files.map((f) => f.path).sort());
        const taken = await createBatchLifecycle(store, { root }).claim('orders', B);
        expect(taken.files).toEqual(expectedManifestFiles(files));
      });
    }

    it('release puts a claimed batch back in landing/ byte for byte and removes its manifest; the next batch takes the files', async () => {
      const root = freshRoot();
      const files = [...makeLandingFiles(9), ...ACCEPTED.map((path) => ({ path, bytes: Buffer.from(`2,${path}\n`) }))];
      await land(store, `${root}orders/landing/`, files);
      const life = lifecycle(root, store);
      await life.claim('orders', A);
      const released = await life.release('orders', A);
      expect(released).toEqual({ entity: 'orders', batchId: A, files: files.length, alreadyReleased: false });
      expect(await life.readManifest('orders', A)).toBeUndefined();
      expect(await listKeys(store, `${root}orders/processing/`)).toEqual([]);
      const landing = await snapshot(store, `${root}orders/landing/`);
      expect(new Map([...landing].map(([k, v]) => [k, md5Etag(v)]))).toEqual(new Map(files.map((f) => [`${root}orders/landing/${f.path}`, md5Etag(f.bytes)])));
      expect(await listKeys(store, `${root}_batchline/released/orders/${A}/`)).toHaveLength(1);
      expect(await life.release('orders', A)).toEqual({ entity: 'orders', batchId: A, files: 0, alreadyReleased: true });
      expect((await life.claim('orders', B)).files).toEqual(expectedManifestFiles(files));
    });

    it('release finishes an interrupted claim the other way: every file back in landing/', async () => {
      const root = freshRoot();
      const files = makeLandingFiles(12);
      await land(store, `${root}orders/landing/`, files);
      let moves = 0;
      const dying = new InstrumentedStore(store, {
        before(method) {
          if ((method === 'copy' || method === 'move') && ++moves === 6) throw new InjectedFailure('runner died mid-claim');
        },
      });
      await expect(lifecycle(root, dying, { concurrency: 1 }).claim('orders', A)).rejects.toBeInstanceOf(InjectedFailure);
      const life = lifecycle(root, store);
      expect((await life.readManifest('orders', A))?.state).toBe('claiming');
      expect((await life.release('orders', A)).files).toBe(12);
      expect((await listKeys(store, `${root}orders/landing/`)).sort()).toEqual(files.map((f) => `${root}orders/landing/${f.path}`).sort());
      expect(await listKeys(store, `${root}orders/processing/`)).toEqual([]);
    });

    it('release and repin refuse an archived batch (use replay) and say what to run; release never overwrites another landing file', async () => {
      const root = freshRoot();
      const files = makeLandingFiles(3);
      await land(store, `${root}orders/landing/`, files);
      const life = lifecycle(root, store);
      await life.claim('orders', A);
      await life.archive('orders', A);
      for (const attempt of [() => life.release('orders', A), () => life.repin('orders', A)]) {
        const error = await attempt().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(BatchStateError);
        expect(error).toMatchObject({ permanent: true, exitCode: 2, state: 'archived' });
        expect((error as Error).message).toContain(`batchline replay --batch ${A}`);
      }
      // A landing file with the same path but other bytes: the release stops on it, and loses nothing.
      await land(store, `${root}orders/landing/`, files);
      await life.claim('orders', B);
      const clash = files[1]!;
      await store.put(`${root}orders/landing/${clash.path}`, 'someone else\'s file\n');
      const error = await life.release('orders', B).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BatchFileError);
      expect((error as Error).message).toContain(clash.path);
      expect((await readAll(store, `${root}orders/landing/${clash.path}`)).toString()).toBe("someone else's file\n");
      expect((await readAll(store, `${root}orders/processing/${B}/${clash.path}`)).equals(clash.bytes)).toBe(true);
      expect((await life.readManifest('orders', B))?.state).toBe('releasing');
      // A releasing batch cannot be claimed, repinned or archived; the message says how to finish.
      for (const attempt of [() => life.claim('orders', B), () => life.archive('orders', B), () => life.repin('orders', B)]) {
        await expect(attempt()).rejects.toThrow(`batchline release --batch ${B}`);
      }
    });

    it('repin and release wait for nobody: a batch another runner holds is refused as busy (exit 75), naming the holder', async () => {
      const root = freshRoot();
      await land(store, `${root}orders/landing/`, makeLandingFiles(2));
      const life = lifecycle(root, store);
      await life.claim('orders', A);
      const held = await acquireLease(store, `${root}_batchline/leases/entities/orders/${A}.json`, { owner: 'loader-on-host-2', purpose: 'archive of orders/x' });
      try {
        for (const attempt of [() => life.release('orders', A), () => life.repin('orders', A)]) {
          const error = await attempt().catch((e: unknown) => e);
          expect(error).toBeInstanceOf(BatchInProgressError);
          expect(error).toMatchObject({ permanent: false, exitCode: 75 });
          expect((error as Error).message).toContain('loader-on-host-2');
        }
      } finally {
        await held.release();
      }
      expect((await life.release('orders', A)).files).toBe(2);
    });

    it('a release and a claim of another batch at once: every file ends exactly once, in landing/ or in the new batch', async () => {
      const root = freshRoot();
      const files = makeLandingFiles(60);
      await land(store, `${root}orders/landing/`, files);
      await lifecycle(root, store).claim('orders', A);
      const extra = makeLandingFiles(10);
      await land(store, `${root}orders/landing/`, extra);
      const [released, claimed] = await Promise.all([
        lifecycle(root, store, { lease: { pollMs: 10 } }).release('orders', A),
        lifecycle(root, store, { lease: { pollMs: 10 } }).claim('orders', B),
      ]);
      expect(released.files).toBe(60);
      const inB = new Set(claimed.files.map((f) => f.path));
      const landing = new Set((await listKeys(store, `${root}orders/landing/`)).map((k) => k.slice(`${root}orders/landing/`.length)));
      const where = await homes(store, root, 'orders');
      for (const f of [...files, ...extra]) {
        const places = [...(where.get(f.path) ?? []), ...(landing.has(f.path) ? ['landing'] : [])];
        expect(places, f.path).toEqual([inB.has(f.path) ? B : 'landing']);
      }
      // Whatever was left goes to the batch after.
      const next = await lifecycle(root, store).claim('orders', C);
      expect(next.files.length + claimed.files.length).toBe(70);
    });

    it('repin pins what is now in processing/<id>/ (changed, removed, added files), records old and new size and ETag, and is idempotent', async () => {
      const root = freshRoot();
      const files = makeLandingFiles(6);
      await land(store, `${root}orders/landing/`, files);
      const life = lifecycle(root, store);
      const claimed = await life.claim('orders', A);
      const at = (path: string) => `${root}orders/processing/${A}/${path}`;
      const [changed, removed] = [files[0]!, files[1]!];
      const fixed = Buffer.from(changed.bytes);
      fixed[0] = fixed[0] === 0x30 ? 0x31 : 0x30; // same size, other bytes
      await store.put(at(changed.path), fixed);
      await store.deleteMany([at(removed.path)]);
      const added = { path: 'fixed/added by hand.csv', bytes: Buffer.from('9,added\n') };
      await store.put(at(added.path), added.bytes);
      const { manifest, changes } = await life.repin('orders', A);
      const v = (b: Buffer) => ({ size: b.length, etag: md5Etag(b) });
      expect([...changes].sort((x, y) => x.path.localeCompare(y.path))).toEqual(
        [
          { path: changed.path, before: v(changed.bytes), after: v(fixed) },
          { path: removed.path, before: v(removed.bytes) },
          { path: added.path, after: v(added.bytes) },
        ].sort((x, y) => x.path.localeCompare(y.path)),
      );
      const now = [{ ...changed, bytes: fixed }, ...files.slice(2), added];
      expect(manifest.files).toEqual(expectedManifestFiles(now));
      expect(manifest.bytes).toBe(now.reduce((s, f) => s + f.bytes.length, 0));
      expect(manifest.state).toBe('claimed');
      expect(manifest.transitions.map((t) => t.state)).toEqual(['claiming', 'claimed', 'claimed']);
      expect(manifest.transitions.at(-1)?.repinned).toEqual(changes);
      expect(claimed.transitions.at(-1)?.repinned).toBeUndefined();
      const again = await life.repin('orders', A);
      expect(again.changes).toEqual([]);
      expect(again.manifest).toEqual(manifest);
      expect((await life.archive('orders', A)).files).toEqual(manifest.files);
    });

    it('loadable files name where each pinned file is; pinned reads serve the pinned bytes and refuse a changed file by name, never retried', async () => {
      const root = freshRoot();
      const files = [...makeLandingFiles(3), { path: ACCEPTED[5]!, bytes: randomBytes(200_000) }];
      await land(store, `${root}orders/landing/`, files);
      const life = lifecycle(root, store);
      await life.claim('orders', A);
      const batch = await life.loadableFiles('orders', A);
      expect(batch.location).toBe('processing');
      const expected = expectedManifestFiles(files).map((f) => ({
        entity: 'orders',
        batchId: A,
        path: f.path,
        key: `${root}orders/processing/${A}/${f.path}`,
        stagePath: `processing/${A}/${f.path}`,
        claimPath: `processing/${A}/${f.path}`,
        size: f.size,
        etag: f.etag,
      }));
      expect(batch.files).toEqual(expected);
      for (const file of batch.files) {
        const bytes = files.find((f) => f.path === file.path)!.bytes;
        expect((await buffer(await life.openPinned(file))).equals(bytes)).toBe(true);
        await life.verifyPinned(file);
      }
      // Situation 6: the same size, other bytes.
      const victim = batch.files[1]!;
      const original = await readAll(store, victim.key);
      const swapped = Buffer.from(original);
      swapped[0] = swapped[0] === 0x41 ? 0x42 : 0x41;
      await store.put(victim.key, swapped);
      for (const read of [() => life.openPinned(victim).then((s) => buffer(s)), () => life.verifyPinned(victim)]) {
        const error = await read().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(PinnedFileChangedError);
        expect(error).toMatchObject({ permanent: true, path: victim.path, batchId: A });
        expect((error as Error).message).toContain(JSON.stringify(victim.path));
        expect((error as Error).message).toContain(`batchline repin --batch ${A}`);
      }
      await store.deleteMany([victim.key]);
      await expect(life.verifyPinned(victim)).rejects.toThrow(/is missing/);
      await expect(life.openPinned(victim)).rejects.toBeInstanceOf(PinnedFileChangedError);
      await store.put(victim.key, original);
      await life.archive('orders', A);
      const archived = await life.loadableFiles('orders', A);
      expect(archived.location).toBe('processed');
      expect(archived.files.map((f) => [f.key, f.stagePath, f.claimPath])).toEqual(
        expected.map((f) => [`${root}orders/processed/${A}/${f.path}`, `processed/${A}/${f.path}`, `processing/${A}/${f.path}`]),
      );
      for (const file of archived.files) await life.verifyPinned(file);
    });

    it('status of some batches reads only their manifests and the open ones, and sees landing/ as the full status does', async () => {
      const root = freshRoot();
      const life = lifecycle(root, store);
      const ids = Array.from({ length: 12 }, (_, i) => toBatchId(`202601${String(3 + i).padStart(2, '0')}T0000`));
      for (const [i, id] of ids.entries()) {
        await land(store, `${root}orders/landing/`, makeLandingFiles(1 + (i % 3)));
        await life.claim('orders', id);
        if (i % 2 === 0) await life.archive('orders', id);
      }
      // An old manifest nobody asks for is unreadable: only the full status may trip over it.
      await store.put(`${root}_batchline/manifests/orders/${toBatchId('20260101T0000')}.json`, '{"version": 1, "entity"');
      await land(store, `${root}orders/landing/`, makeLandingFiles(5));
      // An open claim, not asked for, holds 5 files still in landing/.
      const open = toBatchId('20260102T0000');
      const { pausing, atMove, release } = pausedAtFirstMove(store);
      const claiming = lifecycle(root, pausing).claim('orders', open);
      await atMove;
      await land(store, `${root}orders/landing/`, [{ path: 'late/one.csv', bytes: Buffer.from('1,2,3\n') }]);
      const manifestsPrefix = `${root}_batchline/manifests/orders/`;
      const read: string[] = [];
      const reader = new InstrumentedStore(store, {
        before(method, args) {
          if (method === 'list' || method === 'get' || method === 'head') read.push(`${method} ${String(args[0])}`);
        },
      });
      const asked = [ids[10]!, ids[11]!, ids[3]!, toBatchId('20270101T0000')];
      const some = await lifecycle(root, reader).status('orders', { batchIds: asked });
      const full = await lifecycle(root, store).status('orders');
      // A store from before the pending markers (no index, no marker): the open claim is still found, by reading every manifest.
      await store.deleteMany([`${root}_batchline/pending/orders.json`, `${root}_batchline/pending/orders/${open}.json`]);
      const legacy = await lifecycle(root, store).status('orders', { batchIds: [ids[11]!] });
      expect(legacy.batches.map((b) => b.batchId)).toEqual([open, ids[11]!]);
      expect(legacy.landing).toEqual(full.landing);
      release();
      await claiming;
      // The oracle: the full status, cut down to the asked batches that exist plus the open claim.
      const wanted = new Set<string>([...asked, open]);
      expect(some.batches).toEqual(full.batches.filter((b) => wanted.has(b.batchId)));
      expect(some.batches.map((b) => [b.batchId, b.state])).toEqual([
        [open, 'claiming'],
        [ids[3]!, 'claimed'],
        [ids[10]!, 'archived'],
        [ids[11]!, 'claimed'],
      ]);
      expect(some.landing).toEqual(full.landing);
      expect(some.landing).toMatchObject({ pinned: 5, waiting: 1 });
      expect(some.processing).toEqual(full.processing);
      expect(some.processed).toBeUndefined();
      expect(full.processed?.batches).toBe(6);
      expect(some.corrupt).toEqual([]);
      expect(full.corrupt.map((c) => c.key)).toEqual([`${manifestsPrefix}20260101T0000.json`]);
      // Structural: no listing of the manifests, and no manifest read but the asked ones and the open one.
      expect(read.filter((r) => r.startsWith('list ') && r.includes('_batchline/manifests/'))).toEqual([]);
      const manifestReads = new Set(read.filter((r) => r.includes(manifestsPrefix)).map((r) => r.slice(r.indexOf(manifestsPrefix) + manifestsPrefix.length, -'.json'.length)));
      expect([...manifestReads].sort()).toEqual([...wanted].sort());
      expect(read.filter((r) => r.startsWith('list ') && r.includes('/processed/'))).toEqual([]);
      await expect(life.status('orders', { batchIds: ['2026-01-01' as never] })).rejects.toThrow(/2026-01-01/);
    });

    it('status never writes, lists a corrupt manifest apart from the others, and shows a claim in progress with its holder', async () => {
      const root = freshRoot();
      const files = makeLandingFiles(8);
      await land(store, `${root}orders/landing/`, files);
      const life = lifecycle(root, store);
      await life.claim('orders', A);
      await life.archive('orders', A);
      await store.put(`${root}_batchline/manifests/orders/${B}.json`, '{"version": 1, "entity": "orders", "batch');
      await land(store, `${root}orders/landing/`, makeLandingFiles(5));
      // Hold a claim of C after its manifest is written, with its files still in landing/.
      const { pausing, atMove, release } = pausedAtFirstMove(store);
      const claiming = lifecycle(root, pausing, { lease: { owner: 'runner-c' } }).claim('orders', C);
      await atMove;
      const reader = new InstrumentedStore(store);
      const status = await lifecycle(root, reader).status('orders');
      release();
      await claiming;
      const writes = reader.counts.put + reader.counts.putIfAbsent + reader.counts.putIfMatch + reader.counts.copy + reader.counts.move + reader.counts.deleteMany;
      expect(writes).toBe(0);
      expect(status.corrupt).toEqual([{ key: `${root}_batchline/manifests/orders/${B}.json`, reason: expect.stringMatching(/not JSON/) }]);
      expect(status.batches.map((b) => [b.batchId, b.state, b.files])).toEqual([
        [A, 'archived', 8],
        [C, 'claiming', 5],
      ]);
      expect(status.batches[1]!.heldBy).toMatchObject({ owner: 'runner-c', purpose: `claim of orders/${C}` });
      expect(status.batches[0]!.heldBy).toBeUndefined();
      expect(status.landing).toMatchObject({ files: 5, pinned: 5, waiting: 0, skipped: 0 });
      // Status of an entity nothing ever touched creates nothing either.
      const empty = await lifecycle(freshRoot(), reader).status('customers');
      expect(empty).toMatchObject({ batches: [], skipped: [], corrupt: [], landing: { files: 0 } });
      expect(reader.counts.put + reader.counts.putIfAbsent + reader.counts.putIfMatch).toBe(0);
    });
  });
}

/** A store whose copies and moves wait until `release()`; `atMove` settles when the first one arrives. */
function pausedAtFirstMove(store: ObjectStore): { pausing: InstrumentedStore; atMove: Promise<void>; release: () => void } {
  let release!: () => void;
  const paused = new Promise<void>((resolve) => (release = resolve));
  let reached!: () => void;
  const atMove = new Promise<void>((resolve) => (reached = resolve));
  const pausing = new InstrumentedStore(store, {
    async before(method) {
      if (method === 'copy' || method === 'move') {
        reached();
        await paused;
      }
    },
  });
  return { pausing, atMove, release };
}
