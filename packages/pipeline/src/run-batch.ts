import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type BatchId, batchIdForSchedule, toBatchId } from '@batchline/batch-id';
import {
  type BatchLifecycle,
  type BatchManifest,
  type Lease,
  type LifecycleOptions,
  type ObjectStore,
  BatchInProgressError,
  createBatchLifecycle,
  openObjectStore,
} from '@batchline/s3-lifecycle';
import {
  type BatchFile,
  type BatchLocation,
  type OpenWarehouseOptions,
  type PinnedFileReader,
  type TaskAudit,
  type Warehouse,
  openWarehouse,
} from '@batchline/snowflake-loader';
import {
  ENTITIES,
  type PipelineEntity,
  TASK_NAMES,
  type TaskName,
  type TaskPolicyConfig,
  redactUrl,
  taskPolicyFor,
} from './config.js';
import { FutureBatchError, SequenceWaitError, quoteValue } from './errors.js';
import { type RunReport, type SequenceReport, buildReport } from './report.js';
import { Sequence, type SequenceEntry, waitError } from './sequence.js';
import {
  type PriorTaskState,
  type TaskEvent,
  type TaskFigures,
  type TaskJournal,
  type TaskSpec,
  PermanentTaskError,
  runTaskGraph,
} from './task-graph.js';

export type HookPoint = 'before' | 'during' | 'after';

/** Progress for humans: task events plus file moves from claim and archive. */
export type RunEvent =
  | TaskEvent<TaskName>
  | { readonly type: 'lease'; readonly key: string }
  | { readonly type: 'progress'; readonly entity: string; readonly step: string; readonly done: number; readonly total: number };

export interface RunBatchOptions {
  /** An ObjectStore, or a URL: `file://dir` or `s3://bucket/prefix`. */
  readonly store: ObjectStore | string;
  /** A Warehouse, or a URL: `duckdb://file` or `snowflake://account/db/schema?...`. Opened ones are not closed. */
  readonly warehouse: Warehouse | string;
  /** Options for opening a warehouse given as a URL (Snowflake auth settings, temp dir); `files` is the store. */
  readonly warehouseOptions?: Omit<OpenWarehouseOptions, 'files'>;
  /** Untrusted input is fine: it is validated before any I/O. */
  readonly batchId: BatchId | string;
  /** Rerun tasks that already succeeded; every task is idempotent. */
  readonly force?: boolean;
  /** Key prefix before `<entity>/`, e.g. `firehose/`. */
  readonly root?: string;
  readonly onError?: 'abort' | 'quarantine';
  /** Parallel copies/deletes in claim and archive. */
  readonly concurrency?: number;
  /** Per-task timeout and retry settings; `default` applies to every task. */
  readonly tasks?: Partial<Record<TaskName | 'default', Partial<TaskPolicyConfig>>>;
  /** Take the batch's lease so only one run works on it (default true). */
  readonly lease?: boolean;
  readonly leaseSeconds?: number;
  /** Apply the warehouse DDL first. Default: only for the embedded DuckDB engine. */
  readonly setup?: boolean;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: RunEvent) => void;
  /**
   * The configured schedule: a batch id after its current slot (at `now`) is refused before any I/O
   * (FutureBatchError, exit 2). Without it, any valid id is accepted.
   */
  readonly cron?: string;
  /** The clock for the future-id check. Default: the current time. */
  readonly now?: Date;
  /**
   * Landing files modified within this many seconds are left for the next batch (still being written).
   * Default: the store's (filesystem 5 s, S3 0: S3 PUTs are atomic).
   */
  readonly settleSeconds?: number;
  /**
   * @internal Test hook: called at each task's before/during/after point. The CLI wires it
   * to BATCHLINE_CRASH_AT only; library users have no reason to set it.
   */
  readonly hook?: (task: TaskName, point: HookPoint) => void | Promise<void>;
}

interface RunContext {
  readonly batchId: BatchId;
  readonly lifecycle: BatchLifecycle;
  readonly warehouse: Warehouse;
  readonly onError: 'abort' | 'quarantine';
  readonly settleSeconds: number | undefined;
  /** The store's sequence of batches (gate, seal, cascade). */
  readonly sequence: Sequence;
  /** The transform's gate: earlier batches first (caught up by this run when `catchUp`). */
  readonly gate: () => Promise<void>;
  readonly hook: (task: TaskName, point: HookPoint) => Promise<void>;
  /** Set while a claim/archive runs, so its first file move can fire the `during` hook. */
  readonly moving: Map<string, TaskName>;
}

/**
 * The pinned files where they live now: processing/ until archived, processed/ after (a replay reloads
 * from there; an interrupted archive is finished first). s3-lifecycle owns the layout: the loader gets
 * key, stage path, size and ETag per file, never re-deriving them.
 */
async function batchFiles(ctx: RunContext, entity: PipelineEntity): Promise<{ files: BatchFile[]; location: BatchLocation }> {
  const loadable = await ctx.lifecycle.loadableFiles(entity, ctx.batchId);
  return { location: loadable.location, files: [...loadable.files] };
}

async function requireManifest(ctx: RunContext, entity: PipelineEntity): Promise<BatchManifest> {
  const manifest = await ctx.lifecycle.readManifest(entity, ctx.batchId);
  if (!manifest) throw new PermanentTaskError(`batch ${ctx.batchId} has no claim manifest for ${entity}; claim:${entity} must run first`);
  return manifest;
}

/**
 * A load that failed on its files says which command gets the batch moving again: a bad record
 * (fix the file, then repin; or quarantine; or release) or a file that changed after the claim.
 */
function withWayOut(error: unknown, batchId: BatchId, location: BatchLocation): unknown {
  if (!(error instanceof Error)) return error;
  let wayOut: string | undefined;
  if (error.name === 'LoadRejectedError') {
    wayOut =
      location === 'processed'
        ? `the archived file is not the one that loaded before: restore it in processed/${batchId}/`
        : `fix the file in processing/${batchId}/ then \`batchline repin --batch ${batchId}\` and \`batchline run --batch ${batchId}\`; ` +
          `or rerun with onError quarantine (BATCHLINE_ON_ERROR=quarantine); or give the files to the next batch with \`batchline release --batch ${batchId}\``;
  } else if (error.name === 'CorruptFileError') {
    wayOut =
      location === 'processed'
        ? `an archived file is damaged: put the complete pinned file back in processed/${batchId}/ (repin is refused for archived batches)`
        : `replace the object in processing/${batchId}/ with a complete one, then \`batchline repin --batch ${batchId}\` and \`batchline run --batch ${batchId}\`; ` +
          `or give the files to the next batch with \`batchline release --batch ${batchId}\``;
  } else if (error.name === 'PinnedFileChangedError' || (error.name === 'LoadInputError' && /changed after the claim/.test(error.message))) {
    wayOut =
      location === 'processed'
        ? `an archived file changed: restore it in processed/${batchId}/ (repin is refused for archived batches; a replay needs the pinned bytes)`
        : `restore the file, or pin the batch to what is in processing/${batchId}/ now: \`batchline repin --batch ${batchId}\`, then \`batchline run --batch ${batchId}\``;
  }
  if (wayOut === undefined || error.message.includes('batchline repin') || error.message.includes(wayOut)) return error;
  try {
    error.message = `${error.message} Way out: ${wayOut}.`;
  } catch {
    // A frozen message stays as it is; the report still names the task.
  }
  return error;
}

/** An archive the filesystem refused (a file in the way, no permission) names what to remove and what to run after. */
function withArchiveWayOut(error: unknown, entity: PipelineEntity, batchId: BatchId): unknown {
  if (!(error instanceof Error) || error.name !== 'BlockedPathError') return error;
  try {
    error.message =
      `${error.message}. Way out: remove what blocks ${entity}/processed/${batchId}/ in the store (or fix its permissions), ` +
      `then \`batchline run --batch ${batchId}\` finishes the archive.`;
  } catch {
    // A frozen message stays as it is; the report still names the task.
  }
  return error;
}

/**
 * Start `op`, fire the `during` hook while it is in flight, and wait for it. The outcome is captured
 * the moment `op` starts, so a rejection while the hook runs is the task's failure, never an unhandled one.
 */
async function during<T>(ctx: RunContext, task: TaskName, op: () => Promise<T>): Promise<T> {
  const settled = Promise.resolve()
    .then(op)
    .then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
  await new Promise((resolve) => setImmediate(resolve));
  await ctx.hook(task, 'during');
  const outcome = await settled;
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}

function withHooks(name: TaskName, needs: TaskName[], body: (ctx: RunContext) => Promise<TaskFigures>): TaskSpec<TaskName, RunContext> {
  return {
    name,
    needs,
    async run(ctx) {
      await ctx.hook(name, 'before');
      const figures = await body(ctx);
      await ctx.hook(name, 'after');
      return figures;
    },
  };
}

/** The seven tasks: claim ∥ claim -> load ∥ load -> transform -> archive ∥ archive. */
export function batchTasks(): TaskSpec<TaskName, RunContext>[] {
  const claim = (entity: PipelineEntity) =>
    withHooks(`claim:${entity}`, [], async (ctx) => {
      ctx.moving.set(entity, `claim:${entity}`);
      try {
        const manifest = await ctx.lifecycle.claim(entity, ctx.batchId, {
          ...(ctx.settleSeconds !== undefined ? { settleSeconds: ctx.settleSeconds } : {}),
          // Under the claim lock, only for a new claim, before landing/ is listed: an id below a
          // started transform is refused.
          beforeList: () => ctx.sequence.checkNewClaim(entity, ctx.batchId),
        });
        const skipped = manifest.skipped ?? [];
        const notes = [
          ...(manifest.files.length === 0 ? ['nothing in landing'] : []),
          ...(skipped.length > 0 ? [`${skipped.length} key(s) left in landing: ${skipped.slice(0, 3).map((k) => `${JSON.stringify(k.key)} (${k.reason})`).join(', ')}${skipped.length > 3 ? ', …' : ''}`] : []),
        ];
        return { files: manifest.files.length, ...(notes.length > 0 ? { note: notes.join('; ') } : {}) };
      } finally {
        ctx.moving.delete(entity);
      }
    });
  const load = (entity: PipelineEntity) =>
    withHooks(`load:${entity}`, [`claim:${entity}`], async (ctx) => {
      const manifest = await requireManifest(ctx, entity);
      if (manifest.files.length === 0) return { files: 0, rows: 0, rejected: 0, note: 'no files' };
      const { files, location } = await batchFiles(ctx, entity);
      // Pinned reads: both engines check every file's size and ETag through s3-lifecycle.
      const pinned: PinnedFileReader = ctx.lifecycle;
      const result = await during(ctx, `load:${entity}`, () => ctx.warehouse.load({ entity, batchId: ctx.batchId, files, onError: ctx.onError, location, pinned }),
      ).catch((error: unknown) => {
        throw withWayOut(error, ctx.batchId, location);
      });
      return { files: result.files.length, rows: result.rowsLoaded, rejected: result.rowsRejected };
    });
  const transformTask = withHooks('transform', ['load:orders', 'load:customers'], async (ctx) => {
    const manifests = await Promise.all(ENTITIES.map((e) => requireManifest(ctx, e)));
    if (manifests.every((m) => m.files.length === 0)) return { rows: 0, orphans: 0, duplicates: 0, note: 'empty batch' };
    const result = await during(ctx, 'transform', () => ctx.warehouse.transform(ctx.batchId));
    return {
      rows: result.curatedRows,
      orphans: result.orphanOrders,
      duplicates: result.duplicateOrders,
      late: result.lateOrders,
      pendingOrphans: result.pendingOrphans,
    };
  });
  const archive = (entity: PipelineEntity) =>
    withHooks(`archive:${entity}`, ['transform'], async (ctx) => {
      ctx.moving.set(entity, `archive:${entity}`);
      try {
        const manifest = await ctx.lifecycle.archive(entity, ctx.batchId);
        return { files: manifest.files.length };
      } catch (error) {
        throw withArchiveWayOut(error, entity, ctx.batchId);
      } finally {
        ctx.moving.delete(entity);
      }
    });
  // The sequence gate runs before the transform's first attempt: nothing is recorded while it waits.
  const transform: TaskSpec<TaskName, RunContext> = { ...transformTask, gate: (ctx) => ctx.gate() };
  return [claim('orders'), claim('customers'), load('orders'), load('customers'), transform, archive('orders'), archive('customers')];
}

function auditJournal(warehouse: Warehouse, batchId: BatchId): TaskJournal<TaskName> {
  const figuresOf = (f: TaskFigures) => ({
    ...(f.files !== undefined ? { files: f.files } : {}),
    ...(f.rows !== undefined ? { rows: f.rows } : {}),
    ...(f.rejected !== undefined ? { rejected: f.rejected } : {}),
    ...(f.duplicates !== undefined ? { duplicates: f.duplicates } : {}),
    ...(f.orphans !== undefined ? { orphans: f.orphans } : {}),
    ...(f.late !== undefined ? { late: f.late } : {}),
    ...(f.pendingOrphans !== undefined ? { pendingOrphans: f.pendingOrphans } : {}),
  });
  return {
    started: (task, attempt, at) => warehouse.recordTask({ batchId, task, state: 'running', attempt, startedAt: at }),
    succeeded: (task, attempt, startedAt, finishedAt, figures) =>
      warehouse.recordTask({ batchId, task, state: 'succeeded', attempt, startedAt, finishedAt, ...figuresOf(figures) }),
    failed: (task, attempt, startedAt, finishedAt, error) =>
      warehouse.recordTask({ batchId, task, state: 'failed', attempt, startedAt, finishedAt, error: error.message.slice(0, 2000) }),
  };
}

export function priorStates(audits: readonly TaskAudit[]): Map<TaskName, PriorTaskState> {
  const prior = new Map<TaskName, PriorTaskState>();
  for (const a of audits) {
    if (!(TASK_NAMES as readonly string[]).includes(a.task)) continue;
    const figures: TaskFigures = {
      ...(a.files != null ? { files: a.files } : {}),
      ...(a.rows != null ? { rows: a.rows } : {}),
      ...(a.rejected != null ? { rejected: a.rejected } : {}),
      ...(a.duplicates != null ? { duplicates: a.duplicates } : {}),
      ...(a.orphans != null ? { orphans: a.orphans } : {}),
      ...(a.late != null ? { late: a.late } : {}),
      ...(a.pendingOrphans != null ? { pendingOrphans: a.pendingOrphans } : {}),
    };
    prior.set(a.task as TaskName, { state: a.state, attempt: a.attempt, figures });
  }
  return prior;
}

/** The task runner's policy (milliseconds) from the configured one (seconds): config.ts's taskPolicyFor merges them. */
function policyFor(options: RunBatchOptions, task: TaskName) {
  const p = taskPolicyFor(options, task);
  return { timeoutMs: p.timeoutSeconds * 1000, retries: p.retries, backoffMs: p.backoffSeconds * 1000 };
}

/**
 * One run per batch: s3-lifecycle's run lease (a dead holder process on this host is taken over at
 * once, any other holder after its lease expires). The refusal is reworded for whoever runs the
 * batch, naming the holder.
 */
/** The longest lease any configuration gives (leaseSeconds <= 86,400), with a margin for clock skew. */
const MAX_PLAUSIBLE_LEASE_MS = 2 * 86_400_000;

async function acquireRunLease(lifecycle: BatchLifecycle, batchId: BatchId, ttlMs: number): Promise<Lease> {
  try {
    return await lifecycle.acquireRunLease(batchId, { ttlMs });
  } catch (err) {
    if (!(err instanceof BatchInProgressError)) throw err;
    const { key, owner, expiresAt } = err.details;
    const message = `batch ${batchId} is in progress: held by ${quoteValue(owner ?? 'another run')}, lease until ${expiresAt === undefined ? 'unknown' : quoteValue(expiresAt)} (${key ?? 'run lease'})`;
    // A holder renews its lease a third of a TTL ahead; a TTL is at most a day. An expiry much further out was
    // not written by a run of this release (a clock far ahead, or a hand edit): say how to get out safely.
    const ahead = expiresAt === undefined ? NaN : Date.parse(expiresAt) - Date.now();
    if (ahead > Math.max(2 * ttlMs, MAX_PLAUSIBLE_LEASE_MS)) {
      throw new BatchInProgressError(
        `${message}; that expiry is implausibly far ahead (a run's lease lasts at most a day): if no run of batch ${batchId} is active ` +
          `(look for the holder's host and process id above), delete the lease object ${quoteValue(key ?? `_batchline/leases/runs/${batchId}.json`)} and run again`,
        err.details,
      );
    }
    throw new BatchInProgressError(message, err.details);
  }
}

/** Refuse a batch id after the schedule's current slot, before any I/O. */
export function assertNotFuture(batchId: BatchId, cron: string | undefined, now: Date = new Date()): void {
  if (cron === undefined) return;
  const current = batchIdForSchedule(cron, now);
  if (batchId > current) throw new FutureBatchError(batchId, current, cron);
}

/** A lease owner s3-lifecycle recognizes as a process on this host (dead holder: taken over at once). */
export function runOwner(runId: string, batchId: BatchId): string {
  return `${hostname()}:${process.pid}:${runId}/batch ${batchId}`;
}

/** What every graph run of one runBatch call shares (its own batch's and those it catches up). */
interface RunEnv {
  readonly options: RunBatchOptions;
  readonly store: ObjectStore;
  readonly root: string;
  readonly warehouse: Warehouse;
  readonly sequence: Sequence;
  readonly onEvent: (event: RunEvent) => void;
  readonly signal: AbortSignal | undefined;
  readonly caughtUp: { batchId: BatchId; status: string; rerunTransform: boolean; error?: string }[];
  /** One uuid per runBatch call: the lease owners of this run. */
  readonly runId: string;
}

function lifecycleFor(env: RunEnv, batchId: BatchId, onProgress?: LifecycleOptions['onProgress']) {
  return createBatchLifecycle(env.store, {
    root: env.root,
    concurrency: env.options.concurrency ?? 16,
    // Claim and archive hold a per-entity lease of their own, and a new claim the entity's claim lock.
    // The owner is `<host>:<pid>:<uuid>/batch <id>`: when a killed run left them, a run on this host sees
    // the process is gone and takes them over at once, for this batch and for every other batch's claim.
    ...(env.options.lease === false ? {} : { lease: { owner: runOwner(env.runId, batchId) } }),
    ...(onProgress ? { onProgress } : {}),
  });
}

/** The seven tasks of one batch, under a run lease the caller holds. */
async function runGraphFor(
  env: RunEnv,
  batchId: BatchId,
  mode: { readonly force: boolean; readonly catchUp: boolean; readonly rerunTransform: boolean; readonly leaseSignal?: AbortSignal },
) {
  const { options, onEvent, warehouse } = env;
  const moving = new Map<string, TaskName>();
  const duringFired = new Set<TaskName>();
  const userHook = options.hook;
  const hook = async (task: TaskName, point: HookPoint) => {
    if (!userHook) return;
    if (point === 'during') {
      if (duringFired.has(task)) return;
      duringFired.add(task);
    }
    await userHook(task, point);
  };
  const pendingHooks: Promise<void>[] = [];
  let hookFailure: unknown;
  const lifecycle = lifecycleFor(env, batchId, (event) => {
    onEvent({ type: 'progress', entity: event.entity, step: event.step, done: event.done, total: event.total });
    const task = moving.get(event.entity);
    // Captured at once: a hook that throws fails the run below, never as an unhandled rejection.
    if (task && event.done > 0) pendingHooks.push(hook(task, 'during').then(() => undefined, (error: unknown) => { hookFailure ??= error; }));
  });
  const prior = priorStates(await warehouse.readTasks(batchId));
  const signals = [env.signal, mode.leaseSignal].filter((s): s is AbortSignal => s !== undefined);
  const ctx: RunContext = {
    batchId,
    lifecycle,
    warehouse,
    onError: options.onError ?? 'abort',
    settleSeconds: options.settleSeconds,
    sequence: env.sequence,
    gate: () => sequenceGate(env, batchId, mode.catchUp),
    hook,
    moving,
  };
  const outcomes = await runTaskGraph({
    tasks: batchTasks(),
    context: ctx,
    policy: (task) => policyFor(options, task),
    journal: auditJournal(warehouse, batchId),
    prior,
    force: mode.force,
    ...(mode.rerunTransform ? { rerun: new Set<TaskName>(['transform']) } : {}),
    ...(signals.length > 0 ? { signal: AbortSignal.any(signals) } : {}),
    onEvent,
  });
  await Promise.all(pendingHooks);
  if (hookFailure !== undefined) throw hookFailure;
  return outcomes;
}

/** How long a run waits for a later batch's run lease when catching it up. */
const FORWARD_WAIT_MS = 60_000;

type CatchUpResult = { readonly busy: string } | { readonly busy?: undefined; readonly outcomes: Awaited<ReturnType<typeof runGraphFor>> };

/** Run another batch's remaining tasks under its run lease (this run keeps the sequence moving). */
async function catchUp(env: RunEnv, entry: SequenceEntry, wait: boolean): Promise<CatchUpResult> {
  const batchId = entry.batchId;
  let lease: Lease | undefined;
  if (env.options.lease !== false) {
    try {
      // A bounded wait: a later batch whose own run is busy loading transforms itself once it is done (its
      // gate then finds this one transformed); the wait only covers a run that is about to exit.
      const waiting = wait ? { wait: true, waitTimeoutMs: FORWARD_WAIT_MS } : {};
      lease = await lifecycleFor(env, batchId).acquireRunLease(batchId, { ttlMs: (env.options.leaseSeconds ?? 600) * 1000, ...waiting });
    } catch (err) {
      if (!(err instanceof BatchInProgressError)) throw err;
      return { busy: err.details.owner ?? 'another run' };
    }
  }
  try {
    const outcomes = await runGraphFor(env, batchId, { force: false, catchUp: false, rerunTransform: entry.stale, ...(lease ? { leaseSignal: lease.signal } : {}) });
    const failed = outcomes.find((o) => o.state === 'failed' || o.state === 'waiting');
    env.caughtUp.push({
      batchId,
      status: failed ? `${failed.state} at ${failed.name}` : 'succeeded',
      rerunTransform: entry.stale,
      ...(failed?.error ? { error: failed.error.message.split('\n')[0]!.slice(0, 500) } : {}),
    });
    return { outcomes };
  } finally {
    await lease?.release();
  }
}

/**
 * The transform's gate. Seal the sequence at this batch, then take the earlier batches that hold it back
 * one by one, in order: catch each up (when this is the batch's own run) or wait for it (exit 75).
 */
async function sequenceGate(env: RunEnv, batchId: BatchId, allowCatchUp: boolean): Promise<void> {
  const seq = env.sequence;
  await seq.seal(batchId);
  const tried = new Set<BatchId>();
  for (;;) {
    const view = await seq.view();
    const blocker = Sequence.blockerBefore(view, batchId);
    if (!blocker) break;
    if (!allowCatchUp || tried.has(blocker.batchId)) throw waitError(batchId, blocker);
    tried.add(blocker.batchId);
    const result = await catchUp(env, blocker, false);
    if (result.busy !== undefined) throw waitError(batchId, blocker, result.busy);
    // The earlier batch itself waits for one before it: so does this one, for the same reason.
    const inner = result.outcomes.find((o) => o.state === 'waiting')?.error;
    if (inner instanceof SequenceWaitError) throw new SequenceWaitError(batchId, inner.blocker, inner.reason, inner.wayOut, inner.busy);
  }
  // Transforming a batch the sequence had settled past: the later ones must be looked at again.
  await seq.reopen(batchId);
}

/** After this batch's transform: transform (or re-transform) the later batches that waited, in order. */
async function catchUpLater(env: RunEnv, batchId: BatchId): Promise<void> {
  const tried = new Set<BatchId>();
  for (;;) {
    const view = await env.sequence.view();
    const next = Sequence.pendingAfter(view, batchId)[0];
    if (!next || tried.has(next.batchId)) break;
    tried.add(next.batchId);
    // Waiting for a later batch's run lease is safe: waits only ever point to later ids, never in a circle.
    const result = await catchUp(env, next, true);
    if (result.busy !== undefined || result.outcomes.some((o) => o.state === 'failed' || o.state === 'waiting')) break;
  }
}

/**
 * Run one batch: the seven tasks over an object store and a warehouse. Tasks that
 * succeeded in an earlier run are skipped (unless `force`); a failed one resumes.
 * The transform keeps the store's sequence: earlier batches first (this run catches them up, or the
 * report says `waiting`, exit 75), later ones waiting for this one after it.
 * Throws BatchInProgressError when another run holds the batch, FutureBatchError for an id after the
 * schedule's current slot (before any I/O).
 */
export async function runBatch(options: RunBatchOptions): Promise<RunReport> {
  const batchId = toBatchId(options.batchId);
  assertNotFuture(batchId, options.cron, options.now);
  const startedAt = new Date();
  const root = options.root ?? '';
  const store = typeof options.store === 'string' ? openObjectStore(options.store) : options.store;
  const onEvent = options.onEvent ?? (() => undefined);
  const ownsWarehouse = typeof options.warehouse === 'string';
  const warehouseUrl = typeof options.warehouse === 'string' ? options.warehouse : undefined;
  const ownLifecycle = createBatchLifecycle(store, { root });
  const lease = options.lease === false ? undefined : await acquireRunLease(ownLifecycle, batchId, (options.leaseSeconds ?? 600) * 1000);
  if (lease) onEvent({ type: 'lease', key: lease.key });
  let warehouse: Warehouse | undefined;
  try {
    warehouse = typeof options.warehouse === 'string' ? await openWarehouse(options.warehouse, { ...options.warehouseOptions, files: store }) : options.warehouse;
    if (options.setup ?? warehouse.engine === 'duckdb') await warehouse.setup();
    const sequence = new Sequence(ownLifecycle, warehouse);
    const env: RunEnv = { options, store, root, warehouse, sequence, onEvent, signal: options.signal, caughtUp: [], runId: randomUUID() };
    // Refused before anything is written when it plainly cannot join (the claim's beforePin is the real guard).
    const refusal = await sequence.checkNewBatch(batchId);
    if (refusal) {
      const outcomes = TASK_NAMES.map((name) => (name === 'claim:orders' ? { name, state: 'failed' as const, attempt: 0, error: refusal } : { name, state: 'not-run' as const, attempt: 0 }));
      return buildReport({
        batchId,
        startedAt,
        finishedAt: new Date(),
        outcomes,
        store: store.location,
        warehouse: warehouseUrl ? redactUrl(warehouseUrl) : `${warehouse.engine} (caller's connection)`,
        forced: options.force ?? false,
        sequence: { caughtUp: [] },
      });
    }
    // A batch whose transform an earlier batch's re-transform made stale runs it again.
    const stale = !(options.force ?? false) && Sequence.isStale(await sequence.view(), batchId);
    const outcomes = await runGraphFor(env, batchId, { force: options.force ?? false, catchUp: true, rerunTransform: stale, ...(lease ? { leaseSignal: lease.signal } : {}) });
    const transform = outcomes.find((o) => o.name === 'transform');
    if (transform && (transform.state === 'succeeded' || transform.state === 'skipped') && !lease?.signal.aborted) {
      await catchUpLater(env, batchId);
      await sequence.settle();
    }
    const waiting = outcomes.find((o) => o.state === 'waiting')?.error as { blocker?: BatchId; reason?: string; wayOut?: string } | undefined;
    const sequenceReport: SequenceReport = {
      ...(waiting?.blocker ? { waitingFor: { batchId: waiting.blocker, reason: waiting.reason ?? '', wayOut: waiting.wayOut ?? '' } } : {}),
      caughtUp: env.caughtUp,
    };
    return buildReport({
      batchId,
      startedAt,
      finishedAt: new Date(),
      outcomes,
      store: store.location,
      warehouse: warehouseUrl ? redactUrl(warehouseUrl) : `${warehouse.engine} (caller's connection)`,
      forced: options.force ?? false,
      sequence: sequenceReport,
      ...(lease?.signal.aborted ? { lostLease: (lease.signal.reason as Error).message } : {}),
    });
  } finally {
    if (ownsWarehouse) await warehouse?.close();
    await lease?.release();
  }
}

export { TASK_NAMES, ENTITIES };
