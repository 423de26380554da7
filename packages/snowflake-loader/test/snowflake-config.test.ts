import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSnowflakeUrl, resolveSnowflakeConfig } from '../src/adapters/snowflake/config.js';
import { connectionOptions } from '../src/adapters/snowflake/connection.js';
import { WarehouseConfigError } from '../src/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'batchline-sfcfg-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const URL_ = 'snowflake://myorg-myaccount/RETAIL_DB/RETAIL_SCHEMA?warehouse=LOAD_WH&role=BATCHLINE';

async function keyFile(passphrase?: string): Promise<string> {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: passphrase ? { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase } : { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const file = path.join(dir, 'rsa_key.p8');
  await writeFile(file, privateKey);
  return file;
}

describe('snowflake:// URL', () => {
  it('names account, database, schema and non-secret settings', () => {
    expect(parseSnowflakeUrl(URL_)).toEqual({
      account: 'myorg-myaccount',
      database: 'RETAIL_DB',
      schema: 'RETAIL_SCHEMA',
      query: { warehouse: 'LOAD_WH', role: 'BATCHLINE' },
    });
    expect(parseSnowflakeUrl('snowflake://acct')).toMatchObject({ database: 'RETAIL_DB', schema: 'RETAIL_SCHEMA' });
  });

  it.each([
    ['snowflake://user:secret@acct/DB/S', /Credentials do not belong in the Snowflake URL/],
    ['snowflake://acct/DB/S?password=x', /Secrets do not belong in the Snowflake URL \(found "password"\)/],
    ['snowflake://acct/DB/S?token=x', /found "token"/],
    ['snowflake://acct/DB/S?private_key=x', /found "private_key"/],
    ['snowflake://acct/DB/S?colour=blue', /Invalid Snowflake URL query/],
    ['snowflake://acct/DB;DROP/S', /Invalid database/],
    ['snowflake://acct/DB/S/extra', /expected \/<database>\/<schema>/],
    ['snowflake://acct/DB/S?authenticator=EXTERNALBROWSER', /authenticator/],
  ])('refuses %s', (url, message) => {
    expect(() => parseSnowflakeUrl(url)).toThrow(message);
  });
});

describe('credentials come from the environment or files only', () => {
  it('key-pair JWT from SNOWFLAKE_PRIVATE_KEY_PATH (authenticator inferred)', async () => {
    const file = await keyFile();
    const config = await resolveSnowflakeConfig(URL_, {}, { SNOWFLAKE_USER: 'BATCHLINE_SVC', SNOWFLAKE_PRIVATE_KEY_PATH: file });
    expect(config).toMatchObject({ user: 'BATCHLINE_SVC', authenticator: 'SNOWFLAKE_JWT', warehouse: 'LOAD_WH', role: 'BATCHLINE', credential: { kind: 'key-pair', privateKeyPath: file } });
    expect(await connectionOptions(config)).toMatchObject({ account: 'myorg-myaccount', username: 'BATCHLINE_SVC', authenticator: 'SNOWFLAKE_JWT', privateKeyPath: file, database: 'RETAIL_DB', schema: 'RETAIL_SCHEMA' });
  });

  it('an encrypted key needs its passphrase, from the environment', async () => {
    const file = await keyFile('correct horse');
    await expect(resolveSnowflakeConfig(URL_, {}, { SNOWFLAKE_USER: 'U', SNOWFLAKE_PRIVATE_KEY_PATH: file })).rejects.toThrow(/not a readable PEM private key \(encrypted\?/);
    await expect(resolveSnowflakeConfig(URL_, {}, { SNOWFLAKE_USER: 'U', SNOWFLAKE_PRIVATE_KEY_PATH: file, SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: 'wrong' })).rejects.toThrow(/PASSPHRASE is wrong/);
    const ok = await resolveSnowflakeConfig(URL_, {}, { SNOWFLAKE_USER: 'U', SNOWFLAKE_PRIVATE_KEY_PATH: file, SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: 'correct horse' });
    expect(await connectionOptions(ok)).toMatchObject({ privateKeyPass: 'correct horse' });
    await expect(resolveSnowflakeConfig(URL_, {}, { SNOWFLAKE_USER: 'U', SNOWFLAKE_PRIVATE_KEY_PATH: path.join(dir, 'missing.p8') })).rejects.toThrow(/Cannot read the private key file .*missing\.p8: ENOENT/);
  });

  it('WORKLOAD_IDENTITY with an OIDC token from a callback, fetched fresh for every connection', async () => {
    let n = 0;
    const config = await resolveSnowflakeConfig(URL_, { token: async () => `oidc-${++n}` }, { SNOWFLAKE_USER: 'GHA', SNOWFLAKE_AUTHENTICATOR: 'WORKLOAD_IDENTITY' });
    expect(await connectionOptions(config)).toMatchObject({ authenticator: 'WORKLOAD_IDENTITY', workloadIdentityProvider: 'OIDC', token: 'oidc-1' });
    expect(await connectionOptions(config)).toMatchObject({ token: 'oidc-2' });
  });

  it('OAuth / PAT from a token file, re-read so a rotated token is picked up', async () => {
    const file = path.join(dir, 'token');
    await writeFile(file, 'pat-one\n');
    const config = await resolveSnowflakeConfig(URL_, {}, { SNOWFLAKE_USER: 'U', SNOWFLAKE_AUTHENTICATOR: 'PROGRAMMATIC_ACCESS_TOKEN', SNOWFLAKE_TOKEN_FILE_PATH: file });
    expect(await connectionOptions(config)).toMatchObject({ authenticator: 'PROGRAMMATIC_ACCESS_TOKEN', token: 'pat-one' });
    await writeFile(file, 'pat-two');
    expect(await connectionOptions(config)).toMatchObject({ token: 'pat-two' });
    await writeFile(file, '  \n');
    await expect(connectionOptions(config)).rejects.toThrow(/token from the token file .* is empty/);
  });

  it('a token from SNOWFLAKE_TOKEN (e.g. set from the GitHub OIDC step)', async () => {
    const config = await resolveSnowflakeConfig(URL_, {}, { SNOWFLAKE_USER: 'U', SNOWFLAKE_AUTHENTICATOR: 'OAUTH', SNOWFLAKE_TOKEN: 'tok' });
    expect(await connectionOptions(config)).toMatchObject({ authenticator: 'OAUTH', token: 'tok' });
  });

  it('a password only for authenticator SNOWFLAKE, only from SNOWFLAKE_PASSWORD', async () => {
    await expect(resolveSnowflakeConfig(URL_, {}, { SNOWFLAKE_USER: 'U', SNOWFLAKE_AUTHENTICATOR: 'SNOWFLAKE' })).rejects.toThrow(/needs SNOWFLAKE_PASSWORD/);
    const password = randomUUID(); // generated: no credential is written into a test
    const config = await resolveSnowflakeConfig(URL_, {}, { SNOWFLAKE_USER: 'U', SNOWFLAKE_AUTHENTICATOR: 'SNOWFLAKE', SNOWFLAKE_PASSWORD: password });
    expect(await connectionOptions(config)).toMatchObject({ password });
  });

  it('says what is missing', async () => {
    await expect(resolveSnowflakeConfig(URL_, {}, {})).rejects.toThrow(/No Snowflake authenticator/);
    await expect(resolveSnowflakeConfig(URL_, {}, { SNOWFLAKE_AUTHENTICATOR: 'OAUTH', SNOWFLAKE_TOKEN: 't' })).rejects.toThrow(/No Snowflake user: OAUTH needs one; set SNOWFLAKE_USER/);
    await expect(resolveSnowflakeConfig(URL_, {}, { SNOWFLAKE_USER: 'U' })).rejects.toThrow(/No Snowflake authenticator/);
    await expect(resolveSnowflakeConfig(URL_, {}, { SNOWFLAKE_USER: 'U', SNOWFLAKE_TOKEN: 't' })).rejects.toThrow(/a token is configured: WORKLOAD_IDENTITY/);
    await expect(resolveSnowflakeConfig(URL_, {}, { SNOWFLAKE_USER: 'U', SNOWFLAKE_AUTHENTICATOR: 'WORKLOAD_IDENTITY' })).rejects.toThrow(
      /needs a token: pass options.snowflake.token \(a callback\), set SNOWFLAKE_TOKEN, or SNOWFLAKE_TOKEN_FILE_PATH/,
    );
    await expect(resolveSnowflakeConfig(URL_, {}, { SNOWFLAKE_USER: 'U', SNOWFLAKE_AUTHENTICATOR: 'KERBEROS' })).rejects.toBeInstanceOf(WarehouseConfigError);
  });

  it('WORKLOAD_IDENTITY needs no user: Snowflake identifies the service user from the token', async () => {
    const config = await resolveSnowflakeConfig(URL_, { token: () => 'oidc' }, { SNOWFLAKE_AUTHENTICATOR: 'WORKLOAD_IDENTITY' });
    expect(config.user).toBeUndefined();
    expect(config.authenticator).toBe('WORKLOAD_IDENTITY');
  });

  it('the ambient GitHub token is used only for WORKLOAD_IDENTITY, and never over an explicit token', async () => {
    const github = () => 'github-oidc';
    const wif = await resolveSnowflakeConfig(URL_, { workloadIdentityToken: github }, { SNOWFLAKE_AUTHENTICATOR: 'WORKLOAD_IDENTITY' });
    expect(wif.credential.kind === 'token' && (await wif.credential.getToken())).toBe('github-oidc');
    for (const authenticator of ['OAUTH', 'PROGRAMMATIC_ACCESS_TOKEN']) {
      const config = await resolveSnowflakeConfig(URL_, { workloadIdentityToken: github }, { SNOWFLAKE_USER: 'U', SNOWFLAKE_AUTHENTICATOR: authenticator, SNOWFLAKE_TOKEN: `${authenticator}-token` });
      expect(config.credential.kind === 'token' && (await config.credential.getToken())).toBe(`${authenticator}-token`);
      // Without a token of its own, it fails rather than borrowing GitHub's.
      await expect(resolveSnowflakeConfig(URL_, { workloadIdentityToken: github }, { SNOWFLAKE_USER: 'U', SNOWFLAKE_AUTHENTICATOR: authenticator })).rejects.toThrow(/needs a token/);
    }
    const explicit = await resolveSnowflakeConfig(URL_, { workloadIdentityToken: github }, { SNOWFLAKE_AUTHENTICATOR: 'WORKLOAD_IDENTITY', SNOWFLAKE_TOKEN: 'explicit' });
    expect(explicit.credential.kind === 'token' && (await explicit.credential.getToken())).toBe('explicit');
  });

  it('lock and statement timeouts: defaults that fail fast, configurable, validated', async () => {
    const env = { SNOWFLAKE_USER: 'U', SNOWFLAKE_AUTHENTICATOR: 'OAUTH', SNOWFLAKE_TOKEN: 't' };
    expect(await resolveSnowflakeConfig(URL_, {}, env)).toMatchObject({ lockTimeoutSeconds: 300, statementTimeoutSeconds: 3600 });
    expect(await resolveSnowflakeConfig(URL_, {}, { ...env, SNOWFLAKE_LOCK_TIMEOUT: '0', SNOWFLAKE_STATEMENT_TIMEOUT: '120' })).toMatchObject({ lockTimeoutSeconds: 0, statementTimeoutSeconds: 120 });
    await expect(resolveSnowflakeConfig(URL_, {}, { ...env, SNOWFLAKE_LOCK_TIMEOUT: 'soon' })).rejects.toThrow(/lockTimeoutSeconds/);
    await expect(resolveSnowflakeConfig(URL_, {}, { ...env, SNOWFLAKE_STATEMENT_TIMEOUT: '0' })).rejects.toThrow(/statementTimeoutSeconds: expected at least 1/);
  });

  it('a JSON config file holds settings and paths, never secrets; the environment overrides it', async () => {
    const file = path.join(dir, 'snowflake.json');
    await writeFile(file, JSON.stringify({ user: 'FROM_FILE', authenticator: 'OAUTH', tokenFilePath: path.join(dir, 't'), stageUrl: 's3://retail-landing/firehose/', storageAwsRoleArn: 'arn:aws:iam::123456789012:role/sf' }));
    const config = await resolveSnowflakeConfig(URL_, {}, { BATCHLINE_SNOWFLAKE_CONFIG: file, SNOWFLAKE_USER: 'FROM_ENV' });
    expect(config).toMatchObject({ user: 'FROM_ENV', authenticator: 'OAUTH', stage: { url: 's3://retail-landing/firehose/', integration: 'S3_INTEGRATION_PRO', awsRoleArn: 'arn:aws:iam::123456789012:role/sf' } });
    await writeFile(file, JSON.stringify({ user: 'U', password: randomUUID() }));
    await expect(resolveSnowflakeConfig(URL_, {}, { BATCHLINE_SNOWFLAKE_CONFIG: file })).rejects.toThrow(/Invalid Snowflake config file .*secrets belong in env vars/);
    await writeFile(file, JSON.stringify({ user: 'U', stageUrl: 's3://bucket/no-trailing-slash' }));
    await expect(resolveSnowflakeConfig(URL_, {}, { BATCHLINE_SNOWFLAKE_CONFIG: file })).rejects.toThrow(/stageUrl: expected s3:\/\/bucket\/prefix\/ ending in "\/"/);
  });
});
