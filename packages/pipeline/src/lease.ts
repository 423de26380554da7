import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import type { BatchId } from '@batchline/batch-id';
import { BatchInProgressError, LeaseLostError, type ObjectStore } from '@batchline/s3-lifecycle';

/**
 * One run per batch. The lease object sits where s3-lifecycle's `acquireRunLease` keeps it and
 * has the same record shape, so both exclude each other. It is created with putIfAbsent (exactly
 * one of racing runs wins), renewed by compare-and-swap (putIfMatch) while the run lasts, and
 * marked released at the end. It may be taken over, again by compare-and-swap with a fresh owner
 * id, when it expired, was released, or its holder is a process on this host that no longer
 * exists (a run killed with SIGKILL): a rerun after a crash need not wait for the expiry, and two
 * reruns racing for the takeover still cannot both win.
 */

/** The record s3-lifecycle's Lease writes; `owner` is `<host>:<pid>:<uuid>`. */
export interface LeaseRecord {
  readonly version: 1;
  readonly owner: string;
  readonly purpose: string;
  readonly acquiredAt: string;
  readonly expiresAt: string;
  readonly released?: boolean;
}

export interface BatchLease {
  readonly key: string;
  readonly owner: string;
  /** Aborts (with LeaseLostError) when the lease is lost: someone took it over, or renewals failed until expiry. */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

export interface AcquireLeaseOptions {
  readonly store: ObjectStore;
  readonly batchId: BatchId;
  /** Key prefix (the lifecycle root), e.g. `firehose/`. */
  readonly root?: string;
  readonly ttlMs: number;
  /** Renew every ttl/3 by default. */
  readonly renewEveryMs?: number;
}

export function leaseKey(root: string, batchId: BatchId): string {
  return `${root}_batchline/leases/runs/${batchId}.json`;
}

async function readText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function parseLease(text: string): LeaseRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<LeaseRecord>;
    if (typeof value.owner === 'string' && typeof value.expiresAt === 'string') return value as LeaseRecord;
  } catch {
    // unreadable: treated as stale below
  }
  return undefined;
}

function processIsGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Why a lease held by someone else may be taken over, or undefined when it may not. */
function staleReason(current: LeaseRecord | undefined): string | undefined {
  if (!current) return 'unreadable lease';
  if (current.released === true) return 'released';
  if (!(Date.parse(current.expiresAt) > Date.now())) return `expired at ${current.expiresAt}`;
  const m = /^(.*):(\d+):[^:]+$/.exec(current.owner);
  if (m && m[1] === hostname() && Number(m[2]) !== process.pid && processIsGone(Number(m[2]))) {
    return `process ${m[2]} on ${m[1]} is gone`;
  }
  return undefined;
}

async function readLease(store: ObjectStore, key: string): Promise<{ record: LeaseRecord | undefined; etag: string } | undefined> {
  const head = await store.head(key);
  if (!head) return undefined;
  try {
    return { record: parseLease(await readText(await store.get(key))), etag: head.etag };
  } catch (err) {
    if ((err as Error).name === 'ObjectNotFoundError') return undefined;
    throw err;
  }
}

/**
 * Take the batch's lease or throw BatchInProgressError naming the holder.
 * The caller must `release()` it (in a finally).
 */
export async function acquireLease(options: AcquireLeaseOptions): Promise<BatchLease> {
  const { store, batchId, ttlMs } = options;
  const key = leaseKey(options.root ?? '', batchId);
  const owner = `${hostname()}:${process.pid}:${randomUUID()}`;
  const acquiredAt = new Date().toISOString();
  const make = (extra: Partial<LeaseRecord> = {}): LeaseRecord => ({
    version: 1,
    owner,
    purpose: `run of batch ${batchId}`,
    acquiredAt,
    expiresAt: new Date(Date.now() + ttlMs).toISOString(),
    ...extra,
  });

  let won = await store.putIfAbsent(key, JSON.stringify(make()));
  for (let tries = 0; !won && tries < 5; tries++) {
    const current = await readLease(store, key);
    if (!current) {
      won = await store.putIfAbsent(key, JSON.stringify(make()));
      continue;
    }
    if (!staleReason(current.record)) {
      const holder = current.record!;
      throw new BatchInProgressError(
        `batch ${batchId} is in progress: held by ${holder.owner} since ${holder.acquiredAt}, lease until ${holder.expiresAt} (${key})`,
        { key, owner: holder.owner, purpose: holder.purpose, expiresAt: holder.expiresAt },
      );
    }
    won = await store.putIfMatch(key, JSON.stringify(make()), current.etag);
  }
  if (!won) throw new BatchInProgressError(`batch ${batchId} is in progress: other runs keep taking its lease (${key})`, { key });

  let etag = (await store.head(key))?.etag;
  let expiresAt = Date.now() + ttlMs;
  const lost = new AbortController();
  let renewing: Promise<void> = Promise.resolve();
  const renew = async () => {
    if (lost.signal.aborted) return;
    try {
      const ok = etag !== undefined && (await store.putIfMatch(key, JSON.stringify(make()), etag));
      if (!ok) {
        lost.abort(new LeaseLostError(key));
        return;
      }
      expiresAt = Date.now() + ttlMs;
      etag = (await store.head(key))?.etag;
    } catch {
      // A transient store error: the lease still holds until it would expire.
      if (Date.now() >= expiresAt) lost.abort(new LeaseLostError(key));
    }
  };
  const timer = setInterval(() => {
    renewing = renewing.then(renew);
  }, options.renewEveryMs ?? Math.max(250, Math.floor(ttlMs / 3)));
  timer.unref();

  return {
    key,
    owner,
    lost: lost.signal,
    async release() {
      clearInterval(timer);
      await renewing;
      if (lost.signal.aborted || etag === undefined) return;
      // Only if still ours: a lease taken over after expiry belongs to the other run now.
      await store.putIfMatch(key, JSON.stringify(make({ released: true, expiresAt: new Date().toISOString() })), etag);
    },
  };
}
