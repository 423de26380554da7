import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchInProgressError, FileObjectStore, type Lease, LeaseLostError, type ObjectStore, acquireLease } from '../src/index.js';

let dir: string;
let store: FileObjectStore;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'batchline-lease-'));
  store = new FileObjectStore(dir);
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

function winners(results: PromiseSettledResult<Lease>[]): Lease[] {
  return results.filter((r): r is PromiseFulfilledResult<Lease> => r.status === 'fulfilled').map((r) => r.value);
}

describe('lease', () => {
  it('lets exactly one of racing holders win; the others learn who holds it', async () => {
    const key = 'race/lease.json';
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => acquireLease(store, key, { ttlMs: 60_000 })));
    const won = winners(results);
    expect(won).toHaveLength(1);
    const lease = won[0]!;
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as BatchInProgressError);
    expect(refused).toHaveLength(5);
    for (const error of refused) {
      expect(error).toBeInstanceOf(BatchInProgressError);
      expect(error.details).toMatchObject({ key, owner: lease.owner });
    }
    expect(lease.owner).toMatch(new RegExp(`^${hostname()}:${process.pid}:`));
    await lease.release();
    expect(await readRecord(key)).toMatchObject({ owner: lease.owner, released: true });
    const next = await acquireLease(store, key, { ttlMs: 60_000 });
    expect(next.owner).not.toBe(lease.owner);
    await next.release();
  });

  it('takes over the lease of a dead process on this host, and only one racer wins', async () => {
    const key = 'dead/lease.json';
    const now = Date.now();
    const crashed = `${hostname()}:${deadPid()}:${randomUUID()}`;
    await store.put(key, JSON.stringify({ version: 1, owner: crashed, purpose: 'run', acquiredAt: new Date(now).toISOString(), expiresAt: new Date(now + 3_600_000).toISOString() }));
    const won = winners(await Promise.allSettled(Array.from({ length: 4 }, () => acquireLease(store, key, { ttlMs: 60_000 }))));
    expect(won).toHaveLength(1);
    expect((await readRecord(key))['owner']).toBe(won[0]!.owner);
    await won[0]!.release();
  });

  it('does not take over a live holder on another host before expiry, but does after it', async () => {
    const key = 'remote/lease.json';
    const live = { version: 1, owner: 'runner-7:1:abc', purpose: 'run', acquiredAt: new Date().toISOString() };
    await store.put(key, JSON.stringify({ ...live, expiresAt: new Date(Date.now() + 3_600_000).toISOString() }));
    await expect(acquireLease(store, key, { ttlMs: 60_000 })).rejects.toThrow(/held by runner-7:1:abc/);
    await store.put(key, JSON.stringify({ ...live, expiresAt: new Date(Date.now() - 1).toISOString() }));
    const lease = await acquireLease(store, key, { ttlMs: 60_000 });
    await lease.release();
  });

  it('renews: a renewal moves the expiry on and keeps the owner', async () => {
    const key = 'renew/lease.json';
    const lease = await acquireLease(store, key, { ttlMs: 60_000 });
    const before = await readRecord(key);
    const etag = (await store.head(key))!.etag;
    await new Promise((r) => setTimeout(r, 5)); // so the new expiry is a later millisecond
    await lease.renew();
    const after = await readRecord(key);
    expect((await store.head(key))!.etag).not.toBe(etag);
    expect(after['owner']).toBe(lease.owner);
    expect(Date.parse(after['expiresAt'] as string)).toBeGreaterThan(Date.parse(before['expiresAt'] as string));
    expect(lease.signal.aborted).toBe(false);
    await lease.release();
  });

  it('aborts its signal when someone else took it over, and then leaves it alone on release', async () => {
    const key = 'lost/lease.json';
    const lease = await acquireLease(store, key, { ttlMs: 60_000 });
    const intruder = { version: 1, owner: 'elsewhere:9:x', purpose: 'run', acquiredAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 60_000).toISOString() };
    await store.put(key, JSON.stringify(intruder));
    await lease.renew();
    expect(lease.signal.aborted).toBe(true);
    expect(lease.signal.reason).toBeInstanceOf(LeaseLostError);
    expect(lease.lost).toBe(true);
    await lease.release();
    expect(await readRecord(key)).toEqual(intruder);
  });

  it('aborts its signal when renewals keep failing until the lease expires', async () => {
    const key = 'unreachable/lease.json';
    let failing = false;
    const flaky = new Proxy<ObjectStore>(store, {
      get(target, prop, receiver) {
        if (prop === 'putIfMatch' && failing) return () => Promise.reject(new Error('store unreachable'));
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const lease = await acquireLease(flaky, key, { ttlMs: 300 });
    failing = true;
    if (!lease.signal.aborted) await once(lease.signal, 'abort');
    expect(lease.signal.reason).toBeInstanceOf(LeaseLostError);
    failing = false;
    await lease.release();
    // Lost, so release wrote nothing: the record still shows the last renewal, not a release.
    expect((await readRecord(key))['released']).toBeUndefined();
  });
});
