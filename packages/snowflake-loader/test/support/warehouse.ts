import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { toBatchId } from '@batchline/batch-id';
import { openWarehouse, type BatchFile, type BatchFileSource, type BatchLocation, type OnErrorPolicy, type Warehouse } from '../../src/index.js';
import { customerCsv, orderCsv, type ModelBatch } from './model.js';
import type { TestStore } from './files.js';

export async function tempDbPath(): Promise<{ url: string; file: string; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'batchline-db-'));
  const file = path.join(dir, 'warehouse.duckdb');
  return { url: `duckdb://${file}`, file, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** Write a model batch's files into the store; returns the manifests per entity. */
export async function putBatch(store: TestStore, batch: ModelBatch, gzipEvery = 0) {
  const orders: BatchFile[] = [];
  const customers: BatchFile[] = [];
  let n = 0;
  for (const f of batch.orders) orders.push(await store.put('orders', batch.id, f.path, orderCsv(f.lines), { gzip: gzipEvery > 0 && ++n % gzipEvery === 0 }));
  for (const f of batch.customers) customers.push(await store.put('customers', batch.id, f.path, customerCsv(f.lines)));
  return { orders, customers };
}

export async function loadAndTransform(
  wh: Warehouse,
  batchId: string,
  files: { orders: BatchFile[]; customers: BatchFile[] },
  onError: OnErrorPolicy = 'abort',
  location: BatchLocation = 'processing',
) {
  const id = toBatchId(batchId);
  const [orders, customers] = await Promise.all([
    wh.load({ entity: 'orders', batchId: id, files: files.orders, onError, location }),
    wh.load({ entity: 'customers', batchId: id, files: files.customers, onError, location }),
  ]);
  const transform = await wh.transform(id);
  return { orders, customers, transform };
}

const SNAPSHOT_QUERIES = {
  ORDERS_RAW:
    'SELECT * EXCLUDE (LOADED_AT) FROM ORDERS_RAW ORDER BY BATCH_ID, SOURCE_FILE, SOURCE_ROW',
  CUSTOMERS_RAW:
    'SELECT * EXCLUDE (LOADED_AT) FROM CUSTOMERS_RAW ORDER BY BATCH_ID, SOURCE_FILE, SOURCE_ROW',
  LOAD_REJECTS: 'SELECT * EXCLUDE (REJECTED_AT) FROM LOAD_REJECTS ORDER BY BATCH_ID, ENTITY, SOURCE_FILE, SOURCE_ROW',
  ORDER_LEDGER: 'SELECT * FROM ORDER_LEDGER ORDER BY BATCH_ID, O_ORDERKEY',
  ORDER_CUSTOMER_DATE_PRICE: 'SELECT * FROM ORDER_CUSTOMER_DATE_PRICE ORDER BY BATCH_ID, CUSTOMER_KEY, ORDER_DATE',
};

/** Every data table, row for row (load timestamps excluded), read with DuckDB directly. */
export type Snapshot = Record<keyof typeof SNAPSHOT_QUERIES, Record<string, unknown>[]>;

export async function snapshotTables(file: string): Promise<Snapshot> {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  try {
    const out: Partial<Snapshot> = {};
    for (const [table, sql] of Object.entries(SNAPSHOT_QUERIES)) {
      out[table as keyof Snapshot] = (await connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
    }
    return out as Snapshot;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export async function withWarehouse<T>(url: string, files: BatchFileSource, fn: (wh: Warehouse) => Promise<T>): Promise<T> {
  const wh = await openWarehouse(url, { files });
  try {
    await wh.setup();
    return await fn(wh);
  } finally {
    await wh.close();
  }
}
