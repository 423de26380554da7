import { assertBatchId, type BatchId } from '@batchline/batch-id';
import { LoadInputError } from './errors.js';
import type { BindValue } from './sql-text.js';
import type { TaskAudit, TaskState } from './warehouse-contract.js';

const STATES: readonly TaskState[] = ['running', 'succeeded', 'failed', 'skipped'];
const TASK = /^[a-z][a-z0-9_:-]{0,63}$/;

/** Binds for audit-insert-task.sql, after validating the untrusted parts. */
export function auditBinds(audit: TaskAudit, now: Date): Record<string, BindValue> {
  assertBatchId(audit.batchId);
  if (typeof audit.task !== 'string' || !TASK.test(audit.task)) {
    throw new LoadInputError(`Invalid task name ${JSON.stringify(audit.task)}: expected e.g. load:orders (a-z, 0-9, _ : -)`);
  }
  if (!STATES.includes(audit.state)) {
    throw new LoadInputError(`Invalid task state ${JSON.stringify(audit.state)}: expected one of ${STATES.join(', ')}`);
  }
  if (!Number.isSafeInteger(audit.attempt) || audit.attempt < 1) {
    throw new LoadInputError(`Invalid attempt ${String(audit.attempt)} for task ${audit.task}: expected an integer >= 1`);
  }
  return {
    batch_id: audit.batchId,
    task: audit.task,
    state: audit.state,
    attempt: audit.attempt,
    started_at: iso(audit.startedAt, 'startedAt'),
    finished_at: audit.finishedAt ? iso(audit.finishedAt, 'finishedAt') : null,
    files: count(audit.files),
    rows_processed: count(audit.rows),
    rows_rejected: count(audit.rejected),
    duplicates: count(audit.duplicates),
    orphans: count(audit.orphans),
    error: audit.error === undefined ? null : audit.error.slice(0, 16_000),
    updated_at: now.toISOString(),
  };
}

function iso(date: Date, what: string): string {
  if (!(date instanceof Date) || !Number.isFinite(date.getTime())) throw new LoadInputError(`Invalid ${what}: expected a valid Date`);
  return date.toISOString();
}

function count(value: number | undefined): number | null {
  return value === undefined || value === null ? null : value;
}

type Cell = string | number | bigint | boolean | Date | null | undefined;

/** A BATCH_AUDIT row (column names as in audit-read-batch.sql), with values as either driver returns them. */
export function auditFromRow(row: Record<string, Cell>, toDate: (v: Cell) => Date | undefined): TaskAudit {
  const num = (v: Cell) => (v === null || v === undefined ? undefined : Number(v));
  const batchId = String(row.BATCH_ID) as BatchId;
  const finishedAt = toDate(row.FINISHED_AT);
  const base = {
    batchId,
    task: String(row.TASK),
    state: String(row.STATE) as TaskState,
    attempt: Number(row.ATTEMPT),
    startedAt: toDate(row.STARTED_AT)!,
  };
  return {
    ...base,
    ...(finishedAt ? { finishedAt } : {}),
    ...opt('files', num(row.FILES)),
    ...opt('rows', num(row.ROWS_PROCESSED)),
    ...opt('rejected', num(row.ROWS_REJECTED)),
    ...opt('duplicates', num(row.DUPLICATES)),
    ...opt('orphans', num(row.ORPHANS)),
    ...(row.ERROR === null || row.ERROR === undefined ? {} : { error: String(row.ERROR) }),
  };
}

function opt<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}
