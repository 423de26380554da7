import { createRequire } from 'node:module';
import type Table from 'cli-table3';
import type { BatchId } from '@batchline/batch-id';
import { type BatchLifecycle, CorruptObjectError, type EntityStatus } from '@batchline/s3-lifecycle';
import type { TaskAudit, Warehouse } from '@batchline/snowflake-loader';
import { ENTITIES, TASK_NAMES } from './config.js';
import { Sequence, type SequenceView, newestBatchIds, readSequenceRecord, reasonFor, wayOutFor } from './sequence.js';

// cli-table3 (and string-width behind it) loads when a table is first rendered, not when the library is imported.
const requireHere = createRequire(import.meta.url);

export interface BatchStatusRow {
  readonly batchId: BatchId;
  /** Lifecycle state per entity: claimed (in processing) or archived (processed). */
  readonly entities: Readonly<Record<string, string>>;
  /** Task states from BATCH_AUDIT, when a warehouse was given. */
  readonly tasks?: Readonly<Record<string, string>>;
  /** done | running or failed (the task) | claimed | - */
  readonly state: string;
}

/** Where the store's sequence of batches stands: which batch holds the others back, and what to run. */
export interface SequenceStatus {
  /** The earliest batch not transformed (or to transform again): the later ones wait for it. */
  readonly holdingBack?: { readonly batchId: BatchId; readonly reason: string; readonly wayOut: string };
  /** Later batches waiting for it, ascending. */
  readonly waiting: readonly BatchId[];
  /** New claims of ids before this are refused (a later batch already started its transform). */
  readonly sealedBelow?: BatchId;
  /** Every batch up to this id is transformed and fresh. */
  readonly settledThrough?: BatchId;
}

export interface SkippedKeyStatus {
  readonly key: string;
  readonly reason: string;
}

export interface PipelineStatus {
  readonly landing: Readonly<Record<string, { readonly files: number; readonly bytes: number }>>;
  readonly batches: readonly BatchStatusRow[];
  readonly sequence?: SequenceStatus;
  /** Keys left in landing/ per entity because the store cannot take them, with the reason. */
  readonly skipped?: Readonly<Record<string, readonly SkippedKeyStatus[]>>;
  /** Manifests (and leases) that cannot be read, each on its own: the rest is still listed. */
  readonly corrupt?: readonly { readonly key: string; readonly reason: string }[];
  /** Why the sequence could not be shown (a corrupt manifest among its batches), when it could not. */
  readonly sequenceError?: string;
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

/**
 * Batches by state and files waiting in landing. `limit` keeps the newest batches. It reads the manifests and
 * task rows of the batches it shows (and the sequence's, after `settledThrough`), never the whole history: the
 * newest ids come from a listing that starts near the sequence's newest batch, and the task rows of every shown
 * batch from one query.
 */
export async function pipelineStatus(
  lifecycle: BatchLifecycle,
  warehouse: Warehouse | undefined,
  options: { batchId?: BatchId; limit?: number } = {},
): Promise<PipelineStatus> {
  // status only reads, and one bad manifest must not hide the rest: the sequence is left out, saying why.
  let sequenceError: string | undefined;
  const view = warehouse
    ? await new Sequence(lifecycle, warehouse).view().catch((error: unknown) => {
        if (!(error instanceof CorruptObjectError)) throw error;
        sequenceError = error.message;
        return undefined;
      })
    : undefined;
  const sequence = view ? sequenceStatusOf(view) : undefined;
  const holder = sequence?.holdingBack?.batchId;
  let ids: BatchId[];
  if (options.batchId) ids = [options.batchId];
  else {
    // Where the newest batches are (the latest seal); an unreadable record only costs a longer listing here.
    const record = view?.record ?? (await readSequenceRecord(lifecycle).then((r) => r.value, () => undefined));
    const anchor = record?.sealedBelow;
    ids = (await newestBatchIds(lifecycle, options.limit ?? 20, anchor)).reverse();
    // The batch holding the others back is always shown, however old.
    if (holder && !ids.includes(holder)) ids.push(holder);
  }
  const statuses: EntityStatus[] = await Promise.all(ENTITIES.map((e) => lifecycle.status(e, { batchIds: ids })));
  const corrupt = statuses.flatMap((s) => s.corrupt ?? []);
  const landing: Record<string, { files: number; bytes: number }> = {};
  const skipped: Record<string, SkippedKeyStatus[]> = {};
  const byBatch = new Map<BatchId, Record<string, string>>();
  for (const s of statuses) {
    landing[s.entity] = { files: s.landing.files, bytes: s.landing.bytes };
    const keys = (s.skipped ?? []).map((k) => ({ key: k.key, reason: k.reason }));
    if (keys.length > 0) skipped[s.entity] = keys;
    for (const b of s.batches) {
      if (!ids.includes(b.batchId)) continue; // an open batch the lifecycle read for landing/, not one shown
      const row = byBatch.get(b.batchId) ?? {};
      row[s.entity] = `${b.state} (${b.files} files)`;
      byBatch.set(b.batchId, row);
    }
  }
  if (options.batchId && !byBatch.has(options.batchId)) byBatch.set(options.batchId, {});
  const shown = ids.filter((id) => byBatch.has(id));
  const audits = warehouse ? await warehouse.readTasksOf(shown) : undefined;
  const batches: BatchStatusRow[] = [];
  for (const batchId of shown) {
    const entities = byBatch.get(batchId)!;
    const rows = audits?.get(batchId);
    const tasks = rows ? Object.fromEntries(rows.map((a) => [a.task, a.state])) : undefined;
    let state = Object.keys(entities).length === 0 && (!rows || rows.length === 0) ? 'unknown batch' : overallState(entities, rows);
    if (holder && batchId > holder && sequence?.waiting.includes(batchId) && !/failed|running/.test(state)) state = `waiting for ${holder}`;
    if (holder === batchId) state = `${state} (holds the sequence back)`;
    batches.push({ batchId, entities, ...(tasks ? { tasks } : {}), state });
  }
  return {
    landing,
    batches,
    ...(sequence ? { sequence } : {}),
    ...(Object.keys(skipped).length > 0 ? { skipped } : {}),
    ...(corrupt.length > 0 ? { corrupt } : {}),
    ...(sequenceError ? { sequenceError } : {}),
  };
}

/** The sequence as `status` shows it: read-only. */
export async function sequenceStatus(lifecycle: BatchLifecycle, warehouse: Warehouse): Promise<SequenceStatus> {
  return sequenceStatusOf(await new Sequence(lifecycle, warehouse).view());
}

function sequenceStatusOf(view: SequenceView): SequenceStatus {
  const pending = view.entries.filter((e) => !e.transformed || e.stale);
  const first = pending[0];
  return {
    ...(first ? { holdingBack: { batchId: first.batchId, reason: reasonFor(first), wayOut: wayOutFor(first, { busy: false }) } } : {}),
    waiting: pending.slice(1).map((e) => e.batchId),
    ...(view.record.sealedBelow ? { sealedBelow: view.record.sealedBelow } : {}),
    ...(view.record.settledThrough ? { settledThrough: view.record.settledThrough } : {}),
  };
}

/**
 * A failed batch the sequence does not hold back on (already transformed: failed at archive, or a failed
 * replay) still gets a way out; the holder's is the sequence's `next:` line.
 */
function nextForFailed(b: BatchStatusRow, holder: BatchId | undefined): string | undefined {
  const failed = /^failed at (\S+)/.exec(b.state)?.[1];
  if (!failed || b.batchId === holder) return undefined;
  const entity = failed.split(':')[1];
  if (failed.startsWith('archive:')) {
    return (
      `next: batch ${b.batchId} failed at ${failed}: remove what blocks ${entity}/processed/${b.batchId}/ in the store ` +
      `(the error names it; or fix its permissions), then batchline run --batch ${b.batchId}`
    );
  }
  if (Object.values(b.entities).some((state) => state.startsWith('archiv'))) {
    return (
      `next: batch ${b.batchId} failed at ${failed}: fix the cause (a changed pinned file: put it back in ` +
      `${entity ? `${entity}/` : ''}processed/${b.batchId}/), then batchline replay --batch ${b.batchId}`
    );
  }
  return `next: batch ${b.batchId} failed at ${failed}: fix the cause, then batchline run --batch ${b.batchId}`;
}

export function renderStatus(status: PipelineStatus, detail: boolean): string {
  const plain = (head: string[]) => new (requireHere('cli-table3') as typeof Table)({ head, style: { head: [], border: [] } });
  const landing = plain(['entity', 'files waiting in landing', 'bytes']);
  for (const [entity, l] of Object.entries(status.landing)) landing.push([entity, l.files.toLocaleString('en-US'), l.bytes.toLocaleString('en-US')]);
  const lines = [landing.toString()];
  for (const [entity, keys] of Object.entries(status.skipped ?? {})) {
    lines.push(`${entity}: ${keys.length} key(s) left in landing/ (the store cannot take them):`);
    for (const k of keys.slice(0, 20)) lines.push(`  ${JSON.stringify(k.key)}: ${k.reason}`);
    if (keys.length > 20) lines.push(`  … and ${keys.length - 20} more (status --json lists all)`);
  }
  for (const c of status.corrupt ?? []) lines.push(`corrupt: ${JSON.stringify(c.key)}: ${c.reason} (move it aside after checking it; the rest is listed)`);
  if (status.sequenceError) lines.push(`sequence: not shown: ${status.sequenceError}`);
  const hold = status.sequence?.holdingBack;
  if (hold) {
    const waiting = status.sequence!.waiting;
    lines.push(
      waiting.length === 0
        ? `sequence: batch ${hold.batchId} is next to transform: ${hold.reason}`
        : `sequence: batch ${hold.batchId} holds ${waiting.length} later batch(es) back (${waiting.slice(0, 5).join(', ')}${waiting.length > 5 ? ', …' : ''}): ${hold.reason}`,
      `next: ${hold.wayOut}`,
    );
  } else if (status.sequence) {
    lines.push(`sequence: every claimed batch is transformed${status.sequence.settledThrough ? ` (settled through ${status.sequence.settledThrough})` : ''}`);
  }
  if (status.batches.length === 0) {
    lines.push('no batches yet');
    return lines.join('\n');
  }
  const batches = plain(['batch', 'state', ...ENTITIES]);
  for (const b of status.batches) batches.push([b.batchId, b.state, ...ENTITIES.map((e) => b.entities[e] ?? '-')]);
  lines.push(batches.toString());
  for (const b of status.batches) {
    const next = nextForFailed(b, hold?.batchId);
    if (next) lines.push(next);
  }
  if (detail) {
    for (const b of status.batches) {
      const tasks = plain(['task', 'state']);
      for (const name of TASK_NAMES) tasks.push([name, b.tasks?.[name] ?? 'not run']);
      lines.push(`batch ${b.batchId}`, tasks.toString());
    }
  }
  return lines.join('\n');
}
