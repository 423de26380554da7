// The whole run with the snowflake:// warehouse: the real snowflake-sdk (key-pair login) against
// snowflake-local on 127.0.0.1, COPY from a stage over the same file store. Its curated figures must
// equal the DuckDB run's on identical landing files, and the independently computed ones.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileObjectStore, createBatchLifecycle } from '@batchline/s3-lifecycle';
import { type Warehouse, openWarehouse, snowflakeAdminSql } from '@batchline/snowflake-loader';
import { type SnowflakeLocal, startSnowflakeLocal } from '@batchline/snowflake-local';
import { demoBatchIds, demoDataset } from '../src/demo.js';
import type { RunReport } from '../src/report.js';
import { runBatch } from '../src/run-batch.js';
import { toCsv } from '../src/sample-data.js';
import { expectedBatches } from './helpers.js';

const ROOT = 'firehose/';
const STAGE_URL = 's3://batchline-e2e/firehose/';
/** ARN-shaped, not a credential: setup() creates the storage integration only when one is given. */
const ROLE_ARN = 'arn:aws:iam::123456789012:role/batchline-e2e';
const dataset = demoDataset(0.001);
const batches = demoBatchIds();

let dir: string;
let server: SnowflakeLocal;
let snowflake: Warehouse;
const reports: { duckdb: RunReport[]; snowflake: RunReport[] } = { duckdb: [], snowflake: [] };
let duckdbUrl: string;
let duckStore: FileObjectStore;

/** Every data table on the local Snowflake, rows sorted, load timestamps excluded: what a replay must reproduce. */
async function warehouseTables(): Promise<Record<string, Record<string, string | null>[]>> {
  const queries = {
    ORDERS_RAW: 'SELECT * EXCLUDE (LOADED_AT) FROM RETAIL_DB.RETAIL_SCHEMA.ORDERS_RAW',
    CUSTOMERS_RAW: 'SELECT * EXCLUDE (LOADED_AT) FROM RETAIL_DB.RETAIL_SCHEMA.CUSTOMERS_RAW',
    LOAD_REJECTS: 'SELECT * EXCLUDE (REJECTED_AT) FROM RETAIL_DB.RETAIL_SCHEMA.LOAD_REJECTS',
    ORDER_LEDGER: 'SELECT * FROM RETAIL_DB.RETAIL_SCHEMA.ORDER_LEDGER',
    ORDER_CUSTOMER_DATE_PRICE: 'SELECT * FROM RETAIL_DB.RETAIL_SCHEMA.ORDER_CUSTOMER_DATE_PRICE',
  };
  const out: Record<string, Record<string, string | null>[]> = {};
  for (const [table, sql] of Object.entries(queries)) {
    const rows = await server.sql(sql);
    out[table] = [...rows].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  }
  return out;
}

/** The same landing objects for each engine: two per entity and batch, headerless CSV as Firehose writes. */
async function land(store: FileObjectStore, part: 'batch1' | 'batch2'): Promise<void> {
  const lifecycle = createBatchLifecycle(store, { root: ROOT });
  for (const entity of ['orders', 'customers'] as const) {
    const rows = dataset[part][entity] as never[];
    const half = Math.ceil(rows.length / 2);
    for (const [i, chunk] of [rows.slice(0, half), rows.slice(half)].entries()) {
      if (chunk.length === 0) continue;
      await store.put(`${lifecycle.landingPrefix(entity)}2026/01/01/00/${entity}-1-${part}-${i}`, toCsv(entity, chunk));
    }
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'batchline-sfl-'));
  const sfStore = new FileObjectStore(path.join(dir, 'snowflake-bucket'));
  duckStore = new FileObjectStore(path.join(dir, 'duckdb-bucket'));
  duckdbUrl = `duckdb://${path.join(dir, 'w.duckdb')}`;
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const keyPath = path.join(dir, 'rsa_key.p8');
  await writeFile(keyPath, privateKey, { mode: 0o600 });
  server = await startSnowflakeLocal({ objectStore: sfStore, stageUrls: { [STAGE_URL]: ROOT }, users: { BATCHLINE_SVC: { publicKey } } });
  const url = `snowflake://${server.account}/RETAIL_DB/RETAIL_SCHEMA?warehouse=LOAD_WH&accessUrl=${encodeURIComponent(server.accessUrl)}`;
  await server.runAdmin(snowflakeAdminSql({ database: 'RETAIL_DB', schema: 'RETAIL_SCHEMA', stageUrl: STAGE_URL, storageAwsRoleArn: ROLE_ARN }));
  snowflake = await openWarehouse(url, {
    files: sfStore,
    snowflake: { stageUrl: STAGE_URL },
    env: { SNOWFLAKE_USER: 'batchline_svc', SNOWFLAKE_PRIVATE_KEY_PATH: keyPath },
  });
  await snowflake.setup();
  for (const [i, part] of (['batch1', 'batch2'] as const).entries()) {
    await land(sfStore, part);
    await land(duckStore, part);
    reports.snowflake.push(await runBatch({ store: sfStore, warehouse: snowflake, batchId: batches[i]!, root: ROOT, settleSeconds: 0 }));
    reports.duckdb.push(await runBatch({ store: duckStore, warehouse: duckdbUrl, batchId: batches[i]!, root: ROOT, settleSeconds: 0 }));
  }
}, 120_000);

afterAll(async () => {
  await snowflake?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the pipeline on the snowflake:// warehouse (snowflake-local)', () => {
  it('runs both batches through all seven tasks', () => {
    for (const r of reports.snowflake) {
      expect(r.status, r.error).toBe('succeeded');
      expect(r.tasks.map((t) => t.state)).toEqual(Array(7).fill('succeeded'));
    }
    expect(server.logins().every((l) => l.accepted && l.authenticator === 'SNOWFLAKE_JWT')).toBe(true);
  });

  it('loads exactly the manifest files with COPY ... FILES=', () => {
    const copies = server.queries().filter((q) => /COPY INTO ORDERS_RAW/.test(q.sqlText) && !/VALIDATION_MODE/.test(q.sqlText));
    expect(copies.length).toBeGreaterThan(0);
    expect(copies.at(-1)!.sqlText).toMatch(/FILES\s*=\s*\(/);
  });

  it('gives the same curated figures as the DuckDB run, equal to the independently computed ones', async () => {
    const duck = await openWarehouse(duckdbUrl);
    try {
      const expected = expectedBatches(dataset);
      for (const [i, batchId] of batches.entries()) {
        const sf = await snowflake.curatedRows(batchId);
        expect(sf).toEqual(await duck.curatedRows(batchId));
        expect(new Map(sf.map((r) => [`${r.customerName}|${r.orderDate}`, r.orderTotalPrice]))).toEqual(expected[i]!.curated);
        expect(reports.snowflake[i]!.curated).toEqual(reports.duckdb[i]!.curated);
        expect(reports.snowflake[i]!.entities).toEqual(reports.duckdb[i]!.entities);
      }
      expect(expected[1].late).toBeGreaterThan(0);
      expect(reports.snowflake[1]!.curated.late).toBe(expected[1].late);
    } finally {
      await duck.close();
    }
  });

  it('records task state in BATCH_AUDIT on Snowflake, so a rerun skips everything', async () => {
    const again = await runBatch({ store: new FileObjectStore(path.join(dir, 'snowflake-bucket')), warehouse: snowflake, batchId: batches[0]!, root: ROOT });
    expect(again.tasks.map((t) => t.state)).toEqual(Array(7).fill('skipped'));
    expect(again.curated.rows).toBe(reports.snowflake[0]!.curated.rows);
  });

  it('replays the archived batches through the pipeline: COPY reads processed/<id>/, every table identical row for row', async () => {
    const store = new FileObjectStore(path.join(dir, 'snowflake-bucket'));
    const keys = async (prefix: string) => {
      const out: string[] = [];
      for await (const o of store.list(prefix)) out.push(o.key);
      return out;
    };
    // Both batches were archived by the clean runs: the claim's processing/ keys are gone.
    for (const entity of ['orders', 'customers']) {
      expect(await keys(`${ROOT}${entity}/processing/`)).toEqual([]);
      expect((await keys(`${ROOT}${entity}/processed/`)).length).toBeGreaterThan(0);
    }
    const clean = await warehouseTables();
    expect(clean.ORDERS_RAW!.length).toBeGreaterThan(0);
    expect(clean.ORDERS_RAW!.every((r) => /^processing\/\d{8}T\d{4}\//.test(r.SOURCE_FILE!))).toBe(true);
    const before = server.queries().length;
    for (const batchId of batches) {
      const report = await runBatch({ store, warehouse: snowflake, batchId, root: ROOT, force: true });
      expect(report.status, report.error).toBe('succeeded');
      expect(report.tasks.map((t) => t.state)).toEqual(Array(7).fill('succeeded'));
    }
    // Each entity and batch with files: a validation COPY and a load COPY, both reading processed/<id>/.
    const copies = server.queries().slice(before).map((q) => q.sqlText).filter((sql) => /^COPY INTO (ORDERS|CUSTOMERS)_(RAW|CSV)/.test(sql));
    let expectedCopies = 0;
    for (const batchId of batches) {
      for (const [entity, stage] of [['orders', 'ORDERS_STAGE'], ['customers', 'CUSTOMERS_STAGE']] as const) {
        if ((await keys(`${ROOT}${entity}/processed/${batchId}/`)).length === 0) continue;
        expectedCopies += 2;
        expect(copies.filter((sql) => sql.includes(`FROM @${stage}/processed/${batchId}/`))).toHaveLength(2);
      }
    }
    expect(expectedCopies).toBeGreaterThan(0);
    expect(copies).toHaveLength(expectedCopies);
    expect(await warehouseTables()).toEqual(clean);
  });
});
