import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreConfigError, openObjectStore } from '../src/index.js';

// The variables through which the SDK could find a region or credentials on this machine; each test
// starts with none of them, and AWS config/credentials files pointing into an empty directory.
const AWS_VARIABLES = [
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_PROFILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_S3',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_EC2_METADATA_DISABLED',
];

describe('S3 store without region or credentials', () => {
  const saved = new Map<string, string | undefined>();
  let dir: string;
  beforeEach(() => {
    for (const name of AWS_VARIABLES) saved.set(name, process.env[name]);
    for (const name of AWS_VARIABLES) delete process.env[name];
    dir = mkdtempSync(path.join(tmpdir(), 's3-config-'));
    process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
  });
  afterEach(() => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  async function failure(promise: Promise<unknown>): Promise<StoreConfigError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreConfigError);
    return error as StoreConfigError;
  }

  it('no region: every operation fails as a configuration error naming the store and AWS_REGION / the region option', async () => {
    const store = openObjectStore('s3://my-bucket/firehose');
    try {
      const listing = (async () => {
        for await (const object of store.list('')) return object;
      })();
      const errors = [await failure(listing), await failure(store.head('a.csv')), await failure(store.put('a.csv', 'x')), await failure(store.copy('a', 'b', { size: 1 }))];
      for (const error of errors) {
        expect(error.message).toContain('"s3://my-bucket/firehose/"');
        expect(error.message).toContain('AWS_REGION');
        expect(error.message).toContain('`region` option');
        expect(error.exitCode).toBe(2);
        expect(error.permanent).toBe(true);
      }
    } finally {
      await store.close();
    }
  });

  it('a region but no credentials: a configuration error naming the store and the ways to provide them', async () => {
    const store = openObjectStore('s3://my-bucket/x', { region: 'eu-west-1' });
    try {
      const error = await failure(store.get('a.csv'));
      expect(error.message).toContain('"s3://my-bucket/x/"');
      expect(error.message).toMatch(/no AWS credentials/);
      expect(error.message).toContain('AWS_PROFILE');
      expect(error.message).toContain('AWS_ACCESS_KEY_ID');
      expect(error.exitCode).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('the region from AWS_REGION, credentials from the environment: no configuration error', async () => {
    process.env.AWS_REGION = 'eu-west-1';
    process.env.AWS_ACCESS_KEY_ID = `TEST${Math.random().toString(36).slice(2)}`;
    process.env.AWS_SECRET_ACCESS_KEY = Math.random().toString(36);
    // An endpoint nothing listens on: the request fails on the network, not as a StoreConfigError.
    const store = openObjectStore('s3://my-bucket/x', { endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    try {
      const error = await store.head('a.csv').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(StoreConfigError);
    } finally {
      await store.close();
    }
  });
});
