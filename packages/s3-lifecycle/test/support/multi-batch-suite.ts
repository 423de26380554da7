import { toBatchId } from '@batchline/batch-id';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BatchLifecycle, type BatchManifest, createBatchLifecycle, type LifecycleOptions, type ObjectStore } from '../../src/index.js';
import { land, makeLandingFiles, snapshot } from './batches.js';
import { InstrumentedStore } from './instrumented-store.js';
import { type StoreFixture, listKeys, md5Etag } from './store-contract.js';

const A = toBatchId('20260102T0300');
const B = toBatchId('20260102T0305');

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

export function describeMultiBatch(name: string, open: () => Promise<StoreFixture>): void {
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
  });
}
