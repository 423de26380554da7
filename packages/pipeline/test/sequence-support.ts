// Multi-batch scenarios on real parts (a file store or the S3 test server, DuckDB), and an oracle that
// computes the curated table independently: plain TypeScript over the rows the test itself wrote.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BatchId } from '@batchline/batch-id';
import { FileObjectStore, type ObjectStore, createBatchLifecycle } from '@batchline/s3-lifecycle';
import { type CuratedRow, type Warehouse, openWarehouse } from '@batchline/snowflake-loader';
import type { RunReport } from '../src/report.js';
import { type RunBatchOptions, runBatch } from '../src/run-batch.js';
import { cents, price } from './helpers.js';

export interface Order {
  readonly key: number;
  readonly cust: number;
  readonly status: 'F' | 'O' | 'P';
  readonly cents: number;
  readonly date: string;
  /** A record the loader must reject (unparseable price). */
  readonly bad?: boolean;
}
export interface Customer {
  readonly key: number;
  readonly name: string;
}

export function orderLine(o: Order): string {
  const total = o.bad ? 'not-a-price' : price(o.cents);
  return [o.key, o.cust, o.status, total, o.date, '1-URGENT', 'Clerk#000000001', 0, 'note'].join(',');
}
export function customerLine(c: Customer): string {
  return [c.key, c.name, 'street 1', 7, '10-100-100-1000', '12.50', 'BUILDING', 'ok'].join(',');
}

/** A landed file: where, and the rows it holds (what the oracle reads). */
export interface LandedFile {
  readonly entity: 'orders' | 'customers';
  /** Path relative to landing/. */
  readonly path: string;
  readonly orders?: readonly Order[];
  readonly customers?: readonly Customer[];
}

export interface PinnedBatch {
  readonly batchId: BatchId;
  readonly files: readonly LandedFile[];
}

/**
 * The curated table of running `batches` once each in batch-id order, computed without the pipeline's
 * SQL: an order counts once (its first fulfilled line by batch, file, row) in the batch where both it and
 * its customer are known, under the customer's latest name up to that batch; summed per batch, customer
 * and day. Records marked bad are rejected (quarantine).
 */
export function oracle(batches: readonly PinnedBatch[]): string[] {
  const ordered = [...batches].sort((a, b) => (a.batchId < b.batchId ? -1 : 1));
  const seen = new Set<number>();
  const known = new Set<number>();
  const names = new Map<number, string>();
  let waiting: Order[] = [];
  const rows: string[] = [];
  const byPath = (a: LandedFile, b: LandedFile) => (Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  for (const batch of ordered) {
    const customerFiles = batch.files.filter((f) => f.entity === 'customers').sort(byPath);
    const orderFiles = batch.files.filter((f) => f.entity === 'orders').sort(byPath);
    for (const f of customerFiles) for (const c of f.customers ?? []) {
      names.set(c.key, c.name);
      known.add(c.key);
    }
    const counted: Order[] = [];
    const fresh: Order[] = [];
    for (const f of orderFiles) for (const o of f.orders ?? []) {
      if (o.bad || o.status !== 'F' || seen.has(o.key)) continue;
      seen.add(o.key);
      if (known.has(o.cust)) counted.push(o);
      else fresh.push(o);
    }
    const still: Order[] = [];
    for (const o of waiting) (known.has(o.cust) ? counted : still).push(o);
    waiting = [...still, ...fresh];
    const sums = new Map<string, number>();
    for (const o of counted) {
      const key = `${o.cust}|${names.get(o.cust)}|${o.date}`;
      sums.set(key, (sums.get(key) ?? 0) + o.cents);
    }
    for (const [key, total] of sums) rows.push(`${batch.batchId}|${key}|${price(total)}`);
  }
  return rows.sort();
}

export function curatedText(rows: readonly CuratedRow[]): string[] {
  return rows.map((r) => `${r.batchId}|${r.customerKey}|${r.customerName}|${r.orderDate}|${price(cents(r.orderTotalPrice))}`).sort();
}

export interface Bench {
  readonly dir: string;
  readonly store: ObjectStore;
  readonly warehouse: Warehouse;
  readonly landed: Map<string, LandedFile>;
  land(file: LandedFile): Promise<void>;
  run(batchId: string, options?: Partial<RunBatchOptions>): Promise<RunReport>;
  /** Each batch's pinned files (from its manifests), as the test wrote them. */
  pinned(): Promise<PinnedBatch[]>;
  /** Keys left under landing/ and processing/. */
  leftovers(): Promise<string[]>;
  close(): Promise<void>;
}

export const ROOT = '';

export async function openBench(options: { store?: ObjectStore; warehouse?: Warehouse } = {}): Promise<Bench> {
  const dir = await mkdtemp(path.join(tmpdir(), 'batchline-seq-'));
  const store = options.store ?? new FileObjectStore(path.join(dir, 'bucket'));
  const warehouse = options.warehouse ?? (await openWarehouse('duckdb://:memory:', { files: store }));
  if (!options.warehouse) await warehouse.setup();
  const landed = new Map<string, LandedFile>();
  const lifecycle = createBatchLifecycle(store, { root: ROOT });
  return {
    dir,
    store,
    warehouse,
    landed,
    async land(file) {
      const lines = file.entity === 'orders' ? (file.orders ?? []).map(orderLine) : (file.customers ?? []).map(customerLine);
      await store.put(`${ROOT}${file.entity}/landing/${file.path}`, Buffer.from(lines.map((l) => `${l}\n`).join('')));
      landed.set(`${file.entity}/${file.path}`, file);
    },
    run(batchId, extra = {}) {
      return runBatch({ store, warehouse, batchId, root: ROOT, settleSeconds: 0, tasks: { default: { retries: 0 } }, ...extra });
    },
    async pinned() {
      const ids = new Set<BatchId>();
      for (const entity of ['orders', 'customers'] as const) {
        const prefix = lifecycle.manifestKey(entity, '20000101T0000' as BatchId).slice(0, -'20000101T0000.json'.length);
        for await (const o of store.list(prefix)) if (o.key.endsWith('.json')) ids.add(o.key.slice(prefix.length, -5) as BatchId);
      }
      const out: PinnedBatch[] = [];
      for (const batchId of [...ids].sort()) {
        const files: LandedFile[] = [];
        for (const entity of ['orders', 'customers'] as const) {
          const m = await lifecycle.readManifest(entity, batchId);
          for (const f of m?.files ?? []) {
            const file = landed.get(`${entity}/${f.path}`);
            if (!file) throw new Error(`batch ${batchId} pinned ${entity}/${f.path}, which the test never landed`);
            files.push(file);
          }
        }
        out.push({ batchId, files });
      }
      return out;
    },
    async leftovers() {
      const keys: string[] = [];
      for (const entity of ['orders', 'customers']) {
        for (const where of ['landing/', 'processing/']) for await (const o of store.list(`${ROOT}${entity}/${where}`)) keys.push(o.key);
      }
      return keys;
    },
    async close() {
      if (!options.warehouse) await warehouse.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
