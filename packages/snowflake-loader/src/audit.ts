import { assertBatchId, type BatchId } from '@batchline/batch-id';
import { LoadInputError } from './errors.js';
import type { BindValue } from './sql-text.js';
import type { TaskAttempt, TaskAudit, TaskState } from './warehouse-contract.js';

const STATES: readonly TaskState[] = ['running', 'succeeded', 'failed', 'skipped'];
const TASK = /^[a-z][a-z0-9_:-]{0,63}$/;

/** Earlier attempts kept per task row: enough to draw retries, bounded so a flapping task cannot grow the row. */
export const MAX_ATTEMPTS_KEPT = 20;

/** Binds for audit-insert-task.sql, after validating the untrusted parts. `attempts`: the earlier attempts to keep. */
export function auditBinds(audit: TaskAudit, now: Date, attempts: readonly TaskAttempt[] = []): Record<string, BindValue> {
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
    late: count(audit.late),
    pending_orphans: count(audit.pendingOrphans),
    attempts: attempts.length === 0 ? null : JSON.stringify(attempts.slice(-MAX_ATTEMPTS_KEPT).map(attemptJson)),
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
  // snowflake-sdk's fetchAsString hands NULL numbers over as the text "NULL".
  const num = (v: Cell) => (v === null || v === undefined || v === 'NULL' ? undefined : Number(v));
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
    ...opt('late', num(row.LATE)),
    ...opt('pendingOrphans', num(row.PENDING_ORPHANS)),
    ...(row.ERROR === null || row.ERROR === undefined ? {} : { error: String(row.ERROR) }),
    ...attemptsOpt(row.ATTEMPTS),
  };
}

function attemptJson(a: TaskAttempt) {
  return {
    attempt: a.attempt,
    state: a.state,
    startedAt: a.startedAt.toISOString(),
    ...(a.finishedAt ? { finishedAt: a.finishedAt.toISOString() } : {}),
    ...(a.error === undefined ? {} : { error: a.error.slice(0, 2000) }),
  };
}

/** The ATTEMPTS column: JSON written by auditBinds; anything unreadable in it is dropped, never thrown. */
export function parseAttempts(cell: Cell): TaskAttempt[] {
  if (typeof cell !== 'string' || cell === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(cell);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const out: TaskAttempt[] = [];
  for (const item of parsed as Record<string, unknown>[]) {
    if (typeof item !== 'object' || item === null) continue;
    const startedAt = new Date(String(item.startedAt));
    if (!Number.isSafeInteger(item.attempt) || !STATES.includes(item.state as TaskState) || Number.isNaN(startedAt.getTime())) continue;
    const finishedAt = typeof item.finishedAt === 'string' ? new Date(item.finishedAt) : undefined;
    out.push({
      attempt: item.attempt as number,
      state: item.state as TaskState,
      startedAt,
      ...(finishedAt && !Number.isNaN(finishedAt.getTime()) ? { finishedAt } : {}),
      ...(typeof item.error === 'string' ? { error: item.error } : {}),
    });
  }
  return out;
}

function attemptsOpt(cell: Cell): { attempts?: TaskAttempt[] } {
  const attempts = parseAttempts(cell);
  return attempts.length === 0 ? {} : { attempts };
}

/**
 * The earlier attempts to keep when `audit` replaces the stored row `existing`: a later attempt over a
 * failed or interrupted one keeps that one too; a rerun over a finished task (succeeded, skipped) starts
 * afresh; the same attempt (running -> succeeded) keeps the list as it is.
 */
export function nextAttempts(existing: Record<string, Cell> | undefined, audit: TaskAudit, toDate: (v: Cell) => Date | undefined): TaskAttempt[] {
  if (!existing) return [];
  const kept = parseAttempts(existing.ATTEMPTS);
  const attempt = Number(existing.ATTEMPT);
  if (attempt >= audit.attempt) return kept;
  const state = String(existing.STATE) as TaskState;
  if (state !== 'failed' && state !== 'running') return [];
  const startedAt = toDate(existing.STARTED_AT);
  if (!startedAt) return kept;
  const finishedAt = toDate(existing.FINISHED_AT);
  const error = existing.ERROR === null || existing.ERROR === undefined ? undefined : String(existing.ERROR);
  return [...kept, { attempt, state, startedAt, ...(finishedAt ? { finishedAt } : {}), ...(error === undefined ? {} : { error }) }].slice(-MAX_ATTEMPTS_KEPT);
}

function opt<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}
