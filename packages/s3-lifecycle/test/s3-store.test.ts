import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectNotFoundError, PreconditionFailedError, S3ObjectStore, openObjectStore } from '../src/index.js';
import { type S3Server, openS3Fixture, s3StoreFixture, startS3Server, useGeneratedCredentials } from './support/s3-server.js';
import { describeObjectStoreContract, md5Etag, readAll } from './support/store-contract.js';

describeObjectStoreContract('S3 (fauxqs on loopback)', () => openS3Fixture());
describeObjectStoreContract('S3 under a bucket prefix', () => openS3Fixture({ prefix: 'tenant/data/' }));
describeObjectStoreContract('S3 with copy threads', () => openS3Fixture({ copyThreads: 2 }));
describeObjectStoreContract('S3 with signed copies (built from settings)', () => openS3Fixture({ signed: true, prefix: 'signed/' }));

const base = (store: S3ObjectStore): string => store.bucket;

describe('S3ObjectStore specifics', () => {
  let server: S3Server;
  beforeAll(async () => {
    useGeneratedCredentials();
    server = await startS3Server();
  });
  afterAll(async () => server?.close());

  it('copies above the multipart threshold with UploadPartCopy, byte-exact, pinned to the source ETag', async () => {
    const base = await s3StoreFixture(server);
    const store = new S3ObjectStore({
      bucket: base.bucket,
      client: base.client,
      multipartCopyThresholdBytes: 6 * 1024 * 1024,
      multipartCopyPartBytes: 5 * 1024 * 1024,
    });
    const bytes = randomBytes(13 * 1024 * 1024 + 17);
    await store.put('big/source.bin', Readable.from([bytes])); // streamed: fauxqs caps one request at 11 MiB
    const sourceEtag = (await store.head('big/source.bin'))!.etag;
    const copied = await store.copy('big/source.bin', 'big/target.bin', { ifMatch: sourceEtag });
    expect(copied.size).toBe(bytes.length);
    expect(copied.etag).toMatch(/-3"$/); // three parts: 5 + 5 + 3 MiB
    expect((await readAll(store, 'big/target.bin')).equals(bytes)).toBe(true);
    await expect(store.copy('big/source.bin', 'big/other.bin', { ifMatch: md5Etag('stale') })).rejects.toThrow(/no longer has ETag/);
    expect(await store.head('big/other.bin')).toBeUndefined();
  });

  it('copy threads carry the copies, and report missing and changed sources like the calling thread', async () => {
    const store = await s3StoreFixture(server, { copyThreads: 2 });
    try {
      expect(store.copyThreadStats).toMatchObject({ threads: 2, ready: 2, copies: 0 });
      await store.put('t/a b&=+#.csv', 'threaded');
      const copied = await Promise.all(Array.from({ length: 40 }, (_, i) => store.copy('t/a b&=+#.csv', `t/copy-${i}`, { size: 8, ifMatch: md5Etag('threaded') })));
      expect(copied.every((c) => c.etag === md5Etag('threaded'))).toBe(true);
      expect((await readAll(store, 't/copy-39')).toString()).toBe('threaded');
      await expect(store.copy('t/missing', 't/x', { size: 1 })).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(store.copy('t/a b&=+#.csv', 't/y', { size: 8, ifMatch: md5Etag('stale') })).rejects.toBeInstanceOf(PreconditionFailedError);
      expect(store.copyThreadStats.copies).toBe(42);
    } finally {
      await store.close();
    }
  });

  it('the signed copy path carries the copies, and hands missing and changed sources to the SDK, which reports them', async () => {
    const store = await s3StoreFixture(server, { signed: true });
    try {
      const key = 't/a b&=+#!*()\'ü.csv';
      await store.put(key, 'signed');
      const copied = await Promise.all(Array.from({ length: 40 }, (_, i) => store.copy(key, `t/copy (${i})+ü`, { size: 6, ifMatch: md5Etag('signed') })));
      expect(copied.every((c) => c.etag === md5Etag('signed'))).toBe(true);
      expect((await readAll(store, 't/copy (39)+ü')).toString()).toBe('signed');
      expect(store.copyThreadStats).toMatchObject({ threads: 0, signed: 40, fallbacks: 0 });
      await expect(store.copy('t/missing', 't/x', { size: 1 })).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(store.copy(key, 't/y', { size: 6, ifMatch: md5Etag('stale') })).rejects.toBeInstanceOf(PreconditionFailedError);
      expect(await store.head('t/y')).toBeUndefined();
      expect(store.copyThreadStats).toMatchObject({ signed: 40, fallbacks: 2 });
    } finally {
      await store.close();
    }
  });

  it('lists keys with spaces, %, +, non-ASCII and control characters back byte-identical (EncodingType url, decoded)', async () => {
    const store = await s3StoreFixture(server);
    const keys = ['odd/a b.csv', 'odd/100%.csv', 'odd/a+b=c&d.csv', 'odd/%2B+%20 x.csv', 'odd/ünï €😀.csv', 'odd/ctl\u0001\u001f\u007f\t.csv', "odd/<x>&'\".csv"];
    for (const key of keys.slice(0, -2)) await store.put(key, key);
    // Keys with control characters or XML metacharacters come from other writers (the store refuses to write control
    // characters itself), but must still list: seeded straight into the server.
    for (const key of keys.slice(-2)) server.direct.put(base(store), key, Buffer.from(key));
    const listed: string[] = [];
    for await (const object of store.list('odd/')) listed.push(object.key);
    // The oracle: the server's own memory, read without HTTP, in S3's byte order.
    const stored = [...server.direct.etags(base(store), 'odd/').keys()];
    expect(listed).toEqual(stored);
    expect([...listed].sort()).toEqual([...keys].sort());
    expect(listed.map((k) => Buffer.from(k).toString('hex')).sort()).toEqual(keys.map((k) => Buffer.from(k).toString('hex')).sort());
    // The server really answers url-encoded keys when asked (so the adapter's decoding is exercised).
    const raw = await store.client.send(new ListObjectsV2Command({ Bucket: base(store), Prefix: 'odd/a ', EncodingType: 'url' }));
    expect(raw.EncodingType).toBe('url');
    expect(raw.Contents?.map((c) => c.Key)).toEqual(['odd%2Fa+b.csv']);
  });

  it('list(startAfter) asks S3 to start there (pages cover only the keys after it), and holds where a store ignores StartAfter', async () => {
    const store = await s3StoreFixture(server, { listPageSize: 7, prefix: 'tenant/' });
    const ids = Array.from({ length: 100 }, (_, i) => `m/2026${String(i).padStart(4, '0')}.json`);
    for (const key of ids) server.direct.put(base(store), `tenant/${key}`, Buffer.from(key));
    const sent: { StartAfter?: string; ContinuationToken?: string }[] = [];
    let ignoreStartAfter = false;
    store.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ListObjectsV2Command') {
          const input = args.input as { StartAfter?: string; ContinuationToken?: string };
          sent.push({ ...input });
          if (ignoreStartAfter) delete input.StartAfter;
        }
        return next(args);
      },
      { step: 'initialize', name: 'countLists' },
    );
    const listAfter = async (after: string) => {
      const keys: string[] = [];
      for await (const o of store.list('m/', { startAfter: after })) keys.push(o.key);
      return keys;
    };
    // 9 keys after the 91st: two pages of 7, the first one asked to start after the key under the store's prefix.
    expect(await listAfter(ids[90]!)).toEqual(ids.slice(91));
    expect(sent.length).toBe(Math.ceil(9 / 7));
    expect(sent[0]!.StartAfter).toBe(`tenant/${ids[90]}`);
    // A store that ignores StartAfter lists everything: the adapter still yields only what follows it.
    sent.length = 0;
    ignoreStartAfter = true;
    expect(await listAfter(ids[90]!)).toEqual(ids.slice(91));
    expect(sent.length).toBe(Math.ceil(100 / 7));
  });

  it('writes a large object conditionally as a multipart upload, with the condition on completion', async () => {
    const store = await s3StoreFixture(server);
    const big = randomBytes(17 * 1024 * 1024);
    expect(await store.putIfAbsent('large/manifest.json', big)).toBe(true);
    const first = (await store.head('large/manifest.json'))!;
    expect(first.etag).toMatch(/-3"$/);
    expect(await store.putIfAbsent('large/manifest.json', randomBytes(9 * 1024 * 1024))).toBe(false);
    expect(await store.putIfMatch('large/manifest.json', big.subarray(1), md5Etag('other'))).toBe(false);
    expect(await store.putIfMatch('large/manifest.json', big.subarray(1), first.etag)).toBe(true);
    const stored = await readAll(store, 'large/manifest.json');
    expect(stored.length).toBe(big.length - 1);
    expect(stored.equals(big.subarray(1))).toBe(true);
  });

  it('the test server enforces conditional writes (the layer is live, not a no-op)', async () => {
    const store = await s3StoreFixture(server);
    const before = server.rejected.count;
    expect(await store.putIfAbsent('k', 'a')).toBe(true);
    expect(await store.putIfAbsent('k', 'b')).toBe(false);
    expect(await store.putIfMatch('k', 'c', md5Etag('zzz'))).toBe(false);
    expect(server.rejected.count - before).toBe(2);
  });

  it('confines a prefixed store to its prefix', async () => {
    const root = await s3StoreFixture(server);
    const scoped = new S3ObjectStore({ bucket: root.bucket, client: root.client, prefix: 'scope/' });
    await scoped.put('a/b.csv', 'x');
    expect(await root.head('scope/a/b.csv')).toMatchObject({ size: 1 });
    const listed = [];
    for await (const o of scoped.list('')) listed.push(o.key);
    expect(listed).toEqual(['a/b.csv']);
    expect(scoped.location).toBe(`s3://${root.bucket}/scope/`);
  });

  it('openObjectStore(s3://bucket/prefix) takes endpoint and path style from options or AWS_ENDPOINT_URL_S3', async () => {
    const seeded = await s3StoreFixture(server);
    await seeded.put('p/q/r.csv', 'via url');
    const viaOptions = openObjectStore(`s3://${seeded.bucket}/p`, { endpoint: server.endpoint });
    expect(viaOptions.location).toBe(`s3://${seeded.bucket}/p/`);
    expect((await readAll(viaOptions, 'q/r.csv')).toString()).toBe('via url');
    process.env.AWS_ENDPOINT_URL_S3 = server.endpoint;
    try {
      const viaEnv = openObjectStore(`s3://${seeded.bucket}`) as S3ObjectStore;
      expect((await readAll(viaEnv, 'p/q/r.csv')).toString()).toBe('via url');
      expect(await viaEnv.client.config.forcePathStyle).toBe(true);
    } finally {
      delete process.env.AWS_ENDPOINT_URL_S3;
    }
    expect(() => openObjectStore('s3://Bad_Bucket/x')).toThrow(/Invalid S3 bucket name "Bad_Bucket"/);
    expect(() => openObjectStore('s3:///x')).toThrow(/no bucket/);
  });
});
