import { constants, createGzip, gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { toBatchId } from '@batchline/batch-id';
import { CorruptFileError, LoadInputError, LoadRejectedError, openWarehouse, type BatchFile, type Entity, type Warehouse } from '../src/index.js';
import { createTestStore, type TestStore } from './support/files.js';
import { snapshotTables, tempDbPath } from './support/warehouse.js';

const BATCH = toBatchId('20261126T0300');
const good = (key: number, comment = 'fine') => `${key},7,F,10.25,2024-03-01,1-URGENT,Clerk#000000001,0,${comment}`;
const HEADER = 'O_ORDERKEY,O_CUSTKEY,O_ORDERSTATUS,O_TOTALPRICE,O_ORDERDATE,O_ORDERPRIORITY,O_CLERK,O_SHIPPRIORITY,O_COMMENT';

/** Records in a file, counted by an independent CSV parser (csv-parse), for reconciliation. */
function recordsIn(body: Buffer): number {
  return (parse(body, { bom: true, relax_column_count: true, skip_empty_lines: false }) as unknown[]).length;
}

let store: TestStore;
let db: Awaited<ReturnType<typeof tempDbPath>>;
let wh: Warehouse;
beforeEach(async () => {
  store = await createTestStore();
  db = await tempDbPath();
  wh = await openWarehouse(db.url, { files: store.inPlace });
  await wh.setup();
});
afterEach(async () => {
  await wh.close();
  await store.dispose();
  await db.dispose();
});

async function put(name: string, body: string | Buffer, entity: Entity = 'orders', gzip = false): Promise<BatchFile> {
  return store.put(entity, BATCH, `2026/11/26/03/${name}`, body, { gzip });
}

async function rawOrders() {
  await wh.close();
  const tables = await snapshotTables(db.file);
  wh = await openWarehouse(db.url, { files: store.inPlace });
  return tables;
}

describe('well-formed variations load every record', () => {
  it.each([
    ['CRLF line endings', `${good(1)}\r\n${good(2)}\r\n`, 2],
    ['a UTF-8 BOM', `\uFEFF${good(1)}\n${good(2)}\n`, 2],
    ['a trailing newline', `${good(1)}\n${good(2)}\n`, 2],
    ['no final newline', `${good(1)}\n${good(2)}`, 2],
    ['an empty file', '', 0],
  ])('%s', async (_name, body, records) => {
    const file = await put('f', body);
    const result = await wh.load({ entity: 'orders', batchId: BATCH, files: [file] });
    expect(recordsIn(Buffer.from(body))).toBe(records);
    expect(result).toMatchObject({ rowsParsed: records, rowsLoaded: records, rowsRejected: 0 });
    const { ORDERS_RAW } = await rawOrders();
    expect(ORDERS_RAW.map((r) => (r as { O_ORDERKEY: string }).O_ORDERKEY)).toEqual(records === 0 ? [] : ['1', '2']);
    expect(ORDERS_RAW.map((r) => (r as { O_COMMENT: string }).O_COMMENT)).toEqual(records === 0 ? [] : ['fine', 'fine']);
  });

  it('quoted commas, quotes, newlines and CRLF inside a field keep their exact value', async () => {
    const comment = 'a, b "c"\nnext line\r\nthird';
    const body = `${good(1, `"${comment.replace(/"/g, '""')}"`)}\n${good(2, '""')}\n${good(3, '\\N')}\n${good(4, '')}\n`;
    const result = await wh.load({ entity: 'orders', batchId: BATCH, files: [await put('q', body)] });
    expect(result).toMatchObject({ rowsParsed: 4, rowsLoaded: 4 });
    const rows = (await rawOrders()).ORDERS_RAW as { O_COMMENT: string | null; SOURCE_ROW: string }[];
    expect(rows.map((r) => r.O_COMMENT)).toEqual([comment, '', null, null]);
    expect(rows.map((r) => r.SOURCE_ROW)).toEqual(['1', '2', '3', '4']);
  });

  it('a 1 MB field', async () => {
    const big = 'x'.repeat(1024 * 1024);
    const result = await wh.load({ entity: 'orders', batchId: BATCH, files: [await put('big', `${good(1, big)}\n${good(2)}\n`)] });
    expect(result).toMatchObject({ rowsLoaded: 2 });
    const rows = (await rawOrders()).ORDERS_RAW as { O_COMMENT: string }[];
    expect(rows[0]!.O_COMMENT).toHaveLength(1024 * 1024);
  });

  it('gzip objects, with or without the .gz suffix, streamed or in place', async () => {
    const body = `${good(1)}\n${good(2)}\n${good(3)}\n`;
    const files = [await put('a.gz', body, 'orders', true), await put('b-no-suffix', body.replace(/^1,/, '4,').replace(/\n2,/, '\n5,').replace(/\n3,/, '\n6,'), 'orders', true)];
    await wh.close();
    wh = await openWarehouse(db.url, { files: store.streamed });
    const result = await wh.load({ entity: 'orders', batchId: BATCH, files });
    expect(result.files.map((f) => f.rowsLoaded)).toEqual([3, 3]);
  });
});

const BAD_CASES: { name: string; body: Buffer; badRow: number; column?: string; reason: RegExp }[] = [
  {
    name: 'a header-only file',
    body: Buffer.from(`${HEADER}\n`),
    badRow: 1,
    column: 'O_ORDERKEY',
    reason: /header row/,
  },
  {
    name: 'a header line before the data',
    body: Buffer.from(`${HEADER}\n${good(1)}\n${good(2)}\n`),
    badRow: 1,
    column: 'O_ORDERKEY',
    reason: /header row/,
  },
  {
    name: 'too few fields',
    body: Buffer.from(`${good(1)}\n2,7,F,10.25,2024-03-01,1-URGENT,Clerk#1,0\n${good(3)}\n`),
    badRow: 2,
    reason: /Expected Number of Columns: 9 Found: 8/,
  },
  {
    name: 'too many fields',
    body: Buffer.from(`${good(1)}\n${good(2)},extra\n${good(3)}\n`),
    badRow: 2,
    reason: /Expected Number of Columns: 9 Found: 10/,
  },
  {
    name: 'a non-numeric price',
    body: Buffer.from(`${good(1)}\n2,7,F,12.3x,2024-03-01,1-URGENT,Clerk#1,0,c\n${good(3)}\n`),
    badRow: 2,
    column: 'O_TOTALPRICE',
    reason: /O_TOTALPRICE is empty or not an exact price/,
  },
  {
    name: 'a sub-cent price (never rounded)',
    body: Buffer.from(`${good(1)}\n2,7,F,10.555,2024-03-01,1-URGENT,Clerk#1,0,c\n${good(3)}\n`),
    badRow: 2,
    column: 'O_TOTALPRICE',
    reason: /O_TOTALPRICE is empty or not an exact price/,
  },
  {
    name: 'a price with an exponent',
    body: Buffer.from(`${good(1)}\n2,7,F,1e3,2024-03-01,1-URGENT,Clerk#1,0,c\n`),
    badRow: 2,
    column: 'O_TOTALPRICE',
    reason: /O_TOTALPRICE is empty or not an exact price/,
  },
  {
    name: 'a date without zero padding',
    body: Buffer.from(`${good(1)}\n2,7,F,5.00,2026-1-5,1-URGENT,Clerk#1,0,c\n`),
    badRow: 2,
    column: 'O_ORDERDATE',
    reason: /O_ORDERDATE is empty or not a real date YYYY-MM-DD/,
  },
  {
    name: 'an impossible date',
    body: Buffer.from(`${good(1)}\n${good(2)}\n3,7,F,1.00,2024-02-30,1-URGENT,Clerk#1,0,c\n`),
    badRow: 3,
    column: 'O_ORDERDATE',
    reason: /O_ORDERDATE is empty or not a real date YYYY-MM-DD/,
  },
  {
    name: 'a date in another format',
    body: Buffer.from(`3,7,F,1.00,03/01/2024,1-URGENT,Clerk#1,0,c\n${good(1)}\n`),
    badRow: 1,
    column: 'O_ORDERDATE',
    reason: /O_ORDERDATE is empty or not a real date YYYY-MM-DD/,
  },
  {
    name: 'a non-UTF-8 byte',
    body: Buffer.concat([Buffer.from(`${good(1)}\n2,7,F,1.00,2024-03-01,1-URGENT,Clerk#1,0,caf`), Buffer.from([0xe9]), Buffer.from(`\n${good(3)}\n`)]),
    badRow: 2,
    reason: /utf-8|unicode/i,
  },
  {
    name: 'a status outside F/O/P',
    body: Buffer.from(`${good(1)}\n2,7,X,1.00,2024-03-01,1-URGENT,Clerk#1,0,c\n`),
    badRow: 2,
    column: 'O_ORDERSTATUS',
    reason: /O_ORDERSTATUS is 'X'; expected one of F, O, P/,
  },
  {
    name: 'an empty key',
    body: Buffer.from(`${good(1)}\n,7,F,1.00,2024-03-01,1-URGENT,Clerk#1,0,c\n`),
    badRow: 2,
    column: 'O_ORDERKEY',
    reason: /O_ORDERKEY is empty/,
  },
];

describe.each(BAD_CASES)('bad input: $name', ({ body, badRow, column, reason }) => {
  it('abort names the file, the record and the reason, and loads nothing', async () => {
    const before = await put('before', `${good(100)}\n`);
    const file = await put('bad', body);
    const error = await wh.load({ entity: 'orders', batchId: BATCH, files: [before, file] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoadRejectedError);
    const rejected = error as LoadRejectedError;
    expect(rejected.file).toBe(`processing/${BATCH}/2026/11/26/03/bad`);
    expect(rejected.row).toBe(badRow);
    if (column) expect(rejected.column).toBe(column);
    expect(rejected.message).toMatch(reason);
    expect(rejected.message).toContain(`processing/${BATCH}/2026/11/26/03/bad record ${badRow}`);
    const tables = await rawOrders();
    expect(tables.ORDERS_RAW).toEqual([]);
    expect(tables.LOAD_REJECTS).toEqual([]);
    expect(await wh.readTasks(BATCH)).toEqual([]);
  });

  it('quarantine sets the record aside with its reason; records = loaded + rejected', async () => {
    const file = await put('bad', body);
    const result = await wh.load({ entity: 'orders', batchId: BATCH, files: [file], onError: 'quarantine' });
    const records = recordsIn(body);
    expect(result.files).toEqual([{ path: file.path, rowsParsed: records, rowsLoaded: records - 1, rowsRejected: 1 }]);
    const { ORDERS_RAW, LOAD_REJECTS } = await rawOrders();
    expect(LOAD_REJECTS).toHaveLength(1);
    const reject = LOAD_REJECTS[0] as Record<string, string | null>;
    expect(reject).toMatchObject({ BATCH_ID: BATCH, ENTITY: 'orders', SOURCE_FILE: `processing/${BATCH}/2026/11/26/03/bad`, SOURCE_ROW: String(badRow) });
    if (column) expect(reject.COLUMN_NAME).toBe(column);
    expect(reject.REASON).toMatch(reason.source.includes('header') ? /O_ORDERKEY/ : reason);
    // Loaded rows keep their record numbers in the file, skipping the rejected one.
    const expectedRows = Array.from({ length: records }, (_, i) => String(i + 1)).filter((r) => r !== String(badRow));
    expect(ORDERS_RAW.map((r) => (r as { SOURCE_ROW: string }).SOURCE_ROW)).toEqual(expectedRows);
    const [task] = await wh.readTasks(BATCH);
    expect(task).toMatchObject({ task: 'load:orders', state: 'succeeded', rows: records - 1, rejected: 1 });
  });
});

/**
 * A gzip stream of `records`, flushed (Z_FULL_FLUSH) after the first `cutAfter` records, and the byte
 * length at that flush: cut there, the stream decompresses to exactly those whole records and then ends
 * without its trailer, which is what a truncated upload of a Firehose object looks like.
 */
async function gzipWithBoundary(records: string[], cutAfter: number): Promise<{ whole: Buffer; boundary: number }> {
  const gzip = createGzip();
  const chunks: Buffer[] = [];
  gzip.on('data', (c: Buffer) => chunks.push(c));
  const flushed = () => new Promise<void>((resolve) => gzip.flush(constants.Z_FULL_FLUSH, () => resolve()));
  gzip.write(records.slice(0, cutAfter).join(''));
  await flushed();
  const boundary = Buffer.concat(chunks).length;
  gzip.end(records.slice(cutAfter).join(''));
  await new Promise((resolve) => gzip.on('end', resolve));
  return { whole: Buffer.concat(chunks), boundary };
}

describe('a truncated or corrupt gzip object is refused whole, in both onError modes', () => {
  const records = Array.from({ length: 400 }, (_, i) => `${good(i + 1, `comment ${i + 1}`)}\n`);
  const cuts: [string, (g: { whole: Buffer; boundary: number }) => Buffer][] = [
    ['cut at a record boundary', (g) => g.whole.subarray(0, g.boundary)],
    ['cut mid-record', (g) => g.whole.subarray(0, g.boundary + Math.floor((g.whole.length - g.boundary) / 2))],
    ['a damaged byte in the middle', (g) => Buffer.concat([g.whole.subarray(0, g.boundary + 20), Buffer.from([g.whole[g.boundary + 20]! ^ 0xff]), g.whole.subarray(g.boundary + 21)])],
    ['the trailer checksum changed', (g) => Buffer.concat([g.whole.subarray(0, g.whole.length - 8), Buffer.from([g.whole[g.whole.length - 8]! ^ 0x01]), g.whole.subarray(g.whole.length - 7)])],
  ];
  it.each(cuts.flatMap(([name, cut]) => (['abort', 'quarantine'] as const).map((mode) => [name, mode, cut] as const)))('%s (%s)', async (_name, onError, cut) => {
    const g = await gzipWithBoundary(records, 318);
    // Independent check of the fixture: the whole stream holds 400 records, the cut one is not complete.
    expect(recordsIn(gunzipSync(g.whole))).toBe(400);
    expect(() => gunzipSync(cut(g))).toThrow();
    const intact = await put('intact.gz', g.whole);
    const broken = await put('broken.gz', cut(g));
    const error = await wh.load({ entity: 'orders', batchId: BATCH, files: [intact, broken], onError }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptFileError);
    const e = error as CorruptFileError;
    expect(e.file).toBe(`processing/${BATCH}/2026/11/26/03/broken.gz`);
    expect(e.message).toContain(`"processing/${BATCH}/2026/11/26/03/broken.gz": truncated or corrupt gzip`);
    expect(e.permanent).toBe(true);
    const tables = await rawOrders();
    expect(tables.ORDERS_RAW).toEqual([]);
    expect(tables.LOAD_REJECTS).toEqual([]);
    expect(await wh.readTasks(BATCH)).toEqual([]);
    // The intact object alone loads in full: the refusal was about the broken one only.
    const result = await wh.load({ entity: 'orders', batchId: BATCH, files: [intact], onError });
    expect(result.rowsLoaded).toBe(400);
  });
});

/**
 * Independent oracle for the exact-value rules (sql/README.md, "Data quality"): a price is
 * -?digits{1,10}(.digits{1,2})?, a date is YYYY-MM-DD and exists in the calendar.
 */
function breaksValueRules(line: string): boolean {
  const [, , , price = '', date = ''] = line.split(',');
  const priceOk = /^-?[0-9]{1,10}(\.[0-9]{1,2})?$/.test(price);
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const day = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  const dateOk = !!m && !!day && day.getUTCFullYear() === Number(m[1]) && day.getUTCMonth() === Number(m[2]) - 1 && day.getUTCDate() === Number(m[3]);
  return !priceOk || !dateOk;
}

describe('exact prices and dates: nothing is rounded or reinterpreted', () => {
  const prices = ['10.25', '10.555', '1e3', '7', '-3.5', '0.001', '1.', '.5', '+1.00', '12345678901.00', '1234567890.99', ' 1.00', '1,00'];
  const dates = ['2024-03-01', '2026-1-5', '2024-02-30', '2024-02-29', '2023-02-29', '20240301', '2024-03-01T00:00', '2024-3-01'];
  // Each price with a good date, each date with a good price (commas in a price are quoted fields).
  const lines = [
    ...prices.map((p, i) => `${i + 1},7,F,${p.includes(',') ? `"${p}"` : p},2024-03-01,1-URGENT,Clerk#1,0,c`),
    ...dates.map((d, i) => `${100 + i},7,F,1.00,${d},1-URGENT,Clerk#1,0,c`),
  ];
  const body = `${lines.join('\n')}\n`;
  const parsed = (parse(body) as string[][]).map((fields) => fields.join(','));
  const badRows = parsed.flatMap((line, i) => (breaksValueRules(line) ? [i + 1] : []));

  it.each(['abort', 'quarantine'] as const)('%s', async (onError) => {
    expect(badRows.length).toBeGreaterThan(5);
    const file = await put('mixed', body);
    const load = wh.load({ entity: 'orders', batchId: BATCH, files: [file], onError });
    if (onError === 'abort') {
      const error = await load.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LoadRejectedError);
      expect((error as LoadRejectedError).row).toBe(badRows[0]);
      expect((error as LoadRejectedError).rejectedRecords).toBe(badRows.length);
      expect((await rawOrders()).ORDERS_RAW).toEqual([]);
      return;
    }
    expect(await load).toMatchObject({ rowsParsed: parsed.length, rowsLoaded: parsed.length - badRows.length, rowsRejected: badRows.length });
    const { ORDERS_RAW, LOAD_REJECTS } = await rawOrders();
    expect(LOAD_REJECTS.map((r) => Number((r as { SOURCE_ROW: string }).SOURCE_ROW)).sort((a, b) => a - b)).toEqual(badRows);
    // Every loaded price and date is exactly the text in the file.
    for (const row of ORDERS_RAW as { SOURCE_ROW: string; O_TOTALPRICE: string; O_ORDERDATE: string }[]) {
      const [, , , price, date] = parsed[Number(row.SOURCE_ROW) - 1]!.split(',');
      expect(Number(row.O_TOTALPRICE)).toBe(Number(price));
      expect(String(row.O_ORDERDATE).slice(0, 10)).toBe(date);
    }
  });
});

describe('quarantine across files', () => {
  it('reconciles each file, and a replay replaces both loaded and rejected rows', async () => {
    const bodies = [
      `${good(1)}\n2,7,F,abc,2024-03-01,1-URGENT,Clerk#1,0,c\n${good(3)}\n4,7,F,1.00,2024-13-01,1-URGENT,Clerk#1,0,c\n${good(5)}\n`,
      `${good(6)}\n${good(7)},x\n`,
      `${good(8)}\n`,
    ];
    const files = [await put('a', bodies[0]!), await put('b', bodies[1]!), await put('c', bodies[2]!, 'orders', true)];
    const first = await wh.load({ entity: 'orders', batchId: BATCH, files, onError: 'quarantine' });
    expect(first.files.map((f) => [f.rowsParsed, f.rowsLoaded, f.rowsRejected])).toEqual([
      [recordsIn(Buffer.from(bodies[0]!)), 3, 2],
      [recordsIn(Buffer.from(bodies[1]!)), 1, 1],
      [1, 1, 0],
    ]);
    expect(first).toMatchObject({ rowsParsed: 8, rowsLoaded: 5, rowsRejected: 3 });
    const snapshot = await rawOrders();
    const again = await wh.load({ entity: 'orders', batchId: BATCH, files, onError: 'quarantine' });
    expect(again).toEqual(first);
    expect(await rawOrders()).toEqual(snapshot);
    expect((snapshot.ORDERS_RAW as { SOURCE_ROW: string; O_ORDERKEY: string }[]).map((r) => `${r.O_ORDERKEY}@${r.SOURCE_ROW}`)).toEqual([
      '1@1',
      '3@3',
      '5@5',
      '6@1',
      '8@1',
    ]);
  });
});

describe('untrusted requests', () => {
  it('refuses a file whose size differs from the claim', async () => {
    const file = await put('a', `${good(1)}\n`);
    await expect(wh.load({ entity: 'orders', batchId: BATCH, files: [{ ...file, size: file.size + 1 }] })).rejects.toThrow(
      /is \d+ bytes, but the claim pinned \d+ bytes/,
    );
  });

  it.each([
    ['../escape.csv', /"\.\." segment/],
    ['/etc/passwd', /absolute|empty/],
    // Quotes, spaces, #, % and non-ASCII are data (see the pipeline's sequence tests); these no CSV or SQL carries.
    ['a\u0007b.csv', /control character/],
    ['a\\b.csv', /backslash/],
    ['', /empty/],
  ])('refuses the path %j', async (path, message) => {
    await expect(wh.load({ entity: 'orders', batchId: BATCH, files: [{ path, key: `orders/${path}`, size: 1 }] })).rejects.toThrow(message);
    await expect(wh.load({ entity: 'orders', batchId: BATCH, files: [{ path, key: `orders/${path}`, size: 1 }] })).rejects.toBeInstanceOf(LoadInputError);
  });

  it('refuses a bad batch id, entity or policy before touching anything', async () => {
    await expect(wh.load({ entity: 'orders', batchId: "20261126T0300'; --" as never, files: [] })).rejects.toThrow(/Invalid batch id/);
    await expect(wh.load({ entity: 'lineitem' as never, batchId: BATCH, files: [] })).rejects.toThrow(/Unknown entity "lineitem"/);
    await expect(wh.load({ entity: 'orders', batchId: BATCH, files: [], onError: 'skip' as never })).rejects.toThrow(/Unknown onError policy/);
    await expect(wh.transform('nope' as never)).rejects.toThrow(/Invalid batch id "nope"/);
  });

  it('refuses an unknown location, and a key that is not <location>/<BATCH_ID>/<path>', async () => {
    const file = await put('a', `${good(1)}\n`);
    expect(file.key).toBe(`orders/processing/${BATCH}/2026/11/26/03/a`);
    const load = (f: BatchFile, location?: unknown) => wh.load({ entity: 'orders', batchId: BATCH, files: [f], ...(location ? { location: location as never } : {}) });
    await expect(load(file, 'landing')).rejects.toThrow(/Unknown batch location "landing": expected 'processing' or 'processed'/);
    // Snowflake would read processed/ while DuckDB read the processing/ key: refused, naming both.
    await expect(load(file, 'processed')).rejects.toThrow(
      `Batch file "2026/11/26/03/a" has object key "orders/processing/${BATCH}/2026/11/26/03/a"; expected a key ending in "processed/${BATCH}/2026/11/26/03/a" (location 'processed')`,
    );
    await expect(load(file, 'processed')).rejects.toBeInstanceOf(LoadInputError);
    await expect(load({ ...file, key: file.key.replace(BATCH, '20261126T0000') })).rejects.toThrow(/expected a key ending in/);
    await expect(load({ ...file, key: `${file.key.slice(0, -1)}xa` })).rejects.toThrow(/expected a key ending in/);
    expect(await wh.readTasks(BATCH)).toEqual([]); // every refusal came before any write
  });

  it('a batch with no files loads nothing and succeeds', async () => {
    expect(await wh.load({ entity: 'customers', batchId: BATCH, files: [] })).toEqual({
      entity: 'customers',
      batchId: BATCH,
      files: [],
      rowsParsed: 0,
      rowsLoaded: 0,
      rowsRejected: 0,
    });
  });

  it.each(['abort', 'quarantine'] as const)('customers: a quoted empty name ("") is a missing name (%s)', async (onError) => {
    const body = '1,Customer#1,addr,1,555,1.00,BUILDING,c\n200,"",addr,1,555,1.00,BUILDING,c\n3,Customer#3,addr,1,555,1.00,BUILDING,c\n';
    const load = wh.load({ entity: 'customers', batchId: BATCH, files: [await put('c', body, 'customers')], onError });
    if (onError === 'abort') {
      const error = await load.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LoadRejectedError);
      expect((error as Error).message).toMatch(/record 2 column C_NAME: C_NAME is empty/);
      return;
    }
    expect(await load).toMatchObject({ rowsParsed: 3, rowsLoaded: 2, rowsRejected: 1 });
    const { LOAD_REJECTS } = await rawOrders();
    expect(LOAD_REJECTS).toMatchObject([{ ENTITY: 'customers', SOURCE_ROW: '2', COLUMN_NAME: 'C_NAME' }]);
  });

  it('customers: a missing name is rejected', async () => {
    const body = '1,Customer#1,addr,1,555,1.00,BUILDING,c\n2,,addr,1,555,1.00,BUILDING,c\n';
    const error = await wh.load({ entity: 'customers', batchId: BATCH, files: [await put('c', body, 'customers')] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoadRejectedError);
    expect((error as Error).message).toMatch(/record 2 column C_NAME: C_NAME is empty/);
  });
});
