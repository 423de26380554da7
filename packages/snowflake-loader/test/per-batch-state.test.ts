// Per-batch cost proportional to the batch (issue 15), checked by structure, not by time:
// 1. every statement the load and the transform run for a batch, explained by DuckDB, scans only this batch's
//    rows of the per-batch tables (a BATCH_ID = <batch> or BATCH_NO = <number> filter in the scan) and the state
//    tables (bounded by BATCH_NO, a number, which DuckDB's zone maps prune exactly; text keeps only 8 bytes there);
// 2. the state tables give the same results as before: an independent model, replays after later batches, and
//    a warehouse created before the state tables existed (setup backfills them).
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { toBatchId } from '@batchline/batch-id';
import { createTestStore, type TestStore } from './support/files.js';
import { expectedForBatch, prng, type CustomerLine, type ModelBatch, type OrderLine } from './support/model.js';
import { loadAndTransform, putBatch, snapshotTables, tempDbPath, withWarehouse } from './support/warehouse.js';
import type { Warehouse } from '../src/index.js';

/** Tables that grow by a batch's worth per batch: a per-batch statement reads them only at BATCH_ID = <batch>. */
const PER_BATCH_TABLES = new Set(['ORDERS_RAW', 'CUSTOMERS_RAW', 'LOAD_REJECTS', 'ORDER_LEDGER', 'ORDER_CUSTOMER_DATE_PRICE', 'BATCH_AUDIT']);
/** The raw tables: a per-batch statement must read them by BATCH_NO. */
const RAW_TABLES = new Set(['ORDERS_RAW', 'CUSTOMERS_RAW']);
/** The state tables, read by key lookups bounded by a BATCH_NO range (so replays ignore later batches). */
const STATE_TABLES = new Set(['ORDER_ARRIVALS', 'CUSTOMER_VERSIONS', 'ORDERS_WAITING']);
/** DuckDB's reject tables of the current scan (temporary, per connection): they hold only this load's rejects. */
const SCAN_TABLES = new Set(['BATCHLINE_REJECTS', 'BATCHLINE_REJECT_SCANS']);

interface PlanNode {
  name: string;
  children?: PlanNode[];
  extra_info?: Record<string, unknown>;
}

interface Scan {
  table: string;
  filters: string;
}

function scans(node: PlanNode, out: Scan[] = []): Scan[] {
  const info = node.extra_info ?? {};
  if (typeof info.Table === 'string') {
    const filters = info.Filters;
    out.push({ table: info.Table.split('.').pop()!, filters: Array.isArray(filters) ? filters.join('\n') : String(filters ?? '') });
  }
  for (const child of node.children ?? []) scans(child, out);
  return out;
}

/** What is wrong with a statement's table scans, or [] when it reads only the batch's rows and the state tables. */
function violations(statement: string, plan: Scan[], batchId: string, text = statement): string[] {
  const wrong: string[] = [];
  for (const scan of plan) {
    const batchNo = batchId.replace('T', '');
    if (PER_BATCH_TABLES.has(scan.table)) {
      // The raw tables hold every line ever loaded: only the number prunes them to the batch (text keeps 8 bytes).
      const filter = RAW_TABLES.has(scan.table) ? `BATCH_NO=${batchNo}` : `BATCH_ID='${batchId}'|BATCH_NO=${batchNo}`;
      const only = new RegExp(`(^|\\n|AND )(${filter})($|\\n| AND)`);
      if (!only.test(scan.filters)) wrong.push(`${scan.table} scanned without ${filter.replace('|', ' or ')} (filters: ${scan.filters || 'none'}) in: ${statement}`);
    } else if (STATE_TABLES.has(scan.table)) {
      // The bound is in the scan, or the optimizer dropped it because every row meets it (BATCH_NO <= the newest).
      const bounded = new RegExp(`BATCH_NO(=|<|<=)${batchNo}`).test(scan.filters) || new RegExp(`FROM ${scan.table}\\b[^;]*?WHERE[^;]*?BATCH_NO (=|<|<=) ${batchNo}\\b`).test(text);
      if (!bounded) wrong.push(`${scan.table} scanned without a BATCH_NO bound (filters: ${scan.filters || 'none'}) in: ${statement}`);
    } else if (!SCAN_TABLES.has(scan.table)) {
      wrong.push(`unexpected table ${scan.table} in: ${statement}`);
    }
  }
  return wrong;
}

async function explain(connection: DuckDBConnection, text: string, values: unknown[], run = connection.runAndReadAll): Promise<Scan[]> {
  const reader = await run.call(connection, `EXPLAIN (FORMAT JSON) ${text}`, values as never);
  const rows = reader.getRowObjectsJson() as { explain_value: string }[];
  return rows.flatMap((row) => (JSON.parse(row.explain_value) as PlanNode[]).flatMap((node) => scans(node)));
}

const o = (key: number, cust: number, status: 'F' | 'O' | 'P', cents: number, date: string): OrderLine => ({ key, cust, status, cents, date, comment: 'x' });
const c = (key: number, name: string): CustomerLine => ({ key, name, comment: 'c' });

/** Generated batches with redeliveries, updated names, orphans and late customers. */
function generated(count: number, seed = 7): ModelBatch[] {
  const rand = prng(seed);
  const batches: ModelBatch[] = [];
  const seen: OrderLine[] = [];
  for (let bi = 0; bi < count; bi++) {
    const id = `20261127T${String(bi).padStart(2, '0')}00`;
    const files: ModelBatch['orders'] = [];
    for (let f = 0; f < 2; f++) {
      const lines: OrderLine[] = [];
      for (let i = 0; i < 30; i++) {
        if (seen.length > 0 && rand() < 0.15) {
          lines.push({ ...seen[Math.floor(rand() * seen.length)]! });
          continue;
        }
        const line = o(10_000 * (bi + 1) + 100 * f + i, 1 + Math.floor(rand() * 40), rand() < 0.6 ? 'F' : rand() < 0.5 ? 'O' : 'P', Math.floor(rand() * 100000), `2024-03-0${1 + Math.floor(rand() * 5)}`);
        seen.push(line);
        lines.push(line);
      }
      files.push({ path: `2026/11/27/00/orders-${f}`, lines });
    }
    const customers: CustomerLine[] = [];
    for (let k = 1; k <= 40; k++) {
      const arrives = k <= 20 ? 0 : 1 + ((k - 21) % (count - 1));
      if (bi === arrives || (bi > arrives && rand() < 0.25)) customers.push(c(k, `Customer#${k} v${bi}`));
    }
    batches.push({ id, orders: files, customers: [{ path: '2026/11/27/00/customers-0', lines: customers }] });
  }
  return batches;
}

let store: TestStore;
let db: Awaited<ReturnType<typeof tempDbPath>>;
beforeEach(async () => {
  store = await createTestStore();
  db = await tempDbPath();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await store.dispose();
  await db.dispose();
});

describe('per-batch statements read only the batch and the state tables', () => {
  it('every statement of a load (both entities) and a transform, and of a replay after later batches', async () => {
    const batches = generated(4);
    const manifests: Awaited<ReturnType<typeof putBatch>>[] = [];
    for (const batch of batches) manifests.push(await putBatch(store, batch));
    const plans: { batchId: string; text: string; plan: Scan[] }[] = [];
    let current = '';
    await withWarehouse(db.url, store.inPlace, async (wh) => {
      for (const [i, batch] of batches.entries()) {
        if (i < 2) await loadAndTransform(wh, batch.id, manifests[i]!);
      }
      // From here on, explain every statement on its own connection just before it runs (inside its transaction,
      // where the scan's temporary reject tables exist), with the batch it runs for.
      const original = DuckDBConnection.prototype.runAndReadAll;
      vi.spyOn(DuckDBConnection.prototype, 'runAndReadAll').mockImplementation(async function (this: DuckDBConnection, text: string, values?: unknown) {
        if (!/^\s*(BEGIN|COMMIT|ROLLBACK|SET|PRAGMA|RESET)\b/i.test(text)) {
          plans.push({ batchId: current, text, plan: await explain(this, text, (values as unknown[] | undefined) ?? [], original) });
        }
        return original.call(this, text, values as never);
      });
      for (const i of [2, 3, 1]) {
        current = batches[i]!.id;
        await loadAndTransform(wh, batches[i]!.id, manifests[i]!);
      }
      vi.restoreAllMocks();
    });

    const instance = await DuckDBInstance.create(db.file);
    const connection = await instance.connect();
    try {
      const checked = new Set<string>();
      const problems: string[] = [];
      for (const { batchId, text, plan } of plans) {
        for (const scan of plan) checked.add(scan.table);
        problems.push(...violations(text.replace(/\s+/g, ' ').slice(0, 160), plan, batchId, text));
      }
      expect(problems).toEqual([]);
      const statements = plans.length;
      // The check saw the statements that matter: the raw tables, the ledger and every state table.
      expect(statements).toBeGreaterThan(30);
      for (const table of ['ORDERS_RAW', 'CUSTOMERS_RAW', 'ORDER_LEDGER', 'BATCH_AUDIT', ...STATE_TABLES]) expect(checked).toContain(table);

      // And the check can fail: the transform's former statements (history scans) are caught.
      const history = await explain(connection, "SELECT C_CUSTKEY, MIN(BATCH_ID) FROM CUSTOMERS_RAW WHERE BATCH_ID <= '20261127T0300' GROUP BY C_CUSTKEY", []);
      expect(violations('customer_arrival', history, '20261127T0300')).toHaveLength(1);
      const window = await explain(
        connection,
        "SELECT O_ORDERKEY FROM ORDERS_RAW WHERE BATCH_ID <= '20261127T0300' AND O_ORDERSTATUS = 'F' QUALIFY ROW_NUMBER() OVER (PARTITION BY O_ORDERKEY ORDER BY BATCH_ID) = 1",
        [],
      );
      expect(violations('first_fulfilled', window, '20261127T0300')).toHaveLength(1);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});

describe('the state tables keep the documented semantics', () => {
  it('matches the independent model, orphans still waiting included, and a replay after later batches gives the same rows', async () => {
    const batches = generated(5, 11);
    const manifests: Awaited<ReturnType<typeof putBatch>>[] = [];
    for (const batch of batches) manifests.push(await putBatch(store, batch));
    await withWarehouse(db.url, store.inPlace, async (wh) => {
      let pending = 0;
      const firstRun: unknown[] = [];
      for (const [i, batch] of batches.entries()) {
        const r = await loadAndTransform(wh, batch.id, manifests[i]!);
        const expected = expectedForBatch(batches, batch.id);
        pending += expected.orphans - expected.late;
        expect(expected.pending).toBe(pending); // the model's own count agrees with the running sum
        expect(await wh.curatedRows(toBatchId(batch.id))).toEqual(expected.rows);
        expect(r.transform).toMatchObject({ lateOrders: expected.late, orphanOrders: expected.orphans, duplicateOrders: expected.duplicates, pendingOrphans: pending });
        firstRun.push(r.transform);
      }
      const totals = batches.map((b) => expectedForBatch(batches, b.id));
      expect(totals.reduce((n, t) => n + t.late, 0)).toBeGreaterThan(0);
      expect(totals.reduce((n, t) => n + t.orphans, 0)).toBeGreaterThan(totals.reduce((n, t) => n + t.late, 0) - 1);
      // Replays of earlier batches, after all later ones exist, give what they gave the first time.
      for (const i of [1, 3, 0]) {
        expect(await wh.transform(toBatchId(batches[i]!.id))).toEqual(firstRun[i]);
        expect(await wh.curatedRows(toBatchId(batches[i]!.id))).toEqual(expectedForBatch(batches, batches[i]!.id).rows);
      }
      // In any order, any number of times: each replay is what the first run gave (orphans keep their resolution).
      for (const i of [4, 2, 0, 3, 1, 4]) expect(await wh.transform(toBatchId(batches[i]!.id))).toEqual(firstRun[i]);
    });
  });

  it('a warehouse from before the state tables: setup backfills them once, and every later batch comes out as in a clean run', async () => {
    const batches = generated(4, 5);
    await acrossMigration(batches, 2, {
      // The older schema: no state tables, no marker (raw, ledger and curated rows are what the old code wrote).
      olderSchema: async (connection) => {
        for (const table of [...STATE_TABLES, 'BATCHLINE_MIGRATIONS']) await connection.run(`DROP TABLE ${table}`);
      },
      compare: async (migrated, clean) => {
        const state = async (file: string) => {
          const out: Record<string, unknown[]> = {};
          for (const table of STATE_TABLES) out[table] = await rowsOf(file, `SELECT * FROM ${table} ORDER BY ALL`);
          out.MARKERS = await rowsOf(file, 'SELECT NAME FROM BATCHLINE_MIGRATIONS');
          return out;
        };
        const migratedState = await state(migrated);
        expect(migratedState).toEqual(await state(clean));
        expect(migratedState.MARKERS).toEqual([{ NAME: 'state-tables-3' }]);
        expect(migratedState.ORDER_ARRIVALS!.length).toBeGreaterThan(0);
      },
    });
  });

  it('a warehouse of the previous release (no ledger names, resolved orphans or raw BATCH_NO): setup migrates it in place', async () => {
    const batches = generated(5, 11);
    await acrossMigration(batches, 3, {
      // What the previous release left: the state tables, no CUSTOMER_NAME / RESOLVED_BATCH_NO, no BATCH_NO on the raw
      // tables, marker state-tables-2.
      olderSchema: async (connection) => {
        const resolvedBefore = (await connection.runAndReadAll('SELECT COUNT(*)::INTEGER AS N FROM ORDERS_WAITING WHERE RESOLVED_BATCH_NO IS NOT NULL')).getRowObjectsJson();
        // The generated batches have orphans resolved within the first three batches (else the check proves nothing).
        expect(resolvedBefore[0]!.N).toBeGreaterThan(0);
        await connection.run('ALTER TABLE ORDER_LEDGER DROP COLUMN CUSTOMER_NAME');
        await connection.run('ALTER TABLE ORDERS_WAITING DROP COLUMN RESOLVED_BATCH_NO');
        await connection.run('ALTER TABLE ORDERS_RAW DROP COLUMN BATCH_NO');
        await connection.run('ALTER TABLE CUSTOMERS_RAW DROP COLUMN BATCH_NO');
        await connection.run("UPDATE BATCHLINE_MIGRATIONS SET NAME = 'state-tables-2'");
      },
      afterLoads: async (wh) => {
        // A replay of a migrated batch gives what the clean run gave.
        expect(await wh.transform(toBatchId(batches[1]!.id))).toMatchObject({ pendingOrphans: expectedForBatch(batches, batches[1]!.id).pending });
      },
      compare: async (migrated, clean) => {
        const waiting = (file: string) => rowsOf(file, 'SELECT * FROM ORDERS_WAITING ORDER BY ALL');
        expect(await waiting(migrated)).toEqual(await waiting(clean));
      },
    });
  });
});

/** Rows of one query, read by an instance of its own. */
async function rowsOf(file: string, sql: string): Promise<unknown[]> {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJson();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * The batches run into a clean warehouse, and into `db` where the first `before` of them ran under an older schema
 * (`olderSchema` turns the warehouse into one): setup migrates it, the rest of the batches run, and every data table
 * must equal the clean run's, row for row; then `compare` checks what is particular to the migration.
 */
async function acrossMigration(
  batches: ModelBatch[],
  before: number,
  steps: {
    olderSchema: (connection: DuckDBConnection) => Promise<void>;
    afterLoads?: (wh: Warehouse) => Promise<void>;
    compare: (migrated: string, clean: string) => Promise<void>;
  },
): Promise<void> {
  const manifests: Awaited<ReturnType<typeof putBatch>>[] = [];
  for (const batch of batches) manifests.push(await putBatch(store, batch));
  const clean = await tempDbPath();
  try {
    await withWarehouse(clean.url, store.inPlace, async (wh) => {
      for (const [i, batch] of batches.entries()) await loadAndTransform(wh, batch.id, manifests[i]!);
    });
    await withWarehouse(db.url, store.inPlace, async (wh) => {
      for (const [i, batch] of batches.entries()) if (i < before) await loadAndTransform(wh, batch.id, manifests[i]!);
    });
    const instance = await DuckDBInstance.create(db.file);
    const connection = await instance.connect();
    try {
      await steps.olderSchema(connection);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
    await withWarehouse(db.url, store.inPlace, async (wh) => {
      await wh.setup(); // a second setup is a no-op (withWarehouse ran the first)
      for (const [i, batch] of batches.entries()) if (i >= before) await loadAndTransform(wh, batch.id, manifests[i]!);
      await steps.afterLoads?.(wh);
    });
    expect(await snapshotTables(db.file)).toEqual(await snapshotTables(clean.file));
    await steps.compare(db.file, clean.file);
  } finally {
    await clean.dispose();
  }
}
