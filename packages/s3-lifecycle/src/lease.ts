import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ObjectStore } from './object-store.js';
import { readJson } from './json-object.js';
import { BatchInProgressError, LeaseLostError } from './errors.js';

export { BatchInProgressError, LeaseLostError };

export interface LeaseOptions {
  /**
   * Who holds the lease. A holder that acquires again with the same owner takes its own lease back at
   * once (a retried run resumes); anyone else waits for release or expiry, or for the holder's process to
   * be gone when the holder is a default owner on this host. Default: `<host>:<pid>:<uuid>`.
   */
  readonly owner?: string;
  /** What the lease is for, shown to whoever is refused. */
  readonly purpose?: string;
  /** A lease not renewed for this long may be taken over. Renewed every third of it. Default 60 s. */
  readonly ttlMs?: number;
  /** Wait for a held lease to be released or to expire instead of failing. Default false. */
  readonly wait?: boolean;
  /** How often to look again while waiting. Default 500 ms. */
  readonly pollMs?: number;
  /** Stop waiting (BatchInProgressError) after this long. Default: wait as long as the holder keeps renewing. */
  readonly waitTimeoutMs?: number;
}

/** What a lease object holds. */
export interface LeaseRecord {
  readonly version: 1;
  readonly owner: string;
  readonly purpose: string;
  readonly acquiredAt: string;
  readonly expiresAt: string;
  readonly released?: boolean;
}

export function defaultLeaseOwner(): string {
  return `${hostname()}:${process.pid}:${randomUUID()}`;
}

/**
 * A time-bounded exclusive hold on a key, built only on the store's conditional writes:
 * created with putIfAbsent, renewed, released and taken over with putIfMatch, so exactly one
 * holder exists at a time even across machines (given clocks within a fraction of the TTL).
 */
export class Lease {
  private etag: string;
  private record: LeaseRecord;
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private isLost = false;
  private isReleased = false;
  private readonly loss = new AbortController();

  private constructor(
    private readonly store: ObjectStore,
    readonly key: string,
    private readonly ttlMs: number,
    record: LeaseRecord,
    etag: string,
  ) {
    this.record = record;
    this.etag = etag;
    // A failed renewal is retried on the next tick; only once the lease has expired meanwhile is it lost.
    this.timer = setInterval(() => void this.renew().catch(() => this.lost && this.markLost()), Math.max(1, Math.floor(ttlMs / 3)));
    this.timer.unref();
  }

  get owner(): string {
    return this.record.owner;
  }

  get expiresAt(): Date {
    return new Date(this.record.expiresAt);
  }

  get lost(): boolean {
    return this.isLost || (!this.isReleased && Date.now() > Date.parse(this.record.expiresAt));
  }

  /**
   * Aborts (reason: LeaseLostError) once the lease is lost: taken over by someone else, or not renewed
   * before it expired. Pass it to the work done under the lease so that work stops.
   */
  get signal(): AbortSignal {
    return this.loss.signal;
  }

  private markLost(): void {
    this.isLost = true;
    if (!this.loss.signal.aborted) this.loss.abort(new LeaseLostError(this.key));
  }

  /** Throws LeaseLostError when the lease can no longer be trusted. */
  assertHeld(): void {
    if (this.lost) throw new LeaseLostError(this.key);
  }

  /** Extend the lease by a full TTL. */
  async renew(): Promise<void> {
    if (this.isReleased || this.isLost) return;
    this.renewing ??= (async () => {
      const next: LeaseRecord = { ...this.record, expiresAt: new Date(Date.now() + this.ttlMs).toISOString() };
      const etag = await writeIfMatch(this.store, this.key, next, this.etag);
      if (etag === undefined) {
        this.markLost();
        return;
      }
      this.record = next;
      this.etag = etag;
    })().finally(() => (this.renewing = undefined));
    await this.renewing;
  }

  /** Give the lease up. A lease already taken over by someone else is left alone. */
  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.isReleased) return;
    await this.renewing?.catch(() => undefined);
    this.isReleased = true;
    if (this.isLost) return;
    const released: LeaseRecord = { ...this.record, released: true, expiresAt: new Date().toISOString() };
    await this.store.putIfMatch(this.key, JSON.stringify(released), this.etag);
  }

  /** Stop renewing without touching the store (for a holder that is being abandoned). */
  abandon(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.isReleased = true;
  }

  static async acquire(store: ObjectStore, key: string, options: LeaseOptions = {}): Promise<Lease> {
    const owner = options.owner ?? defaultLeaseOwner();
    const ttlMs = options.ttlMs ?? 60_000;
    const pollMs = options.pollMs ?? 500;
    const purpose = options.purpose ?? 'lease';
    if (!(ttlMs > 0)) throw new RangeError(`Lease ttlMs must be a positive number of milliseconds, got ${ttlMs}`);
    const started = Date.now();
    const fresh = (): LeaseRecord => {
      const now = Date.now();
      return { version: 1, owner, purpose, acquiredAt: new Date(now).toISOString(), expiresAt: new Date(now + ttlMs).toISOString() };
    };
    for (;;) {
      const record = fresh();
      if (await store.putIfAbsent(key, JSON.stringify(record))) {
        const head = await store.head(key);
        // Only a holder of our ETag could have replaced it, and nobody has it yet.
        if (head) return new Lease(store, key, ttlMs, record, head.etag);
        continue;
      }
      const current = await readJson<LeaseRecord>(store, key);
      if (current === undefined) continue; // removed meanwhile: try to create again
      const held = current.value;
      const free = held.released === true || held.owner === owner || Date.now() > Date.parse(held.expiresAt) || holderIsGone(held.owner);
      if (free) {
        const etag = await writeIfMatch(store, key, record, current.etag);
        if (etag !== undefined) return new Lease(store, key, ttlMs, record, etag);
        continue; // someone else took it first; look again
      }
      const waitedTooLong = options.waitTimeoutMs !== undefined && Date.now() - started >= options.waitTimeoutMs;
      if (!options.wait || waitedTooLong) {
        throw new BatchInProgressError(
          `${held.purpose} is held by ${held.owner} until ${held.expiresAt} (lease ${key}); ` +
            'retry later, or pass wait: true to wait for it',
          { key, owner: held.owner, purpose: held.purpose, expiresAt: held.expiresAt },
        );
      }
      await sleep(pollMs);
    }
  }
}

/**
 * A default owner (`<host>:<pid>:<uuid>`) on this host whose process no longer exists: a runner that was
 * killed, whose lease need not be waited out.
 */
function holderIsGone(owner: string): boolean {
  // A suffix after the uuid (`/claim <id>`, see the entity claim lock) names what the same runner holds.
  const match = /^(.*):(\d+):[0-9a-f-]{36}(?:\/.*)?$/.exec(owner);
  if (!match || match[1] !== hostname() || Number(match[2]) === process.pid) return false;
  try {
    process.kill(Number(match[2]), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Compare-and-swap a JSON record; the new ETag, or undefined when the current one differed. */
async function writeIfMatch(store: ObjectStore, key: string, value: unknown, etag: string): Promise<string | undefined> {
  if (!(await store.putIfMatch(key, JSON.stringify(value), etag))) return undefined;
  const head = await store.head(key);
  return head?.etag;
}

/** Hold a lease on `key` in `store` (for example a pipeline's one-run-per-batch lease). */
export function acquireLease(store: ObjectStore, key: string, options?: LeaseOptions): Promise<Lease> {
  return Lease.acquire(store, key, options);
}
