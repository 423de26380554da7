import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toBatchId } from '@batchline/batch-id';
import { openWarehouse, type BatchFile } from '../src/index.js';
import { createTestStore, type TestStore } from './support/files.js';
import { expectedForBatch, prng, type CustomerLine, type ModelBatch, type OrderLine } from './support/model.js';
import { loadAndTransform, putBatch, snapshotTables, tempDbPath, withWarehouse } from './support/warehouse.js';

const B1 = '20261126T0300';
const B2 = '20261126T0305';
const B3 = '20261126T0310';

const o = (key: number, cust: number, status: 'F' | 'O' | 'P', cents: number, date: string, comment = 'ok'): OrderLine => ({
  key,
  cust,
  status,
  cents,
  date,
  comment,
});
const c = (key: number, name: string, comment = 'c'): CustomerLine => ({ key, name, comment });

/** The scenarios the issue names, by hand: duplicates within and across batches, an updated customer, a late customer. */
const SCENARIO: ModelBatch[] = [
  {
    id: B1,
    orders: [
      { path: '2026/11/26/03/orders-1-a', lines: [o(100, 1, 'F', 1000, '2024-01-01'), o(101, 1, 'F', 550, '2024-01-01'), o(102, 2, 'O', 999, '2024-01-05')] },
      {
        path: '2026/11/26/03/orders-1-b',
        lines: [
          o(100, 1, 'F', 1000, '2024-01-01', 'retry of the same record'),
          o(103, 9, 'F', 700, '2024-01-02', 'customer 9 arrives later'),
          o(104, 2, 'F', 125, '2024-01-03', 'quoted, with comma\nand a newline'),
        ],
      },
    ],
    customers: [{ path: '2026/11/26/03/customers-1-a', lines: [c(1, 'Alice'), c(2, 'Bob, Jr.'), c(3, 'Carol')] }],
  },
  {
    id: B2,
    orders: [{ path: '2026/11/26/03/orders-1-c', lines: [o(101, 1, 'F', 550, '2024-01-01'), o(105, 1, 'F', 200, '2024-01-01'), o(106, 3, 'P', 300, '2024-01-01')] }],
    customers: [{ path: '2026/11/26/03/customers-1-b', lines: [c(1, 'Alice Updated'), c(9, 'Late Larry')] }],
  },
  {
    id: B3,
    orders: [{ path: '2026/11/26/03/orders-1-d', lines: [o(103, 9, 'F', 700, '2024-01-02'), o(107, 9, 'F', 300, '2024-01-02'), o(102, 2, 'F', 999, '2024-01-05')] }],
    customers: [{ path: '2026/11/26/03/customers-1-c', lines: [] }],
  },
];

let store: TestStore;
let db: Awaited<ReturnType<typeof tempDbPath>>;
beforeEach(async () => {
  store = await createTestStore();
  db = await tempDbPath();
});
afterEach(async () => {
  await store.dispose();
  await db.dispose();
});

describe('closing the DuckDB warehouse', () => {
  it('waits for a transaction still running (an attempt the runner stopped waiting for), then the file opens whole', async () => {
    const files = await putBatch(store, SCENARIO[0]!);
    const wh = await openWarehouse(db.url, { files: store.inPlace });
    await wh.setup();
    const id = toBatchId(B1);
    await Promise.all([
      wh.load({ entity: 'orders', batchId: id, files: files.orders, onError: 'abort' }),
      wh.load({ entity: 'customers', batchId: id, files: files.customers, onError: 'abort' }),
    ]);
    const events: string[] = [];
    // Not awaited, like an abandoned attempt: the transform, then close() while it runs.
    const transform = wh.transform(id).then((r) => {
      events.push('transformed');
      return r;
    });
    await wh.close();
    events.push('closed');
    expect((await transform).curatedRows).toBeGreaterThan(0);
    expect(events).toEqual(['transformed', 'closed']);
    // A new transaction after close is refused, by name.
    await expect(wh.transform(id)).rejects.toThrow(/closed/);
    // What the transform committed is there, read by another instance.
    const instance = await DuckDBInstance.create(db.file);
    const connection = await instance.connect();
    const rows = (await connection.runAndReadAll(`SELECT COUNT(*)::INTEGER AS N FROM ORDER_CUSTOMER_DATE_PRICE WHERE BATCH_ID = '${B1}'`)).getRowObjectsJson();
    connection.closeSync();
    instance.closeSync();
    expect(rows).toEqual([{ N: (await transform).curatedRows }]);
  });
});

describe('DuckDB end to end: load, transform, audit', () => {
  it('counts each fulfilled order once, with the latest customer name, late customers included', async () => {
    await withWarehouse(db.url, store.inPlace, async (wh) => {
      const r1 = await loadAndTransform(wh, B1, await putBatch(store, SCENARIO[0]!));
      expect(r1.orders).toMatchObject({ rowsParsed: 6, rowsLoaded: 6, rowsRejected: 0 });
      expect(r1.customers).toMatchObject({ rowsParsed: 3, rowsLoaded: 3, rowsRejected: 0 });
      expect(r1.transform).toMatchObject({ fulfilledOrders: 3, duplicateOrders: 1, orphanOrders: 1, lateOrders: 0, pendingOrphans: 1, curatedRows: 2 });
      expect(await wh.curatedRows(toBatchId(B1))).toEqual([
        { customerName: 'Alice', orderDate: '2024-01-01', orderTotalPrice: '15.50', batchId: B1, customerKey: '1' },
        { customerName: 'Bob, Jr.', orderDate: '2024-01-03', orderTotalPrice: '1.25', batchId: B1, customerKey: '2' },
      ]);

      const r2 = await loadAndTransform(wh, B2, await putBatch(store, SCENARIO[1]!));
      expect(r2.transform).toMatchObject({ fulfilledOrders: 2, duplicateOrders: 1, orphanOrders: 0, lateOrders: 1, pendingOrphans: 0 });
      expect(await wh.curatedRows(toBatchId(B2))).toEqual([
        { customerName: 'Alice Updated', orderDate: '2024-01-01', orderTotalPrice: '2.00', batchId: B2, customerKey: '1' },
        { customerName: 'Late Larry', orderDate: '2024-01-02', orderTotalPrice: '7.00', batchId: B2, customerKey: '9' },
      ]);

      const r3 = await loadAndTransform(wh, B3, await putBatch(store, SCENARIO[2]!));
      expect(r3.customers).toMatchObject({ rowsParsed: 0, rowsLoaded: 0 });
      // 103 was delivered before; 102 is not a duplicate: its earlier line was status O, this batch counts it.
      expect(r3.transform).toMatchObject({ fulfilledOrders: 2, duplicateOrders: 1, orphanOrders: 0, lateOrders: 0 });
      expect(await wh.curatedRows(toBatchId(B3))).toEqual([
        { customerName: 'Bob, Jr.', orderDate: '2024-01-05', orderTotalPrice: '9.99', batchId: B3, customerKey: '2' },
        { customerName: 'Late Larry', orderDate: '2024-01-02', orderTotalPrice: '3.00', batchId: B3, customerKey: '9' },
      ]);
      // Order 100 was delivered twice and 101 in two batches: the grand total counts each order once.
      const all = await wh.curatedRows();
      const cents = all.reduce((n, r) => n + Math.round(Number(r.orderTotalPrice) * 100), 0);
      expect(cents).toBe(1000 + 550 + 125 + 200 + 700 + 300 + 999);

      const tasks = await wh.readTasks(toBatchId(B2));
      expect(tasks.map((t) => [t.task, t.state, t.attempt])).toEqual([
        ['load:customers', 'succeeded', 1],
        ['load:orders', 'succeeded', 1],
        ['transform', 'succeeded', 1],
      ]);
      expect(tasks.find((t) => t.task === 'load:orders')).toMatchObject({ files: 1, rows: 3, rejected: 0 });
      expect(tasks.find((t) => t.task === 'transform')).toMatchObject({ rows: 2, duplicates: 1, orphans: 0 });
    });
  });

  it('replayed twice, every table is identical row for row to a clean run', async () => {
    const manifests: Awaited<ReturnType<typeof putBatch>>[] = [];
    for (const batch of SCENARIO) manifests.push(await putBatch(store, batch, 2));
    await withWarehouse(db.url, store.inPlace, async (wh) => {
      for (const [i, batch] of SCENARIO.entries()) await loadAndTransform(wh, batch.id, manifests[i]!);
    });
    const clean = await snapshotTables(db.file);
    expect(clean.ORDERS_RAW).toHaveLength(12);

    for (let replay = 0; replay < 2; replay++) {
      // Streamed this time (as from S3), and an out-of-order replay of the first batch after the last.
      await withWarehouse(db.url, store.streamed, async (wh) => {
        for (const [i, batch] of SCENARIO.entries()) await loadAndTransform(wh, batch.id, manifests[i]!);
        await loadAndTransform(wh, B1, manifests[0]!);
        await wh.transform(toBatchId(B2));
      });
      expect(await snapshotTables(db.file)).toEqual(clean);
    }
  });

  it('replayed after the archive, from processed/, every table is identical row for row to the clean run', async () => {
    const manifests: Awaited<ReturnType<typeof putBatch>>[] = [];
    for (const batch of SCENARIO) manifests.push(await putBatch(store, batch, 2));
    await withWarehouse(db.url, store.inPlace, async (wh) => {
      for (const [i, batch] of SCENARIO.entries()) await loadAndTransform(wh, batch.id, manifests[i]!);
    });
    const clean = await snapshotTables(db.file);
    expect(clean.ORDERS_RAW.map((r) => r.SOURCE_FILE)).toContain(`processing/${B1}/2026/11/26/03/orders-1-a`);

    const archived: { orders: BatchFile[]; customers: BatchFile[] }[] = [];
    for (const m of manifests) archived.push({ orders: await store.archive(m.orders), customers: await store.archive(m.customers) });
    expect(archived[0]!.orders[0]!.key).toBe(`orders/processed/${B1}/2026/11/26/03/orders-1-a`);
    await withWarehouse(db.url, store.streamed, async (wh) => {
      // The claim's keys no longer exist: a load that named them would fail, so this reads processed/.
      await expect(wh.load({ entity: 'orders', batchId: toBatchId(B1), files: manifests[0]!.orders })).rejects.toThrow();
      for (const [i, batch] of SCENARIO.entries()) await loadAndTransform(wh, batch.id, archived[i]!, 'abort', 'processed');
    });
    expect(await snapshotTables(db.file)).toEqual(clean);
  });

  it('matches an independent model on generated batches with duplicates, updates and late customers', async () => {
    const rand = prng(42);
    const batches: ModelBatch[] = [];
    const seen: OrderLine[] = [];
    const ids = ['20261126T0300', '20261126T0305', '20261126T0310', '20261126T0315'];
    for (const [bi, id] of ids.entries()) {
      const files: ModelBatch['orders'] = [];
      for (let f = 0; f < 3; f++) {
        const lines: OrderLine[] = [];
        for (let i = 0; i < 40; i++) {
          if (seen.length > 0 && rand() < 0.15) {
            lines.push({ ...seen[Math.floor(rand() * seen.length)]! }); // at-least-once redelivery
            continue;
          }
          const line = o(1000 * (bi + 1) + 100 * f + i, 1 + Math.floor(rand() * 30), rand() < 0.6 ? 'F' : rand() < 0.5 ? 'O' : 'P', Math.floor(rand() * 100000), `2024-02-${String(1 + Math.floor(rand() * 5)).padStart(2, '0')}`, `c${i}, "q"`);
          seen.push(line);
          lines.push(line);
        }
        files.push({ path: `2026/11/26/03/orders-${f}`, lines });
      }
      // Customers 1..20 arrive in the first batch, 21..30 one batch at a time later; names change over time.
      const custs: CustomerLine[] = [];
      for (let k = 1; k <= 30; k++) {
        const arrives = k <= 20 ? 0 : 1 + ((k - 21) % 3);
        if (bi === arrives || (bi > arrives && rand() < 0.2)) custs.push(c(k, `Customer#${k} v${bi}`));
      }
      batches.push({ id, orders: files, customers: [{ path: '2026/11/26/03/customers-0', lines: custs }] });
    }
    await withWarehouse(db.url, store.inPlace, async (wh) => {
      for (const batch of batches) {
        const r = await loadAndTransform(wh, batch.id, await putBatch(store, batch, 3));
        const expected = expectedForBatch(batches, batch.id);
        expect(await wh.curatedRows(toBatchId(batch.id))).toEqual(expected.rows);
        expect(r.transform).toMatchObject({
          fulfilledOrders: expected.counted + expected.late,
          lateOrders: expected.late,
          orphanOrders: expected.orphans,
          duplicateOrders: expected.duplicates,
        });
      }
      // The generated data really exercises late customers, orphans and redeliveries.
      const totals = batches.map((b) => expectedForBatch(batches, b.id));
      expect(totals.reduce((n, t) => n + t.late, 0)).toBeGreaterThan(0);
      expect(totals.reduce((n, t) => n + t.orphans, 0)).toBeGreaterThan(0);
      expect(totals.reduce((n, t) => n + t.duplicates, 0)).toBeGreaterThan(0);
    });
  });

  it('runs the orders and customers loads of a batch concurrently', async () => {
    await withWarehouse('duckdb://:memory:', store.inPlace, async (wh) => {
      const files = await putBatch(store, SCENARIO[0]!);
      const results = await Promise.all([
        loadAndTransform(wh, B1, files).then((r) => r.transform),
        wh.recordTask({ batchId: toBatchId(B1), task: 'claim:orders', state: 'succeeded', attempt: 1, startedAt: new Date() }),
      ]);
      expect(results[0]).toMatchObject({ fulfilledOrders: 3 });
    });
  });
});

describe('task audit', () => {
  it('upserts one row per batch and task and ignores a stale attempt', async () => {
    const wh = await openWarehouse('duckdb://:memory:');
    try {
      await wh.setup();
      const batchId = toBatchId(B1);
      const t0 = new Date('2026-11-26T03:00:01.000Z');
      await wh.recordTask({ batchId, task: 'claim:orders', state: 'running', attempt: 1, startedAt: t0 });
      await wh.recordTask({ batchId, task: 'claim:orders', state: 'failed', attempt: 1, startedAt: t0, finishedAt: new Date('2026-11-26T03:00:02.000Z'), error: 'boom' });
      await wh.recordTask({ batchId, task: 'claim:orders', state: 'running', attempt: 2, startedAt: new Date('2026-11-26T03:01:00.000Z') });
      // attempt 1 finishing late must not overwrite attempt 2
      await wh.recordTask({ batchId, task: 'claim:orders', state: 'succeeded', attempt: 1, startedAt: t0 });
      await wh.recordTask({ batchId, task: 'claim:customers', state: 'succeeded', attempt: 1, startedAt: t0, files: 3, rows: 0 });
      const tasks = await wh.readTasks(batchId);
      expect(tasks).toEqual([
        { batchId, task: 'claim:customers', state: 'succeeded', attempt: 1, startedAt: t0, files: 3, rows: 0 },
        {
          batchId,
          task: 'claim:orders',
          state: 'running',
          attempt: 2,
          startedAt: new Date('2026-11-26T03:01:00.000Z'),
          // the failed attempt 1 is kept, so a Gantt chart can draw the retry
          attempts: [{ attempt: 1, state: 'failed', startedAt: t0, finishedAt: new Date('2026-11-26T03:00:02.000Z'), error: 'boom' }],
        },
      ]);
      expect(await wh.readTasks(toBatchId(B2))).toEqual([]);
      await expect(wh.recordTask({ batchId, task: "x'; DROP TABLE BATCH_AUDIT; --", state: 'running', attempt: 1, startedAt: t0 })).rejects.toThrow(/Invalid task name/);
      await expect(wh.recordTask({ batchId: '2026-11-26' as never, task: 'transform', state: 'running', attempt: 1, startedAt: t0 })).rejects.toThrow(/Invalid batch id/);
    } finally {
      await wh.close();
    }
  });

  it('keeps the earlier attempts of the current run, and starts afresh when a finished task is run again', async () => {
    const wh = await openWarehouse('duckdb://:memory:');
    try {
      await wh.setup();
      const batchId = toBatchId(B1);
      const at = (s: number) => new Date(Date.UTC(2026, 10, 26, 3, 0, s));
      const task = 'transform';
      // attempt 1 fails, attempt 2 is killed while running (no end recorded), attempt 3 succeeds
      await wh.recordTask({ batchId, task, state: 'running', attempt: 1, startedAt: at(0) });
      await wh.recordTask({ batchId, task, state: 'failed', attempt: 1, startedAt: at(0), finishedAt: at(1), error: 'timeout' });
      await wh.recordTask({ batchId, task, state: 'running', attempt: 2, startedAt: at(3) });
      await wh.recordTask({ batchId, task, state: 'running', attempt: 3, startedAt: at(10) });
      await wh.recordTask({ batchId, task, state: 'succeeded', attempt: 3, startedAt: at(10), finishedAt: at(12), late: 4, pendingOrphans: 7 });
      const [done] = await wh.readTasks(batchId);
      expect(done).toEqual({
        batchId,
        task,
        state: 'succeeded',
        attempt: 3,
        startedAt: at(10),
        finishedAt: at(12),
        late: 4,
        pendingOrphans: 7,
        attempts: [
          { attempt: 1, state: 'failed', startedAt: at(0), finishedAt: at(1), error: 'timeout' },
          { attempt: 2, state: 'running', startedAt: at(3) },
        ],
      });
      // a forced rerun (attempt 4 over a succeeded attempt 3) is a new run: no earlier attempts
      await wh.recordTask({ batchId, task, state: 'running', attempt: 4, startedAt: at(30) });
      const [rerun] = await wh.readTasks(batchId);
      expect(rerun).toEqual({ batchId, task, state: 'running', attempt: 4, startedAt: at(30) });
    } finally {
      await wh.close();
    }
  });

  it('adds the new audit columns to a BATCH_AUDIT created before them', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'batchline-audit-columns-'));
    const file = path.join(dir, 'old.duckdb');
    try {
      const instance = await DuckDBInstance.create(file);
      const conn = await instance.connect();
      await conn.run(`CREATE TABLE BATCH_AUDIT (BATCH_ID VARCHAR NOT NULL, TASK VARCHAR NOT NULL, STATE VARCHAR NOT NULL, ATTEMPT INTEGER NOT NULL,
        STARTED_AT TIMESTAMPTZ NOT NULL, FINISHED_AT TIMESTAMPTZ, FILES BIGINT, ROWS_PROCESSED BIGINT, ROWS_REJECTED BIGINT,
        DUPLICATES BIGINT, ORPHANS BIGINT, ERROR VARCHAR, UPDATED_AT TIMESTAMPTZ NOT NULL)`);
      conn.closeSync();
      instance.closeSync();
      const wh = await openWarehouse(`duckdb://${file}`);
      try {
        await wh.setup();
        await wh.setup(); // twice: idempotent
        const batchId = toBatchId(B1);
        const t0 = new Date('2026-11-26T03:00:00.000Z');
        await wh.recordTask({ batchId, task: 'transform', state: 'succeeded', attempt: 1, startedAt: t0, finishedAt: t0, pendingOrphans: 2 });
        expect(await wh.readTasks(batchId)).toEqual([{ batchId, task: 'transform', state: 'succeeded', attempt: 1, startedAt: t0, finishedAt: t0, pendingOrphans: 2 }]);
      } finally {
        await wh.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps the attempt and start of a running task when load marks it succeeded', async () => {
    const wh = await openWarehouse('duckdb://:memory:', { files: store.inPlace });
    try {
      await wh.setup();
      const batchId = toBatchId(B1);
      const started = new Date(Date.now() - 60_000);
      await wh.recordTask({ batchId, task: 'load:customers', state: 'running', attempt: 3, startedAt: started });
      const files = await putBatch(store, SCENARIO[0]!);
      await wh.load({ entity: 'customers', batchId, files: files.customers });
      const [task] = await wh.readTasks(batchId);
      expect(task).toMatchObject({ task: 'load:customers', state: 'succeeded', attempt: 3, startedAt: started, files: 1, rows: 3, rejected: 0 });
      expect(task!.finishedAt!.getTime()).toBeGreaterThan(started.getTime());
    } finally {
      await wh.close();
    }
  });
});
