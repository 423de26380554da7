// Situations 5-8 of issue 10 on real parts (file store, S3 test server, DuckDB): every stuck state has a way
// out that the error leading there names; pinned files are checked on every read; any key S3 accepts loads.
import { existsSync } from 'node:fs';
import { appendFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type BatchId } from '@batchline/batch-id';
import { BatchInProgressError, createBatchLifecycle } from '@batchline/s3-lifecycle';
import { pipelineStatus, renderStatus } from '../src/status.js';
import { releaseBatch, repinBatch } from '../src/ways-out.js';
import { type Bench, type Customer, type Order, ROOT, curatedText, openBench, oracle, orderLine } from './sequence-support.js';

const A = '20260105T0000';
const B = '20260105T0015';

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

const ways = (b: Bench, batchId: string) => ({ store: b.store, warehouse: b.warehouse, batchId, root: ROOT });

describe('situation 7: "fix the file" has a way out', () => {
  it('abort names repin; a fixed file is refused until the batch is re-pinned; then the batch and the later one finish', async () => {
    bench = await openBench();
    await bench.land({ entity: 'customers', path: 'a/customers', customers: [customer(1)] });
    await bench.land({ entity: 'orders', path: 'a/good', orders: [order(1, 1, 100)] });
    await bench.land({ entity: 'orders', path: 'a/bad', orders: [order(2, 1, 200, { bad: true })] });
    const failed = await bench.run(A);
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain(`batchline repin --batch ${A}`);

    // The operator fixes the file where it is now: processing/<id>/.
    const fixed = { entity: 'orders' as const, path: 'a/bad', orders: [order(2, 1, 200)] };
    await bench.store.put(`${ROOT}orders/processing/${A}/a/bad`, Buffer.from(`${fixed.orders.map(orderLine).join('\n')}\n`));
    bench.landed.set('orders/a/bad', fixed);
    const refused = await bench.run(A);
    expect(refused.status).toBe('failed');
    expect(refused.error).toMatch(/a\/bad/);
    expect(refused.error).toContain(`batchline repin --batch ${A}`);

    const repinned = await repinBatch(ways(bench, A));
    expect(repinned.changes.orders.map((c) => c.path)).toEqual(['a/bad']);
    expect(repinned.changes.orders[0]!.before!.etag).not.toBe(repinned.changes.orders[0]!.after!.etag);
    // Idempotent: nothing changes the second time.
    expect((await repinBatch(ways(bench, A))).changes.orders).toEqual([]);

    // The next slot's run catches the re-pinned batch up first, then runs its own.
    await bench.land({ entity: 'orders', path: 'b/orders', orders: [order(3, 1, 300)] });
    const b = await bench.run(B);
    expect(b.status).toBe('succeeded');
    expect(b.sequence?.caughtUp.map((c) => [c.batchId, c.status])).toEqual([[A, 'succeeded']]);
    const transitions = (await createBatchLifecycle(bench.store, { root: ROOT }).readManifest('orders', A as BatchId))!.transitions;
    expect(JSON.stringify(transitions)).toContain(repinned.changes.orders[0]!.after!.etag.replace(/"/g, ''));
    await expectInOrder(bench);
  });

  it('repin and release are refused with the reason for an archived batch, and while a run holds the batch', async () => {
    bench = await openBench();
    await bench.land({ entity: 'customers', path: 'a/customers', customers: [customer(1)] });
    await bench.land({ entity: 'orders', path: 'a/orders', orders: [order(1, 1, 100)] });
    expect((await bench.run(A)).status).toBe('succeeded');
    await expect(repinBatch(ways(bench, A))).rejects.toThrow(/archived.*replay/s);
    await expect(releaseBatch(ways(bench, A))).rejects.toThrow(/archived.*batchline replay --batch 20260105T0000/s);

    await bench.land({ entity: 'orders', path: 'b/orders', orders: [order(2, 1, 100)] });
    const lease = await createBatchLifecycle(bench.store, { root: ROOT }).acquireRunLease(B as BatchId, { ttlMs: 60_000 });
    try {
      const error = await releaseBatch(ways(bench, B)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BatchInProgressError);
      expect((error as Error).message).toContain('in progress');
      await expect(repinBatch(ways(bench, B))).rejects.toBeInstanceOf(BatchInProgressError);
    } finally {
      await lease.release();
    }
  });

  it('release gives a failed batch back: raw rows gone, files in landing, the next batch takes them', async () => {
    bench = await openBench();
    await bench.land({ entity: 'customers', path: 'a/customers', customers: [customer(1)] });
    await bench.land({ entity: 'orders', path: 'a/orders', orders: [order(1, 1, 100), order(2, 1, 5, { bad: true })] });
    expect((await bench.run(A, { onError: 'abort' })).status).toBe('failed');
    // Quarantine on a first attempt of the customers? No: the orders load failed; customers loaded raw rows.
    const released = await releaseBatch(ways(bench, A));
    expect(released).toMatchObject({ alreadyReleased: false, files: { orders: 1, customers: 1 } });
    expect(await bench.warehouse.readTasks(A as BatchId)).toEqual([]);
    expect((await releaseBatch(ways(bench, A))).alreadyReleased).toBe(true);
    expect(await bench.leftovers()).toHaveLength(2);

    const b = await bench.run(B, { onError: 'quarantine' });
    expect(b.status).toBe('succeeded');
    expect(b.entities.orders.files).toBe(1);
    expect(b.entities.orders.rowsRejected).toBe(1);
    await expectInOrder(bench);
  });
});

describe('situation 6: a changed archived file is replayed', () => {
  it('the replay is refused by name, not retried, and the curated table is unchanged', async () => {
    bench = await openBench();
    await bench.land({ entity: 'customers', path: 'a/customers', customers: [customer(1)] });
    await bench.land({ entity: 'orders', path: 'a/orders', orders: [order(1, 1, 1234)] });
    expect((await bench.run(A)).status).toBe('succeeded');
    const before = curatedText(await bench.warehouse.curatedRows());
    // Same size, other bytes: 12.34 -> 43.21.
    const key = `${ROOT}orders/processed/${A}/a/orders`;
    const changed = orderLine(order(1, 1, 4321));
    expect(changed.length).toBe(orderLine(order(1, 1, 1234)).length);
    await bench.store.put(key, Buffer.from(`${changed}\n`));
    const attemptsBefore = (await bench.warehouse.readTasks(A as BatchId)).find((t) => t.task === 'load:orders')!.attempt;
    const replay = await bench.run(A, { force: true, tasks: { default: { retries: 2, backoffSeconds: 0 } } });
    expect(replay.status).toBe('failed');
    expect(replay.exitCode).toBe(1);
    expect(replay.failedTask).toBe('load:orders');
    expect(replay.error).toContain('a/orders');
    const audit = (await bench.warehouse.readTasks(A as BatchId)).find((t) => t.task === 'load:orders')!;
    expect(audit.state).toBe('failed');
    // Permanent: one attempt, although the policy allows two retries.
    expect(audit.attempt).toBe(attemptsBefore + 1);
    expect(curatedText(await bench.warehouse.curatedRows())).toEqual(before);
    // status names the way out although the sequence is settled (QA 18:34).
    const shown = renderStatus(await pipelineStatus(createBatchLifecycle(bench.store, { root: ROOT }), bench.warehouse), false);
    expect(shown).toContain(`next: batch ${A} failed at load:orders: fix the cause (a changed pinned file: put it back in orders/processed/${A}/), then batchline replay --batch ${A}`);
  });
});

describe('an archive the filesystem refuses (QA 18:42: a file where processed/<id>/ must be)', () => {
  it('fails at once (not retried) naming what blocks and the way out; status says it; removing the file and rerunning finishes', async () => {
    bench = await openBench();
    await bench.land({ entity: 'customers', path: 'a/customers', customers: [customer(1)] });
    await bench.land({ entity: 'orders', path: 'a/orders', orders: [order(1, 1, 100)] });
    const blocker = path.join(bench.dir, 'bucket', 'orders', 'processed');
    await mkdir(path.dirname(blocker), { recursive: true });
    await writeFile(blocker, 'x');
    const failed = await bench.run(A, { tasks: { default: { retries: 2, backoffSeconds: 0 } } });
    expect(failed.status).toBe('failed');
    expect(failed.exitCode).toBe(1);
    expect(failed.failedTask).toBe('archive:orders');
    expect(failed.error).toContain(`a file stands where the store needs a folder: ${blocker}`);
    expect(failed.error).toContain(`Way out: remove what blocks orders/processed/${A}/ in the store (or fix its permissions), then \`batchline run --batch ${A}\``);
    const audit = (await bench.warehouse.readTasks(A as BatchId)).find((t) => t.task === 'archive:orders')!;
    expect(audit.state).toBe('failed');
    expect(audit.attempt).toBe(1);
    const shown = renderStatus(await pipelineStatus(createBatchLifecycle(bench.store, { root: ROOT }), bench.warehouse), false);
    expect(shown).toContain(`next: batch ${A} failed at archive:orders: remove what blocks orders/processed/${A}/ in the store`);
    expect(shown).toContain(`then batchline run --batch ${A}`);

    await rm(blocker);
    expect((await bench.run(A)).status).toBe('succeeded');
    await expectInOrder(bench);
    expect(renderStatus(await pipelineStatus(createBatchLifecycle(bench.store, { root: ROOT }), bench.warehouse), false)).not.toContain('next:');
  });
});

describe('situation 5: a file still being written during the claim', () => {
  it('stays in landing until it settled, is reported as settling, and goes to the next batch', async () => {
    bench = await openBench();
    await bench.land({ entity: 'customers', path: 'a/customers', customers: [customer(1)] });
    await bench.land({ entity: 'orders', path: 'a/old', orders: [order(1, 1, 100)] });
    await sleep(2500);
    // A writer still appending (as cp or rsync would) while the claim lists landing/.
    await bench.land({ entity: 'orders', path: 'a/growing', orders: [order(2, 1, 200)] });
    const growing = path.join(bench.dir, 'bucket', 'orders', 'landing', 'a', 'growing');
    const writer = setInterval(() => void appendFile(growing, ''), 50);
    let a;
    try {
      a = await bench.run(A, { settleSeconds: 2 });
    } finally {
      clearInterval(writer);
    }
    expect(a.status).toBe('succeeded');
    expect(a.entities.orders.files).toBe(1);
    expect(a.tasks.find((t) => t.task === 'claim:orders')?.note).toMatch(/a\/growing.*settling/);
    // It grows, then settles; the next batch takes it whole.
    bench.landed.set('orders/a/growing', { entity: 'orders', path: 'a/growing', orders: [order(2, 1, 200), order(3, 1, 300)] });
    await bench.store.put(`${ROOT}orders/landing/a/growing`, Buffer.from(`${orderLine(order(2, 1, 200))}\n${orderLine(order(3, 1, 300))}\n`));
    const b = await bench.run(B, { settleSeconds: 0 });
    expect(b.status).toBe('succeeded');
    expect(b.entities.orders.rowsLoaded).toBe(2);
    await expectInOrder(bench);
  });
});

describe('situation 8: any key S3 accepts flows through', () => {
  const keys = ['with space/o 1.csv', 'hash#and&amp/o.csv', "quote'd/o'1.csv", 'percent%20/o%2F.csv', 'ünïcødé/ørdér-日本.csv', 'glob[1]*?/o.csv'];
  it('keys with space, #, &, \', %, non-ASCII and glob characters load on DuckDB (file store); a control character stays in landing, reported', async () => {
    bench = await openBench();
    await bench.land({ entity: 'customers', path: 'c/customers', customers: [customer(1), customer(2)] });
    for (const [i, key] of keys.entries()) await bench.land({ entity: 'orders', path: key, orders: [order(10 + i, 1 + (i % 2), 100 * (i + 1))] });
    // A name no CSV line or SQL literal carries safely (a control character): written past the store's key checks.
    await writeFile(path.join(bench.dir, 'bucket', 'orders', 'landing', 'with space', 'bell\u0007.csv'), `${orderLine(order(99, 1, 100))}\n`);
    const report = await bench.run(A);
    expect(report.status).toBe('succeeded');
    expect(report.tasks.find((t) => t.task === 'claim:orders')?.note).toMatch(/bell\\u0007\.csv/);
    expect(report.entities.orders.files).toBe(keys.length);
    expect(report.entities.orders.rowsLoaded).toBe(keys.length);
    expect(curatedText(await bench.warehouse.curatedRows())).toEqual(oracle(await bench.pinned()));
    const status = await pipelineStatus(createBatchLifecycle(bench.store, { root: ROOT }), bench.warehouse);
    expect(status.skipped?.orders?.map((k) => k.key)).toEqual(['orders/landing/with space/bell\u0007.csv']);
    expect(renderStatus(status, false)).toContain('bell\\u0007.csv');
    // Every other file moved on; the unsafe one is still where it landed (the store does not list it as a key).
    expect(await bench.leftovers()).toEqual([]);
    expect(existsSync(path.join(bench.dir, 'bucket', 'orders', 'landing', 'with space', 'bell\u0007.csv'))).toBe(true);
  });
});
