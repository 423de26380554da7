// COPY that cannot miscount, in both shapes Snowflake may give METADATA$FILENAME (relative to the stage, or the
// object's path in the bucket with the stage's prefix), and under both ON_ERROR modes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBatchId } from '@batchline/batch-id';
import { FileObjectStore, ObjectNotFoundError } from '@batchline/s3-lifecycle';
import { CorruptFileError, LoadMismatchError, type BatchFile, type OnErrorPolicy } from '@batchline/snowflake-loader';
import type { StageFileSource } from '../src/index.js';
import { gzipSync } from 'node:zlib';
import { csvLine, customer, order, startHarness, type Harness } from './loader-harness.js';

const B = toBatchId('20261126T0315');

/** Files whose key contains "vanishing" can be read once (the validation), then are gone (the COPY). */
const vanishing = (store: FileObjectStore): StageFileSource => {
  const reads = new Map<string, number>();
  return {
    get: async (key) => {
      const n = (reads.get(key) ?? 0) + 1;
      reads.set(key, n);
      if (key.includes('vanishing') && n > 1) throw new ObjectNotFoundError(key);
      return store.get(key);
    },
  };
};

describe.each(['stage-relative', 'bucket-path'] as const)('METADATA$FILENAME %s', (metadataFilename) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ metadataFilename, stageView: vanishing });
  });
  afterAll(() => h.close());

  it.each(['abort', 'quarantine'] as const)('on_error %s: SOURCE_FILE is processing/<id>/<path> for every row, and counts reconcile', async (onError: OnErrorPolicy) => {
    const wh = await h.warehouse();
    await wh.setup();
    const files = [
      await h.put('orders', B, '2026/11/26/03/orders-1-a', [order(1, 1), order(2, 1)]),
      await h.put('orders', B, 'nested dir/with space/orders-1-b', [order(3, 2)]),
    ];
    const result = await wh.load({ entity: 'orders', batchId: B, files, onError });
    expect(result.files.map((f) => [f.path, f.rowsLoaded])).toEqual([
      ['2026/11/26/03/orders-1-a', 2],
      ['nested dir/with space/orders-1-b', 1],
    ]);
    // The stage really handed out names in the configured shape.
    const copies = h.server.statements().filter((s) => s.ok && /^COPY INTO ORDERS_RAW/.test(s.sqlText));
    expect(copies.length).toBeGreaterThan(0);
    const rows = await h.server.sql(`SELECT SOURCE_FILE, COUNT(*) AS N FROM RETAIL_DB.RETAIL_SCHEMA.ORDERS_RAW WHERE BATCH_ID = '${B}' GROUP BY 1 ORDER BY 1`);
    expect(rows).toEqual([
      { SOURCE_FILE: `processing/${B}/2026/11/26/03/orders-1-a`, N: '2' },
      { SOURCE_FILE: `processing/${B}/nested dir/with space/orders-1-b`, N: '1' },
    ]);
  });

  it('the server gives METADATA$FILENAME in the configured shape', async () => {
    // A COPY that stores the raw name, so the test sees what the loader's SQL had to cope with.
    const wh = await h.warehouse();
    await wh.setup();
    const file = await h.put('customers', B, 'shape/customers-1', [customer(1, 'A')]);
    await h.server.sql(
      `COPY INTO RETAIL_DB.RETAIL_SCHEMA.CUSTOMERS_RAW (C_CUSTKEY, BATCH_ID, SOURCE_FILE, SOURCE_ROW, LOADED_AT) FROM (SELECT $1, 'SHAPE', METADATA$FILENAME, METADATA$FILE_ROW_NUMBER, CURRENT_TIMESTAMP() FROM @RETAIL_DB.RETAIL_SCHEMA.CUSTOMERS_STAGE/processing/${B}/) FILES = ('${file.path}') FORCE = TRUE`,
    );
    const [row] = await h.server.sql(`SELECT SOURCE_FILE FROM RETAIL_DB.RETAIL_SCHEMA.CUSTOMERS_RAW WHERE BATCH_ID = 'SHAPE'`);
    expect(row!.SOURCE_FILE).toBe(metadataFilename === 'stage-relative' ? `processing/${B}/shape/customers-1` : `firehose/customers/processing/${B}/shape/customers-1`);
  });

  it.each(['abort', 'quarantine'] as const)('on_error %s: a requested file that is not on the stage at all fails the load, naming it', async (onError: OnErrorPolicy) => {
    const wh = await h.warehouse();
    await wh.setup();
    const present = await h.put('orders', B, 'present/orders-1', [order(10, 1)]);
    const missing: BatchFile = { path: 'gone/orders-2', key: `firehose/orders/processing/${B}/gone/orders-2`, size: 42 };
    const error = await wh.load({ entity: 'orders', batchId: B, files: [present, missing], onError }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toContain('gone/orders-2');
    const [count] = await h.server.sql(`SELECT COUNT(*) AS N FROM RETAIL_DB.RETAIL_SCHEMA.ORDERS_RAW WHERE SOURCE_FILE LIKE '%present/orders-1'`);
    expect(count!.N).toBe('0');
  });

  it.each(['abort', 'quarantine'] as const)('on_error %s: a file the COPY does not report (gone after validation) fails the load, naming it', async (onError: OnErrorPolicy) => {
    const wh = await h.warehouse();
    await wh.setup();
    const present = await h.put('orders', B, `present-${onError}/orders-1`, [order(20, 1)]);
    const gone = await h.put('orders', B, `vanishing-${onError}/orders-2`, [order(21, 1), order(22, 1)]);
    const error = await wh.load({ entity: 'orders', batchId: B, files: [present, gone], onError }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toContain(`vanishing-${onError}/orders-2`);
    if (onError === 'quarantine') {
      // Snowflake skips it silently under CONTINUE (no result row): the loader notices, instead of counting 0 rows.
      expect(error).toBeInstanceOf(LoadMismatchError);
      expect((error as Error).message).toMatch(/COPY returned no result for 1 requested file/);
    }
    // Rolled back: nothing of this attempt was kept.
    const [count] = await h.server.sql(`SELECT COUNT(*) AS N FROM RETAIL_DB.RETAIL_SCHEMA.ORDERS_RAW WHERE SOURCE_FILE LIKE '%present-${onError}/%'`);
    expect(count!.N).toBe('0');
  });

  it.each(['abort', 'quarantine'] as const)('on_error %s: a truncated gzip object is a CorruptFileError naming it, and nothing is loaded', async (onError: OnErrorPolicy) => {
    const wh = await h.warehouse();
    await wh.setup();
    const good = await h.put('customers', B, `gz-${onError}/customers-1`, [customer(7, 'G')]);
    const whole = gzipSync(Buffer.from([customer(8, 'H'), customer(9, 'I')].map(csvLine).join('\n') + '\n'));
    const cut = whole.subarray(0, whole.length - 9);
    const key = `firehose/customers/processing/${B}/gz-${onError}/customers-2.gz`;
    await h.store.put(key, cut);
    const error = await wh
      .load({ entity: 'customers', batchId: B, files: [good, { path: `gz-${onError}/customers-2.gz`, key, size: cut.length }], onError })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptFileError);
    expect((error as CorruptFileError).file).toBe(`processing/${B}/gz-${onError}/customers-2.gz`);
    expect((error as Error).message).toMatch(/truncated or corrupt gzip/);
    const [count] = await h.server.sql(`SELECT COUNT(*) AS N FROM RETAIL_DB.RETAIL_SCHEMA.CUSTOMERS_RAW WHERE SOURCE_FILE LIKE '%gz-${onError}/%'`);
    expect(count!.N).toBe('0');
  });
});
