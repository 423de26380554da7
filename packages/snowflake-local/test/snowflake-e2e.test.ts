// The loader's Snowflake adapter, end to end: real snowflake-sdk, key-pair login, the repository's sql/,
// COPY from stages over a real object store, against snowflake-local. Expected figures are worked out by
// hand below, and the DuckDB engine must agree on the same files.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBatchId, type BatchId } from '@batchline/batch-id';
import { FileObjectStore } from '@batchline/s3-lifecycle';
import { LoadRejectedError, openWarehouse, snowflakeAdminSql, WarehouseError, type BatchFile, type CuratedRow, type Entity, type Warehouse } from '@batchline/snowflake-loader';
import { startSnowflakeLocal, type SnowflakeLocal } from '../src/index.js';

const B1 = toBatchId('20261126T0300');
const B2 = toBatchId('20261126T0305');
const B3 = toBatchId('20261126T0310');
const STAGE_URL = 's3://batchline-e2e/firehose/';
/** ARN-shaped, not a credential: the admin's storage integration records it. */
const ROLE_ARN = 'arn:aws:iam::123456789012:role/batchline-e2e';

type Line = (string | number)[];
interface FileSpec {
  readonly entity: Entity;
  readonly batch: BatchId;
  readonly path: string;
  readonly lines: Line[];
  readonly gzip?: boolean;
}

const FILES: FileSpec[] = [
  {
    entity: 'orders',
    batch: B1,
    path: '2026/11/26/03/orders-1-a',
    lines: [
      [100, 1, 'F', '10.00', '2024-01-01', '1-URGENT', 'Clerk#1', 0, 'first'],
      [101, 1, 'F', '5.50', '2024-01-01', '2-HIGH', 'Clerk#2', 0, 'second'],
      [102, 2, 'O', '9.99', '2024-01-05', '3-MEDIUM', 'Clerk#3', 0, 'open, not fulfilled'],
    ],
  },
  {
    entity: 'orders',
    batch: B1,
    path: '2026/11/26/03/orders-1-b.gz',
    gzip: true,
    lines: [
      [100, 1, 'F', '10.00', '2024-01-01', '1-URGENT', 'Clerk#1', 0, 'a producer retry of order 100'],
      [103, 9, 'F', '7.00', '2024-01-02', '5-LOW', 'Clerk#4', 0, 'customer 9 arrives in the next batch'],
      [104, 2, 'F', '1.25', '2024-01-03', '4-NOT SPECIFIED', 'Clerk#5', 0, 'quoted, with a comma\nand a newline'],
    ],
  },
  {
    entity: 'customers',
    batch: B1,
    path: '2026/11/26/03/customers-1-a',
    lines: [
      [1, 'Alice', '1 Main St', 7, '10-111-222-3333', '100.00', 'BUILDING', 'c1'],
      [2, 'Bob, Jr.', '2 "Quoted" Ave', 7, '10-111-222-4444', '-5.25', 'MACHINERY', 'c2'],
      [3, 'Carol', '3 Side St', 8, '10-111-222-5555', '0.00', 'HOUSEHOLD', 'c3'],
    ],
  },
  {
    entity: 'orders',
    batch: B2,
    path: '2026/11/26/03/orders-1-c',
    lines: [
      [101, 1, 'F', '5.50', '2024-01-01', '2-HIGH', 'Clerk#2', 0, 'order 101 again, a batch later'],
      [105, 1, 'F', '2.00', '2024-01-01', '1-URGENT', 'Clerk#6', 0, 'new'],
      [106, 3, 'P', '3.00', '2024-01-01', '1-URGENT', 'Clerk#7', 0, 'pending'],
    ],
  },
  {
    entity: 'customers',
    batch: B2,
    path: '2026/11/26/03/customers-1-b',
    lines: [
      [1, 'Alice Updated', '1 Main St', 7, '10-111-222-3333', '100.00', 'BUILDING', 'renamed'],
      [9, 'Late Larry', '9 Late Rd', 9, '10-111-222-9999', '9.00', 'AUTOMOBILE', 'late'],
    ],
  },
  {
    entity: 'orders',
    batch: B3,
    path: '2026/11/26/03/orders-1-bad',
    lines: [
      [200, 1, 'F', '1.00', '2024-02-01', '1-URGENT', 'Clerk#8', 0, 'good'],
      [201, 1, 'F', '1.00', '2024-02-01', '1-URGENT', 'Clerk#8', 0], // one field short
      [202, 1, 'F', 'ten', '2024-02-01', '1-URGENT', 'Clerk#8', 0, 'price is not a number'],
      [203, 1, 'F', '3.00', '2024-02-01', '1-URGENT', 'Clerk#8', 0, 'good'],
    ],
  },
];

/** Exact prices and dates (sql/README.md, "Data quality"): one line per case, its own batch. */
const B5 = toBatchId('20261126T0320');
const EXACT_PRICES = ['10.25', '10.555', '1e3', '7', '-3.5', '0.001', '1.', '.5', '12345678901.00', '1234567890.99'];
const EXACT_DATES = ['2024-03-01', '2026-1-5', '2024-02-30', '2024-02-29', '20240301', '2024-3-01'];
const EXACT_LINES: Line[] = [
  ...EXACT_PRICES.map((p, i) => [300 + i, 1, 'F', p, '2024-03-01', '1-URGENT', 'Clerk#9', 0, 'price']),
  ...EXACT_DATES.map((d, i) => [400 + i, 1, 'F', '1.00', d, '1-URGENT', 'Clerk#9', 0, 'date']),
];
/** Independent oracle: price -?digits{1,10}(.digits{1,2})?, date YYYY-MM-DD that exists in the calendar. */
function breaksValueRules(line: Line): boolean {
  const price = String(line[3]);
  const date = String(line[4]);
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const day = m && new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  const dateOk = !!m && !!day && day.toISOString().slice(0, 10) === date;
  return !/^-?[0-9]{1,10}(\.[0-9]{1,2})?$/.test(price) || !dateOk;
}

/**
 * Worked out by hand from FILES and sql/README.md's rules:
 * B1: orders 100 (once, despite its retry) and 101 for Alice on 2024-01-01 = 15.50; 104 for Bob, Jr. = 1.25;
 *     103 is an orphan (customer 9 unknown).
 * B2: 101 was counted in B1 (a duplicate); 105 for Alice, now "Alice Updated" = 2.00; 103 counts late for
 *     Late Larry = 7.00.
 */
const EXPECTED: Record<string, Omit<CuratedRow, 'batchId'>[]> = {
  [B1]: [
    { customerName: 'Alice', orderDate: '2024-01-01', orderTotalPrice: '15.50', customerKey: '1' },
    { customerName: 'Bob, Jr.', orderDate: '2024-01-03', orderTotalPrice: '1.25', customerKey: '2' },
  ],
  [B2]: [
    { customerName: 'Alice Updated', orderDate: '2024-01-01', orderTotalPrice: '2.00', customerKey: '1' },
    { customerName: 'Late Larry', orderDate: '2024-01-02', orderTotalPrice: '7.00', customerKey: '9' },
  ],
};

function csvLine(values: Line): string {
  return values
    .map((v) => {
      const s = String(v);
      return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    })
    .join(',');
}

let dir: string;
let store: FileObjectStore;
let server: SnowflakeLocal;
let snowflake: Warehouse;
const batchFiles = new Map<string, BatchFile[]>();

const filesOf = (entity: Entity, batch: BatchId) => batchFiles.get(`${entity}/${batch}`) ?? [];

async function loadBatch(warehouse: Warehouse, batch: BatchId) {
  return {
    orders: await warehouse.load({ entity: 'orders', batchId: batch, files: filesOf('orders', batch) }),
    customers: await warehouse.load({ entity: 'customers', batchId: batch, files: filesOf('customers', batch) }),
  };
}

const sortRows = (rows: readonly Record<string, string | null>[]) => rows.map((r) => JSON.stringify(r)).sort();

/** Raw tables without LOADED_AT (a wall-clock stamp): what a replay must reproduce exactly. */
async function rawSnapshot(): Promise<string[]> {
  const orders = await server.sql('SELECT * EXCLUDE (LOADED_AT) FROM RETAIL_DB.RETAIL_SCHEMA.ORDERS_RAW');
  const customers = await server.sql('SELECT * EXCLUDE (LOADED_AT) FROM RETAIL_DB.RETAIL_SCHEMA.CUSTOMERS_RAW');
  const ledger = await server.sql('SELECT * FROM RETAIL_DB.RETAIL_SCHEMA.ORDER_LEDGER');
  return [...sortRows(orders), '--', ...sortRows(customers), '--', ...sortRows(ledger)];
}

/** Every data table (load and reject timestamps excluded), for the replay-after-archive comparison. */
async function allTables(): Promise<string[]> {
  const rejects = await server.sql('SELECT * EXCLUDE (REJECTED_AT) FROM RETAIL_DB.RETAIL_SCHEMA.LOAD_REJECTS');
  const curated = await server.sql('SELECT * FROM RETAIL_DB.RETAIL_SCHEMA.ORDER_CUSTOMER_DATE_PRICE');
  return [...(await rawSnapshot()), '--', ...sortRows(rejects), '--', ...sortRows(curated)];
}

/** What s3-lifecycle's archive does to a batch's files: processing/<id>/<path> -> processed/<id>/<path>. */
async function archiveFiles(files: readonly BatchFile[]): Promise<BatchFile[]> {
  const moved: BatchFile[] = [];
  for (const file of files) {
    const key = file.key.replace(/\/processing\/(\d{8}T\d{4})\//, '/processed/$1/');
    expect(key).not.toBe(file.key);
    await store.copy(file.key, key);
    const [deleted] = await store.deleteMany([file.key]);
    expect(deleted?.error).toBeUndefined();
    moved.push({ ...file, key });
  }
  return moved;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sfl-e2e-'));
  store = new FileObjectStore(path.join(dir, 'store'));
  for (const f of FILES) {
    const key = `firehose/${f.entity}/processing/${f.batch}/${f.path}`;
    const text = f.lines.map(csvLine).join('\n') + '\n';
    const body = f.gzip ? gzipSync(Buffer.from(text)) : Buffer.from(text);
    await store.put(key, body);
    const list = batchFiles.get(`${f.entity}/${f.batch}`) ?? [];
    list.push({ path: f.path, key, size: body.length });
    batchFiles.set(`${f.entity}/${f.batch}`, list);
  }
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const keyPath = path.join(dir, 'rsa_key.p8');
  await writeFile(keyPath, privateKey, { mode: 0o600 });
  server = await startSnowflakeLocal({
    objectStore: store,
    stageUrls: { [STAGE_URL]: 'firehose/' },
    users: { BATCHLINE_SVC: { publicKey } },
  });
  // The admin's part (sql/snowflake/admin/): database, schema, storage integration, role and grants.
  await server.runAdmin(snowflakeAdminSql({ database: 'RETAIL_DB', schema: 'RETAIL_SCHEMA', stageUrl: STAGE_URL, storageAwsRoleArn: ROLE_ARN, role: 'BATCHLINE', warehouse: 'LOAD_WH' }));
  snowflake = await openWarehouse(server.warehouseUrl({ warehouse: 'LOAD_WH' }), {
    snowflake: { stageUrl: STAGE_URL },
    env: { SNOWFLAKE_USER: 'batchline_svc', SNOWFLAKE_PRIVATE_KEY_PATH: keyPath },
  });
});

afterAll(async () => {
  await snowflake?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the Snowflake adapter through snowflake-sdk against snowflake-local', () => {
  it('setup: applies sql/snowflake/setup with a key-pair login, and again idempotently', async () => {
    await snowflake.setup();
    await snowflake.setup();
    const statements = server.statements();
    const ran = (pattern: RegExp) => statements.filter((s) => s.ok && pattern.test(s.sqlText)).length;
    expect(ran(/CREATE STORAGE INTEGRATION IF NOT EXISTS S3_INTEGRATION_PRO/)).toBe(1); // the admin's, once
    expect(statements.filter((s) => s.sessionId !== 'inspector' && /CREATE (DATABASE|SCHEMA|STORAGE INTEGRATION)/.test(s.sqlText))).toEqual([]);
    expect(ran(/CREATE OR REPLACE STAGE ORDERS_STAGE/)).toBe(2);
    expect(ran(/CREATE TABLE IF NOT EXISTS ORDERS_RAW/)).toBe(2);
    expect(statements.filter((s) => !s.ok)).toEqual([]);
    expect(server.logins().every((l) => l.accepted && l.authenticator === 'SNOWFLAKE_JWT' && l.user.toUpperCase() === 'BATCHLINE_SVC')).toBe(true);
    expect(await server.sql('SELECT COUNT(*) AS N FROM RETAIL_DB.RETAIL_SCHEMA.BATCH_AUDIT')).toEqual([{ N: '0' }]);
  });

  it('load: COPY of exactly the manifest files, with per-file counts that reconcile', async () => {
    const b1 = await loadBatch(snowflake, B1);
    expect(b1.orders.files.map((f) => [f.path, f.rowsParsed, f.rowsLoaded, f.rowsRejected])).toEqual([
      ['2026/11/26/03/orders-1-a', 3, 3, 0],
      ['2026/11/26/03/orders-1-b.gz', 3, 3, 0],
    ]);
    expect(b1.customers.rowsLoaded).toBe(3);
    const raw = await server.sql("SELECT O_ORDERKEY, O_COMMENT, SOURCE_FILE, SOURCE_ROW FROM RETAIL_DB.RETAIL_SCHEMA.ORDERS_RAW WHERE O_ORDERKEY = 104");
    expect(raw).toEqual([{ O_ORDERKEY: '104', O_COMMENT: 'quoted, with a comma\nand a newline', SOURCE_FILE: `processing/${B1}/2026/11/26/03/orders-1-b.gz`, SOURCE_ROW: '3' }]);
    const customers = await server.sql('SELECT C_NAME, C_ADDRESS, C_ACCTBAL FROM RETAIL_DB.RETAIL_SCHEMA.CUSTOMERS_RAW WHERE C_CUSTKEY = 2');
    expect(customers).toEqual([{ C_NAME: 'Bob, Jr.', C_ADDRESS: '2 "Quoted" Ave', C_ACCTBAL: '-5.25' }]);
    const tasks = await snowflake.readTasks(B1);
    expect(tasks.map((t) => [t.task, t.state, t.rows])).toEqual([
      ['load:customers', 'succeeded', 3],
      ['load:orders', 'succeeded', 6],
    ]);
  });

  it('transform: the curated figures worked out by hand, the same as the DuckDB engine gives', async () => {
    const t1 = await snowflake.transform(B1);
    expect(t1).toMatchObject({ curatedRows: 2, fulfilledOrders: 3, orphanOrders: 1 });
    await loadBatch(snowflake, B2);
    const t2 = await snowflake.transform(B2);
    expect(t2).toMatchObject({ curatedRows: 2, lateOrders: 1, orphanOrders: 0, duplicateOrders: 1 });
    for (const batch of [B1, B2]) {
      expect(await snowflake.curatedRows(batch)).toEqual(EXPECTED[batch]!.map((r) => ({ ...r, batchId: batch })));
    }
    const duck = await openWarehouse('duckdb://:memory:', { files: store });
    try {
      await duck.setup();
      for (const batch of [B1, B2]) {
        await loadBatch(duck, batch);
        await duck.transform(batch);
      }
      expect(await duck.curatedRows()).toEqual(await snowflake.curatedRows());
    } finally {
      await duck.close();
    }
  });

  it('replay: loading and transforming B1 and B2 again gives identical tables, without relying on load metadata', async () => {
    const before = await rawSnapshot();
    const curated = await snowflake.curatedRows();
    // Snowflake's load metadata remembers these files; the loader's FORCE = TRUE (after deleting the batch) is what reloads them.
    expect(server.loadHistory('RETAIL_DB.RETAIL_SCHEMA.ORDERS_RAW').map((f) => f.url)).toContain(`${STAGE_URL}orders/processing/${B1}/2026/11/26/03/orders-1-a`);
    for (const batch of [B1, B2]) {
      await loadBatch(snowflake, batch);
      await snowflake.transform(batch);
    }
    expect(await rawSnapshot()).toEqual(before);
    expect(await snowflake.curatedRows()).toEqual(curated);
  });

  it('a 503 answering the COPY after it ran: the driver retries, the server answers from the first run, nothing doubles', async () => {
    const fault = server.injectFault({ action: { kind: 'http-status', status: 503 }, sql: 'COPY INTO ORDERS_RAW', when: 'after' });
    const result = await snowflake.load({ entity: 'orders', batchId: B2, files: filesOf('orders', B2) });
    expect(fault.hits).toBe(1);
    expect(result.files.map((f) => [f.rowsParsed, f.rowsLoaded])).toEqual([[3, 3]]);
    expect(await server.sql(`SELECT COUNT(*) AS N FROM RETAIL_DB.RETAIL_SCHEMA.ORDERS_RAW WHERE BATCH_ID = '${B2}'`)).toEqual([{ N: '3' }]);
    const copy = server.queries().filter((q) => q.sqlText.includes('COPY INTO ORDERS_RAW')).at(-1)!;
    expect(copy).toMatchObject({ attempts: 2, executions: 1, status: 'succeeded' });
  });

  it('a session token expiring mid-run: renewed with the master token, the statement resent and run once', async () => {
    const renewals = server.tokenRenewals();
    const logins = server.logins().length;
    const fault = server.injectFault({ action: { kind: 'expire-session' }, sql: 'INSERT INTO ORDER_CUSTOMER_DATE_PRICE', when: 'after' });
    const result = await snowflake.transform(B2);
    expect(fault.hits).toBe(1);
    expect(server.tokenRenewals()).toBe(renewals + 1);
    expect(server.logins().length).toBe(logins + 1); // the transform's own connection, no re-login
    expect(result.curatedRows).toBe(2);
    expect(await snowflake.curatedRows(B2)).toEqual(EXPECTED[B2]!.map((r) => ({ ...r, batchId: B2 })));
    const insert = server.queries().filter((q) => q.sqlText.includes('INSERT INTO ORDER_CUSTOMER_DATE_PRICE')).at(-1)!;
    expect(insert).toMatchObject({ attempts: 2, executions: 1 });
  });

  it('a compilation error keeps Snowflake\'s code, SQL state and query id, and rolls the transaction back', async () => {
    await server.sql('DROP TABLE RETAIL_DB.RETAIL_SCHEMA.ORDER_LEDGER');
    const error = await snowflake.transform(B2).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WarehouseError);
    expect(error).toMatchObject({ code: '002003', sqlState: '42S02' });
    expect((error as WarehouseError).queryId).toMatch(/^[0-9a-f-]{36}$/);
    expect((error as Error).message).toContain("SQL compilation error:\nObject 'ORDER_LEDGER' does not exist or not authorized.");
    expect(await snowflake.curatedRows(B2)).toEqual(EXPECTED[B2]!.map((r) => ({ ...r, batchId: B2 })));
    await snowflake.setup(); // recreates the table for whatever runs next
  });
});

describe('bad records through the adapter: validation COPY, ON_ERROR and reconciliation', () => {
  const bad = () => ({ entity: 'orders' as const, batchId: B3, files: filesOf('orders', B3) });

  it('abort: names the file and the first bad record, and loads nothing', async () => {
    const error = await snowflake.load(bad()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LoadRejectedError);
    expect(error).toMatchObject({ file: `processing/${B3}/2026/11/26/03/orders-1-bad`, row: 2, rejectedRecords: 2 });
    expect((error as Error).message).toContain('Number of columns in file (8) does not match');
    expect(await server.sql(`SELECT COUNT(*) AS N FROM RETAIL_DB.RETAIL_SCHEMA.ORDERS_RAW WHERE BATCH_ID = '${B3}'`)).toEqual([{ N: '0' }]);
  });

  it('quarantine: loads the good records, sets the bad ones aside with their reasons, and the counts reconcile', async () => {
    const result = await snowflake.load({ ...bad(), onError: 'quarantine' });
    expect(result.files.map((f) => [f.rowsParsed, f.rowsLoaded, f.rowsRejected])).toEqual([[4, 2, 2]]);
    const loaded = await server.sql(`SELECT O_ORDERKEY FROM RETAIL_DB.RETAIL_SCHEMA.ORDERS_RAW WHERE BATCH_ID = '${B3}' ORDER BY 1`);
    expect(loaded.map((r) => r.O_ORDERKEY)).toEqual(['200', '203']);
    const rejects = await server.sql(`SELECT SOURCE_ROW, REASON FROM RETAIL_DB.RETAIL_SCHEMA.LOAD_REJECTS WHERE BATCH_ID = '${B3}' ORDER BY SOURCE_ROW`);
    expect(rejects.map((r) => r.SOURCE_ROW)).toEqual(['2', '3']);
    expect(rejects[1]!.REASON).toBe("Numeric value 'ten' is not recognized");
  });
});

describe('replay after the archive: the files under processed/<id>/', () => {
  it('load from processed/ + transform give tables identical row for row to the clean run from processing/', async () => {
    // The clean state: B1 and B2 loaded and transformed from processing/, B3 quarantined (its rejects stored).
    for (const batch of [B1, B2]) {
      await loadBatch(snowflake, batch);
      await snowflake.transform(batch);
    }
    await snowflake.load({ entity: 'orders', batchId: B3, files: filesOf('orders', B3), onError: 'quarantine' });
    const clean = await allTables();
    const curated = await snowflake.curatedRows();
    expect(curated.map((r) => r.batchId)).toEqual([B1, B1, B2, B2]);
    expect(clean.filter((row) => row.includes('"SOURCE_FILE":"processing/')).length).toBeGreaterThan(0);

    const archived = new Map<string, BatchFile[]>();
    for (const [name, files] of batchFiles) archived.set(name, await archiveFiles(files));
    // What a replay that still read processing/ got: Snowflake's "file not found", nothing changed.
    const stale = await snowflake.load({ entity: 'orders', batchId: B1, files: filesOf('orders', B1) }).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(WarehouseError);
    expect(stale).toMatchObject({ code: '091016' });
    expect((stale as Error).message).toContain(`Remote file '${STAGE_URL}orders/processing/${B1}/2026/11/26/03/orders-1-a' was not found`);

    const copiesBefore = server.queries().length;
    for (const batch of [B1, B2]) {
      for (const entity of ['orders', 'customers'] as const) {
        const files = archived.get(`${entity}/${batch}`) ?? [];
        const result = await snowflake.load({ entity, batchId: batch, files, location: 'processed' });
        expect(result.rowsLoaded).toBe(FILES.filter((f) => f.entity === entity && f.batch === batch).reduce((n, f) => n + f.lines.length, 0));
      }
      await snowflake.transform(batch);
    }
    const b3 = await snowflake.load({ entity: 'orders', batchId: B3, files: archived.get(`orders/${B3}`)!, onError: 'quarantine', location: 'processed' });
    expect(b3.files.map((f) => [f.rowsParsed, f.rowsLoaded, f.rowsRejected])).toEqual([[4, 2, 2]]);

    const copies = server.queries().slice(copiesBefore).filter((q) => q.sqlText.startsWith('COPY INTO'));
    expect(copies).toHaveLength(2 * 5); // validation + load for 5 (entity, batch) pairs
    for (const copy of copies) expect(copy.sqlText).toMatch(/FROM @(ORDERS|CUSTOMERS)_STAGE\/processed\/\d{8}T\d{4}\//);
    expect(await allTables()).toEqual(clean);
    expect(await snowflake.curatedRows()).toEqual(curated);
  });
});

describe('exact prices and dates, and a quoted empty name, on Snowflake too (both onError modes)', () => {
  const badRows = EXACT_LINES.flatMap((line, i) => (breaksValueRules(line) ? [i + 1] : []));
  const file = `processing/${B5}/2026/11/26/03/orders-1-exact`;
  const files: Record<Entity, BatchFile[]> = { orders: [], customers: [] };
  const filesOf = (entity: Entity) => files[entity];
  // Own files, put after the shared fixtures (the replay test archives those) and never archived.
  beforeAll(async () => {
    await snowflake.setup();
    const put = async (entity: Entity, name: string, text: string) => {
      const key = `firehose/${entity}/processing/${B5}/2026/11/26/03/${name}`;
      await store.put(key, Buffer.from(text));
      files[entity].push({ path: `2026/11/26/03/${name}`, key, size: Buffer.byteLength(text) });
    };
    await put('orders', 'orders-1-exact', EXACT_LINES.map(csvLine).join('\n') + '\n');
    // A quoted empty name (""), which csvLine cannot write.
    await put('customers', 'customers-1-empty-name', '1,Alice,1 Main St,7,10-111-222-3333,100.00,BUILDING,c\n200,"",2 Side St,7,10-111-222-4444,1.00,BUILDING,quoted empty name\n3,Carol,3 Side St,8,10-111-222-5555,0.00,HOUSEHOLD,c3\n');
  });

  it('abort: fails naming the file and a bad record; nothing is loaded', async () => {
    expect(badRows.length).toBeGreaterThan(4);
    const error = await snowflake.load({ entity: 'orders', batchId: B5, files: filesOf('orders') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoadRejectedError);
    // Type errors (an 11-digit price, an impossible date) come from the validation COPY, before the checks
    // that reject the rest; either way the record named is one of the oracle's bad ones.
    expect((error as LoadRejectedError).file).toBe(file);
    expect(badRows).toContain((error as LoadRejectedError).row);
    expect(await server.sql(`SELECT COUNT(*) AS N FROM RETAIL_DB.RETAIL_SCHEMA.ORDERS_RAW WHERE BATCH_ID = '${B5}'`)).toEqual([{ N: '0' }]);
    const named = await snowflake.load({ entity: 'customers', batchId: B5, files: filesOf('customers') }).catch((e: unknown) => e);
    expect(named).toBeInstanceOf(LoadRejectedError);
    expect(named).toMatchObject({ row: 2, column: 'C_NAME' });
  });

  it('quarantine: exactly the oracle\'s bad records are set aside; loaded values are the file\'s text, unrounded', async () => {
    const result = await snowflake.load({ entity: 'orders', batchId: B5, files: filesOf('orders'), onError: 'quarantine' });
    expect(result).toMatchObject({ rowsParsed: EXACT_LINES.length, rowsLoaded: EXACT_LINES.length - badRows.length, rowsRejected: badRows.length });
    const rejects = await server.sql(`SELECT SOURCE_ROW FROM RETAIL_DB.RETAIL_SCHEMA.LOAD_REJECTS WHERE BATCH_ID = '${B5}' AND ENTITY = 'orders'`);
    expect(rejects.map((r) => Number(r.SOURCE_ROW)).sort((a, b) => a - b)).toEqual(badRows);
    const loaded = await server.sql(`SELECT SOURCE_ROW, O_TOTALPRICE, O_ORDERDATE FROM RETAIL_DB.RETAIL_SCHEMA.ORDERS_RAW WHERE BATCH_ID = '${B5}'`);
    for (const row of loaded) {
      const line = EXACT_LINES[Number(row.SOURCE_ROW) - 1]!;
      expect(Number(row.O_TOTALPRICE)).toBe(Number(line[3]));
      // The server answers DATE as days since 1970-01-01.
      const date = /^\d+$/.test(String(row.O_ORDERDATE)) ? new Date(Number(row.O_ORDERDATE) * 86_400_000).toISOString() : String(row.O_ORDERDATE);
      expect(date.slice(0, 10)).toBe(line[4]);
    }
    const customers = await snowflake.load({ entity: 'customers', batchId: B5, files: filesOf('customers'), onError: 'quarantine' });
    expect(customers).toMatchObject({ rowsParsed: 3, rowsLoaded: 2, rowsRejected: 1 });
  });
});
