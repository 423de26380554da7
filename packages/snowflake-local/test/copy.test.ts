import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSnowflakeLocal, type SnowflakeLocal } from '../src/index.js';
import { connect, DirectoryStore, failure, type Client } from './helpers.js';
import { BUCKET_ROOT, loadOrdersText, sessionText, setupTexts, validateOrdersText } from './repo-sql.js';

interface Order {
  key: number;
  cust: number;
  status: string;
  price: string;
  date: string;
  priority: string;
  clerk: string;
  ship: number;
  comment: string;
}

/** CSV as the producer writes it: quotes only where needed, doubled inside. */
function csv(orders: Order[], eol = '\n'): string {
  const field = (v: string | number) => {
    const s = String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return orders.map((o) => [o.key, o.cust, o.status, o.price, o.date, o.priority, o.clerk, o.ship, o.comment].map(field).join(',')).join(eol) + eol;
}

const order = (key: number, over: Partial<Order> = {}): Order => ({
  key,
  cust: 100 + (key % 3),
  status: key % 2 === 0 ? 'F' : 'O',
  price: `${key * 10}.${String(key % 100).padStart(2, '0')}`,
  date: `2024-01-${String((key % 28) + 1).padStart(2, '0')}`,
  priority: '1-URGENT',
  clerk: `Clerk#${key}`,
  ship: 0,
  comment: `plain comment ${key}`,
  ...over,
});

const BATCH = '20240101T0000';
const processing = (path: string) => `firehose/orders/processing/${BATCH}/${path}`;
const processed = (path: string) => `firehose/orders/processed/${BATCH}/${path}`;

let server: SnowflakeLocal;
let store: DirectoryStore;
let client: Client;

async function rawOrders(): Promise<Record<string, unknown>[]> {
  return client.exec('SELECT O_ORDERKEY, O_CUSTKEY, O_ORDERSTATUS, O_TOTALPRICE, O_ORDERDATE, O_COMMENT, BATCH_ID, SOURCE_FILE, SOURCE_ROW FROM ORDERS_RAW ORDER BY SOURCE_FILE, SOURCE_ROW', undefined);
}

beforeAll(async () => {
  store = await DirectoryStore.create();
  server = await startSnowflakeLocal({ objectStore: store, stageUrls: { [BUCKET_ROOT]: 'firehose/' } });
  client = await connect(server, { database: 'RETAIL_DB', schema: 'RETAIL_SCHEMA' });
  for (const text of setupTexts()) await client.exec(text, undefined, { MULTI_STATEMENT_COUNT: 0 });
  await client.exec(sessionText, undefined, { MULTI_STATEMENT_COUNT: 0 });
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
  await store?.remove();
});

describe('setup DDL from sql/snowflake/setup', () => {
  it('creates the database, schema, integration, file format, stages and tables, and re-runs idempotently', async () => {
    for (const text of setupTexts()) await client.exec(text, undefined, { MULTI_STATEMENT_COUNT: 0 });
    for (const table of ['BATCH_AUDIT', 'CUSTOMERS_CSV', 'CUSTOMERS_RAW', 'LOAD_REJECTS', 'ORDERS_CSV', 'ORDERS_RAW', 'ORDER_CUSTOMER_DATE_PRICE', 'ORDER_LEDGER']) {
      expect(await server.sql(`SELECT COUNT(*) AS N FROM RETAIL_DB.RETAIL_SCHEMA.${table}`), table).toEqual([{ N: '0' }]);
    }
    expect((await failure(server.sql('SELECT COUNT(*) AS N FROM RETAIL_DB.RETAIL_SCHEMA.NOT_CREATED'))).message).toContain('does not exist');
  });

  it('refuses a stage outside the integration\'s allowed locations', async () => {
    const err = await failure(client.exec("CREATE STAGE ELSEWHERE URL = 's3://other-bucket/x/' STORAGE_INTEGRATION = S3_INTEGRATION_PRO"));
    expect(err.message).toContain('is not allowed by integration');
  });
});

describe('COPY INTO from a stage', () => {
  const a = [order(1), order(2, { comment: 'has, a comma and "quotes"' }), order(3, { comment: 'two\nlines' })];
  const b = [order(4), order(5, { status: 'F' })];

  it('loads exactly the named files, stamping batch id, file name and row number', async () => {
    await store.put(processing('2024/01/01/00/orders-a.csv'), csv(a));
    // gzip, CRLF and a BOM: all read as the same records
    await store.put(processing('2024/01/01/00/orders-b.gz'), gzipSync(Buffer.from(`\ufeff${csv(b, '\r\n')}`)));
    await store.put(processing('2024/01/01/00/not-named.csv'), csv([order(99)]));
    const result = await client.exec(loadOrdersText(BATCH, ['2024/01/01/00/orders-a.csv', '2024/01/01/00/orders-b.gz']));
    expect(result.map((r) => [r.file, r.status, r.rows_parsed, r.rows_loaded, r.errors_seen, r.first_error])).toEqual([
      [`${BUCKET_ROOT}orders/processing/${BATCH}/2024/01/01/00/orders-a.csv`, 'LOADED', 3, 3, 0, null],
      [`${BUCKET_ROOT}orders/processing/${BATCH}/2024/01/01/00/orders-b.gz`, 'LOADED', 2, 2, 0, null],
    ]);
    const rows = await rawOrders();
    const expected = [
      ...a.map((o, i) => ({ o, file: `processing/${BATCH}/2024/01/01/00/orders-a.csv`, row: i + 1 })),
      ...b.map((o, i) => ({ o, file: `processing/${BATCH}/2024/01/01/00/orders-b.gz`, row: i + 1 })),
    ];
    expect(rows).toHaveLength(expected.length);
    rows.forEach((r, i) => {
      const { o, file, row } = expected[i]!;
      expect(r).toMatchObject({ O_ORDERKEY: o.key, O_CUSTKEY: o.cust, O_ORDERSTATUS: o.status, O_TOTALPRICE: Number(o.price), O_COMMENT: o.comment, BATCH_ID: BATCH, SOURCE_FILE: file, SOURCE_ROW: row });
      expect((r.O_ORDERDATE as Date).toISOString().slice(0, 10)).toBe(o.date);
    });
    const [loadedAt] = await client.exec('SELECT MIN(LOADED_AT) AS FIRST, MAX(LOADED_AT) AS LAST FROM ORDERS_RAW');
    expect((loadedAt!.FIRST as Date).getTime()).toBe((loadedAt!.LAST as Date).getTime());
  });

  it('keeps load metadata: an unchanged file is skipped unless FORCE = TRUE, a changed one reloads', async () => {
    const withoutForce = loadOrdersText(BATCH, ['2024/01/01/00/orders-a.csv']).replace(/FORCE = TRUE;\s*$/, 'FORCE = FALSE;');
    expect(await client.exec(withoutForce)).toEqual([{ status: 'Copy executed with 0 files processed.' }]);
    expect(server.loadHistory('RETAIL_DB.RETAIL_SCHEMA.ORDERS_RAW').map((f) => f.url).sort()).toEqual([
      `${BUCKET_ROOT}orders/processing/${BATCH}/2024/01/01/00/orders-a.csv`,
      `${BUCKET_ROOT}orders/processing/${BATCH}/2024/01/01/00/orders-b.gz`,
    ]);
    const forced = await client.exec(loadOrdersText(BATCH, ['2024/01/01/00/orders-a.csv']));
    expect(forced.map((r) => r.rows_loaded)).toEqual([3]);
    expect(await client.exec('SELECT COUNT(*) AS N FROM ORDERS_RAW')).toEqual([{ N: 8 }]); // FORCE duplicates: the loader deletes first
    await store.put(processing('2024/01/01/00/orders-a.csv'), csv([order(7)]));
    const changed = await client.exec(withoutForce);
    expect(changed.map((r) => [r.status, r.rows_loaded])).toEqual([['LOADED', 1]]);
  });

  it('rolls a COPY back with its transaction, load metadata included', async () => {
    await client.exec('DELETE FROM ORDERS_RAW');
    await store.put(processing('2024/01/01/01/orders-c.csv'), csv([order(10), order(11)]));
    await client.exec('BEGIN TRANSACTION');
    await client.exec(loadOrdersText(BATCH, ['2024/01/01/01/orders-c.csv']).replace(/FORCE = TRUE;\s*$/, 'FORCE = FALSE;'));
    expect(await client.exec('SELECT COUNT(*) AS N FROM ORDERS_RAW')).toEqual([{ N: 2 }]);
    await client.exec('ROLLBACK');
    expect(await client.exec('SELECT COUNT(*) AS N FROM ORDERS_RAW')).toEqual([{ N: 0 }]);
    const again = await client.exec(loadOrdersText(BATCH, ['2024/01/01/01/orders-c.csv']).replace(/FORCE = TRUE;\s*$/, 'FORCE = FALSE;'));
    expect(again.map((r) => r.rows_loaded)).toEqual([2]);
  });

  // A non-numeric ship priority: the repository's load maps a price not in its exact form to NULL (rejected by its
  // checks after the COPY), so the COPY's own conversion error is shown on another numeric column.
  describe('ON_ERROR with a non-numeric ship priority on line 2', () => {
    const bad = `${csv([order(20)])}21,101,F,12.50,2024-01-02,1-URGENT,Clerk#21,1x,bad priority\n${csv([order(22)])}`;
    beforeAll(async () => {
      await client.exec('DELETE FROM ORDERS_RAW');
      await store.put(processing('bad/orders-bad.csv'), bad);
    });

    it('ABORT_STATEMENT fails naming file, line, row and column, and loads nothing', async () => {
      const err = await failure(client.exec(loadOrdersText(BATCH, ['bad/orders-bad.csv'])));
      expect(err.code).toBe('100038');
      expect(err.sqlState).toBe('22018');
      expect(err.message).toContain("Numeric value '1x' is not recognized");
      expect(err.message).toContain(`File 'processing/${BATCH}/bad/orders-bad.csv', line 2, character 45`);
      expect(err.message).toContain('Row 2, column "ORDERS_RAW"["O_SHIPPRIORITY":8]');
      expect(await client.exec('SELECT COUNT(*) AS N FROM ORDERS_RAW')).toEqual([{ N: 0 }]);
    });

    it('CONTINUE loads the good rows and reports the first error', async () => {
      const [row] = await client.exec(loadOrdersText(BATCH, ['bad/orders-bad.csv'], 'CONTINUE'));
      expect(row).toMatchObject({
        status: 'PARTIALLY_LOADED',
        rows_parsed: 3,
        rows_loaded: 2,
        errors_seen: 1,
        first_error: "Numeric value '1x' is not recognized",
        first_error_line: 2,
        first_error_character: 45,
        first_error_column_name: '"ORDERS_RAW"["O_SHIPPRIORITY":8]',
      });
      expect((await client.exec('SELECT SOURCE_ROW FROM ORDERS_RAW ORDER BY 1')).map((r) => r.SOURCE_ROW)).toEqual([1, 3]);
    });

    it('SKIP_FILE loads nothing from the file', async () => {
      await client.exec('DELETE FROM ORDERS_RAW');
      const [row] = await client.exec(loadOrdersText(BATCH, ['bad/orders-bad.csv'], 'SKIP_FILE'));
      expect(row).toMatchObject({ status: 'LOAD_FAILED', rows_parsed: 3, rows_loaded: 0, errors_seen: 1 });
      expect(await client.exec('SELECT COUNT(*) AS N FROM ORDERS_RAW')).toEqual([{ N: 0 }]);
    });

    it('a file named in FILES that does not exist fails the statement', async () => {
      const err = await failure(client.exec(loadOrdersText(BATCH, ['bad/missing.csv'])));
      expect(err.message).toContain(`Remote file '${BUCKET_ROOT}orders/processing/${BATCH}/bad/missing.csv' was not found`);
    });
  });

  it('a truncated gzip file fails the COPY by name, with every ON_ERROR mode and in validation, loading nothing', async () => {
    const whole = gzipSync(Buffer.from(csv([order(40), order(41), order(42)])));
    await store.put(processing('trunc/orders-t.gz'), whole.subarray(0, whole.length - 12));
    const before = await rawOrders();
    for (const text of [
      loadOrdersText(BATCH, ['trunc/orders-t.gz']),
      loadOrdersText(BATCH, ['trunc/orders-t.gz'], 'CONTINUE'),
      validateOrdersText(BATCH, ['trunc/orders-t.gz']),
    ]) {
      const error = await failure(client.exec(text));
      expect(error.message).toMatch(/Invalid data encountered during decompression for file: '.*trunc\/orders-t\.gz'.*truncated or corrupt gzip/);
      expect(error.sqlState).toBe('22000');
    }
    expect(await rawOrders()).toEqual(before);
  });

  it('VALIDATION_MODE = RETURN_ALL_ERRORS reports every bad record and loads nothing', async () => {
    const text = [
      csv([order(30)]).trimEnd(),
      '31,101,F,10.00,2024-01-02,1-URGENT,Clerk#31,0', // one field short
      '32,101,F,10.00,2024-02-30,1-URGENT,Clerk#32,0,impossible date',
      '33,101,F,"unterminated',
    ].join('\n');
    await store.put(processing('validate/orders-v.csv'), text);
    const rows = await client.exec(validateOrdersText(BATCH, ['validate/orders-v.csv']));
    expect(rows.map((r) => [r.ROW_NUMBER, r.LINE, r.CODE, r.COLUMN_NAME])).toEqual([
      [2, 2, 100080, '"ORDERS_CSV"["O_COMMENT":9]'],
      [3, 3, 100040, '"ORDERS_CSV"["O_ORDERDATE":5]'],
      [4, 4, 100066, null],
    ]);
    expect(rows[1]!.ERROR).toBe("Date '2024-02-30' is not recognized");
    expect(rows[1]!.REJECTED_RECORD).toBe('32,101,F,10.00,2024-02-30,1-URGENT,Clerk#32,0,impossible date');
    expect(rows.every((r) => r.FILE === `${BUCKET_ROOT}orders/processing/${BATCH}/validate/orders-v.csv`)).toBe(true);
    expect(await client.exec('SELECT COUNT(*) AS N FROM ORDERS_CSV')).toEqual([{ N: 0 }]);
  });

  it('from processed/ (an archived batch): reads @ORDERS_STAGE/processed/<id>/, SOURCE_FILE still names processing/<id>/<path>', async () => {
    await client.exec('DELETE FROM ORDERS_RAW');
    const archived = [order(40), order(41, { comment: 'archived, with a comma' })];
    await store.put(processed('2024/01/01/02/orders-d.csv'), csv(archived));
    const result = await client.exec(loadOrdersText(BATCH, ['2024/01/01/02/orders-d.csv'], 'ABORT_STATEMENT', 'processed'));
    expect(result.map((r) => [r.file, r.status, r.rows_loaded])).toEqual([[`${BUCKET_ROOT}orders/processed/${BATCH}/2024/01/01/02/orders-d.csv`, 'LOADED', 2]]);
    expect((await rawOrders()).map((r) => [r.O_ORDERKEY, r.SOURCE_FILE, r.SOURCE_ROW])).toEqual(
      archived.map((o, i) => [o.key, `processing/${BATCH}/2024/01/01/02/orders-d.csv`, i + 1]),
    );
    expect(server.loadHistory('RETAIL_DB.RETAIL_SCHEMA.ORDERS_RAW').map((f) => f.url)).toContain(`${BUCKET_ROOT}orders/processed/${BATCH}/2024/01/01/02/orders-d.csv`);
    const validation = await client.exec(validateOrdersText(BATCH, ['2024/01/01/02/orders-d.csv'], 'processed'));
    expect(validation).toEqual([]);
    const missing = await failure(client.exec(loadOrdersText(BATCH, ['2024/01/01/02/orders-d.csv'])));
    expect(missing.code).toBe('091016'); // not under processing/ any more
  });
});
