// One sequence per store root: batches are transformed in batch-id order, so the curated table after any
// interleaving of runs, failures, reruns and replays equals running the same batches once each, in order.
//
// - Gate: a batch's transform starts only when every earlier batch that has a manifest is transformed and
//   fresh. A run catches up earlier pending batches itself (under their run lease) and, after its own
//   transform, later ones waiting for it, so a fixed blocker never leaves the batches after it stuck.
// - Seal: before a transform starts, `<root>_batchline/sequence.json` records `sealedBelow` under both
//   entities' claim locks; a NEW claim of an earlier id is then refused before it pins anything (its files
//   go to the next slot), while an earlier batch that already has a manifest keeps its place.
// - Cascade: a batch transformed again (replay, repin) makes the transforms of later batches stale; they
//   are transformed again, in order (stale = its transform started before an earlier one's latest
//   transform attempt started; the gate makes that impossible otherwise).
// - `settledThrough` bounds the work: every batch up to it is transformed and fresh, so a run only lists and
//   reads the batches after it (the manifest listing starts there: `list(prefix, { startAfter })`).
import { type BatchId, formatBatchId, parseBatchId } from '@batchline/batch-id';
import type { BatchLifecycle, BatchManifest, ObjectStore } from '@batchline/s3-lifecycle';
import type { TaskAudit, Warehouse } from '@batchline/snowflake-loader';
import { ENTITIES, type PipelineEntity } from './config.js';
import { BatchSupersededError, SequenceWaitError } from './errors.js';

export interface SequenceRecord {
  readonly version: 1;
  /** The highest batch whose transform started: new claims of earlier ids are refused. */
  readonly sealedBelow?: BatchId;
  /** Every batch with a manifest up to this id is transformed and fresh. */
  readonly settledThrough?: BatchId;
}

/** One batch as the sequence sees it. */
export interface SequenceEntry {
  readonly batchId: BatchId;
  /** Lifecycle state per entity; an entity without a manifest is absent. */
  readonly entities: Partial<Record<PipelineEntity, BatchManifest['state']>>;
  readonly transformed: boolean;
  /** Transformed, but an earlier batch was transformed again after it: its transform must run again. */
  readonly stale: boolean;
  /** The latest failed task of the batch and its error, if any. */
  readonly failed?: { readonly task: string; readonly error: string };
  /** A task left `running` (in progress elsewhere, or interrupted). */
  readonly running?: string;
  /** When its (succeeded) transform started: a later batch whose transform started before is stale. */
  readonly transformStartedAt?: Date;
  /** When its latest transform attempt started, whatever its state (a re-transform under way counts). */
  readonly transformAttemptStartedAt?: Date;
}

export interface SequenceView {
  readonly record: SequenceRecord;
  /** The batches after `settledThrough`, ascending. */
  readonly entries: readonly SequenceEntry[];
}

const RECORD_VERSION = 1;
const MAX_CAS_TRIES = 20;
const BATCH_ID_SHAPE = /^\d{8}T\d{4}$/;
const SAMPLE_ID = '20000101T0000' as BatchId;
const HOUR_MS = 3_600_000;

/** `<root>_batchline/manifests/<entity>/`, where the entity's manifests are, named `<BATCH_ID>.json`. */
function manifestsPrefix(lifecycle: BatchLifecycle, entity: string): string {
  return lifecycle.manifestKey(entity, SAMPLE_ID).slice(0, -`${SAMPLE_ID}.json`.length);
}

/**
 * Batch ids with a manifest of any entity, ascending, after `after` (exclusive) and up to `through`
 * (inclusive). Each listing starts after `after` and stops past `through`, so it costs the batches in that
 * range, not the history.
 */
export async function manifestBatchIds(lifecycle: BatchLifecycle, range: { readonly after?: BatchId; readonly through?: BatchId } = {}): Promise<BatchId[]> {
  const ids = new Set<BatchId>();
  for (const entity of ENTITIES) {
    const prefix = manifestsPrefix(lifecycle, entity);
    const listing = lifecycle.store.list(prefix, range.after === undefined ? {} : { startAfter: `${prefix}${range.after}.json` });
    for await (const object of listing) {
      if (!object.key.endsWith('.json')) continue;
      const id = object.key.slice(prefix.length, -'.json'.length) as BatchId;
      if (!BATCH_ID_SHAPE.test(id)) continue;
      if (range.through !== undefined && id > range.through) break;
      // Checked again: an ObjectStore of someone else's that ignores startAfter lists from the start.
      if (range.after === undefined || id > range.after) ids.add(id);
    }
  }
  return [...ids].sort();
}

/**
 * The newest `count` batch ids with a manifest (either entity), ascending. Listed a window at a time back
 * from `anchor`: 1 hour first, then as far back as the batches found so far say `count` needs (a quarter more,
 * at least twice as far; 4 times as far when none was found yet; the rest at once past two years), each
 * listing stopping where the previous one began. The cost follows `count` and the batches after `anchor`, not
 * the history. Without an anchor (no transform ever started), every batch is pending anyway: all are listed.
 */
export async function newestBatchIds(lifecycle: BatchLifecycle, count: number, anchor: BatchId | undefined): Promise<BatchId[]> {
  if (anchor === undefined) return (await manifestBatchIds(lifecycle)).slice(-count);
  const found = new Set<BatchId>();
  const at = parseBatchId(anchor).getTime();
  let through: BatchId | undefined;
  for (let hours = 1; ; ) {
    const start = at - hours * HOUR_MS;
    const after = start > 0 && hours <= 2 * 8766 ? formatBatchId(new Date(start)) : undefined;
    for (const id of await manifestBatchIds(lifecycle, { ...(after ? { after } : {}), ...(through ? { through } : {}) })) found.add(id);
    if (found.size >= count || after === undefined) break;
    // The next window ends where this one began (`after` was left out here, so it is the next one's last id).
    through = after;
    hours = found.size === 0 ? hours * 4 : Math.max(hours * 2, Math.ceil(((hours * count) / found.size) * 1.25));
  }
  return [...found].sort().slice(-count);
}

/** The sequence record, or the empty one before the first seal. */
export async function readSequenceRecord(lifecycle: BatchLifecycle): Promise<{ value: SequenceRecord; etag?: string }> {
  const store = lifecycle.store;
  const key = lifecycle.sequenceKey();
  const head = await store.head(key);
  if (!head) return { value: { version: RECORD_VERSION } };
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(key)) chunks.push(Buffer.from(chunk as Uint8Array));
  let value: SequenceRecord;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SequenceRecord;
  } catch (error) {
    throw new Error(`Sequence record ${JSON.stringify(key)} is not valid JSON: ${(error as Error).message}`);
  }
  if (value.version !== RECORD_VERSION) throw new Error(`Sequence record ${JSON.stringify(key)} has version ${JSON.stringify(value.version)}, expected 1`);
  return { value, etag: head.etag };
}

function isPending(e: SequenceEntry): boolean {
  return !e.transformed || e.stale;
}

export class Sequence {
  private readonly store: ObjectStore;

  constructor(
    private readonly lifecycle: BatchLifecycle,
    private readonly warehouse: Warehouse,
  ) {
    this.store = lifecycle.store;
  }

  key(): string {
    return this.lifecycle.sequenceKey();
  }

  read(): Promise<{ value: SequenceRecord; etag?: string }> {
    return readSequenceRecord(this.lifecycle);
  }

  /** Compare-and-swap loop: `change` returns the new record, or undefined to leave it. */
  private async update(change: (current: SequenceRecord) => SequenceRecord | undefined): Promise<SequenceRecord> {
    for (let i = 0; i < MAX_CAS_TRIES; i++) {
      const current = await this.read();
      const next = change(current.value);
      if (next === undefined) return current.value;
      const body = JSON.stringify(next);
      const written = current.etag === undefined ? await this.store.putIfAbsent(this.key(), body) : await this.store.putIfMatch(this.key(), body, current.etag);
      if (written) return next;
    }
    throw new Error(`Sequence record ${JSON.stringify(this.key())} kept changing under ${MAX_CAS_TRIES} attempts; retry`);
  }

  private async underClaimLocks<T>(work: () => Promise<T>): Promise<T> {
    const hold = this.lifecycle.holdClaimLock.bind(this.lifecycle);
    // Fixed order (orders, then customers): two sealers never hold one lock each.
    return hold('orders', 'sequence seal', () => hold('customers', 'sequence seal', work));
  }

  /** Raise `sealedBelow` to the batch (never lower it), under both claim locks. */
  async seal(batchId: BatchId): Promise<void> {
    await this.underClaimLocks(() =>
      this.update((r) => (r.sealedBelow !== undefined && r.sealedBelow >= batchId ? undefined : { ...r, sealedBelow: batchId })),
    );
  }

  /**
   * Claim's beforePin: a batch that is not in the sequence yet (no manifest of any entity) may not join it
   * below a batch whose transform started.
   */
  async checkNewClaim(entity: string, batchId: BatchId): Promise<void> {
    const { value } = await this.read();
    if (value.sealedBelow === undefined || batchId >= value.sealedBelow) return;
    for (const other of ENTITIES) {
      if (other !== entity && (await this.lifecycle.readManifest(other, batchId)) !== undefined) return;
    }
    throw new BatchSupersededError(batchId, value.sealedBelow);
  }

  /** Without writing anything: the error a new claim of this batch would get, if it has no manifest and is sealed out. */
  async checkNewBatch(batchId: BatchId): Promise<BatchSupersededError | undefined> {
    const { value } = await this.read();
    if (value.sealedBelow === undefined || batchId >= value.sealedBelow) return undefined;
    for (const entity of ENTITIES) if ((await this.lifecycle.readManifest(entity, batchId)) !== undefined) return undefined;
    return new BatchSupersededError(batchId, value.sealedBelow);
  }

  /** Batch ids with a manifest of any entity, after `after` (exclusive), ascending; the listing starts there. */
  batchIds(after?: BatchId): Promise<BatchId[]> {
    return manifestBatchIds(this.lifecycle, after === undefined ? {} : { after });
  }

  async entry(batchId: BatchId, audits?: readonly TaskAudit[]): Promise<Omit<SequenceEntry, 'stale'>> {
    const [manifests, tasks] = await Promise.all([
      Promise.all(ENTITIES.map((e) => this.lifecycle.readManifest(e, batchId))),
      audits ? Promise.resolve(audits) : this.warehouse.readTasks(batchId),
    ]);
    const entities: Partial<Record<PipelineEntity, BatchManifest['state']>> = {};
    ENTITIES.forEach((e, i) => {
      const m = manifests[i];
      if (m) entities[e] = m.state;
    });
    const transform = tasks.find((t) => t.task === 'transform');
    const transformed = transform?.state === 'succeeded';
    const failed = tasks.filter((t) => t.state === 'failed').sort((a, b) => (b.finishedAt?.getTime() ?? 0) - (a.finishedAt?.getTime() ?? 0))[0];
    const running = tasks.find((t) => t.state === 'running');
    return {
      batchId,
      entities,
      transformed,
      ...(failed ? { failed: { task: failed.task, error: failed.error ?? 'failed' } } : {}),
      ...(running ? { running: running.task } : {}),
      ...(transformed && transform?.startedAt ? { transformStartedAt: transform.startedAt } : {}),
      ...(transform?.startedAt ? { transformAttemptStartedAt: transform.startedAt } : {}),
    };
  }

  /** The batches after `settledThrough`, with their state, staleness and failures (their task rows in one query). */
  async view(): Promise<SequenceView> {
    const { value: record } = await this.read();
    const ids = await this.batchIds(record.settledThrough);
    const audits = await this.warehouse.readTasksOf(ids);
    const raw = await Promise.all(ids.map((id) => this.entry(id, audits.get(id) ?? [])));
    const entries: SequenceEntry[] = [];
    let latestEarlierStart = 0;
    for (const e of raw) {
      const started = e.transformStartedAt?.getTime();
      const stale = e.transformed && started !== undefined && started < latestEarlierStart;
      entries.push({ ...e, stale });
      latestEarlierStart = Math.max(latestEarlierStart, e.transformAttemptStartedAt?.getTime() ?? 0);
    }
    return { record, entries };
  }

  /** The first batch before `batchId` that holds it back (pending or stale), if any. */
  static blockerBefore(view: SequenceView, batchId: BatchId): SequenceEntry | undefined {
    return view.entries.find((e) => e.batchId < batchId && isPending(e));
  }

  /** Later batches still to transform (or to transform again), ascending. */
  static pendingAfter(view: SequenceView, batchId: BatchId): SequenceEntry[] {
    return view.entries.filter((e) => e.batchId > batchId && isPending(e));
  }

  static isStale(view: SequenceView, batchId: BatchId): boolean {
    return view.entries.some((e) => e.batchId === batchId && e.stale);
  }

  /**
   * Before a batch at or below `settledThrough` is transformed again, lower the mark below it, so the
   * later batches are looked at (and re-transformed) again. Durable before the transform runs.
   */
  async reopen(batchId: BatchId): Promise<void> {
    const { value } = await this.read();
    if (value.settledThrough === undefined || value.settledThrough < batchId) return;
    const below = await this.settledBelow(batchId);
    await this.update((r) => {
      if (r.settledThrough === undefined || r.settledThrough < batchId) return undefined;
      const { settledThrough: _dropped, ...rest } = r;
      return below === undefined ? rest : { ...rest, settledThrough: below };
    });
  }

  /**
   * What `settledThrough` becomes when it is lowered below `batchId`: the latest batch before it, looked for in
   * the day before it (a listing of that day only), else the minute before it. Every batch up to either is
   * one before `batchId`, all of them settled, which is all the mark promises.
   */
  private async settledBelow(batchId: BatchId): Promise<BatchId | undefined> {
    const at = parseBatchId(batchId).getTime();
    const dayBefore = at - 24 * HOUR_MS;
    const minuteBefore = at - 60_000;
    if (minuteBefore < 0) return undefined;
    const earlier = await manifestBatchIds(this.lifecycle, { ...(dayBefore >= 0 ? { after: formatBatchId(new Date(dayBefore)) } : {}), through: formatBatchId(new Date(minuteBefore)) });
    return earlier.at(-1) ?? formatBatchId(new Date(minuteBefore));
  }

  /**
   * Raise `settledThrough` over the longest run of transformed, fresh batches. The raise is a
   * compare-and-swap against the record the view was computed from, so a concurrent `reopen` wins.
   */
  async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const current = await this.read();
      const ids = await this.batchIds(current.value.settledThrough);
      const audits = await this.warehouse.readTasksOf(ids);
      let through: BatchId | undefined;
      let latestEarlierStart = 0;
      for (const id of ids) {
        const e = await this.entry(id, audits.get(id) ?? []);
        const started = e.transformStartedAt?.getTime();
        if (!e.transformed || started === undefined || started < latestEarlierStart) break;
        if (ENTITIES.some((entity) => e.entities[entity] === undefined)) break;
        latestEarlierStart = Math.max(latestEarlierStart, e.transformAttemptStartedAt?.getTime() ?? 0);
        through = id;
      }
      if (through === undefined) return;
      const next = JSON.stringify({ ...current.value, settledThrough: through });
      const written = current.etag === undefined ? await this.store.putIfAbsent(this.key(), next) : await this.store.putIfMatch(this.key(), next, current.etag);
      if (written) return;
    }
  }
}

/** What to run to get the sequence moving again past `entry`. */
export function wayOutFor(entry: SequenceEntry, options: { busy: boolean }): string {
  if (options.busy) return `wait for the run of batch ${entry.batchId} to finish (or rerun with --wait)`;
  const rerun = `batchline run --batch ${entry.batchId}`;
  if (entry.failed) {
    const release = entry.transformed ? '' : `, or give its files to the next batch with batchline release --batch ${entry.batchId}`;
    const load = entry.failed.task.startsWith('load:') ? ` (a bad file: fix it in processing/${entry.batchId}/ and batchline repin --batch ${entry.batchId}, or set onError to quarantine)` : '';
    return `fix the cause, then ${rerun}${load}${release}`;
  }
  return rerun;
}

export function reasonFor(entry: SequenceEntry, busyOwner?: string): string {
  if (busyOwner) return `in progress: held by ${busyOwner}`;
  if (entry.failed) return `failed at ${entry.failed.task}: ${entry.failed.error.split('\n')[0]!.slice(0, 300)}`;
  if (entry.stale) return 'its transform must run again after an earlier batch changed';
  if (entry.running) return `interrupted at ${entry.running}`;
  const missing = ENTITIES.filter((e) => entry.entities[e] === undefined);
  if (missing.length > 0) return `not claimed for ${missing.join(' and ')} yet`;
  return 'not transformed yet';
}

export function waitError(batchId: BatchId, entry: SequenceEntry, busyOwner?: string): SequenceWaitError {
  const busy = busyOwner !== undefined;
  return new SequenceWaitError(batchId, entry.batchId, reasonFor(entry, busyOwner), wayOutFor(entry, { busy }), busy);
}
