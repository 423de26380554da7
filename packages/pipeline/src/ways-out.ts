// The ways out of a stuck batch: `repin` (pin the batch to what is in processing/<id>/ now, after a file
// was fixed there) and `release` (give a failed, never transformed batch's files back to landing/, for the
// next batch). Both hold the batch's run lease, so neither runs beside a run of the batch, and both are
// idempotent: a crash at any point is finished by running the command again.
import { type BatchId, toBatchId } from '@batchline/batch-id';
import { type FileChange, type Lease, type ObjectStore, BatchInProgressError, createBatchLifecycle, openObjectStore } from '@batchline/s3-lifecycle';
import { type OpenWarehouseOptions, type Warehouse, openWarehouse } from '@batchline/snowflake-loader';
import { ENTITIES, type PipelineEntity } from './config.js';
import { randomUUID } from 'node:crypto';
import { WayOutRefusedError } from './errors.js';
import { runOwner } from './run-batch.js';
import { Sequence } from './sequence.js';

export interface WayOutOptions {
  readonly store: ObjectStore | string;
  readonly warehouse: Warehouse | string;
  readonly warehouseOptions?: Omit<OpenWarehouseOptions, 'files'>;
  /** Untrusted input is fine: validated before any I/O. */
  readonly batchId: BatchId | string;
  readonly root?: string;
  readonly leaseSeconds?: number;
  /** Apply the warehouse DDL first. Default: only for the embedded DuckDB engine. */
  readonly setup?: boolean;
}

export interface RepinOutcome {
  readonly batchId: BatchId;
  /** Per entity: the files whose size or ETag changed (added: no `before`; removed: no `after`). */
  readonly changes: Readonly<Record<PipelineEntity, readonly FileChange[]>>;
  /** What to run next. */
  readonly next: string;
}

export interface ReleaseOutcome {
  readonly batchId: BatchId;
  /** Files put back in landing/ per entity. */
  readonly files: Readonly<Record<PipelineEntity, number>>;
  /** Nothing was left to release (released before, or never claimed). */
  readonly alreadyReleased: boolean;
}

async function withBatch<T>(
  options: WayOutOptions,
  command: string,
  work: (parts: { batchId: BatchId; lifecycle: ReturnType<typeof createBatchLifecycle>; warehouse: Warehouse }) => Promise<T>,
): Promise<T> {
  const batchId = toBatchId(options.batchId);
  const store = typeof options.store === 'string' ? openObjectStore(options.store) : options.store;
  // An owner like a run's: leases a killed run on this host left are taken over at once.
  const lifecycle = createBatchLifecycle(store, { root: options.root ?? '', lease: { owner: runOwner(randomUUID(), batchId) } });
  let lease: Lease;
  try {
    lease = await lifecycle.acquireRunLease(batchId, { ttlMs: (options.leaseSeconds ?? 600) * 1000 });
  } catch (err) {
    if (!(err instanceof BatchInProgressError)) throw err;
    throw new BatchInProgressError(
      `cannot ${command} batch ${batchId}: it is in progress, held by ${err.details.owner ?? 'another run'} until ${err.details.expiresAt ?? 'unknown'}; ` +
        `wait for that run to finish, then try again`,
      err.details,
    );
  }
  const ownsWarehouse = typeof options.warehouse === 'string';
  let warehouse: Warehouse | undefined;
  try {
    warehouse = typeof options.warehouse === 'string' ? await openWarehouse(options.warehouse, { ...options.warehouseOptions, files: store }) : options.warehouse;
    if (options.setup ?? warehouse.engine === 'duckdb') await warehouse.setup();
    return await work({ batchId, lifecycle, warehouse });
  } finally {
    if (ownsWarehouse) await warehouse?.close();
    await lease.release();
  }
}

/**
 * Re-pin a claimed, not yet archived batch to what is in processing/<id>/ now (after a bad file was fixed
 * there): s3-lifecycle records old and new size and ETag in the manifest's transitions. The batch's loads
 * (and its transform, if it had run) are marked to run again, so the next `batchline run --batch <id>`
 * reloads it; later batches wait for it and are transformed again after it.
 */
export async function repinBatch(options: WayOutOptions): Promise<RepinOutcome> {
  return withBatch(options, 'repin', async ({ batchId, lifecycle, warehouse }) => {
    const manifests = await Promise.all(ENTITIES.map((e) => lifecycle.readManifest(e, batchId)));
    if (manifests.every((m) => m === undefined)) {
      throw new WayOutRefusedError(`cannot repin batch ${batchId}: it was never claimed (or was released); to run it: batchline run --batch ${batchId}`);
    }
    const changes = { orders: [] as FileChange[], customers: [] as FileChange[] };
    for (const [i, entity] of ENTITIES.entries()) {
      if (!manifests[i]) continue;
      changes[entity] = [...(await lifecycle.repin(entity, batchId)).changes];
    }
    const changed = ENTITIES.filter((e) => changes[e].length > 0);
    if (changed.length > 0) {
      // Later batches must look at this one again: it is no longer transformed as it will be.
      await new Sequence(lifecycle, warehouse).reopen(batchId);
      const tasks = await warehouse.readTasks(batchId);
      const now = new Date();
      const rerun = [...changed.map((e) => `load:${e}`), ...(tasks.some((t) => t.task === 'transform') ? ['transform'] : [])];
      for (const task of rerun) {
        const prior = tasks.find((t) => t.task === task);
        await warehouse.recordTask({
          batchId,
          task,
          state: 'failed',
          attempt: (prior?.attempt ?? 0) + 1,
          startedAt: now,
          finishedAt: now,
          error: `re-pinned (${changed.map((e) => `${e}: ${changes[e].length} file(s) changed`).join(', ')}): runs again with the files now in processing/${batchId}/`,
        });
      }
    }
    return { batchId, changes, next: `batchline run --batch ${batchId}` };
  });
}

/**
 * Release a failed batch that was never transformed: its raw rows, rejects and task rows go, its files go
 * back to landing/ and its manifest is removed, so the next batch takes them. Refused (with the reason)
 * for a transformed or archived batch: replay it instead.
 */
export async function releaseBatch(options: WayOutOptions): Promise<ReleaseOutcome> {
  return withBatch(options, 'release', async ({ batchId, lifecycle, warehouse }) => {
    const manifests = await Promise.all(ENTITIES.map((e) => lifecycle.readManifest(e, batchId)));
    const archived = manifests.find((m) => m?.state === 'archived' || m?.state === 'archiving');
    if (archived) {
      throw new WayOutRefusedError(
        `cannot release batch ${batchId}: it is ${archived.state} (its rows are part of the curated table); to load it again use batchline replay --batch ${batchId}`,
      );
    }
    const transform = (await warehouse.readTasks(batchId)).find((t) => t.task === 'transform');
    if (transform?.state === 'succeeded') {
      throw new WayOutRefusedError(
        `cannot release batch ${batchId}: it was transformed (its rows are part of the curated table); finish it with batchline run --batch ${batchId}, or reload it with batchline replay --batch ${batchId}`,
      );
    }
    // The warehouse first: a crash after it leaves the manifest, and running release again finishes.
    await warehouse.releaseBatch(batchId);
    const files = { orders: 0, customers: 0 };
    let already = true;
    for (const entity of ENTITIES) {
      const result = await lifecycle.release(entity, batchId);
      files[entity] = result.files;
      already &&= result.alreadyReleased;
    }
    return { batchId, files, alreadyReleased: already };
  });
}
