// The sequence on real parts (file store, DuckDB): the curated table after runs in any order, failures,
// reruns and replays equals the oracle's in-order run over the files each batch pinned.
import { afterEach, describe, expect, it } from 'vitest';
import { createBatchLifecycle } from '@batchline/s3-lifecycle';
import { FutureBatchError } from '../src/errors.js';
import { pipelineStatus, renderStatus } from '../src/status.js';
import { type Bench, type Customer, type Order, ROOT, curatedText, openBench, oracle } from './sequence-support.js';

const A = '20260105T0000';
const B = '20260105T0015';
const C = '20260105T0030';

const order = (key: number, cust: number, cents: number, extra: Partial<Order> = {}): Order => ({ key, cust, status: 'F', cents, date: '2026-01-04', ...extra });
const customer = (key: number, name = `Customer#${key}`): Customer => ({ key, name });

let bench: Bench | undefined;
afterEach(async () => {
  await bench?.close();
  bench = undefined;
});

async function expectInOrder(b: Bench): Promise<void> {
  expect(curatedText(await b.warehouse.curatedRows())).toEqual(oracle(await b.pinned()));
  expect(await b.leftovers()).toEqual([]);
}

describe('situation 2: a failed batch rerun after a later one', () => {
  it('the later batch waits (exit 75, naming the blocker and the way out); the fix transforms both; the re-sent order counts once', async () => {
    bench = await openBench();
    await bench.land({ entity: 'customers', path: 'a/customers-1', customers: [customer(1), customer(2)] });
    await bench.land({ entity: 'orders', path: 'a/orders-1', orders: [order(10, 1, 1000), order(11, 2, 250, { bad: true })] });
    const a1 = await bench.run(A);
    expect(a1.status).toBe('failed');
    expect(a1.failedTask).toBe('load:orders');

    // B holds a re-delivery of A's order 10.
    await bench.land({ entity: 'orders', path: 'b/orders-1', orders: [order(10, 1, 1000), order(20, 2, 500)] });
    await bench.land({ entity: 'customers', path: 'b/customers-1', customers: [customer(3)] });
    const b1 = await bench.run(B);
    expect(b1.status).toBe('waiting');
    expect(b1.exitCode).toBe(75);
    expect(b1.sequence?.waitingFor?.batchId).toBe(A);
    expect(b1.sequence?.waitingFor?.reason).toMatch(/failed at load:orders/);
    expect(b1.sequence?.waitingFor?.wayOut).toContain(`batchline run --batch ${A}`);
    expect(b1.sequence?.waitingFor?.wayOut).toContain(`batchline release --batch ${A}`);
    expect(b1.tasks.find((t) => t.task === 'transform')?.state).toBe('waiting');
    expect(await bench.warehouse.curatedRows()).toEqual([]);
    // status shows the sequence: who holds it back, who waits, and what to run.
    const status = await pipelineStatus(createBatchLifecycle(bench.store, { root: ROOT }), bench.warehouse);
    expect(status.sequence?.holdingBack?.batchId).toBe(A);
    expect(status.sequence?.holdingBack?.wayOut).toContain(`batchline release --batch ${A}`);
    expect(status.sequence?.waiting).toEqual([B]);
    expect(status.batches.find((b) => b.batchId === B)?.state).toBe(`waiting for ${A}`);
    expect(renderStatus(status, false)).toContain(`sequence: batch ${A} holds 1 later batch(es) back (${B})`);

    const a2 = await bench.run(A, { onError: 'quarantine' });
    expect(a2.status).toBe('succeeded');
    expect(a2.sequence?.caughtUp.map((c) => [c.batchId, c.status])).toEqual([[B, 'succeeded']]);
    await expectInOrder(bench);
    expect((await pipelineStatus(createBatchLifecycle(bench.store, { root: ROOT }), bench.warehouse)).sequence?.holdingBack).toBeUndefined();
    const counted10 = (await bench.warehouse.curatedRows()).filter((r) => r.customerKey === '1');
    expect(counted10.map((r) => r.batchId)).toEqual([A]);
  });
});

describe('situation 3: a later batch id runs before an earlier one', () => {
  it('the earlier id is refused before it claims anything; its files (customers included) go to the next slot', async () => {
    bench = await openBench();
    await bench.land({ entity: 'orders', path: 'b/orders-1', orders: [order(30, 5, 700), order(31, 6, 800)] });
    await bench.land({ entity: 'customers', path: 'b/customers-1', customers: [customer(6)] });
    const b = await bench.run(B);
    expect(b.status).toBe('succeeded');
    expect(b.curated.pendingOrphans).toBe(1);

    // A's customer 5 lands; A's delayed run comes after B's transform.
    await bench.land({ entity: 'customers', path: 'c/customers-5', customers: [customer(5)] });
    const a = await bench.run(A);
    expect(a.status).toBe('superseded');
    expect(a.exitCode).toBe(0);
    expect(await bench.warehouse.readTasks(A as never)).toEqual([]);
    expect(a.error).toContain(`batch ${A} was never claimed and batch ${B} already started its transform`);
    expect((await bench.pinned()).map((p) => p.batchId)).toEqual([B]);

    const c = await bench.run(C);
    expect(c.status).toBe('succeeded');
    expect(c.curated.late).toBe(1);
    expect(c.curated.pendingOrphans).toBe(0);
    await expectInOrder(bench);
  });

  it('an earlier id claimed before the later batch transformed takes its place; the later one waits, then is caught up', async () => {
    bench = await openBench();
    await bench.land({ entity: 'orders', path: 'a/orders-1', orders: [order(40, 7, 100)] });
    await bench.land({ entity: 'customers', path: 'a/customers-1', customers: [customer(7, 'Old name')] });
    let releaseA!: () => void;
    const aHeld = new Promise<void>((resolve) => (releaseA = resolve));
    let aClaimed!: () => void;
    const claimedA = new Promise<void>((resolve) => (aClaimed = resolve));
    // A claims, then stops before its loads while B runs from start to end.
    const aRun = bench.run(A, {
      hook: async (task, point) => {
        if (task === 'load:orders' && point === 'before') {
          aClaimed();
          await aHeld;
        }
      },
    });
    await claimedA;
    await bench.land({ entity: 'orders', path: 'b/orders-1', orders: [order(41, 7, 200), order(40, 7, 100)] });
    await bench.land({ entity: 'customers', path: 'b/customers-1', customers: [customer(7, 'New name')] });
    const b = await bench.run(B);
    expect(b.status).toBe('waiting');
    expect(b.sequence?.waitingFor?.batchId).toBe(A);
    expect(b.sequence?.waitingFor?.reason).toMatch(/^in progress/);
    releaseA();
    const a = await aRun;
    expect(a.status).toBe('succeeded');
    expect(a.sequence?.caughtUp.map((c) => c.batchId)).toEqual([B]);
    await expectInOrder(bench);
  });
});

describe('situation 4: a far-future id', () => {
  it('is refused before any I/O, naming the current slot', async () => {
    const untouchable = new Proxy(
      {},
      {
        get(_t, prop) {
          if (prop === 'then') return undefined;
          throw new Error(`the store was touched: ${String(prop)}`);
        },
      },
    );
    const now = new Date('2026-11-30T17:20:00Z');
    const { runBatch } = await import('../src/run-batch.js');
    const error = await runBatch({ store: untouchable as never, warehouse: untouchable as never, batchId: '99991231T2359', cron: '*/15 * * * *', now }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FutureBatchError);
    expect((error as FutureBatchError).exitCode).toBe(2);
    expect((error as Error).message).toContain('current slot 20261130T1715');
    // The current slot itself is accepted (it fails later, on the untouchable store, not on the id).
    const current = await runBatch({ store: untouchable as never, warehouse: untouchable as never, batchId: '20261130T1715', cron: '*/15 * * * *', now }).catch((e: unknown) => e);
    expect(current).not.toBeInstanceOf(FutureBatchError);
  });
});

describe('situation 1: two runs of different batches at once on one store', () => {
  it('both end done, every landed file in exactly one batch', async () => {
    bench = await openBench();
    for (let i = 0; i < 40; i++) {
      await bench.land({ entity: 'orders', path: `x/orders-${String(i).padStart(3, '0')}`, orders: [order(100 + i, 200 + (i % 7), 100 + i)] });
    }
    for (let i = 0; i < 7; i++) await bench.land({ entity: 'customers', path: `x/customers-${i}`, customers: [customer(200 + i)] });
    const [a, b] = await Promise.all([bench.run(A, { concurrency: 2 }), bench.run(B, { concurrency: 2 })]);
    // One may wait (exit 75) while the other runs and catches it up; or, when the later one started its
    // transform before the earlier one pinned anything, the earlier id is superseded (exit 0, nothing claimed).
    expect([a.status, b.status]).toContain('succeeded');
    for (const r of [a, b]) expect(['succeeded', 'waiting', 'superseded']).toContain(r.status);
    const pinned = await bench.pinned();
    const paths = pinned.flatMap((p) => p.files.map((f) => `${f.entity}/${f.path}`));
    expect(new Set(paths).size).toBe(paths.length);
    expect(paths.length).toBe(bench.landed.size);
    for (const id of pinned.map((p) => p.batchId)) {
      const tasks = await bench.warehouse.readTasks(id as never);
      expect(tasks.filter((t) => t.state === 'succeeded').map((t) => t.task).sort()).toHaveLength(7);
    }
    await expectInOrder(bench);
  });
});

describe('replay of an earlier batch after later ones (cascade)', () => {
  it('re-transforms the later batches in order and the table stays equal to the in-order run', async () => {
    bench = await openBench();
    await bench.land({ entity: 'orders', path: 'a/orders-1', orders: [order(50, 9, 900), order(51, 10, 100)] });
    await bench.land({ entity: 'customers', path: 'a/customers-1', customers: [customer(9)] });
    expect((await bench.run(A)).status).toBe('succeeded');
    await bench.land({ entity: 'customers', path: 'b/customers-1', customers: [customer(10), customer(9, 'Renamed')] });
    expect((await bench.run(B)).status).toBe('succeeded');
    const before = curatedText(await bench.warehouse.curatedRows());
    const replay = await bench.run(A, { force: true });
    expect(replay.status).toBe('succeeded');
    expect(replay.sequence?.caughtUp.map((c) => [c.batchId, c.rerunTransform])).toEqual([[B, true]]);
    expect(curatedText(await bench.warehouse.curatedRows())).toEqual(before);
    await expectInOrder(bench);
  });
});

describe('situation 8 (the crash): a task that fails while its "during" hook runs', () => {
  it('is a failed task in the report and in BATCH_AUDIT, never an unhandled rejection', async () => {
    bench = await openBench();
    await bench.land({ entity: 'orders', path: 'a/o', orders: [order(1, 1, 100, { bad: true })] });
    await bench.land({ entity: 'customers', path: 'a/c', customers: [customer(1)] });
    // The hook outlives the load: the load's rejection arrives while the runner is still in the hook.
    const report = await bench.run(A, {
      hook: async (task, point) => {
        if (task === 'load:orders' && point === 'during') await new Promise((resolve) => setTimeout(resolve, 1500));
      },
    });
    expect(report.status).toBe('failed');
    expect(report.failedTask).toBe('load:orders');
    expect((await bench.warehouse.readTasks(A as never)).find((t) => t.task === 'load:orders')?.state).toBe('failed');
  });
});
