// checkStore / requireConditionalWrites against real stores: the S3 test server with and without its
// conditional-write layer, and the filesystem store. The expectations are what each store is known to do.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileObjectStore, UnsafeStoreError, checkStore, conditionalWritesMarkerKey, requireConditionalWrites, type ObjectStore } from '../src/index.js';
import { s3StoreFixture, startS3Server, useGeneratedCredentials, type S3Server } from './support/s3-server.js';

const ROOT = 'firehose/';

async function keysUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  return keys;
}

let enforcing: S3Server;
let ignoring: S3Server;
let dir: string;

beforeAll(async () => {
  useGeneratedCredentials();
  [enforcing, ignoring] = await Promise.all([startS3Server(), startS3Server({ conditionalWrites: false })]);
  dir = await mkdtemp(path.join(tmpdir(), 'store-checks-'));
});

afterAll(async () => {
  await Promise.all([enforcing?.close(), ignoring?.close()]);
  await rm(dir, { recursive: true, force: true });
});

describe('checkStore', () => {
  it('passes every check on S3 with conditional writes, and leaves nothing but what was there', async () => {
    const store = await s3StoreFixture(enforcing);
    await store.put(`${ROOT}orders/landing/a.csv`, '1,2\n');
    const checks = await checkStore(store, { root: ROOT });
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.map((c) => c.id)).toEqual(['put', 'get', 'list', 'missing-key', 'conditional-create', 'conditional-replace', 'copy', 'delete']);
    expect(await keysUnder(store, '')).toEqual([`${ROOT}orders/landing/a.csv`]);
  });

  it('passes on the filesystem store', async () => {
    const store = new FileObjectStore(path.join(dir, 'fs'));
    const checks = await checkStore(store, { root: ROOT });
    expect(checks.filter((c) => !c.ok)).toEqual([]);
  });

  it('fails the conditional checks on a store that ignores them, each with its fix', async () => {
    const store = await s3StoreFixture(ignoring);
    const checks = await checkStore(store, { root: ROOT });
    const failed = Object.fromEntries(checks.filter((c) => !c.ok).map((c) => [c.id, c]));
    expect(Object.keys(failed).sort()).toEqual(['conditional-create', 'conditional-replace']);
    expect(failed['conditional-create']!.detail).toMatch(/also succeeded/);
    expect(failed['conditional-create']!.fix).toMatch(/enforces conditional writes/);
    expect(failed['conditional-replace']!.detail).toMatch(/If-Match is ignored/);
    // Everything else works (the adapter checks a pinned copy's source ETag itself), and the scratch keys are gone.
    expect(checks.filter((c) => c.ok).map((c) => c.id)).toEqual(['put', 'get', 'list', 'missing-key', 'copy', 'delete']);
    expect(await keysUnder(store, '')).toEqual([]);
  });

  it('reports a missing key answered 403 as forbidden, with the s3:ListBucket fix', async () => {
    const inner = await s3StoreFixture(enforcing);
    const forbidding: ObjectStore = Object.assign(Object.create(inner) as ObjectStore, {
      head: async (key: string) => {
        const found = await inner.head(key);
        if (found) return found;
        throw Object.assign(new Error('Forbidden'), { name: '403', $metadata: { httpStatusCode: 403 } });
      },
    });
    const checks = await checkStore(forbidding, { root: ROOT });
    const missing = checks.find((c) => c.id === 'missing-key')!;
    expect(missing.ok).toBe(false);
    expect(missing.detail).toMatch(/HTTP 403/);
    expect(missing.fix).toMatch(/s3:ListBucket/);
  });
});

describe('requireConditionalWrites (run\'s guard)', () => {
  it('refuses a store that ignores conditional writes, naming batchline doctor, and remembers nothing', async () => {
    const store = await s3StoreFixture(ignoring);
    const error = await requireConditionalWrites(store, { root: ROOT }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsafeStoreError);
    expect((error as UnsafeStoreError).exitCode).toBe(2);
    expect((error as Error).message).toMatch(/batchline doctor/);
    expect((error as Error).message).toMatch(/--unsafe-ignore-conditional-writes/);
    expect(await store.head(conditionalWritesMarkerKey(ROOT))).toBeUndefined();
    expect(await keysUnder(store, '')).toEqual([]);
  });

  it('checks a good store once, then trusts the marker under _batchline/', async () => {
    const store = await s3StoreFixture(enforcing);
    expect(await requireConditionalWrites(store, { root: ROOT })).toBe('checked');
    expect(await keysUnder(store, '')).toEqual([conditionalWritesMarkerKey(ROOT)]);
    expect(conditionalWritesMarkerKey(ROOT)).toBe(`${ROOT}_batchline/store-checks/conditional-writes.json`);
    expect(await requireConditionalWrites(store, { root: ROOT })).toBe('cached');
  });
});
