import Table from 'cli-table3';
import type { BatchId } from '@batchline/batch-id';
import { type BatchLifecycle, type EntityStatus } from '@batchline/s3-lifecycle';
import type { TaskAudit, Warehouse } from '@batchline/snowflake-loader';
import { ENTITIES, TASK_NAMES } from './config.js';

export interface BatchStatusRow {
  readonly batchId: BatchId;
  /** Lifecycle state per entity: claimed (in processing) or archived (processed). */
  readonly entities: Readonly<Record<string, string>>;
  /** Task states from BATCH_AUDIT, when a warehouse was given. */
  readonly tasks?: Readonly<Record<string, string>>;
  /** done | running or failed (the task) | claimed | - */
  readonly state: string;
}

export interface PipelineStatus {
  readonly landing: Readonly<Record<string, { readonly files: number; readonly bytes: number }>>;
  readonly batches: readonly BatchStatusRow[];
}

function overallState(entities: Record<string, string>, tasks: TaskAudit[] | undefined): string {
  if (tasks && tasks.length > 0) {
    const failed = tasks.find((t) => t.state === 'failed');
    if (failed) return `failed at ${failed.task}`;
    const running = tasks.find((t) => t.state === 'running');
    if (running) return `running or interrupted at ${running.task}`;
    const done = TASK_NAMES.every((name) => tasks.some((t) => t.task === name && t.state === 'succeeded'));
    if (done) return 'done';
    return 'partly done';
  }
  const states = Object.values(entities);
  if (states.length > 0 && states.every((s) => s === 'archived')) return 'archived';
  return 'claimed';
}

/** Batches by state and files waiting in landing. `limit` keeps the newest batches. */
export async function pipelineStatus(
  lifecycle: BatchLifecycle,
  warehouse: Warehouse | undefined,
  options: { batchId?: BatchId; limit?: number } = {},
): Promise<PipelineStatus> {
  const statuses: EntityStatus[] = await Promise.all(ENTITIES.map((e) => lifecycle.status(e)));
  const landing: Record<string, { files: number; bytes: number }> = {};
  const byBatch = new Map<BatchId, Record<string, string>>();
  for (const s of statuses) {
    landing[s.entity] = { files: s.landing.files, bytes: s.landing.bytes };
    for (const b of s.batches) {
      if (options.batchId && b.batchId !== options.batchId) continue;
      const row = byBatch.get(b.batchId) ?? {};
      row[s.entity] = `${b.state} (${b.files} files)`;
      byBatch.set(b.batchId, row);
    }
  }
  if (options.batchId && !byBatch.has(options.batchId)) byBatch.set(options.batchId, {});
  const ids = [...byBatch.keys()].sort().reverse().slice(0, options.limit ?? 20);
  const batches: BatchStatusRow[] = [];
  for (const batchId of ids) {
    const entities = byBatch.get(batchId)!;
    const audits = warehouse ? await warehouse.readTasks(batchId) : undefined;
    const tasks = audits ? Object.fromEntries(audits.map((a) => [a.task, a.state])) : undefined;
    batches.push({
      batchId,
      entities,
      ...(tasks ? { tasks } : {}),
      state: Object.keys(entities).length === 0 && (!audits || audits.length === 0) ? 'unknown batch' : overallState(entities, audits),
    });
  }
  return { landing, batches };
}

export function renderStatus(status: PipelineStatus, detail: boolean): string {
  const plain = (head: string[]) => new Table({ head, style: { head: [], border: [] } });
  const landing = plain(['entity', 'files waiting in landing', 'bytes']);
  for (const [entity, l] of Object.entries(status.landing)) landing.push([entity, l.files.toLocaleString('en-US'), l.bytes.toLocaleString('en-US')]);
  const lines = [landing.toString()];
  if (status.batches.length === 0) {
    lines.push('no batches yet');
    return lines.join('\n');
  }
  const batches = plain(['batch', 'state', ...ENTITIES]);
  for (const b of status.batches) batches.push([b.batchId, b.state, ...ENTITIES.map((e) => b.entities[e] ?? '-')]);
  lines.push(batches.toString());
  if (detail) {
    for (const b of status.batches) {
      const tasks = plain(['task', 'state']);
      for (const name of TASK_NAMES) tasks.push([name, b.tasks?.[name] ?? 'not run']);
      lines.push(`batch ${b.batchId}`, tasks.toString());
    }
  }
  return lines.join('\n');
}
