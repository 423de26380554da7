import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBatchId } from '@batchline/batch-id';
import { BatchInProgressError, LeaseLostError, type ObjectStore, createBatchLifecycle, openObjectStore } from '@batchline/s3-lifecycle';
import { acquireLease, leaseKey } from '../src/lease.js';

const batchId = toBatchId('20261126T0315');
let dir: string;
let store: ObjectStore;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'batchline-lease-'));
  store = openObjectStore(pathToFileURL(dir).href);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readRecord(key: string): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('batch lease', () => {
  it('lets exactly one of racing runs hold a batch; the others learn who holds it', async () => {
    const root = 'race/';
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => acquireLease({ store, batchId, root, ttlMs: 60_000 })));
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(5);
    for (const r of lost) {
      expect(r.reason).toBeInstanceOf(BatchInProgressError);
      expect((r.reason as Error).message).toMatch(new RegExp(`^batch ${batchId} is in progress: held by ${hostname()}:${process.pid}:`));
    }
    const lease = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLease>>>).value;
    expect(lease.key).toBe(leaseKey(root, batchId));
    await lease.release();
    expect(await readRecord(lease.key)).toMatchObject({ owner: lease.owner, released: true });
    const next = await acquireLease({ store, batchId, root, ttlMs: 60_000 });
    expect(next.owner).not.toBe(lease.owner);
    await next.release();
  });

  it('is the same lease s3-lifecycle hands out with acquireRunLease: each refuses the other', async () => {
    const root = 'interop/';
    const lifecycle = createBatchLifecycle(store, { root });
    const theirs = await lifecycle.acquireRunLease(batchId, { ttlMs: 60_000 });
    await expect(acquireLease({ store, batchId, root, ttlMs: 60_000 })).rejects.toThrow(BatchInProgressError);
    await theirs.release();
    const ours = await acquireLease({ store, batchId, root, ttlMs: 60_000 });
    await expect(lifecycle.acquireRunLease(batchId, { ttlMs: 60_000 })).rejects.toThrow(BatchInProgressError);
    await ours.release();
  });

  it('takes over the lease of a process on this host that no longer exists, and only one racer wins', async () => {
    const root = 'dead/';
    const key = leaseKey(root, batchId);
    const pid = deadPid();
    const now = Date.now();
    await store.put(
      key,
      JSON.stringify({ version: 1, owner: `${hostname()}:${pid}:crashed`, purpose: 'run', acquiredAt: new Date(now).toISOString(), expiresAt: new Date(now + 3_600_000).toISOString() }),
    );
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => acquireLease({ store, batchId, root, ttlMs: 60_000 })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const winner = (results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLease>>>).value;
    expect((await readRecord(key))['owner']).toBe(winner.owner);
    await winner.release();
  });

  it('does not take over a live holder on another host before expiry, but does after it', async () => {
    const root = 'remote/';
    const key = leaseKey(root, batchId);
    const live = { version: 1, owner: 'runner-7:1:abc', purpose: 'run', acquiredAt: new Date().toISOString() };
    await store.put(key, JSON.stringify({ ...live, expiresAt: new Date(Date.now() + 3_600_000).toISOString() }));
    await expect(acquireLease({ store, batchId, root, ttlMs: 60_000 })).rejects.toThrow(/held by runner-7:1:abc/);
    await store.put(key, JSON.stringify({ ...live, expiresAt: new Date(Date.now() - 1).toISOString() }));
    const lease = await acquireLease({ store, batchId, root, ttlMs: 60_000 });
    await lease.release();
  });

  it('signals loss when another run takes the lease over, and then leaves it alone on release', async () => {
    const root = 'lost/';
    const lease = await acquireLease({ store, batchId, root, ttlMs: 60_000, renewEveryMs: 20 });
    const intruder = { version: 1, owner: 'elsewhere:9:x', purpose: 'run', acquiredAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 60_000).toISOString() };
    await store.put(lease.key, JSON.stringify(intruder));
    if (!lease.lost.aborted) await once(lease.lost, 'abort');
    expect(lease.lost.reason).toBeInstanceOf(LeaseLostError);
    await lease.release();
    expect(await readRecord(lease.key)).toEqual(intruder);
  });

  it('renews while held', async () => {
    const root = 'renew/';
    const lease = await acquireLease({ store, batchId, root, ttlMs: 60_000, renewEveryMs: 10 });
    const first = (await store.head(lease.key))!.etag;
    // Wait for a renewal to land: the object's ETag changes while the owner stays.
    for (let i = 0; i < 500 && (await store.head(lease.key))!.etag === first; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await store.head(lease.key))!.etag).not.toBe(first);
    expect((await readRecord(lease.key))['owner']).toBe(lease.owner);
    expect(lease.lost.aborted).toBe(false);
    await lease.release();
  });
});
