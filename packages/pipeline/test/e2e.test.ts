import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatchLifecycle, openObjectStore } from '@batchline/s3-lifecycle';
import { openWarehouse } from '@batchline/snowflake-loader';
import { type DemoResult, demo, demoBatchIds } from '../src/demo.js';
import { runBatch } from '../src/run-batch.js';
import { dumpWarehouse, expectedBatches } from './helpers.js';

const SCALE = 0.002; // 300 customers, 3,000 orders: every code path, in seconds

let base: string;
let first: DemoResult;

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'batchline-e2e-'));
  first = await demo({ scale: SCALE, dir: base });
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('the embedded default end to end (producer -> landing -> seven tasks -> DuckDB)', () => {
  it('runs both demo batches to success', () => {
    expect(first.batches.map((b) => [b.batchId, b.report.status])).toEqual(demoBatchIds().map((id) => [id, 'succeeded']));
    for (const b of first.batches) expect(b.report.tasks.every((t) => t.state === 'succeeded')).toBe(true);
  });

  it('has curated figures equal to figures computed independently from the generated rows', async () => {
    const expected = expectedBatches(first.dataset);
    const warehouse = await openWarehouse(first.warehouse);
    try {
      for (const [i, batchId] of demoBatchIds().entries()) {
        const exp = expected[i]!;
        const rows = await warehouse.curatedRows(batchId);
        const actual = new Map(rows.map((r) => [`${r.customerName}|${r.orderDate}`, r.orderTotalPrice]));
        expect(rows.every((r) => r.batchId === batchId)).toBe(true);
        expect(actual.size).toBe(rows.length); // one row per customer and day
        expect(actual).toEqual(exp.curated);
        const report = first.batches[i]!.report;
        expect(report.curated).toEqual({
          rows: exp.curated.size,
          duplicates: exp.duplicates,
          orphans: exp.orphans,
          late: exp.late,
          pendingOrphans: exp.pendingOrphans,
        });
        expect(report.entities.orders.rowsLoaded).toBe(exp.ordersLines);
        expect(report.entities.customers.rowsLoaded).toBe(exp.customerLines);
      }
    } finally {
      await warehouse.close();
    }
  });

  it('shows the late customer and the re-sent lines being handled', () => {
    const [b1, b2] = expectedBatches(first.dataset);
    expect(first.dataset.lateCustomerKeys.length).toBeGreaterThan(0);
    expect(b1.orphans).toBeGreaterThan(0); // batch 1: orders of the late customers wait
    expect(b2.late).toBe(b1.orphans); // batch 2: their customer arrives, they are counted
    expect(b2.pendingOrphans).toBe(0);
    const resentFulfilled = first.dataset.batch2.orders.filter((o) => first.dataset.resentOrderKeys.includes(o.O_ORDERKEY) && o.O_ORDERSTATUS === 'F');
    expect(b2.duplicates).toBe(resentFulfilled.length);
    expect(b2.duplicates).toBeGreaterThan(0);
  });

  it('moved every file: landing empty, nothing left in processing, both batches archived', async () => {
    const lifecycle = createBatchLifecycle(openObjectStore(first.store));
    for (const entity of ['orders', 'customers']) {
      const status = await lifecycle.status(entity);
      expect(status.landing.files).toBe(0);
      expect(status.processing.files).toBe(0);
      expect(status.batches.map((b) => [b.batchId, b.state])).toEqual(demoBatchIds().map((id) => [id, 'archived']));
      const manifestFiles = status.batches.reduce((n, b) => n + b.files, 0);
      expect(status.processed?.files).toBe(manifestFiles);
    }
  });

  it('a second demo run is safe: nothing sent again, every task skipped, tables unchanged', async () => {
    const before = await dumpWarehouse(first.paths.warehouseFile);
    const again = await demo({ scale: SCALE, dir: base });
    expect(again.batches.map((b) => b.produced.recordsSent)).toEqual([0, 0]);
    for (const b of again.batches) {
      expect(b.report.status).toBe('succeeded');
      expect(b.report.tasks.map((t) => t.state)).toEqual(Array(7).fill('skipped'));
    }
    // Figures of skipped tasks come from BATCH_AUDIT, so the report still tells the story.
    expect(again.batches[1]!.report.curated.rows).toBe(first.batches[1]!.report.curated.rows);
    expect(again.batches[1]!.report.curated.duplicates).toBe(first.batches[1]!.report.curated.duplicates);
    expect(await dumpWarehouse(first.paths.warehouseFile)).toEqual(before);
  });

  it('replaying a finished batch (every task again) changes nothing', async () => {
    const before = await dumpWarehouse(first.paths.warehouseFile);
    expect(before['ORDERS_RAW']!.length).toBeGreaterThan(0);
    const [firstId, secondId] = demoBatchIds();
    for (const batchId of [firstId, secondId]) {
      const report = await runBatch({ store: first.store, warehouse: first.warehouse, batchId, force: true, settleSeconds: 0 });
      expect(report.status).toBe('succeeded');
      expect(report.tasks.map((t) => t.state)).toEqual(Array(7).fill('succeeded'));
      // Replaying the first batch re-transforms the second (the sequence's cascade): one more attempt there.
      const cascaded = (t: { task: string }) => batchId === secondId && t.task === 'transform';
      expect(report.tasks.map((t) => [t.task, t.attempt])).toEqual(report.tasks.map((t) => [t.task, cascaded(t) ? 3 : 2]));
      if (batchId === firstId) expect(report.sequence?.caughtUp.map((c) => [c.batchId, c.rerunTransform])).toEqual([[secondId, true]]);
    }
    expect(await dumpWarehouse(first.paths.warehouseFile)).toEqual(before);
  });

  it('an empty batch finishes quickly and says so', async () => {
    const report = await runBatch({ store: first.store, warehouse: first.warehouse, batchId: '20260101T0030' });
    expect(report.status).toBe('succeeded');
    expect(report.empty).toBe(true);
    expect(report.entities.orders.files).toBe(0);
    expect(report.tasks.find((t) => t.task === 'transform')!.note).toBe('empty batch');
  });
});
