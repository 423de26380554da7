import type { BatchId } from '@batchline/batch-id';
import type { BatchLifecycle } from '@batchline/s3-lifecycle';
import type { TaskAudit, Warehouse } from '@batchline/snowflake-loader';
import { ENTITIES, type PipelineEntity, TASK_NAMES, type TaskName } from '../config.js';
import { type PipelineStatus, pipelineStatus } from '../status.js';

/** A grid cell's state. `waiting`: no attempt recorded yet (not reached, or held back). */
export type CellState = 'succeeded' | 'failed' | 'running' | 'skipped' | 'waiting';
export const CELL_STATES: readonly CellState[] = ['succeeded', 'failed', 'running', 'skipped', 'waiting'];

export interface PageAttempt {
  readonly attempt: number;
  readonly state: string;
  /** ISO-8601 UTC. */
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly error?: string;
}

export interface PageTask {
  readonly task: TaskName;
  readonly state: CellState;
  /** The latest attempt's number; 0 when none was recorded. */
  readonly attempt: number;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly durationMs?: number;
  readonly error?: string;
  /** Earlier attempts of the task's latest run (retries), oldest first. */
  readonly retries: readonly PageAttempt[];
}

export interface PageBatch {
  readonly batchId: string;
  /** The overall state as `batchline status` words it (done, failed at load:orders, ...). */
  readonly state: string;
  /** The seven tasks, in TASK_NAMES order. */
  readonly tasks: readonly PageTask[];
  readonly entities: Readonly<Record<PipelineEntity, { readonly files?: number; readonly rows?: number; readonly rejected?: number }>>;
  readonly curated: {
    readonly rows?: number;
    readonly duplicates?: number;
    /** New orphans: fulfilled orders of this batch whose customer is not known yet. */
    readonly orphans?: number;
    /** Orders of earlier batches counted in this batch. */
    readonly late?: number;
    /** Orphans still waiting after this batch. */
    readonly pendingOrphans?: number;
  };
}

/** Everything the status page shows; plain data, so it can be rendered, tested and benchmarked on its own. */
export interface StatusPageData {
  readonly generatedAt: string;
  readonly store: string;
  readonly warehouse: string;
  readonly landing: Readonly<Record<string, { readonly files: number; readonly bytes: number }>>;
  /** The batch that holds the sequence back, if any: why, the command that frees it, the batches waiting for it. */
  readonly holdingBack?: { readonly batchId: string; readonly reason?: string; readonly wayOut?: string; readonly waiting?: readonly string[] };
  /** Keys left in landing/ per entity because the store cannot take them (untrusted text: escaped when shown). */
  readonly skipped?: Readonly<Record<string, readonly { readonly key: string; readonly reason: string }[]>>;
  /** Newest first. */
  readonly batches: readonly PageBatch[];
}

const iso = (d: Date | undefined) => (d ? d.toISOString() : undefined);

function pageTask(task: TaskName, audit: TaskAudit | undefined): PageTask {
  if (!audit) return { task, state: 'waiting', attempt: 0, retries: [] };
  const state: CellState = (CELL_STATES as readonly string[]).includes(audit.state) ? (audit.state as CellState) : 'waiting';
  const startedAt = iso(audit.startedAt);
  const finishedAt = iso(audit.finishedAt);
  return {
    task,
    state,
    attempt: audit.attempt,
    ...(startedAt ? { startedAt } : {}),
    ...(finishedAt ? { finishedAt } : {}),
    ...(audit.startedAt && audit.finishedAt ? { durationMs: Math.max(0, audit.finishedAt.getTime() - audit.startedAt.getTime()) } : {}),
    ...(audit.error !== undefined ? { error: audit.error } : {}),
    retries: (audit.attempts ?? []).map((a) => ({
      attempt: a.attempt,
      state: a.state,
      startedAt: a.startedAt.toISOString(),
      ...(a.finishedAt ? { finishedAt: a.finishedAt.toISOString() } : {}),
      ...(a.error !== undefined ? { error: a.error } : {}),
    })),
  };
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined || value === null ? {} : ({ [key]: value } as Record<K, number>);
}

/** One batch's page data from its BATCH_AUDIT rows. */
export function pageBatch(batchId: string, state: string, audits: readonly TaskAudit[]): PageBatch {
  const byTask = new Map(audits.map((a) => [a.task, a]));
  const entities = Object.fromEntries(
    ENTITIES.map((e) => {
      const claim = byTask.get(`claim:${e}`);
      const load = byTask.get(`load:${e}`);
      return [e, { ...optional('files', claim?.files ?? load?.files), ...optional('rows', load?.rows), ...optional('rejected', load?.rejected) }];
    }),
  ) as PageBatch['entities'];
  const t = byTask.get('transform');
  return {
    batchId,
    state,
    tasks: TASK_NAMES.map((name) => pageTask(name, byTask.get(name))),
    entities,
    curated: {
      ...optional('rows', t?.rows),
      ...optional('duplicates', t?.duplicates),
      ...optional('orphans', t?.orphans),
      ...optional('late', t?.late),
      ...optional('pendingOrphans', t?.pendingOrphans),
    },
  };
}

/** Where the sequence is held back, from the status's sequence view. */
function holdingBackOf(status: PipelineStatus): StatusPageData['holdingBack'] {
  const h = status.sequence?.holdingBack;
  if (!h) return undefined;
  return { batchId: h.batchId, reason: h.reason, wayOut: h.wayOut, waiting: status.sequence?.waiting ?? [] };
}

/** The page data from `batchline status`'s data and each shown batch's BATCH_AUDIT rows. */
export function statusPageData(input: {
  readonly status: PipelineStatus;
  readonly audits: ReadonlyMap<string, readonly TaskAudit[]>;
  readonly store: string;
  readonly warehouse: string;
  readonly now?: Date;
}): StatusPageData {
  const holdingBack = holdingBackOf(input.status);
  return {
    generatedAt: (input.now ?? new Date()).toISOString(),
    store: input.store,
    warehouse: input.warehouse,
    landing: input.status.landing,
    ...(holdingBack ? { holdingBack } : {}),
    ...(input.status.skipped && Object.values(input.status.skipped).some((keys) => keys.length > 0) ? { skipped: input.status.skipped } : {}),
    batches: input.status.batches.map((b) => pageBatch(b.batchId, b.state, input.audits.get(b.batchId) ?? [])),
  };
}

/** The warehouse with task rows remembered per batch, so the status and the page read each batch once. */
function rememberingTasks(warehouse: Warehouse): Warehouse {
  const seen = new Map<BatchId, Promise<TaskAudit[]>>();
  const readTasksOf = (batchIds: readonly BatchId[]): Promise<Map<BatchId, TaskAudit[]>> => {
    const missing = [...new Set(batchIds)].filter((id) => !seen.has(id));
    if (missing.length > 0) {
      const read = warehouse.readTasksOf(missing);
      for (const id of missing) seen.set(id, read.then((rows) => rows.get(id) ?? []));
    }
    return Promise.all(batchIds.map(async (id) => [id, await seen.get(id)!] as const)).then((pairs) => new Map(pairs));
  };
  return new Proxy(warehouse, {
    get(target, property) {
      if (property === 'readTasksOf') return readTasksOf;
      if (property === 'readTasks') return async (batchId: BatchId) => (await readTasksOf([batchId])).get(batchId) ?? [];
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Read the status and the shown batches' task rows, for the page. */
export async function collectStatusPage(
  lifecycle: BatchLifecycle,
  warehouse: Warehouse,
  options: { readonly limit: number; readonly store: string; readonly warehouse: string; readonly batchId?: BatchId },
): Promise<StatusPageData> {
  const remembering = rememberingTasks(warehouse);
  const status = await pipelineStatus(lifecycle, remembering, { limit: options.limit, ...(options.batchId ? { batchId: options.batchId } : {}) });
  // The status read the shown batches' rows already (one query): remembered, not read again.
  const audits: ReadonlyMap<string, readonly TaskAudit[]> = await remembering.readTasksOf(status.batches.map((b) => b.batchId));
  return statusPageData({ status, audits, store: options.store, warehouse: options.warehouse });
}
