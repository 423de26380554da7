// CONTRACT STUB written by the foundation; the snowflake-loader issue replaces this file
// with the real implementation, keeping these exported names and shapes (it may add more).
import type { Readable } from 'node:stream';
import type { BatchId } from '@batchline/batch-id';

export type Entity = 'orders' | 'customers';

/** Any ObjectStore satisfies this: the loader reads batch files through it (DuckDB engine). */
export interface BatchFileSource {
  get(key: string): Promise<Readable>;
  localPath?(key: string): string | undefined;
}

export interface BatchFile {
  /** Path relative to `processing/<BATCH_ID>/`, as pinned in the claim manifest (Snowflake FILES=). */
  readonly path: string;
  /** Full object key in the store (DuckDB reads it through the BatchFileSource). */
  readonly key: string;
  readonly size: number;
}

export type OnErrorPolicy = 'abort' | 'quarantine';

export interface LoadRequest {
  readonly entity: Entity;
  readonly batchId: BatchId;
  readonly files: readonly BatchFile[];
  readonly onError?: OnErrorPolicy;
}

export interface FileLoadResult {
  readonly path: string;
  readonly rowsParsed: number;
  readonly rowsLoaded: number;
  readonly rowsRejected: number;
}

export interface LoadResult {
  readonly entity: Entity;
  readonly batchId: BatchId;
  readonly files: readonly FileLoadResult[];
  readonly rowsLoaded: number;
  readonly rowsRejected: number;
}

export interface TransformResult {
  readonly batchId: BatchId;
  /** Rows written to ORDER_CUSTOMER_DATE_PRICE for this batch. */
  readonly curatedRows: number;
  /** Fulfilled orders counted (after de-duplication). */
  readonly fulfilledOrders: number;
  /** Order lines skipped because the order was already seen (in this or an earlier batch). */
  readonly duplicateOrders: number;
  /** Fulfilled orders whose customer is unknown so far. */
  readonly orphanOrders: number;
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
  readonly orphans?: number;
  readonly error?: string;
}

export interface CuratedRow {
  readonly customerName: string;
  readonly orderDate: string; // YYYY-MM-DD
  readonly orderTotalPrice: string; // decimal as text, 2 places
  readonly batchId: BatchId;
}

export interface Warehouse {
  readonly engine: 'duckdb' | 'snowflake';
  setup(): Promise<void>;
  load(request: LoadRequest): Promise<LoadResult>;
  transform(batchId: BatchId): Promise<TransformResult>;
  recordTask(audit: TaskAudit): Promise<void>;
  /** Latest row per task for the batch. */
  readTasks(batchId: BatchId): Promise<TaskAudit[]>;
  curatedRows(batchId?: BatchId): Promise<CuratedRow[]>;
  close(): Promise<void>;
}

export interface OpenWarehouseOptions {
  /** Where DuckDB reads batch files from. */
  readonly files?: BatchFileSource;
}

/** `duckdb://path/to/file.duckdb` (or `duckdb://:memory:`) or `snowflake://account/db/schema?warehouse=...`. */
export declare function openWarehouse(url: string, options?: OpenWarehouseOptions): Promise<Warehouse>;
