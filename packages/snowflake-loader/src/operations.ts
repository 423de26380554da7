// Engine-neutral operations: the same SQL files run on Snowflake and DuckDB.
import { assertBatchId, type BatchId } from '@batchline/batch-id';
import { auditBinds, auditFromRow, nextAttempts } from './audit.js';
import { LoadInputError } from './errors.js';
import { byEntity, common, release as releaseSql } from './sql-files.js';
import { asNumber, runAll, type SqlEngine, type SqlSession } from './sql-session.js';
import { inlineBatchId, inlinePositiveInteger, inlineStringList, renderStatement, renderStatements, type Statement } from './sql-text.js';
import type { CuratedRow, Entity, TaskAudit, TransformResult } from './warehouse-contract.js';

/**
 * check-<entity>.sql: the INSERT sets breaking rows aside in LOAD_REJECTS, the DELETE removes them from the
 * raw table; the DELETE (another scan) is skipped when nothing was set aside.
 */
export async function runChecks(session: SqlSession, statements: readonly Statement[]): Promise<void> {
  const [setAside, remove] = statements;
  if (!setAside || !remove || statements.length !== 2) throw new Error('check-*.sql must hold an INSERT and a DELETE');
  const { rowsChanged } = await session.run(setAside);
  if (rowsChanged === 0) return;
  await session.run(remove);
}

/** Upsert a task row inside an open transaction; returns false when a newer attempt is already stored. */
export async function writeTask(session: SqlSession, audit: TaskAudit, now: Date, toDate: SqlEngine['toDate']): Promise<boolean> {
  auditBinds(audit, now); // validate before the first statement
  const key = { batch_id: audit.batchId, task: audit.task };
  const existing = (await session.run(renderStatement(common.auditReadTask, {}, key))).rows[0];
  if (existing && asNumber(existing.ATTEMPT, 'ATTEMPT') > audit.attempt) return false;
  const binds = auditBinds(audit, now, nextAttempts(existing, audit, toDate));
  await runAll(session, renderStatements(common.auditDeleteTask, {}, key));
  await runAll(session, renderStatements(common.auditInsertTask, {}, binds));
  return true;
}

/**
 * Mark a task succeeded from inside the transaction that did its work, so the task state commits
 * atomically with the data. Keeps the attempt number (and start time of a running attempt) already recorded.
 */
export async function markSucceeded(
  engine: SqlEngine,
  session: SqlSession,
  audit: Omit<TaskAudit, 'state' | 'attempt' | 'finishedAt'>,
  now: Date,
): Promise<void> {
  const key = { batch_id: audit.batchId, task: audit.task };
  const existing = (await session.run(renderStatement(common.auditReadTask, {}, key))).rows[0];
  const attempt = existing ? asNumber(existing.ATTEMPT, 'ATTEMPT') : 1;
  const startedAt = existing && existing.STATE === 'running' ? (engine.toDate(existing.STARTED_AT) ?? audit.startedAt) : audit.startedAt;
  await writeTask(session, { ...audit, state: 'succeeded', attempt, startedAt, finishedAt: now }, now, (cell) => engine.toDate(cell));
}

/**
 * The load's last step, inside its transaction: replace the batch's rows of the entity's state table
 * (ORDER_ARRIVALS or CUSTOMER_VERSIONS), which the transform reads instead of the raw history.
 */
/**
 * The batch id as a number (its digits: 20261126T0315 -> 202611260315), for the BATCH_NO columns the per-batch
 * statements filter on: DuckDB's zone maps keep 8 bytes of a text value, too few to tell one day's batches apart.
 */
export function inlineBatchNo(batchId: BatchId) {
  assertBatchId(batchId);
  return inlinePositiveInteger(Number(batchId.replace('T', '')), 'batch number');
}

/** The batch's id and number, for statements that filter or stamp either (the raw tables filter on BATCH_NO). */
export function inlineBatch(batchId: BatchId) {
  return { BATCH_ID: inlineBatchId(batchId), BATCH_NO: inlineBatchNo(batchId) };
}

export async function writeBatchState(session: SqlSession, entity: Entity, batchId: BatchId): Promise<void> {
  await runAll(session, renderStatements(byEntity[entity].state, inlineBatch(batchId)));
}

/**
 * setup's last step: fill the state tables once from what was loaded and transformed before they existed
 * (state-backfill.sql rebuilds them whole, so a repeat is harmless); later setups only read the marker.
 */
export async function backfillState(engine: SqlEngine, now = new Date()): Promise<void> {
  await engine.transaction(async (session) => {
    const { rows } = await session.run(renderStatement(common.stateMigrated));
    if (asNumber(rows[0]?.APPLIED, 'APPLIED') > 0) return;
    await runAll(session, renderStatements(common.stateBackfill, {}, { applied_at: now.toISOString() }));
  });
}

export async function recordTask(engine: SqlEngine, audit: TaskAudit): Promise<void> {
  await engine.transaction((session) => writeTask(session, audit, new Date(), (cell) => engine.toDate(cell)));
}

export async function readTasks(engine: SqlEngine, batchId: BatchId): Promise<TaskAudit[]> {
  assertBatchId(batchId);
  return engine.transaction(async (session) => {
    const { rows } = await session.run(renderStatement(common.auditReadBatch, {}, { batch_id: batchId }));
    return rows.map((row) => auditFromRow(row, (cell) => engine.toDate(cell)));
  });
}

/** Ids per statement of audit-read-batches.sql (an IN list; Snowflake takes up to 16,384 expressions). */
const READ_BATCHES_CHUNK = 1000;

export async function readTasksOf(engine: SqlEngine, batchIds: readonly BatchId[]): Promise<Map<BatchId, TaskAudit[]>> {
  const ids = [...new Set(batchIds)];
  for (const id of ids) assertBatchId(id);
  const byBatch = new Map<BatchId, TaskAudit[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return byBatch;
  return engine.transaction(async (session) => {
    for (let i = 0; i < ids.length; i += READ_BATCHES_CHUNK) {
      const chunk = ids.slice(i, i + READ_BATCHES_CHUNK);
      const { rows } = await session.run(renderStatement(common.auditReadBatches, { BATCH_IDS: inlineStringList(chunk, 'batch id') }));
      for (const row of rows) {
        const audit = auditFromRow(row, (cell) => engine.toDate(cell));
        byBatch.get(audit.batchId)?.push(audit);
      }
    }
    return byBatch;
  });
}

export async function transform(engine: SqlEngine, batchId: BatchId): Promise<TransformResult> {
  assertBatchId(batchId);
  const startedAt = new Date();
  const inline = inlineBatch(batchId);
  return engine.transaction(async (session) => {
    await runAll(session, renderStatements(common.transform, inline));
    const { rows } = await session.run(renderStatement(common.transformSummary, inline));
    const row = rows[0];
    if (!row) throw new Error('transform-summary.sql returned no row');
    const counted = asNumber(row.COUNTED_ORDERS, 'COUNTED_ORDERS');
    const late = asNumber(row.LATE_ORDERS, 'LATE_ORDERS');
    const result: TransformResult = {
      batchId,
      curatedRows: asNumber(row.CURATED_ROWS, 'CURATED_ROWS'),
      fulfilledOrders: counted + late,
      duplicateOrders: asNumber(row.DUPLICATE_ORDERS, 'DUPLICATE_ORDERS'),
      orphanOrders: asNumber(row.ORPHAN_ORDERS, 'ORPHAN_ORDERS'),
      lateOrders: late,
      pendingOrphans: asNumber(row.PENDING_ORPHANS, 'PENDING_ORPHANS'),
    };
    await markSucceeded(
      engine,
      session,
      {
        batchId,
        task: 'transform',
        startedAt,
        rows: result.curatedRows,
        duplicates: result.duplicateOrders,
        orphans: result.orphanOrders,
        late: result.lateOrders,
        pendingOrphans: result.pendingOrphans,
      },
      new Date(),
    );
    return result;
  });
}

export async function curatedRows(engine: SqlEngine, batchId?: BatchId): Promise<CuratedRow[]> {
  if (batchId !== undefined) assertBatchId(batchId);
  const statement =
    batchId === undefined
      ? renderStatement(common.curatedRows)
      : renderStatement(common.curatedRowsBatch, {}, { batch_id: batchId });
  return engine.transaction(async (session) => {
    const { rows } = await session.run(statement);
    return rows.map((row) => ({
      customerName: String(row.CUSTOMER_NAME),
      orderDate: dateText(row.ORDER_DATE),
      orderTotalPrice: decimalText(row.ORDER_TOTAL_PRICE),
      batchId: String(row.BATCH_ID) as BatchId,
      customerKey: String(row.CUSTOMER_KEY),
    }));
  });
}

function dateText(cell: unknown): string {
  if (cell instanceof Date) return cell.toISOString().slice(0, 10);
  return String(cell).slice(0, 10);
}

/** A NUMBER(12,2) cell as text with exactly two decimals. */
export function decimalText(cell: unknown): string {
  const text = String(cell);
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new Error(`Expected a decimal, got ${text}`);
  const [whole, frac = ''] = text.split('.');
  return `${whole}.${(frac + '00').slice(0, 2)}`;
}

/**
 * Forget a batch's loads: raw rows, quarantined records and per-batch state of both entities, and its
 * BATCH_AUDIT rows, in one transaction. Refused for a batch whose transform succeeded (curated rows
 * depend on it: replay it instead).
 */
export async function releaseBatch(engine: SqlEngine, batchId: BatchId): Promise<void> {
  assertBatchId(batchId);
  await engine.transaction(async (session) => {
    const transform = (await session.run(renderStatement(common.auditReadTask, {}, { batch_id: batchId, task: 'transform' }))).rows[0];
    if (transform && transform.STATE === 'succeeded') {
      throw new LoadInputError(`batch ${batchId} was transformed: its rows are in the curated table, so its loads cannot be released; replay it instead`);
    }
    for (const entity of ['orders', 'customers'] as const) await runAll(session, renderStatements(byEntity[entity].release, inlineBatch(batchId), { batch_id: batchId }));
    await runAll(session, renderStatements(releaseSql.audit, {}, { batch_id: batchId }));
  });
}
