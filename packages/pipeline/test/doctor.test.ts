// `batchline doctor` and `run`'s store guard, through the built bin, against real local stand-ins: the S3 test
// server with and without its conditional-write layer, snowflake-local through the real snowflake-sdk, and the
// Firehose test endpoint through the real @aws-sdk/client-firehose.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectStore } from '@batchline/s3-lifecycle';
import { openWarehouse, snowflakeAdminSql } from '@batchline/snowflake-loader';
import { startSnowflakeLocal, type SnowflakeLocal } from '@batchline/snowflake-local';
import { FirehoseEndpoint } from '../../kinesis-producer/test/support/firehose-endpoint.js';
import { s3StoreFixture, startS3Server, useGeneratedCredentials, type S3Server } from '../../s3-lifecycle/test/support/s3-server.js';
import { runCli } from './cli-helpers.js';

const ROOT = 'firehose/';
/** ARN-shaped, not a credential: the admin's storage integration records it. */
const ROLE_ARN = 'arn:aws:iam::123456789012:role/batchline-doctor';

interface DoctorJson {
  ok: boolean;
  checks: { area: string; id: string; ok: boolean; detail: string; fix?: string }[];
}

async function keys(store: ObjectStore): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list('')) out.push(o.key);
  return out;
}

let dir: string;
let good: S3Server;
let plain: S3Server;
let goodStore: ObjectStore & { bucket: string };
let plainStore: ObjectStore & { bucket: string };
let snowflake: SnowflakeLocal;
let firehose: FirehoseEndpoint;
const password = randomBytes(18).toString('base64url');

/** The child's environment: AWS credentials generated for this run, the S3 endpoint, Snowflake's login. */
function env(s3: S3Server, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID!,
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY!,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    SF_TELEMETRY_DISABLE_CONNECTION_SHAPE: '1',
    BATCHLINE_ROOT: ROOT,
    SNOWFLAKE_USER: 'batchline',
    SNOWFLAKE_AUTHENTICATOR: 'SNOWFLAKE',
    SNOWFLAKE_PASSWORD: password,
    ...extra,
  };
}

beforeAll(async () => {
  useGeneratedCredentials();
  dir = await mkdtemp(path.join(tmpdir(), 'batchline-doctor-'));
  [good, plain] = await Promise.all([startS3Server(), startS3Server({ conditionalWrites: false })]);
  goodStore = await s3StoreFixture(good);
  plainStore = await s3StoreFixture(plain);
  await goodStore.put(`${ROOT}orders/landing/2026/11/26/03/orders-1`, '1,1,F,1.00,2024-01-01,1-URGENT,Clerk#1,0,x\n');
  const stageUrl = `s3://${goodStore.bucket}/${ROOT}`;
  snowflake = await startSnowflakeLocal({ objectStore: goodStore, stageUrls: { [`s3://${goodStore.bucket}/`]: '' }, metadataFilename: 'bucket-path' });
  await snowflake.runAdmin(snowflakeAdminSql({ database: 'RETAIL_DB', schema: 'RETAIL_SCHEMA', stageUrl, storageAwsRoleArn: ROLE_ARN }));
  const wh = await openWarehouse(snowflake.warehouseUrl({ warehouse: 'LOAD_WH' }), {
    snowflake: { stageUrl },
    env: { SNOWFLAKE_USER: 'batchline', SNOWFLAKE_AUTHENTICATOR: 'SNOWFLAKE', SNOWFLAKE_PASSWORD: password },
  });
  await wh.setup();
  await wh.close();
  firehose = await new FirehoseEndpoint({
    streams: ['orders', 'customers'],
    destinations: {
      orders: { bucket: goodStore.bucket, prefix: `${ROOT}orders/landing/`, errorPrefix: `${ROOT}_errors/orders/` },
      customers: { bucket: goodStore.bucket, prefix: `${ROOT}customers/`, errorPrefix: `${ROOT}_errors/customers/` },
    },
  }).start();
}, 120_000);

afterAll(async () => {
  await firehose?.stop();
  await snowflake?.stop();
  await Promise.all([good?.close(), plain?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('batchline doctor', () => {
  it('passes against the S3 test server and snowflake-local, leaving nothing behind', async () => {
    const before = await keys(goodStore);
    const firstStatement = snowflake.statements().length;
    const result = await runCli(['doctor', '--json', '--store', `s3://${goodStore.bucket}`, '--warehouse', snowflake.warehouseUrl({ warehouse: 'LOAD_WH' })], { cwd: dir, env: env(good) });
    const report = JSON.parse(result.stdout) as DoctorJson;
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.code).toBe(0);
    const ids = report.checks.map((c) => `${c.area}:${c.id}`);
    for (const id of ['store:conditional-create', 'store:conditional-replace', 'store:missing-key', 'warehouse:login', 'warehouse:tables', 'warehouse:privileges', 'warehouse:stage-orders', 'warehouse:stage-customers']) {
      expect(ids).toContain(id);
    }
    // The stage check saw the scratch file and reports METADATA$FILENAME's shape (this server: the bucket path).
    expect(report.checks.find((c) => c.id === 'stage-orders')!.detail).toMatch(/with the stage's prefix \(firehose\/orders\/\)/);
    // Safe: the store holds exactly what it held, the warehouse holds no doctor row, no transaction is left open.
    expect(await keys(goodStore)).toEqual(before);
    expect(await snowflake.sql(`SELECT COUNT(*) AS N FROM RETAIL_DB.RETAIL_SCHEMA.ORDERS_RAW`)).toEqual([{ N: '0' }]);
    expect(snowflake.openTransactions()).toEqual([]);
    const ran = snowflake.statements().slice(firstStatement);
    expect(ran.filter((s) => /^(CREATE|DROP|ALTER TABLE|TRUNCATE|COMMIT)\b/.test(s.sqlText))).toEqual([]);
    expect(ran.some((s) => s.ok && s.sqlText.startsWith('COPY INTO ORDERS_RAW'))).toBe(true);
  });

  it('fails against a store without conditional writes, naming the fix, and prints a table by default', async () => {
    const duck = `duckdb://${path.join(dir, 'w.duckdb')}`;
    const result = await runCli(['doctor', '--store', `s3://${plainStore.bucket}`, '--warehouse', duck], { cwd: dir, env: env(plain) });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/^FAIL {2}store: a second putIfAbsent \(If-None-Match: \*\) of one key loses/m);
    expect(result.stdout).toMatch(/fix: Use a store that enforces conditional writes/);
    expect(result.stdout).toMatch(/^PASS {2}store: a missing key reads as absent/m);
    expect(result.stdout).toMatch(/2 of \d+ checks failed/);
    const json = JSON.parse((await runCli(['doctor', '--json', '--store', `s3://${plainStore.bucket}`, '--warehouse', duck], { cwd: dir, env: env(plain) })).stdout) as DoctorJson;
    expect(json.ok).toBe(false);
    expect(json.checks.filter((c) => !c.ok).map((c) => c.id)).toEqual(['conditional-create', 'conditional-replace']);
    expect(json.checks.every((c) => c.ok || (c.fix ?? '').length > 0)).toBe(true);
    expect(await keys(plainStore)).toEqual([]);
  });

  it('--firehose: each stream exists and writes under <root><entity>/landing/; a wrong prefix fails with the fix', async () => {
    const result = await runCli(['doctor', '--json', '--firehose', '--store', `s3://${goodStore.bucket}`, '--warehouse', `duckdb://${path.join(dir, 'f.duckdb')}`], {
      cwd: dir,
      env: env(good, { AWS_ENDPOINT_URL_FIREHOSE: firehose.url }),
    });
    const report = JSON.parse(result.stdout) as DoctorJson;
    const orders = report.checks.find((c) => c.id === 'firehose-orders')!;
    const customers = report.checks.find((c) => c.id === 'firehose-customers')!;
    expect(orders.ok).toBe(true);
    expect(customers.ok).toBe(false);
    expect(customers.detail).toContain(`expected "${ROOT}customers/landing/"`);
    expect(customers.fix).toContain(`prefix ${ROOT}customers/landing/`);
    expect(result.code).toBe(1);
  });
});

describe('run refuses a store that ignores conditional writes', () => {
  it('exits 2 naming batchline doctor, and goes ahead with --unsafe-ignore-conditional-writes', async () => {
    const duck = `duckdb://${path.join(dir, 'run.duckdb')}`;
    const args = ['run', '--batch', '20261126T0300', '--store', `s3://${plainStore.bucket}`, '--warehouse', duck];
    const refused = await runCli(args, { cwd: dir, env: env(plain) });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/does not enforce conditional writes/);
    expect(refused.stderr).toMatch(/batchline doctor/);
    expect(await keys(plainStore)).toEqual([]);
    const unsafe = await runCli([...args, '--unsafe-ignore-conditional-writes'], { cwd: dir, env: env(plain) });
    expect(unsafe.stderr).toMatch(/--unsafe-ignore-conditional-writes/);
    expect(unsafe.stderr).not.toMatch(/does not enforce conditional writes/);
    expect(unsafe.code, unsafe.stderr).toBe(0);
  });

  it('checks a good store once, then trusts the marker under _batchline/', async () => {
    const duck = `duckdb://${path.join(dir, 'run2.duckdb')}`;
    const result = await runCli(['run', '--batch', '20261126T0300', '--store', `s3://${goodStore.bucket}`, '--warehouse', duck], { cwd: dir, env: env(good) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/conditional writes/);
    expect(await keys(goodStore)).toContain(`${ROOT}_batchline/store-checks/conditional-writes.json`);
  });
});
