import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toBatchId } from '@batchline/batch-id';
import { createTestStore, type TestStore } from './support/files.js';
import type { OrderLine } from './support/model.js';
import { loadAndTransform, putBatch, tempDbPath, withWarehouse } from './support/warehouse.js';

const B1 = '20261126T0300';
/** The largest valid single price: O_TOTALPRICE is NUMBER(12,2), i.e. 9,999,999,999.99. */
const MAX_PRICE_CENTS = 999_999_999_999;

/** Cents as a decimal string, in BigInt so the expectation never rounds. */
const decimal = (cents: bigint) => `${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`;

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

const orders: OrderLine[] = Array.from({ length: 5 }, (_, i) => ({ key: 100 + i, cust: 1, status: 'F', cents: MAX_PRICE_CENTS, date: '2024-01-01', comment: 'max' }));
const batch = {
  id: B1,
  orders: [{ path: '2026/11/26/03/orders-1-a', lines: orders }],
  customers: [{ path: '2026/11/26/03/customers-1-a', lines: [{ key: 1, name: 'Big Spender', comment: 'c' }] }],
};

describe('curated sums hold any sum of valid prices (issue 11)', () => {
  it('five maximal prices of one customer on one day sum past DECIMAL(12,2) without failing the transform', async () => {
    const files = await putBatch(store, batch);
    await withWarehouse(db.url, store.inPlace, async (wh) => {
      const result = await loadAndTransform(wh, B1, files);
      expect(result.transform.curatedRows).toBe(1);
      const [row] = await wh.curatedRows(toBatchId(B1));
      expect(row?.orderTotalPrice).toBe(decimal(BigInt(MAX_PRICE_CENTS) * 5n));
    });
  });

  it('a warehouse created with the old DECIMAL(12,2) column is widened by setup, keeping its rows', async () => {
    const old = await DuckDBInstance.create(db.file);
    const c = await old.connect();
    await c.run(`CREATE TABLE ORDER_CUSTOMER_DATE_PRICE (
      CUSTOMER_NAME VARCHAR NOT NULL, ORDER_DATE DATE NOT NULL, ORDER_TOTAL_PRICE DECIMAL(12,2) NOT NULL,
      BATCH_ID VARCHAR NOT NULL, CUSTOMER_KEY BIGINT NOT NULL)`);
    await c.run(`INSERT INTO ORDER_CUSTOMER_DATE_PRICE VALUES ('Earlier', DATE '2023-12-31', 12.34, '20261126T0200', 7)`);
    c.closeSync();
    old.closeSync();

    const files = await putBatch(store, batch);
    await withWarehouse(db.url, store.inPlace, async (wh) => {
      await wh.setup();
      await loadAndTransform(wh, B1, files);
      expect(await wh.curatedRows(toBatchId('20261126T0200'))).toEqual([
        { customerName: 'Earlier', orderDate: '2023-12-31', orderTotalPrice: '12.34', batchId: '20261126T0200', customerKey: '7' },
      ]);
      const [row] = await wh.curatedRows(toBatchId(B1));
      expect(row?.orderTotalPrice).toBe(decimal(BigInt(MAX_PRICE_CENTS) * 5n));
    });
    const check = await DuckDBInstance.create(db.file);
    const cc = await check.connect();
    const type = (await cc.runAndReadAll(
      "SELECT data_type FROM information_schema.columns WHERE table_name = 'ORDER_CUSTOMER_DATE_PRICE' AND column_name = 'ORDER_TOTAL_PRICE'",
    )).getRowObjectsJson();
    cc.closeSync();
    check.closeSync();
    expect(type).toEqual([{ data_type: 'DECIMAL(38,2)' }]);
  });
});
