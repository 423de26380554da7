import { type BatchId, toBatchId } from '@batchline/batch-id';
import {
  type BatchLifecycle,
  type BatchManifest,
  type Lease,
  type ObjectStore,
  BatchInProgressError,
  createBatchLifecycle,
  openObjectStore,
} from '@batchline/s3-lifecycle';
import { type BatchFile, type BatchLocation, type OpenWarehouseOptions, type TaskAudit, type Warehouse, openWarehouse } from '@batchline/snowflake-loader';
import {
  DEFAULT_TASK_POLICY,
  ENTITIES,
  type PipelineEntity,
  TASK_NAMES,
  type TaskName,
  type TaskPolicyConfig,
  redactUrl,
} from './config.js';
import { type RunReport, buildReport } from './report.js';
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
  readonly hook: (task: TaskName, point: HookPoint) => Promise<void>;
  /** Set while a claim/archive runs, so its first file move can fire the `during` hook. */
  readonly moving: Map<string, TaskName>;
}

/** Where the pinned files live now: processing/ until archived, processed/ after (a replay reloads from there). */
async function batchFiles(ctx: RunContext, entity: PipelineEntity, manifest: BatchManifest): Promise<{ files: BatchFile[]; location: BatchLocation }> {
  let current = manifest;
  // An interrupted archive leaves files on both sides: finish it (idempotent) so every file has one home.
  if (current.state === 'archiving') current = await ctx.lifecycle.archive(entity, ctx.batchId);
  const location: BatchLocation = current.state === 'archived' ? 'processed' : 'processing';
  const files = current.files.map((file) => ({
    path: file.path,
    key: location === 'processed' ? ctx.lifecycle.processedKey(entity, ctx.batchId, file.path) : ctx.lifecycle.processingKey(entity, ctx.batchId, file.path),
    size: file.size,
  }));
  return { files, location };
}

async function requireManifest(ctx: RunContext, entity: PipelineEntity): Promise<BatchManifest> {
  const manifest = await ctx.lifecycle.readManifest(entity, ctx.batchId);
  if (!manifest) throw new PermanentTaskError(`batch ${ctx.batchId} has no claim manifest for ${entity}; claim:${entity} must run first`);
  return manifest;
}

/** Start `op`, fire the `during` hook while it is in flight, and wait for it. */
async function during<T>(ctx: RunContext, task: TaskName, op: () => Promise<T>): Promise<T> {
  const pending = op();
  await new Promise((resolve) => setImmediate(resolve));
  await ctx.hook(task, 'during');
  return pending;
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
        const manifest = await ctx.lifecycle.claim(entity, ctx.batchId);
        return { files: manifest.files.length, ...(manifest.files.length === 0 ? { note: 'nothing in landing' } : {}) };
      } finally {
        ctx.moving.delete(entity);
      }
    });
  const load = (entity: PipelineEntity) =>
    withHooks(`load:${entity}`, [`claim:${entity}`], async (ctx) => {
      const manifest = await requireManifest(ctx, entity);
      if (manifest.files.length === 0) return { files: 0, rows: 0, rejected: 0, note: 'no files' };
      const { files, location } = await batchFiles(ctx, entity, manifest);
      const result = await during(ctx, `load:${entity}`, () =>
        ctx.warehouse.load({ entity, batchId: ctx.batchId, files, onError: ctx.onError, location }),
      );
      return { files: result.files.length, rows: result.rowsLoaded, rejected: result.rowsRejected };
    });
  const transform = withHooks('transform', ['load:orders', 'load:customers'], async (ctx) => {
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
      } finally {
        ctx.moving.delete(entity);
      }
    });
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

function policyFor(options: RunBatchOptions, task: TaskName) {
  const p = { ...DEFAULT_TASK_POLICY, ...options.tasks?.default, ...options.tasks?.[task] };
  return { timeoutMs: p.timeoutSeconds * 1000, retries: p.retries, backoffMs: p.backoffSeconds * 1000 };
}

/**
 * One run per batch: s3-lifecycle's run lease (a dead holder process on this host is taken over at
 * once, any other holder after its lease expires). The refusal is reworded for whoever runs the
 * batch, naming the holder.
 */
async function acquireRunLease(lifecycle: BatchLifecycle, batchId: BatchId, ttlMs: number): Promise<Lease> {
  try {
    return await lifecycle.acquireRunLease(batchId, { ttlMs });
  } catch (err) {
    if (!(err instanceof BatchInProgressError)) throw err;
    const { key, owner, expiresAt } = err.details;
    throw new BatchInProgressError(`batch ${batchId} is in progress: held by ${owner ?? 'another run'}, lease until ${expiresAt ?? 'unknown'} (${key ?? 'run lease'})`, err.details);
  }
}

/**
 * Run one batch: the seven tasks over an object store and a warehouse. Tasks that
 * succeeded in an earlier run are skipped (unless `force`); a failed one resumes.
 * Throws BatchInProgressError when another run holds the batch.
 */
export async function runBatch(options: RunBatchOptions): Promise<RunReport> {
  const batchId = toBatchId(options.batchId);
  const startedAt = new Date();
  const root = options.root ?? '';
  const store = typeof options.store === 'string' ? openObjectStore(options.store) : options.store;
  const onEvent = options.onEvent ?? (() => undefined);
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
  const lifecycle = createBatchLifecycle(store, {
    root,
    concurrency: options.concurrency ?? 16,
    // Claim and archive hold a per-entity lease of their own. Under the run lease only one run
    // works on this batch, so every run of it may share one owner id: a rerun after a crash then
    // takes a claim's lease back at once instead of waiting for it to expire.
    ...(options.lease === false ? {} : { lease: { owner: `batchline-run:${batchId}` } }),
    onProgress: (event) => {
      onEvent({ type: 'progress', entity: event.entity, step: event.step, done: event.done, total: event.total });
      const task = moving.get(event.entity);
      if (task && event.done > 0) pendingHooks.push(hook(task, 'during'));
    },
  });

  const ownsWarehouse = typeof options.warehouse === 'string';
  const warehouseUrl = typeof options.warehouse === 'string' ? options.warehouse : undefined;
  const lease = options.lease === false ? undefined : await acquireRunLease(lifecycle, batchId, (options.leaseSeconds ?? 600) * 1000);
  if (lease) onEvent({ type: 'lease', key: lease.key });
  let warehouse: Warehouse | undefined;
  try {
    warehouse = typeof options.warehouse === 'string' ? await openWarehouse(options.warehouse, { ...options.warehouseOptions, files: store }) : options.warehouse;
    if (options.setup ?? warehouse.engine === 'duckdb') await warehouse.setup();
    const prior = priorStates(await warehouse.readTasks(batchId));
    const signals = [options.signal, lease?.signal].filter((s): s is AbortSignal => s !== undefined);
    const ctx: RunContext = { batchId, lifecycle, warehouse, onError: options.onError ?? 'abort', hook, moving };
    const outcomes = await runTaskGraph({
      tasks: batchTasks(),
      context: ctx,
      policy: (task) => policyFor(options, task),
      journal: auditJournal(warehouse, batchId),
      prior,
      force: options.force ?? false,
      ...(signals.length > 0 ? { signal: AbortSignal.any(signals) } : {}),
      onEvent,
    });
    await Promise.all(pendingHooks);
    return buildReport({
      batchId,
      startedAt,
      finishedAt: new Date(),
      outcomes,
      store: store.location,
      warehouse: warehouseUrl ? redactUrl(warehouseUrl) : `${warehouse.engine} (caller's connection)`,
      forced: options.force ?? false,
      ...(lease?.signal.aborted ? { lostLease: (lease.signal.reason as Error).message } : {}),
    });
  } finally {
    if (ownsWarehouse) await warehouse?.close();
    await lease?.release();
  }
}

export { TASK_NAMES, ENTITIES };
