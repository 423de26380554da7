// The production engine: Snowflake through snowflake-sdk (loaded on first use).
import type { BatchId } from '@batchline/batch-id';
import { CorruptFileError, LoadMismatchError, LoadRejectedError, WarehouseConfigError, WarehouseError } from '../../errors.js';
import { checkLoadRequest, locatedFileName, stageFileName } from '../../load-request.js';
import * as operations from '../../operations.js';
import { common } from '../../sql-files.js';
import { asNumber, runAll, type Cell, type Row, type SqlEngine, type SqlSession } from '../../sql-session.js';
import { renderStatement, renderStatements } from '../../sql-text.js';
import type {
  BatchFile,
  BatchLocation,
  Entity,
  FileLoadResult,
  LoadRequest,
  LoadResult,
  OpenWarehouseOptions,
  PinnedFileReader,
  TaskAudit,
  TransformResult,
  Warehouse,
} from '../../warehouse-contract.js';
import { resolveSnowflakeConfig, type SnowflakeConfig } from './config.js';
import { connect, disconnect, SnowflakeSession } from './connection.js';
import { insertRejectStatements, loadStatements, sessionStatements, setupStatements, type RejectRow } from './statements.js';

export async function openSnowflakeWarehouse(url: string, options: OpenWarehouseOptions = {}): Promise<Warehouse> {
  const config = await resolveSnowflakeConfig(url, options.snowflake, options.env ?? process.env);
  return new SnowflakeWarehouse(config);
}

/** Case-insensitive cell access: COPY answers in lower case, our own queries in upper case. */
function cell(row: Row, name: string): Cell {
  if (name in row) return row[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(row)) if (key.toLowerCase() === lower) return row[key];
  return undefined;
}

/** Every file still as its claim pinned it (a few at a time: one request each). */
async function verifyAll(pinned: PinnedFileReader, files: readonly BatchFile[]): Promise<void> {
  const queue = [...files];
  const worker = async () => {
    for (let file = queue.shift(); file; file = queue.shift()) await pinned.verifyPinned(file);
  };
  await Promise.all(Array.from({ length: Math.min(8, queue.length) }, worker));
}

/** COPY names a file it read by its stage-relative or full URL: `.../<location>/<BATCH_ID>/<path>`. */
function matchReadFile(reported: string, location: BatchLocation, batchId: BatchId, files: readonly BatchFile[]): BatchFile | undefined {
  return files.find((f) => {
    const located = locatedFileName(location, batchId, f.path);
    return reported === located || reported.endsWith(`/${located}`);
  });
}

/**
 * A gzip object that does not decompress to its end fails COPY with 100069 ("Invalid data encountered during
 * decompression for file: '<name>'"): the same CorruptFileError as on DuckDB, naming the file, in either onError mode.
 */
function corruptFile(error: unknown, entity: Entity, batchId: BatchId, location: BatchLocation, files: readonly BatchFile[]): CorruptFileError | undefined {
  if (!(error instanceof WarehouseError)) return undefined;
  const m = /Invalid data encountered during decompression for file: '([^']*)'(?:, compression type used: '([^']*)')?/.exec(error.message);
  if (!m) return undefined;
  const file = matchReadFile(m[1]!, location, batchId, files);
  const cause = /cause: '([^']*)'/.exec(error.message)?.[1];
  return new CorruptFileError(entity, batchId, file ? stageFileName(batchId, file.path) : m[1]!, `truncated or corrupt ${(m[2] ?? 'gzip').toLowerCase()}`, cause);
}

export class SnowflakeWarehouse implements Warehouse, SqlEngine {
  readonly engine = 'snowflake' as const;
  private closed = false;

  constructor(readonly config: SnowflakeConfig) {}

  async setup(): Promise<void> {
    // DDL commits implicitly in Snowflake, so setup runs outside a transaction; every statement is idempotent.
    // The database, schema and storage integration are the admin's part (sql/snowflake/admin/), never created here.
    await this.withConnection(async (session) => {
      try {
        await runAll(session, setupStatements(this.config));
      } catch (error) {
        if (error instanceof WarehouseError && /does not exist|not authorized|no current (database|schema)|cannot perform/i.test(error.message)) {
          throw new WarehouseConfigError(
            `batchline setup creates only the loader's file format, stages and tables in ${this.config.database}.${this.config.schema}; ` +
              `an admin runs sql/snowflake/admin/*.sql first (database, schema, storage integration, role and grants; ` +
              `\`batchline-warehouse print-setup snowflake-admin\` renders them). ${error.message}`,
          );
        }
        throw error;
      }
    });
    await operations.backfillState(this);
  }

  async load(request: LoadRequest): Promise<LoadResult> {
    const { entity, batchId, files, onError, location, pinned } = checkLoadRequest(request);
    const startedAt = new Date();
    return this.transaction(async (session) => {
      const now = new Date().toISOString();
      const plan = loadStatements(entity, batchId, files, onError, now, location);
      await runAll(session, plan.clear);

      const parsed = new Map<string, number>();
      const answered = new Set<string>();
      let rejects: RejectRow[] = [];
      if (files.length > 0) {
        // Pinned: Snowflake reads the stage itself, so each file is checked (size and ETag) before the first
        // COPY and again after the last one; a file replaced in between fails the load by name.
        if (pinned) await verifyAll(pinned, files);
        // 1. Every bad record, without loading (checks column counts, which a transforming COPY does not).
        rejects = await this.validate(session, plan.validate, entity, batchId, location, files).catch((e: unknown) => {
          throw corruptFile(e, entity, batchId, location, files) ?? e;
        });
        if (rejects.length > 0 && onError === 'abort') {
          const first = rejects[0]!;
          const inFile = rejects.filter((r) => r.sourceFile === first.sourceFile).length;
          throw new LoadRejectedError(entity, batchId, first.sourceFile, first.sourceRow ?? undefined, first.columnName ?? undefined, first.reason, inFile);
        }
        // 2. The load itself: exactly the manifest's files.
        for (const statement of plan.copy) {
          const { rows } = await session.run(statement).catch((e: unknown) => {
            throw corruptFile(e, entity, batchId, location, files) ?? e;
          });
          for (const row of rows) this.readCopyRow(row, entity, batchId, location, files, parsed, answered);
        }
        if (pinned) await verifyAll(pinned, files);
        // Under ON_ERROR = CONTINUE Snowflake skips a listed file it cannot find without a result row: every
        // requested file with bytes must have exactly one. (An empty object may go unreported: it holds no record.)
        const unanswered = files.filter((f) => f.size > 0 && !answered.has(f.path));
        if (unanswered.length > 0) {
          throw new LoadMismatchError(
            `Load of ${entity} batch ${batchId}: COPY returned no result for ${unanswered.length} requested file(s) (missing from ${location}/${batchId}/ on the stage?): ` +
              `${unanswered.slice(0, 5).map((f) => JSON.stringify(f.path)).join(', ')}${unanswered.length > 5 ? ', …' : ''}; rolled back`,
          );
        }
      }
      // 3. Everything that writes the shared LOAD_REJECTS (and, below, BATCH_AUDIT) comes last: a DELETE locks the
      // table until COMMIT, so the other entity's load waits only for this short tail, never for a COPY.
      await runAll(session, plan.clearRejects);
      if (rejects.length > 0) {
        await runAll(session, insertRejectStatements(entity, batchId, rejects, now));
        await runAll(session, plan.dropRejected);
      }
      await operations.runChecks(session, plan.check);
      if (onError === 'abort') await this.abortOnCheckRejects(session, entity, batchId);

      const counts = new Map<string, { loaded: number; rejected: number }>();
      // SOURCE_FILE is processing/<BATCH_ID>/<path> whatever the location (load-*.sql builds it).
      const bySourceFile = new Map(files.map((f) => [stageFileName(batchId, f.path), f]));
      for (const row of (await session.run(plan.countByFile[0]!)).rows) {
        const reported = String(cell(row, 'SOURCE_FILE'));
        const file = bySourceFile.get(reported);
        if (!file) throw new LoadMismatchError(`Load of ${entity} batch ${batchId}: rows from a file outside the request: ${reported}`);
        counts.set(file.path, { loaded: asNumber(cell(row, 'ROWS_LOADED'), 'ROWS_LOADED'), rejected: asNumber(cell(row, 'ROWS_REJECTED'), 'ROWS_REJECTED') });
      }
      const results: FileLoadResult[] = files.map((file) => {
        const count = counts.get(file.path) ?? { loaded: 0, rejected: 0 };
        // A file COPY did not report holds no record (an empty object); any row from it would contradict that.
        const records = parsed.get(file.path) ?? 0;
        if (count.loaded + count.rejected !== records) {
          throw new LoadMismatchError(
            `Load of ${entity} batch ${batchId}: Snowflake parsed ${records} records in ${file.path}, but ${count.loaded} loaded + ` +
              `${count.rejected} rejected = ${count.loaded + count.rejected}; rolled back`,
          );
        }
        return { path: file.path, rowsParsed: records, rowsLoaded: count.loaded, rowsRejected: count.rejected };
      });
      const sum = (pick: (f: FileLoadResult) => number) => results.reduce((n, f) => n + pick(f), 0);
      const result: LoadResult = { entity, batchId, files: results, rowsParsed: sum((f) => f.rowsParsed), rowsLoaded: sum((f) => f.rowsLoaded), rowsRejected: sum((f) => f.rowsRejected) };
      await operations.writeBatchState(session, entity, batchId);
      await operations.markSucceeded(
        this,
        session,
        { batchId, task: `load:${entity}`, startedAt, files: files.length, rows: result.rowsLoaded, rejected: result.rowsRejected },
        new Date(),
      );
      return result;
    });
  }

  private async validate(
    session: SqlSession,
    statements: readonly ReturnType<typeof renderStatement>[],
    entity: Entity,
    batchId: BatchId,
    location: BatchLocation,
    files: readonly BatchFile[],
  ): Promise<RejectRow[]> {
    const byRecord = new Map<string, RejectRow>();
    for (const statement of statements) {
      for (const row of (await session.run(statement)).rows) {
        const reported = String(cell(row, 'FILE') ?? '');
        const file = matchReadFile(reported, location, batchId, files);
        if (!file) throw new LoadMismatchError(`Load of ${entity} batch ${batchId}: validation reported a file outside the request: ${reported}`);
        const sourceFile = stageFileName(batchId, file.path);
        const rowNumber = cell(row, 'ROW_NUMBER');
        const sourceRow = rowNumber === null || rowNumber === undefined ? null : asNumber(rowNumber, 'ROW_NUMBER');
        const key = `${sourceFile}\u0000${sourceRow ?? `line ${String(cell(row, 'LINE'))}`}`;
        if (byRecord.has(key)) continue; // keep each record's first error
        const column = cell(row, 'COLUMN_NAME');
        const record = cell(row, 'REJECTED_RECORD');
        byRecord.set(key, {
          sourceFile,
          sourceRow,
          columnName: column === null || column === undefined ? null : String(column),
          reason: String(cell(row, 'ERROR') ?? 'rejected'),
          record: record === null || record === undefined ? null : String(record),
        });
      }
    }
    const order = new Map(files.map((f, i) => [stageFileName(batchId, f.path), i]));
    return [...byRecord.values()].sort((a, b) => order.get(a.sourceFile)! - order.get(b.sourceFile)! || (a.sourceRow ?? 0) - (b.sourceRow ?? 0));
  }

  private readCopyRow(
    row: Row,
    entity: Entity,
    batchId: BatchId,
    location: BatchLocation,
    files: readonly BatchFile[],
    parsed: Map<string, number>,
    answered: Set<string>,
  ): void {
    const reported = String(cell(row, 'file') ?? '');
    const status = String(cell(row, 'status') ?? '');
    const file = matchReadFile(reported, location, batchId, files);
    if (!file) throw new LoadMismatchError(`Load of ${entity} batch ${batchId}: COPY reported a file outside the request: ${JSON.stringify(reported) || JSON.stringify(row)}`);
    if (answered.has(file.path)) throw new LoadMismatchError(`Load of ${entity} batch ${batchId}: COPY reported ${JSON.stringify(file.path)} twice; rolled back`);
    answered.add(file.path);
    if (status !== 'LOADED' && status !== 'PARTIALLY_LOADED') {
      const first = cell(row, 'first_error');
      throw new LoadMismatchError(`Load of ${entity} batch ${batchId}: COPY ${status} ${file.path}${first ? `: ${String(first)}` : ''}; rolled back`);
    }
    parsed.set(file.path, asNumber(cell(row, 'rows_parsed'), 'rows_parsed'));
  }

  private async abortOnCheckRejects(session: SqlSession, entity: Entity, batchId: BatchId): Promise<void> {
    const first = (await session.run(renderStatement(common.firstLoadReject, {}, { batch_id: batchId, entity }))).rows[0];
    if (!first) return;
    throw new LoadRejectedError(
      entity,
      batchId,
      String(cell(first, 'SOURCE_FILE')),
      asNumber(cell(first, 'SOURCE_ROW'), 'SOURCE_ROW'),
      String(cell(first, 'COLUMN_NAME')),
      String(cell(first, 'REASON')),
      asNumber(cell(first, 'REJECTED_RECORDS'), 'REJECTED_RECORDS'),
    );
  }

  transform(batchId: BatchId): Promise<TransformResult> {
    return operations.transform(this, batchId);
  }

  recordTask(audit: TaskAudit): Promise<void> {
    return operations.recordTask(this, audit);
  }

  readTasks(batchId: BatchId): Promise<TaskAudit[]> {
    return operations.readTasks(this, batchId);
  }

  readTasksOf(batchIds: readonly BatchId[]): Promise<Map<BatchId, TaskAudit[]>> {
    return operations.readTasksOf(this, batchIds);
  }

  curatedRows(batchId?: BatchId) {
    return operations.curatedRows(this, batchId);
  }

  releaseBatch(batchId: BatchId): Promise<void> {
    return operations.releaseBatch(this, batchId);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async withConnection<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    if (this.closed) throw new WarehouseConfigError('The warehouse is closed');
    const connection = await connect(this.config);
    try {
      const session = new SnowflakeSession(connection);
      await runAll(session, sessionStatements(this.config));
      return await fn(session);
    } finally {
      await disconnect(connection);
    }
  }

  /** One dedicated connection per transaction: BEGIN, statements, COMMIT (ROLLBACK on any error). */
  transaction<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.withConnection(async (session) => {
      await runAll(session, renderStatements(common.begin));
      try {
        const result = await fn(session);
        await runAll(session, renderStatements(common.commit));
        return result;
      } catch (error) {
        await runAll(session, renderStatements(common.rollback)).catch(() => undefined);
        throw error;
      }
    });
  }

  toDate(value: Cell): Date | undefined {
    // snowflake-sdk's fetchAsString hands a NULL timestamp over as the text "NULL" (a task still running).
    if (value === null || value === undefined || value === 'NULL') return undefined;
    if (value instanceof Date) return value;
    const date = new Date(String(value));
    if (!Number.isFinite(date.getTime())) throw new Error(`Unexpected timestamp ${String(value)}`);
    return date;
  }
}
