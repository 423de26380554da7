// Every authenticator the loader supports, through the real snowflake-sdk, against snowflake-local with users
// whose credentials it checks: a right credential logs in (and runs a transaction), a wrong one is refused.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBatchId } from '@batchline/batch-id';
import { openWarehouse, snowflakeAdminSql, WarehouseError } from '@batchline/snowflake-loader';
import { startSnowflakeLocal, type SnowflakeLocal } from '../src/index.js';

const B = toBatchId('20261126T0315');
const secret = () => randomBytes(18).toString('base64url');

let dir: string;
let server: SnowflakeLocal;
let keyPath: string;
const tokens = { oauth: secret(), pat: secret(), oidc: secret(), password: secret() };

beforeAll(async () => {
  process.env.SF_TELEMETRY_DISABLE_CONNECTION_SHAPE = '1';
  process.env.SNOWFLAKE_WIF_ALLOWED_HOST_SUFFIXES = '127.0.0.1';
  dir = await mkdtemp(path.join(tmpdir(), 'sfl-auth-'));
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  keyPath = path.join(dir, 'rsa_key.p8');
  await writeFile(keyPath, privateKey, { mode: 0o600 });
  server = await startSnowflakeLocal({
    users: {
      KEYPAIR_SVC: { publicKey },
      OAUTH_USER: { token: tokens.oauth },
      PAT_USER: { token: tokens.pat },
      GHA_BATCHLINE: { token: tokens.oidc },
      PW_USER: { password: tokens.password },
    },
  });
  await server.runAdmin(snowflakeAdminSql({ database: 'RETAIL_DB', schema: 'RETAIL_SCHEMA' }));
  // Tables for readTasks(): setup as any user.
  const wh = await openWarehouse(server.warehouseUrl(), { env: { SNOWFLAKE_USER: 'PW_USER', SNOWFLAKE_AUTHENTICATOR: 'SNOWFLAKE', SNOWFLAKE_PASSWORD: tokens.password } });
  await wh.setup();
});

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  delete process.env.SF_TELEMETRY_DISABLE_CONNECTION_SHAPE;
  delete process.env.SNOWFLAKE_WIF_ALLOWED_HOST_SUFFIXES;
});

type Case = { name: string; expectUser: string; env: () => Record<string, string>; options?: () => Record<string, unknown>; wrong: () => Record<string, string> };

const CASES: Case[] = [
  {
    name: 'SNOWFLAKE_JWT (key pair)',
    expectUser: 'KEYPAIR_SVC',
    env: () => ({ SNOWFLAKE_USER: 'keypair_svc', SNOWFLAKE_PRIVATE_KEY_PATH: keyPath }),
    wrong: () => ({ SNOWFLAKE_USER: 'oauth_user', SNOWFLAKE_PRIVATE_KEY_PATH: keyPath }),
  },
  {
    name: 'OAUTH',
    expectUser: 'OAUTH_USER',
    env: () => ({ SNOWFLAKE_USER: 'oauth_user', SNOWFLAKE_AUTHENTICATOR: 'OAUTH', SNOWFLAKE_TOKEN: tokens.oauth }),
    wrong: () => ({ SNOWFLAKE_USER: 'oauth_user', SNOWFLAKE_AUTHENTICATOR: 'OAUTH', SNOWFLAKE_TOKEN: secret() }),
  },
  {
    name: 'PROGRAMMATIC_ACCESS_TOKEN',
    expectUser: 'PAT_USER',
    env: () => ({ SNOWFLAKE_USER: 'pat_user', SNOWFLAKE_AUTHENTICATOR: 'PROGRAMMATIC_ACCESS_TOKEN', SNOWFLAKE_TOKEN: tokens.pat }),
    wrong: () => ({ SNOWFLAKE_USER: 'pat_user', SNOWFLAKE_AUTHENTICATOR: 'PROGRAMMATIC_ACCESS_TOKEN', SNOWFLAKE_TOKEN: tokens.oauth }),
  },
  {
    name: 'WORKLOAD_IDENTITY without a user name (the token names the user)',
    expectUser: 'GHA_BATCHLINE',
    env: () => ({ SNOWFLAKE_AUTHENTICATOR: 'WORKLOAD_IDENTITY', SNOWFLAKE_TOKEN: tokens.oidc }),
    wrong: () => ({ SNOWFLAKE_AUTHENTICATOR: 'WORKLOAD_IDENTITY', SNOWFLAKE_TOKEN: secret() }),
  },
  {
    name: 'WORKLOAD_IDENTITY from the ambient GitHub OIDC provider',
    expectUser: 'GHA_BATCHLINE',
    env: () => ({ SNOWFLAKE_AUTHENTICATOR: 'WORKLOAD_IDENTITY' }),
    options: () => ({ workloadIdentityToken: () => tokens.oidc }),
    wrong: () => ({ SNOWFLAKE_AUTHENTICATOR: 'WORKLOAD_IDENTITY', SNOWFLAKE_TOKEN: secret() }),
  },
  {
    name: 'SNOWFLAKE (password, local use)',
    expectUser: 'PW_USER',
    env: () => ({ SNOWFLAKE_USER: 'pw_user', SNOWFLAKE_AUTHENTICATOR: 'SNOWFLAKE', SNOWFLAKE_PASSWORD: tokens.password }),
    wrong: () => ({ SNOWFLAKE_USER: 'pw_user', SNOWFLAKE_AUTHENTICATOR: 'SNOWFLAKE', SNOWFLAKE_PASSWORD: secret() }),
  },
];

describe('every authenticator through snowflake-sdk against snowflake-local', () => {
  it.each(CASES)('$name: logs in as the right user and runs a transaction; a wrong credential is refused', async (c) => {
    const before = server.logins().length;
    const wh = await openWarehouse(server.warehouseUrl({ warehouse: 'LOAD_WH' }), { env: c.env(), ...(c.options ? { snowflake: c.options() } : {}) });
    expect(await wh.readTasks(B)).toEqual([]);
    const login = server.logins().slice(before);
    expect(login.map((l) => [l.accepted, l.user.toUpperCase()])).toEqual([[true, c.expectUser]]);

    const bad = await openWarehouse(server.warehouseUrl(), { env: c.wrong() });
    const error = await bad.readTasks(B).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WarehouseError);
    expect((error as WarehouseError).code).toBe('390100');
    expect(server.logins().at(-1)!.accepted).toBe(false);
  });

  it('an OAuth login with the GitHub provider around still sends its own token', async () => {
    const before = server.logins().length;
    const wh = await openWarehouse(server.warehouseUrl(), {
      env: { SNOWFLAKE_USER: 'oauth_user', SNOWFLAKE_AUTHENTICATOR: 'OAUTH', SNOWFLAKE_TOKEN: tokens.oauth },
      snowflake: { workloadIdentityToken: () => tokens.oidc },
    });
    await wh.readTasks(B);
    expect(server.logins().slice(before).map((l) => [l.accepted, l.user.toUpperCase(), l.authenticator])).toEqual([[true, 'OAUTH_USER', 'OAUTH']]);
  });
});
