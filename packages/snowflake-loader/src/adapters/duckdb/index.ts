// The embedded engine: DuckDB through @duckdb/node-api, an optional peer dependency loaded on first use.
import { randomUUID } from 'node:crypto';
import { link, mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance, DuckDBValue } from '@duckdb/node-api';
import type { BatchId } from '@batchline/batch-id';
import { LoadMismatchError, LoadRejectedError, WarehouseBusyError, WarehouseConfigError, WarehouseError, WarehouseMissingError, quote } from '../../errors.js';
import { checkLoadRequest, stageFileName } from '../../load-request.js';
import * as operations from '../../operations.js';
import { byEntity, common, duckdb as duckSql } from '../../sql-files.js';
import { asNumber, runAll, type Cell, type Row, type SqlEngine, type SqlSession } from '../../sql-session.js';
import { inlineIdentifier, renderStatement, renderStatements, type Statement } from '../../sql-text.js';
import type {
  FileLoadResult,
  LoadRequest,
  LoadResult,
  OpenWarehouseOptions,
  TaskAudit,
  TransformResult,
  Warehouse,
} from '../../warehouse-contract.js';
import { localBatchFiles } from './batch-files.js';
import { duckdbLocation } from './location.js';

type DuckDBModule = typeof import('@duckdb/node-api');

async function loadDuckDB(): Promise<DuckDBModule> {
  try {
    return await import('@duckdb/node-api');
  } catch (error) {
    throw new WarehouseConfigError(
      'duckdb:// needs the optional peer dependency @duckdb/node-api: npm install @duckdb/node-api@^1.5.6-r.1',
      { cause: error },
    );
  }
}

export { duckdbLocation };

export async function openDuckDbWarehouse(url: string, options: OpenWarehouseOptions = {}): Promise<Warehouse> {
  const location = duckdbLocation(url);
  const duck = await loadDuckDB();
  const instance = location === ':memory:' ? await duck.DuckDBInstance.create(location) : await openDuckDbFile(duck, path.resolve(location), options.readOnly === true);
  return new DuckDbWarehouse(duck, instance, options);
}

/**
 * Open the warehouse file. A new file is made under a temporary name and linked into place complete, so a
 * kill at any moment leaves either no file or a whole one. A 0-byte file is what a kill left while an older
 * release created one: nothing can be in it, so it is started afresh. A read-only open creates nothing.
 */
async function openDuckDbFile(duck: DuckDBModule, file: string, readOnly: boolean): Promise<DuckDBInstance> {
  let stats = await stat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new WarehouseConfigError(`Cannot open the DuckDB warehouse ${quote(file)}: ${error.code ?? error.message}`, { cause: error });
  });
  if (stats?.isDirectory()) throw new WarehouseConfigError(`DuckDB warehouse ${quote(file)} is a directory; expected a DuckDB database file (or a path where one may be created)`);
  if (readOnly) {
    if (!stats || stats.size === 0) throw new WarehouseMissingError(`No DuckDB warehouse at ${quote(file)} yet: nothing has run against it`);
    return openExisting(duck, file, { access_mode: 'READ_ONLY' });
  }
  if (stats && stats.size === 0) {
    await rm(`${file}.wal`, { force: true });
    await rm(file, { force: true });
    stats = undefined;
  }
  if (!stats) {
    await mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.creating-${process.pid}-${randomUUID()}`;
    try {
      (await openExisting(duck, temp)).closeSync();
      await rm(`${temp}.wal`, { force: true });
      // link(2) never replaces: when another process made the file first, that one is used.
      await link(temp, file).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
    } finally {
      await rm(temp, { force: true });
    }
  }
  return openExisting(duck, file);
}

async function openExisting(duck: DuckDBModule, file: string, settings?: Record<string, string>): Promise<DuckDBInstance> {
  try {
    return await duck.DuckDBInstance.create(file, settings);
  } catch (error) {
    const message = (error as Error).message;
    if (/Could not set lock on file/.test(message)) {
      const pid = /\(PID (\d+)\)/.exec(message)?.[1];
      throw new WarehouseBusyError(
        `The DuckDB warehouse ${quote(file)} is in use by another process${pid ? ` (PID ${pid})` : ''}: DuckDB lets one process open a file at a time; retry when it has finished`,
        { cause: error },
      );
    }
    if (/not a valid DuckDB database file/.test(message)) {
      throw new WarehouseConfigError(
        `${quote(file)} is not a DuckDB database file; expected the duckdb:// URL to name a DuckDB file or a new path: move that file away or point the warehouse URL elsewhere`,
        { cause: error },
      );
    }
    throw new WarehouseError(`DuckDB: cannot open ${quote(file)}: ${message}`, { cause: error });
  }
}

class DuckDbWarehouse implements Warehouse, SqlEngine {
  readonly engine = 'duckdb' as const;
  private closed = false;

  constructor(
    private readonly duck: DuckDBModule,
    private readonly instance: DuckDBInstance,
    private readonly options: OpenWarehouseOptions,
  ) {}

  async setup(): Promise<void> {
    await this.transaction(async (session) => {
      await runAll(session, renderStatements(duckSql.setup));
      // Curated sums were DECIMAL(12,2) before: widen an older table once (the ALTER rewrites the column).
      const { rows } = await session.run(renderStatement(duckSql.curatedSumType));
      if (rows[0] && rows[0].DATA_TYPE !== 'DECIMAL(38,2)') await runAll(session, renderStatements(duckSql.widenCuratedSum));
    });
    await operations.backfillState(this);
  }

  async load(request: LoadRequest): Promise<LoadResult> {
    const { entity, batchId, files, onError, pinned } = checkLoadRequest(request);
    const startedAt = new Date();
    const local = await localBatchFiles(files, this.options.files, this.options.tempDir, { entity, batchId }, pinned);
    try {
      return await this.transaction(async (session) => {
        const loadedAt = new Date().toISOString();
        await runAll(session, renderStatements(byEntity[entity].clearBatch, operations.inlineBatch(batchId), { batch_id: batchId }));
        let scanned = 0;
        // One parallel scan per compression kind (normally one): a scan takes a single compression setting.
        const kinds = [...new Set(local.files.map((f) => f.compression))];
        for (const compression of kinds) {
          const group = local.files.filter((f) => f.compression === compression);
          const paths = group.map((f) => f.localPath);
          const sourceFiles = group.map((f) => stageFileName(batchId, f.file.path));
          const scan = { batch_id: batchId, source_files: sourceFiles, paths, loaded_at: loadedAt, compression };
          const inserted = await session.run(renderStatement(duckSql.load[entity], operations.inlineBatch(batchId), scan));
          const rejected = asNumber((await session.run(renderStatement(duckSql.countRejects))).rows[0]?.REJECTED_RECORDS, 'REJECTED_RECORDS');
          scanned += (inserted.rowsChanged ?? 0) + rejected;
          if (rejected > 0 && onError === 'abort') {
            const first = (await session.run(renderStatement(duckSql.firstReject, {}, { paths }))).rows[0]!;
            throw new LoadRejectedError(
              entity,
              batchId,
              sourceFiles[paths.indexOf(String(first.LOCAL_PATH))] ?? String(first.LOCAL_PATH),
              asNumber(first.SOURCE_ROW, 'SOURCE_ROW'),
              first.COLUMN_NAME === null ? undefined : String(first.COLUMN_NAME),
              explainReject(String(first.REASON), first.RECORD, entity),
              asNumber(first.REJECTED_RECORDS, 'REJECTED_RECORDS'),
            );
          }
          if (rejected > 0) {
            const table = { RAW_TABLE: inlineIdentifier(entity === 'orders' ? 'ORDERS_RAW' : 'CUSTOMERS_RAW'), ...operations.inlineBatch(batchId) };
            const files = { batch_id: batchId, source_files: sourceFiles, paths };
            await runAll(session, renderStatements(duckSql.renumberAfterRejects, table, files));
            await runAll(session, renderStatements(duckSql.quarantineRejects, {}, { ...files, entity, rejected_at: loadedAt }));
          }
          await runAll(session, renderStatements(duckSql.clearRejects));
        }
        await operations.runChecks(session, renderStatements(byEntity[entity].check, operations.inlineBatch(batchId), { batch_id: batchId, rejected_at: loadedAt }));
        if (onError === 'abort') await this.abortOnCheckRejects(session, entity, batchId);
        const counts = await this.countsByFile(session, entity, batchId);
        const requested = new Set(files.map((file) => stageFileName(batchId, file.path)));
        const extra = [...counts.keys()].filter((name) => !requested.has(name));
        if (extra.length > 0) {
          throw new LoadMismatchError(`Load of ${entity} batch ${batchId}: rows from files outside the request: ${extra.join(', ')}`);
        }
        const results: FileLoadResult[] = files.map((file) => {
          const count = counts.get(stageFileName(batchId, file.path)) ?? { loaded: 0, rejected: 0 };
          return { path: file.path, rowsParsed: count.loaded + count.rejected, rowsLoaded: count.loaded, rowsRejected: count.rejected };
        });
        const accounted = results.reduce((n, f) => n + f.rowsParsed, 0);
        if (accounted !== scanned) {
          throw new LoadMismatchError(
            `Load of ${entity} batch ${batchId}: the scan read ${scanned} records, but ${accounted} are loaded or rejected; rolled back`,
          );
        }
        const result = summarize(entity, batchId, results);
        // Pinned: a file read in place must still be the claimed one now that the scan is done.
        await local.verifyUnchanged();
        await operations.writeBatchState(session, entity, batchId);
        await operations.markSucceeded(
          this,
          session,
          { batchId, task: `load:${entity}`, startedAt, files: files.length, rows: result.rowsLoaded, rejected: result.rowsRejected },
          new Date(),
        );
        return result;
      });
    } finally {
      await local.dispose();
    }
  }

  private async countsByFile(session: SqlSession, entity: LoadRequest['entity'], batchId: BatchId) {
    const { rows } = await session.run(renderStatement(byEntity[entity].countByFile, operations.inlineBatch(batchId), { batch_id: batchId }));
    const counts = new Map<string, { loaded: number; rejected: number }>();
    for (const row of rows) {
      counts.set(String(row.SOURCE_FILE), {
        loaded: asNumber(row.ROWS_LOADED, 'ROWS_LOADED'),
        rejected: asNumber(row.ROWS_REJECTED, 'ROWS_REJECTED'),
      });
    }
    return counts;
  }

  private async abortOnCheckRejects(session: SqlSession, entity: LoadRequest['entity'], batchId: BatchId) {
    const { rows } = await session.run(renderStatement(common.firstLoadReject, {}, { batch_id: batchId, entity }));
    const first = rows[0];
    if (!first) return;
    throw new LoadRejectedError(
      entity,
      batchId,
      String(first.SOURCE_FILE),
      asNumber(first.SOURCE_ROW, 'SOURCE_ROW'),
      String(first.COLUMN_NAME),
      String(first.REASON),
      asNumber(first.REJECTED_RECORDS, 'REJECTED_RECORDS'),
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
    if (this.closed) return;
    this.closed = true;
    // A transaction still running (an attempt the runner stopped waiting for) finishes or rolls back first:
    // closing the instance under it can leave the file unreadable.
    while (this.active.size > 0) await Promise.allSettled([...this.active]);
    this.instance.closeSync();
  }

  /** Transactions in flight, so close() waits for them. */
  private readonly active = new Set<Promise<unknown>>();

  transaction<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new WarehouseConfigError('The warehouse is closed'));
    const running = this.runTransaction(fn);
    this.active.add(running);
    void running.then(
      () => this.active.delete(running),
      () => this.active.delete(running),
    );
    return running;
  }

  private async runTransaction<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    const connection = await this.instance.connect();
    try {
      const session = new DuckDbSession(connection, this.duck);
      await runAll(session, renderStatements(duckSql.session));
      await runAll(session, renderStatements(common.begin));
      try {
        const result = await fn(session);
        await runAll(session, renderStatements(common.commit));
        return result;
      } catch (error) {
        await runAll(session, renderStatements(common.rollback)).catch(() => undefined);
        throw error;
      }
    } finally {
      connection.closeSync();
    }
  }

  toDate(cell: Cell): Date | undefined {
    if (cell === null || cell === undefined) return undefined;
    if (cell instanceof Date) return cell;
    // TIMESTAMPTZ as text in UTC: "2026-11-26 03:15:00.123+00"
    const text = String(cell).replace(' ', 'T').replace(/\+00(:00)?$/, 'Z');
    const date = new Date(text);
    if (!Number.isFinite(date.getTime())) throw new Error(`Unexpected timestamp ${String(cell)}`);
    return date;
  }
}

class DuckDbSession implements SqlSession {
  constructor(
    private readonly connection: DuckDBConnection,
    private readonly duck: DuckDBModule,
  ) {}

  async run(statement: Statement): Promise<{ rows: Row[]; rowsChanged?: number }> {
    try {
      const values = statement.binds.map((v): DuckDBValue => (Array.isArray(v) ? this.duck.listValue(v) : (v as DuckDBValue)));
      const reader = await this.connection.runAndReadAll(statement.text, values);
      return { rows: reader.getRowObjectsJson() as Row[], rowsChanged: reader.rowsChanged };
    } catch (error) {
      throw new WarehouseError(`DuckDB: ${(error as Error).message}`, { cause: error });
    }
  }
}

function summarize(entity: LoadRequest['entity'], batchId: BatchId, files: FileLoadResult[]): LoadResult {
  const sum = (pick: (f: FileLoadResult) => number) => files.reduce((n, f) => n + pick(f), 0);
  return {
    entity,
    batchId,
    files,
    rowsParsed: sum((f) => f.rowsParsed),
    rowsLoaded: sum((f) => f.rowsLoaded),
    rowsRejected: sum((f) => f.rowsRejected),
  };
}

const HEADER_FIRST_FIELD = { orders: 'O_ORDERKEY', customers: 'C_CUSTKEY' } as const;

/** A header row is the most likely bad first record: say so. */
function explainReject(reason: string, record: Cell, entity: LoadRequest['entity']): string {
  const firstField = String(record ?? '').replace(/^\uFEFF/, '').split(',')[0]?.replace(/"/g, '').trim().toUpperCase();
  if (firstField === HEADER_FIRST_FIELD[entity]) {
    return `${reason} (this record is a header row: landing objects are headerless, the producer strips headers)`;
  }
  return reason;
}

