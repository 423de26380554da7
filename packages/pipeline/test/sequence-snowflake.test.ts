// The sequence on the snowflake:// warehouse: the real snowflake-sdk against snowflake-local (127.0.0.1), two
// runs sharing one warehouse, keys S3 allows, and pinned files checked around the COPY.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BatchId } from '@batchline/batch-id';
import { FileObjectStore } from '@batchline/s3-lifecycle';
import { type OpenWarehouseOptions, type Warehouse, openWarehouse, snowflakeAdminSql } from '@batchline/snowflake-loader';
import { type SnowflakeLocal, startSnowflakeLocal } from '@batchline/snowflake-local';
import { runBatch } from '../src/run-batch.js';
import { type Bench, type Order, ROOT, curatedText, openBench, oracle, orderLine } from './sequence-support.js';

const STAGE_URL = 's3://batchline-seq/';
/** ARN-shaped, not a credential. */
const ROLE_ARN = 'arn:aws:iam::123456789012:role/batchline-seq';

let dir: string;
let server: SnowflakeLocal;
let url: string;
let options: Omit<OpenWarehouseOptions, 'files'>;
let store: FileObjectStore;
let reader: Warehouse;
let bench: Bench;

const order = (key: number, cust: number, cents: number): Order => ({ key, cust, status: 'F', cents, date: '2026-01-04' });

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'batchline-seq-sf-'));
  store = new FileObjectStore(path.join(dir, 'bucket'));
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const keyPath = path.join(dir, 'rsa_key.p8');
  await writeFile(keyPath, privateKey, { mode: 0o600 });
  server = await startSnowflakeLocal({ objectStore: store, stageUrls: { [STAGE_URL]: ROOT }, users: { BATCHLINE_SVC: { publicKey } } });
  url = `snowflake://${server.account}/RETAIL_DB/RETAIL_SCHEMA?warehouse=LOAD_WH&accessUrl=${encodeURIComponent(server.accessUrl)}`;
  await server.runAdmin(snowflakeAdminSql({ database: 'RETAIL_DB', schema: 'RETAIL_SCHEMA', stageUrl: STAGE_URL, storageAwsRoleArn: ROLE_ARN }));
  options = { snowflake: { stageUrl: STAGE_URL }, env: { SNOWFLAKE_USER: 'batchline_svc', SNOWFLAKE_PRIVATE_KEY_PATH: keyPath } };
  reader = await openWarehouse(url, { ...options, files: store });
  await reader.setup();
  bench = await openBench({ store, warehouse: reader });
}, 120_000);

afterAll(async () => {
  await reader?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const run = (batchId: string, extra: Partial<Parameters<typeof runBatch>[0]> = {}) =>
  runBatch({ store, warehouse: url, warehouseOptions: options, batchId, root: ROOT, settleSeconds: 0, tasks: { default: { retries: 0 } }, ...extra });

describe('the sequence on Snowflake (snowflake-local)', () => {
  it('situation 1 and 8: two runs share one warehouse; keys with space, #, &, \', %, non-ASCII load; both batches end done', async () => {
    const keys = ['a b/o 1', 'h#&/o&2', "q'/o'3", 'p%25/o%4', 'ü/ørdér-日本'];
    for (const [i, key] of keys.entries()) await bench.land({ entity: 'orders', path: key, orders: [order(1 + i, 1 + (i % 2), 100 + i)] });
    await bench.land({ entity: 'customers', path: 'c/1', customers: [{ key: 1, name: 'Ann' }, { key: 2, name: "O'Brien" }] });
    const [a, b] = await Promise.all([run('20260105T0000'), run('20260105T0015')]);
    expect([a.status, b.status]).toContain('succeeded');
    for (const r of [a, b]) expect(['succeeded', 'waiting', 'superseded'], `${r.batchId}: ${r.error} ${JSON.stringify(r.tasks)}`).toContain(r.status);
    const pinned = await bench.pinned();
    const paths = pinned.flatMap((p) => p.files.map((f) => `${f.entity}/${f.path}`));
    expect(paths.sort()).toEqual([...bench.landed.keys()].sort());
    for (const p of pinned) {
      const tasks = await reader.readTasks(p.batchId);
      expect(tasks.filter((t) => t.state === 'succeeded')).toHaveLength(7);
    }
    // Every COPY named its files as quoted literals: the key with a quote went in doubled.
    expect(server.queries().some((q) => /COPY INTO ORDERS_RAW/.test(q.sqlText) && q.sqlText.includes("q''/o''3"))).toBe(true);
    expect(curatedText(await reader.curatedRows())).toEqual(oracle(pinned));
    expect(await bench.leftovers()).toEqual([]);
  }, 120_000);

  it('situation 6: a replay of an archived batch whose file changed (same size) is refused by name; the table is unchanged', async () => {
    const pinned = await bench.pinned();
    const batch = pinned.find((p) => p.files.some((f) => f.entity === 'orders'))!;
    const file = batch.files.find((f) => f.entity === 'orders')!;
    const before = curatedText(await reader.curatedRows());
    const line = orderLine(file.orders![0]!);
    const changed = line.replace(/,(\d)\.(\d\d),/, (_m, a: string, b: string) => `,${(Number(a) + 1) % 10}.${b},`);
    expect(changed.length).toBe(line.length);
    expect(changed).not.toBe(line);
    await store.put(`${ROOT}orders/processed/${batch.batchId}/${file.path}`, Buffer.from(`${[changed, ...file.orders!.slice(1).map(orderLine)].join('\n')}\n`));
    const attemptsBefore = (await reader.readTasks(batch.batchId as BatchId)).find((t) => t.task === 'load:orders')!.attempt;
    const replay = await run(batch.batchId, { force: true, tasks: { default: { retries: 2, backoffSeconds: 0 } } });
    expect(replay.status).toBe('failed');
    expect(replay.failedTask).toBe('load:orders');
    expect(replay.error).toContain(JSON.stringify(file.path).slice(1, -1));
    // Permanent: one attempt, although the policy allows two retries.
    expect(replay.tasks.find((t) => t.task === 'load:orders')!.attempt).toBe(attemptsBefore + 1);
    expect(curatedText(await reader.curatedRows())).toEqual(before);
  }, 120_000);
});
