// The sequence on the S3 test server (fauxqs with S3's conditional requests, 127.0.0.1) and DuckDB: two runs
// at once, a late earlier id, keys S3 allows, and a changed archived file caught by GetObject If-Match.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BatchId } from '@batchline/batch-id';
import type { ObjectStore } from '@batchline/s3-lifecycle';
import { type S3Server, s3StoreFixture, startS3Server, useGeneratedCredentials } from '../../s3-lifecycle/test/support/s3-server.js';
import { type Bench, type Order, ROOT, curatedText, openBench, oracle, orderLine } from './sequence-support.js';

let server: S3Server;
const order = (key: number, cust: number, cents: number): Order => ({ key, cust, status: 'F', cents, date: '2026-01-04' });

beforeAll(async () => {
  useGeneratedCredentials();
  server = await startS3Server();
}, 60_000);
afterAll(async () => {
  await server?.close();
});

async function s3Bench(): Promise<Bench> {
  return openBench({ store: (await s3StoreFixture(server)) as ObjectStore });
}

describe('the sequence on S3 (test server) + DuckDB', () => {
  it('situations 1 and 8: two runs at once, keys with space, #, &, \', %, non-ASCII; every file in exactly one batch', async () => {
    const bench = await s3Bench();
    try {
      const keys = ['a b/o 1', 'h#&/o&2', "q'/o'3", 'p%25/o%4', 'ü/ørdér-日本', 'g[1]*?/o'];
      for (const [i, key] of keys.entries()) await bench.land({ entity: 'orders', path: key, orders: [order(1 + i, 1 + (i % 2), 100 + i)] });
      await bench.land({ entity: 'customers', path: 'c/1', customers: [{ key: 1, name: 'Ann' }, { key: 2, name: "O'Brien" }] });
      const [a, b] = await Promise.all([bench.run('20260105T0000'), bench.run('20260105T0015')]);
      expect([a.status, b.status]).toContain('succeeded');
      for (const r of [a, b]) expect(['succeeded', 'waiting', 'superseded'], `${r.batchId}: ${r.error}`).toContain(r.status);
      const pinned = await bench.pinned();
      expect(pinned.flatMap((p) => p.files.map((f) => `${f.entity}/${f.path}`)).sort()).toEqual([...bench.landed.keys()].sort());
      for (const p of pinned) expect((await bench.warehouse.readTasks(p.batchId)).filter((t) => t.state === 'succeeded')).toHaveLength(7);
      expect(curatedText(await bench.warehouse.curatedRows())).toEqual(oracle(pinned));
      expect(await bench.leftovers()).toEqual([]);
    } finally {
      await bench.close();
    }
  }, 120_000);

  it('situation 3: a late earlier id is superseded; situation 6: a changed archived file fails the replay by name', async () => {
    const bench = await s3Bench();
    try {
      await bench.land({ entity: 'orders', path: 'b/o', orders: [order(1, 1, 1234), order(2, 2, 500)] });
      await bench.land({ entity: 'customers', path: 'b/c', customers: [{ key: 1, name: 'Ann' }] });
      expect((await bench.run('20260105T0015')).status).toBe('succeeded');
      await bench.land({ entity: 'customers', path: 'a/c', customers: [{ key: 2, name: 'Bob' }] });
      expect((await bench.run('20260105T0000')).status).toBe('superseded');
      const c = await bench.run('20260105T0030');
      expect(c.status).toBe('succeeded');
      expect(c.curated.late).toBe(1);
      const before = curatedText(await bench.warehouse.curatedRows());
      expect(before).toEqual(oracle(await bench.pinned()));

      const changed = orderLine(order(1, 1, 4321));
      await bench.store.put(`${ROOT}orders/processed/20260105T0015/b/o`, Buffer.from(`${changed}\n${orderLine(order(2, 2, 500))}\n`));
      const attempts = (await bench.warehouse.readTasks('20260105T0015' as BatchId)).find((t) => t.task === 'load:orders')!.attempt;
      const replay = await bench.run('20260105T0015', { force: true, tasks: { default: { retries: 2, backoffSeconds: 0 } } });
      expect(replay.status).toBe('failed');
      expect(replay.error).toContain('b/o');
      expect((await bench.warehouse.readTasks('20260105T0015' as BatchId)).find((t) => t.task === 'load:orders')!.attempt).toBe(attempts + 1);
      expect(curatedText(await bench.warehouse.curatedRows())).toEqual(before);
    } finally {
      await bench.close();
    }
  }, 120_000);
});
