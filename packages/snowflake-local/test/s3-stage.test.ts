// Stages over the local S3 server (fauxqs on loopback) through @batchline/s3-lifecycle's S3ObjectStore:
// the files are streamed with get(), and a COPY without FILES lists the stage path.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { buildApp } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore, createS3Client } from '@batchline/s3-lifecycle';
import { startSnowflakeLocal, type SnowflakeLocal } from '../src/index.js';
import { connect, type Client } from './helpers.js';
import { BUCKET_ROOT, sessionText, setupTexts } from './repo-sql.js';

const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
let app: ReturnType<typeof buildApp>;
let server: SnowflakeLocal;
let client: Client;
let store: S3ObjectStore;

beforeAll(async () => {
  // fauxqs checks no signature; the SDK still wants credentials, made up per run.
  process.env.AWS_ACCESS_KEY_ID = `TEST${randomBytes(8).toString('hex').toUpperCase()}`;
  process.env.AWS_SECRET_ACCESS_KEY = randomBytes(20).toString('hex');
  app = buildApp({ logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address() as { port: number };
  const s3 = createS3Client({ endpoint: `http://127.0.0.1:${address.port}`, maxAttempts: 2 });
  await s3.send(new CreateBucketCommand({ Bucket: 'lake' }));
  store = new S3ObjectStore({ bucket: 'lake', client: s3 });
  server = await startSnowflakeLocal({ objectStore: store, stageUrls: { [BUCKET_ROOT]: 'firehose/' } });
  client = await connect(server);
  for (const text of setupTexts()) await client.exec(text, undefined, { MULTI_STATEMENT_COUNT: 0 });
  await client.exec(sessionText, undefined, { MULTI_STATEMENT_COUNT: 0 });
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
  await app?.close();
  process.env.AWS_ACCESS_KEY_ID = saved.id;
  process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
  if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
  if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
});

describe('a stage over the local S3 server', () => {
  it('COPY streams the named files from S3, and lists the stage path when FILES is absent', async () => {
    await store.put('firehose/customers/processing/20240101T0000/a', '1,Alice,addr,7,10-1,1.00,BUILDING,c\n');
    await store.put('firehose/customers/processing/20240101T0000/b.gz', gzipSync('2,"Bob, Jr.",addr,7,10-2,2.00,MACHINERY,c\n3,Carol,addr,8,10-3,3.00,HOUSEHOLD,c\n'));
    await store.put('firehose/customers/processing/20240101T0001/other', '9,Other,addr,9,10-9,9.00,BUILDING,c\n');
    const copy = (files: string) => `COPY INTO CUSTOMERS_RAW (C_CUSTKEY, C_NAME, C_ADDRESS, C_NATIONKEY, C_PHONE, C_ACCTBAL, C_MKTSEGMENT, C_COMMENT, BATCH_ID, SOURCE_FILE, SOURCE_ROW, LOADED_AT)
      FROM (SELECT $1, $2, $3, $4, $5, $6, $7, $8, '20240101T0000', METADATA$FILENAME, METADATA$FILE_ROW_NUMBER, CURRENT_TIMESTAMP() FROM @CUSTOMERS_STAGE/processing/20240101T0000/)
      ${files} FILE_FORMAT = (FORMAT_NAME = 'CSV_FORMAT') FORCE = TRUE`;
    const named = await client.exec(copy("FILES = ('a')"));
    expect(named.map((r) => [r.file, r.rows_loaded])).toEqual([[`${BUCKET_ROOT}customers/processing/20240101T0000/a`, 1]]);
    const listed = await client.exec(copy(''));
    expect(listed.map((r) => [r.file, r.rows_loaded])).toEqual([
      [`${BUCKET_ROOT}customers/processing/20240101T0000/a`, 1],
      [`${BUCKET_ROOT}customers/processing/20240101T0000/b.gz`, 2],
    ]);
    const names = await client.exec('SELECT C_NAME, SOURCE_FILE FROM CUSTOMERS_RAW ORDER BY C_CUSTKEY, SOURCE_FILE');
    expect(names.map((r) => r.C_NAME)).toEqual(['Alice', 'Alice', 'Bob, Jr.', 'Carol']);
  });
});
