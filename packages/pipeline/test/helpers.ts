import { DuckDBInstance } from '@duckdb/node-api';
import type { DemoDataset } from '../src/demo.js';

/** Integer cents of a two-decimal price string, so sums are exact. */
export function cents(price: string): number {
  const m = /^(-?)(\d+)\.(\d{2})$/.exec(price);
  if (!m) throw new Error(`not a price: ${price}`);
  return (m[1] ? -1 : 1) * (Number(m[2]) * 100 + Number(m[3]));
}

export function price(totalCents: number): string {
  return `${Math.floor(totalCents / 100)}.${String(totalCents % 100).padStart(2, '0')}`;
}

export interface ExpectedBatch {
  /** `<customer name>|<YYYY-MM-DD>` -> total, as ORDER_CUSTOMER_DATE_PRICE should hold for the batch. */
  readonly curated: Map<string, string>;
  /** Fulfilled lines of orders already delivered (earlier, or earlier in this batch). */
  readonly duplicates: number;
  /** Fulfilled orders of this batch whose customer was unknown. */
  readonly orphans: number;
  /** Earlier orders counted in this batch because their customer arrived. */
  readonly late: number;
  readonly pendingOrphans: number;
  readonly ordersLines: number;
  readonly customerLines: number;
}

/**
 * What the curated table must hold, computed here in plain TypeScript from the generated rows
 * (not with the pipeline's SQL): each fulfilled order counts once, in the batch where both the
 * order and its customer are known, summed per customer name and order date.
 */
export function expectedBatches(dataset: DemoDataset): [ExpectedBatch, ExpectedBatch] {
  const names = new Map<number, string>();
  const seen = new Set<number>();
  const known = new Set<number>();
  let waiting: { custkey: number; date: string; cents: number }[] = [];
  const result: ExpectedBatch[] = [];
  for (const part of [dataset.batch1, dataset.batch2]) {
    for (const c of part.customers) {
      names.set(c.C_CUSTKEY, c.C_NAME);
      known.add(c.C_CUSTKEY);
    }
    const sums = new Map<string, number>();
    const add = (custkey: number, date: string, amount: number) => {
      const key = `${names.get(custkey)}|${date}`;
      sums.set(key, (sums.get(key) ?? 0) + amount);
    };
    let duplicates = 0;
    const newOrphans: typeof waiting = [];
    for (const o of part.orders) {
      // Only fulfilled lines count; a fulfilled line of an order already delivered is a duplicate.
      if (o.O_ORDERSTATUS !== 'F') continue;
      if (seen.has(o.O_ORDERKEY)) {
        duplicates++;
        continue;
      }
      seen.add(o.O_ORDERKEY);
      if (known.has(o.O_CUSTKEY)) add(o.O_CUSTKEY, o.O_ORDERDATE, cents(o.O_TOTALPRICE));
      else newOrphans.push({ custkey: o.O_CUSTKEY, date: o.O_ORDERDATE, cents: cents(o.O_TOTALPRICE) });
    }
    let late = 0;
    const stillWaiting: typeof waiting = [];
    for (const w of waiting) {
      if (known.has(w.custkey)) {
        add(w.custkey, w.date, w.cents);
        late++;
      } else stillWaiting.push(w);
    }
    waiting = [...stillWaiting, ...newOrphans];
    result.push({
      curated: new Map([...sums].map(([k, v]) => [k, price(v)])),
      duplicates,
      orphans: newOrphans.length,
      late,
      pendingOrphans: waiting.length,
      ordersLines: part.orders.length,
      customerLines: part.customers.length,
    });
  }
  return result as [ExpectedBatch, ExpectedBatch];
}

/**
 * Every table of a DuckDB warehouse file as sorted text rows, without the columns that
 * record when something happened (LOADED_AT, ...) and without BATCH_AUDIT (attempt counts
 * differ by design after a crash): two runs that produced the same data compare equal.
 */
export async function dumpWarehouse(file: string): Promise<Record<string, string[]>> {
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const conn = await instance.connect();
  try {
    const tables = (await conn.runAndReadAll(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name`))
      .getRows()
      .map((r) => String(r[0]))
      .filter((t) => t !== 'BATCH_AUDIT');
    const out: Record<string, string[]> = {};
    for (const table of tables) {
      const columns = (
        await conn.runAndReadAll(
          `SELECT column_name FROM information_schema.columns WHERE table_name = '${table}' AND data_type NOT LIKE 'TIMESTAMP%' ORDER BY ordinal_position`,
        )
      )
        .getRows()
        .map((r) => `"${String(r[0])}"`);
      const rows = (await conn.runAndReadAll(`SELECT ${columns.join(', ')} FROM "${table}"`)).getRows();
      out[table] = rows.map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).sort();
    }
    return out;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
