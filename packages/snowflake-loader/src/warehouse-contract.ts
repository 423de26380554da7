// The warehouse port: what the pipeline composes. Both adapters implement `Warehouse`.
import type { Readable } from 'node:stream';
import type { BatchId } from '@batchline/batch-id';
import type { SnowflakeOptions } from './adapters/snowflake/config.js';
import { WarehouseConfigError } from './errors.js';
import { duckdbLocation } from './adapters/duckdb/location.js';

export type Entity = 'orders' | 'customers';

export const ENTITIES: readonly Entity[] = ['orders', 'customers'];

/** Any ObjectStore satisfies this: the DuckDB engine reads batch files through it. */
export interface BatchFileSource {
  get(key: string): Promise<Readable>;
  localPath?(key: string): string | undefined;
}

/**
 * Where a batch's files are under each entity's prefix: `processing/<BATCH_ID>/` from the claim until the
 * archive, `processed/<BATCH_ID>/` after it (where a replay of an archived batch reads them).
 */
export type BatchLocation = 'processing' | 'processed';

export const BATCH_LOCATIONS: readonly BatchLocation[] = ['processing', 'processed'];

export interface BatchFile {
  /** Path relative to `<location>/<BATCH_ID>/`, as pinned in the claim manifest (Snowflake FILES=). */
  readonly path: string;
  /**
   * Full object key in the store (DuckDB reads it through the BatchFileSource). It must end with
   * `<location>/<BATCH_ID>/<path>`, so both engines read the same object.
   */
  readonly key: string;
  /** Bytes as pinned by the claim; a file of another size is refused (it changed after the claim). */
  readonly size: number;
  /** ETag as pinned by the claim. With `LoadRequest.pinned`, every read checks it (and the size). */
  readonly etag?: string;
  /** `<location>/<BATCH_ID>/<path>`, relative to the entity's stage, as the store lays it out (s3-lifecycle). */
  readonly stagePath?: string;
  /** `processing/<BATCH_ID>/<path>`: the file's stable lineage name (SOURCE_FILE), the same after the archive. */
  readonly claimPath?: string;
}

/**
 * Reads a batch file as pinned by its claim (s3-lifecycle's BatchLifecycle satisfies this): size and ETag
 * are checked on every read, and a file that changed fails with a permanent error naming it.
 */
export interface PinnedFileReader {
  /** The file's bytes, checked against the pinned size and ETag while they stream. */
  openPinned(file: BatchFile): Promise<Readable>;
  /** The object still has the pinned size and ETag (for reads that do not stream through openPinned). */
  verifyPinned(file: BatchFile): Promise<void>;
}

/** `abort` (default): the first bad record fails the load, naming file and record. `quarantine`: bad records go to LOAD_REJECTS. */
export type OnErrorPolicy = 'abort' | 'quarantine';

export interface LoadRequest {
  readonly entity: Entity;
  readonly batchId: BatchId;
  readonly files: readonly BatchFile[];
  readonly onError?: OnErrorPolicy;
  /**
   * Where the files are: `processing` (default) or `processed` (an archived batch being replayed). The rows
   * are the same either way: SOURCE_FILE is always `processing/<BATCH_ID>/<path>`.
   */
  readonly location?: BatchLocation;
  /**
   * Pinned reads: DuckDB reads each file through it (in place: verified before and after the scan);
   * Snowflake verifies each file before and after the COPY. Every file then needs its `etag`.
   */
  readonly pinned?: PinnedFileReader;
}

export interface FileLoadResult {
  /** The BatchFile's path (relative to `<location>/<BATCH_ID>/`). */
  readonly path: string;
  /** Records found in the file: always rowsLoaded + rowsRejected. */
  readonly rowsParsed: number;
  readonly rowsLoaded: number;
  readonly rowsRejected: number;
}

export interface LoadResult {
  readonly entity: Entity;
  readonly batchId: BatchId;
  readonly files: readonly FileLoadResult[];
  readonly rowsParsed: number;
  readonly rowsLoaded: number;
  readonly rowsRejected: number;
}

export interface TransformResult {
  readonly batchId: BatchId;
  /** Rows written to ORDER_CUSTOMER_DATE_PRICE for this batch. */
  readonly curatedRows: number;
  /** Fulfilled orders counted in this batch (after de-duplication), including late ones. */
  readonly fulfilledOrders: number;
  /**
   * Fulfilled order lines of this batch skipped because the order was already delivered (in an earlier batch,
   * or earlier in this batch's files): at-least-once redeliveries.
   */
  readonly duplicateOrders: number;
  /** Fulfilled orders that arrived in this batch with a customer unknown so far. */
  readonly orphanOrders: number;
  /** Orders from earlier batches counted now, because their customer arrived in this batch. */
  readonly lateOrders: number;
  /** Fulfilled orders up to this batch still waiting for their customer. */
  readonly pendingOrphans: number;
}

export type TaskState = 'running' | 'succeeded' | 'failed' | 'skipped';

export interface TaskAudit {
  readonly batchId: BatchId;
  readonly task: string;
  readonly state: TaskState;
  readonly attempt: number;
  readonly startedAt: Date;
  readonly finishedAt?: Date;
  readonly files?: number;
  readonly rows?: number;
  readonly rejected?: number;
  readonly duplicates?: number;
  readonly orphans?: number;
  /** transform: orders of earlier batches counted in this batch (their customer arrived). */
  readonly late?: number;
  /** transform: fulfilled orders up to this batch still waiting for their customer. */
  readonly pendingOrphans?: number;
  readonly error?: string;
  /**
   * Read only (recordTask ignores it; it keeps the list itself): the earlier attempts of the task's current
   * run, oldest first, so a retried task can be drawn with its retries. A new attempt over a failed or
   * interrupted one adds that one here; a rerun over a succeeded task starts a new list. At most 20 kept.
   */
  readonly attempts?: readonly TaskAttempt[];
}

/** An earlier attempt of a task: `failed`, or `running` when its process died before it recorded an end. */
export interface TaskAttempt {
  readonly attempt: number;
  readonly state: TaskState;
  readonly startedAt: Date;
  readonly finishedAt?: Date;
  readonly error?: string;
}

export interface CuratedRow {
  readonly customerName: string;
  readonly orderDate: string; // YYYY-MM-DD
  readonly orderTotalPrice: string; // decimal as text, 2 places
  readonly batchId: BatchId;
  readonly customerKey: string; // integer as text
}

export interface Warehouse {
  readonly engine: 'duckdb' | 'snowflake';
  /** Apply the engine's DDL (sql/duckdb/setup.sql or sql/snowflake/setup/*.sql). Idempotent. */
  setup(): Promise<void>;
  /**
   * Replace the batch's raw rows of one entity by the given files, in one transaction, and mark the task
   * `load:<entity>` succeeded in BATCH_AUDIT in the same transaction.
   */
  load(request: LoadRequest): Promise<LoadResult>;
  /** Replace the batch's curated rows, in one transaction, and mark the task `transform` succeeded with it. */
  transform(batchId: BatchId): Promise<TransformResult>;
  /**
   * Upsert the task's row (one row per batch and task). A row with a lower attempt than the stored one is
   * ignored, so a stale attempt cannot overwrite a newer one.
   */
  recordTask(audit: TaskAudit): Promise<void>;
  /** Latest row per task for the batch, ordered by task name. */
  readTasks(batchId: BatchId): Promise<TaskAudit[]>;
  /**
   * `readTasks` of several batches in one query (per 1000 ids): every requested id maps to its rows, ordered by
   * task name (an empty list when it has none). For `status`, which shows many batches at once.
   */
  readTasksOf(batchIds: readonly BatchId[]): Promise<Map<BatchId, TaskAudit[]>>;
  curatedRows(batchId?: BatchId): Promise<CuratedRow[]>;
  /**
   * Forget a batch that was never transformed: both entities' raw rows, quarantined records and per-batch
   * state, and its BATCH_AUDIT rows, in one transaction (the pipeline's `release`, before its files go
   * back to landing/). Refused once the batch's transform succeeded.
   */
  releaseBatch(batchId: BatchId): Promise<void>;
  close(): Promise<void>;
}

export interface OpenWarehouseOptions {
  /** Where DuckDB reads batch files from (any ObjectStore). */
  readonly files?: BatchFileSource;
  /** Directory for files streamed from a non-local store before DuckDB reads them. Default: the OS temp dir. */
  readonly tempDir?: string;
  /** Snowflake connection, authentication and stage settings (merged over the URL and the environment). */
  readonly snowflake?: SnowflakeOptions;
  /** Environment to read settings from. Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Only read (DuckDB: READ_ONLY, never creating a file or directory; for `status`). A DuckDB file that does
   * not exist yet is WarehouseMissingError; one another process holds is WarehouseBusyError.
   */
  readonly readOnly?: boolean;
}

/**
 * Open a warehouse by URL:
 * - `duckdb://:memory:`, `duckdb://./path/file.duckdb`, `duckdb:///abs/file.duckdb` (needs the optional peer `@duckdb/node-api`)
 * - `snowflake://<account>/<database>/<schema>?warehouse=..&role=..&authenticator=..&user=..`
 * Each engine's driver is imported on first use only, so the other engine's users never load it.
 */
/**
 * Check a warehouse URL's form without opening or loading anything, for callers that validate their
 * configuration where it enters (a `snowflake://` URL is read in full, with the environment, when opened).
 */
export function checkWarehouseUrl(url: unknown): void {
  if (typeof url !== 'string') throw new WarehouseConfigError('Warehouse URL must be a string');
  if (url.startsWith('duckdb://')) {
    duckdbLocation(url);
    return;
  }
  if (url.startsWith('snowflake://')) return;
  throw new WarehouseConfigError(
    `Unsupported warehouse URL ${JSON.stringify(url.slice(0, 80))}: expected duckdb://:memory:, duckdb://./file.duckdb or snowflake://<account>/<database>/<schema>`,
  );
}

export async function openWarehouse(url: string, options: OpenWarehouseOptions = {}): Promise<Warehouse> {
  if (typeof url !== 'string') throw new WarehouseConfigError('Warehouse URL must be a string');
  if (url.startsWith('duckdb://')) {
    const { openDuckDbWarehouse } = await import('./adapters/duckdb/index.js');
    return openDuckDbWarehouse(url, options);
  }
  if (url.startsWith('snowflake://')) {
    const { openSnowflakeWarehouse } = await import('./adapters/snowflake/index.js');
    return openSnowflakeWarehouse(url, options);
  }
  throw new WarehouseConfigError(
    `Unsupported warehouse URL ${JSON.stringify(url.slice(0, 80))}: expected duckdb://:memory:, duckdb://./file.duckdb or snowflake://<account>/<database>/<schema>`,
  );
}
