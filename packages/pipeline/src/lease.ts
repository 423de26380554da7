import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import type { BatchId } from '@batchline/batch-id';
import { BatchInProgressError, type ObjectStore } from '@batchline/s3-lifecycle';

/**
 * One run per batch. A lease object is created with putIfAbsent (exactly one of
 * racing runs wins), renewed by compare-and-swap (putIfMatch) while the run
 * lasts, and deleted at the end. A lease whose holder stopped renewing past its
 * expiry, or whose holder is a dead process on this host, may be taken over,
 * again by compare-and-swap, so two runs never both believe they hold it.
 */

export interface LeaseRecord {
  readonly version: 1;
  readonly batchId: string;
  readonly owner: string;
  readonly host: string;
  readonly pid: number;
  readonly acquiredAt: string;
  readonly renewedAt: string;
  readonly expiresAt: string;
}

export interface BatchLease {
  readonly key: string;
  readonly record: LeaseRecord;
  /** Aborts when the lease is lost (someone took it over, or renewals kept failing). */
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
  readonly now?: () => Date;
}

export function leaseKey(root: string, batchId: BatchId): string {
  return `${root}_batchline/leases/${batchId}.json`;
}

async function readText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function parseLease(text: string): LeaseRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<LeaseRecord>;
    if (typeof value.owner === 'string' && typeof value.expiresAt === 'string' && typeof value.pid === 'number' && typeof value.host === 'string') {
      return value as LeaseRecord;
    }
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
function staleReason(current: LeaseRecord | undefined, now: Date): string | undefined {
  if (!current) return 'unreadable lease';
  if (Date.parse(current.expiresAt) <= now.getTime()) return `expired at ${current.expiresAt}`;
  if (current.host === hostname() && current.pid !== process.pid && processIsGone(current.pid)) {
    return `process ${current.pid} on ${current.host} is gone`;
  }
  return undefined;
}

export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

export async function readLease(store: ObjectStore, key: string): Promise<{ record: LeaseRecord | undefined; etag: string } | undefined> {
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
  const now = options.now ?? (() => new Date());
  const key = leaseKey(options.root ?? '', batchId);
  const owner = randomUUID();
  const acquiredAt = now();
  const make = (at: Date): LeaseRecord => ({
    version: 1,
    batchId,
    owner,
    host: hostname(),
    pid: process.pid,
    acquiredAt: acquiredAt.toISOString(),
    renewedAt: at.toISOString(),
    expiresAt: new Date(at.getTime() + ttlMs).toISOString(),
  });

  let record = make(acquiredAt);
  let won = await store.putIfAbsent(key, JSON.stringify(record));
  for (let tries = 0; !won && tries < 3; tries++) {
    const current = await readLease(store, key);
    if (!current) {
      // Released between our attempts: race for it again.
      won = await store.putIfAbsent(key, JSON.stringify(record));
      continue;
    }
    const reason = staleReason(current.record, now());
    if (!reason) {
      const holder = current.record;
      throw new BatchInProgressError(
        `batch ${batchId} is in progress: run ${holder!.owner} on ${holder!.host} (pid ${holder!.pid}) holds it since ${holder!.acquiredAt}, lease until ${holder!.expiresAt}`,
      );
    }
    record = make(now());
    won = await store.putIfMatch(key, JSON.stringify(record), current.etag);
  }
  if (!won) throw new BatchInProgressError(`batch ${batchId} is in progress: another run keeps taking its lease`);

  let etag = (await store.head(key))?.etag;
  const lostController = new AbortController();
  let renewing: Promise<void> = Promise.resolve();
  const renew = async () => {
    if (lostController.signal.aborted) return;
    const next = make(now());
    try {
      const current = etag ? await store.putIfMatch(key, JSON.stringify(next), etag) : false;
      if (!current) {
        lostController.abort(new LeaseLostError(`lost the lease of batch ${batchId}: another run took it over`));
        return;
      }
      record = next;
      etag = (await store.head(key))?.etag;
    } catch (err) {
      // A transient store error: keep the lease until it would expire.
      if (Date.parse(record.expiresAt) <= now().getTime()) {
        lostController.abort(new LeaseLostError(`lost the lease of batch ${batchId}: could not renew it (${(err as Error).message})`));
      }
    }
  };
  const timer = setInterval(() => {
    renewing = renewing.then(renew);
  }, options.renewEveryMs ?? Math.max(1000, Math.floor(ttlMs / 3)));
  timer.unref();

  return {
    key,
    get record() {
      return record;
    },
    lost: lostController.signal,
    async release() {
      clearInterval(timer);
      await renewing;
      if (lostController.signal.aborted) return;
      // Delete only if it is still ours (nobody took it over after expiry).
      const current = await readLease(store, key);
      if (current?.record?.owner === owner) await store.deleteMany([key]);
    },
  };
}
