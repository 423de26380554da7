// The real snowflake-sdk against a loopback server: what each authenticator sends at login, one connection
// per transaction, and errors that keep the driver's code and SQL state.
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toBatchId } from '@batchline/batch-id';
import { openWarehouse, WarehouseError } from '../src/index.js';
import { startLoginServer, type LoginServer } from './support/login-server.js';

const BATCH = toBatchId('20261126T0315');
let server: LoginServer;
let dir: string;
beforeAll(() => {
  process.env.SF_TELEMETRY_DISABLE_CONNECTION_SHAPE = '1';
  process.env.SNOWFLAKE_WIF_ALLOWED_HOST_SUFFIXES = '127.0.0.1';
});
afterAll(() => {
  delete process.env.SF_TELEMETRY_DISABLE_CONNECTION_SHAPE;
  delete process.env.SNOWFLAKE_WIF_ALLOWED_HOST_SUFFIXES;
});
beforeEach(async () => {
  server = await startLoginServer();
  dir = await mkdtemp(path.join(tmpdir(), 'batchline-sfdrv-'));
});
afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const url = () => `snowflake://testacct/RETAIL_DB/RETAIL_SCHEMA?warehouse=LOAD_WH&role=BATCHLINE&accessUrl=${encodeURIComponent(server.url)}`;

describe('snowflake-sdk login', () => {
  it('WORKLOAD_IDENTITY sends the OIDC token, a fresh one per connection', async () => {
    let n = 0;
    const wh = await openWarehouse(url(), {
      snowflake: { token: () => `oidc-token-${++n}` },
      env: { SNOWFLAKE_USER: 'GHA_BATCHLINE', SNOWFLAKE_AUTHENTICATOR: 'WORKLOAD_IDENTITY' },
    });
    expect(await wh.readTasks(BATCH)).toEqual([]);
    expect(await wh.readTasks(BATCH)).toEqual([]);
    expect(server.logins).toHaveLength(2);
    expect(server.logins[0]!.data).toMatchObject({ AUTHENTICATOR: 'WORKLOAD_IDENTITY', TOKEN: 'oidc-token-1', ACCOUNT_NAME: 'testacct' });
    expect(server.logins[1]!.data).toMatchObject({ TOKEN: 'oidc-token-2' });
    expect(server.logins[0]!.query.get('warehouse')).toBe('LOAD_WH');
    expect(server.logins[0]!.query.get('databaseName')).toBe('RETAIL_DB');
    expect(server.logins[0]!.query.get('schemaName')).toBe('RETAIL_SCHEMA');
    expect(server.logins[0]!.query.get('roleName')).toBe('BATCHLINE');
    expect(server.sessionsDeleted()).toBe(2);
  });

  it('SNOWFLAKE_JWT signs a JWT with the key from SNOWFLAKE_PRIVATE_KEY_PATH', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const keyPath = path.join(dir, 'rsa_key.p8');
    await writeFile(keyPath, privateKey);
    const wh = await openWarehouse(url(), { env: { SNOWFLAKE_USER: 'batchline_svc', SNOWFLAKE_PRIVATE_KEY_PATH: keyPath } });
    await wh.readTasks(BATCH);
    const data = server.logins[0]!.data;
    expect(data.AUTHENTICATOR).toBe('SNOWFLAKE_JWT');
    const [header, payload, signature] = String(data.TOKEN).split('.');
    expect(verify('sha256', Buffer.from(`${header}.${payload}`), createPublicKey(publicKey), Buffer.from(signature!, 'base64url'))).toBe(true);
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { iss: string; sub: string };
    expect(claims.sub).toBe('TESTACCT.BATCHLINE_SVC');
    expect(claims.iss).toMatch(/^TESTACCT\.BATCHLINE_SVC\.SHA256:/);
  });

  it('PROGRAMMATIC_ACCESS_TOKEN from a token file', async () => {
    const tokenFile = path.join(dir, 'pat');
    await writeFile(tokenFile, 'pat-value\n');
    const wh = await openWarehouse(url(), { env: { SNOWFLAKE_USER: 'u', SNOWFLAKE_AUTHENTICATOR: 'PROGRAMMATIC_ACCESS_TOKEN', SNOWFLAKE_TOKEN_FILE_PATH: tokenFile } });
    await wh.readTasks(BATCH);
    expect(server.logins[0]!.data).toMatchObject({ AUTHENTICATOR: 'PROGRAMMATIC_ACCESS_TOKEN', TOKEN: 'pat-value' });
  });

  it('a failed login rejects with the driver code (it does not hang or pass)', async () => {
    server.failLogin = '390100';
    const wh = await openWarehouse(url(), { env: { SNOWFLAKE_USER: 'u', SNOWFLAKE_AUTHENTICATOR: 'OAUTH', SNOWFLAKE_TOKEN: 'bad' } });
    const error = await wh.readTasks(BATCH).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WarehouseError);
    expect(error).toMatchObject({ code: '390100' });
    expect(String((error as Error).message)).toMatch(/login as u to testacct failed/);
    expect(server.queries).toEqual([]);
  });
});

describe('statements through the driver', () => {
  it('one connection per transaction: session settings, BEGIN, bound statement, COMMIT', async () => {
    const wh = await openWarehouse(url(), { env: { SNOWFLAKE_USER: 'u', SNOWFLAKE_AUTHENTICATOR: 'OAUTH', SNOWFLAKE_TOKEN: 't' } });
    await wh.readTasks(BATCH);
    expect(server.queries.map((q) => q.sqlText.split('\n')[0])).toEqual([
      "ALTER SESSION SET TIMEZONE = 'UTC'",
      `ALTER SESSION SET TIMESTAMP_OUTPUT_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF3TZH:TZM'`,
      `ALTER SESSION SET TIMESTAMP_LTZ_OUTPUT_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF3TZH:TZM'`,
      'ALTER SESSION SET LOCK_TIMEOUT = 300',
      'ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = 3600',
      'BEGIN TRANSACTION',
      'SELECT',
      'COMMIT',
    ]);
    expect(server.queries[6]!.sqlText).toContain('FROM BATCH_AUDIT\nWHERE BATCH_ID = ?');
    expect(server.queries[6]!.bindings).toEqual({ '1': { type: 'TEXT', value: BATCH } });
  });

  it('a compilation error keeps code, SQL state and query id, and the transaction rolls back', async () => {
    server.answer = (sql) => (sql.startsWith('DELETE FROM ORDER_LEDGER') ? { error: { code: '002003', message: "SQL compilation error:\nTable 'ORDER_LEDGER' does not exist or not authorized.", sqlState: '42S02' } } : undefined);
    const wh = await openWarehouse(url(), { env: { SNOWFLAKE_USER: 'u', SNOWFLAKE_AUTHENTICATOR: 'OAUTH', SNOWFLAKE_TOKEN: 't' } });
    const error = await wh.transform(BATCH).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WarehouseError);
    expect(error).toMatchObject({ code: '002003', sqlState: '42S02' });
    expect((error as WarehouseError).queryId).toMatch(/^q-\d+$/);
    expect((error as Error).message).toMatch(/does not exist or not authorized/);
    expect(server.queries.at(-1)!.sqlText).toBe('ROLLBACK');
    expect(server.queries.some((q) => q.sqlText === 'COMMIT')).toBe(false);
    expect(server.sessionsDeleted()).toBe(1);
  });
});
