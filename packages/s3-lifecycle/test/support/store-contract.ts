import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import pMap from 'p-map';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidKeyError, ObjectNotFoundError, type ObjectStore, PreconditionFailedError } from '../../src/index.js';

export interface StoreFixture {
  readonly store: ObjectStore;
  close(): Promise<void>;
  /** Optional back door for bulk test set-up: write an object without a request. */
  seed?(key: string, body: Buffer): void;
  /** Optional back door for inspection: key -> MD5 ETag of every object under `prefix`, without a request. */
  etags?(prefix: string): Map<string, string>;
}

/** Keys that have broken S3 tools before: spaces, unicode, and URL-significant characters. */
export const AWKWARD_KEYS = [
  'awkward/a space/file name.csv',
  'awkward/unicode/日本語-ü-é-😀.csv',
  'awkward/eq=sign&amp+plus#hash.csv',
  'awkward/percent%20not-a-space?query=1.csv',
  "awkward/quote'and(paren)*!~.csv",
];

export function md5Etag(bytes: Uint8Array | string): string {
  return `"${createHash('md5').update(bytes).digest('hex')}"`;
}

export async function readAll(store: ObjectStore, key: string): Promise<Buffer> {
  return buffer(await store.get(key));
}

export async function listKeys(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of store.list(prefix)) keys.push(object.key);
  return keys;
}

/** UTF-8 byte order, computed without the store. */
function byteOrder(keys: string[]): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

export function describeObjectStoreContract(name: string, open: () => Promise<StoreFixture>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: ObjectStore;
    beforeAll(async () => {
      fixture = await open();
      store = fixture.store;
    });
    afterAll(async () => fixture?.close());

    it('puts, heads and gets bytes exactly, with an MD5 ETag like S3 single-part objects', async () => {
      const bytes = randomBytes(70_001);
      const put = await store.put('basic/one.bin', bytes);
      expect(put).toMatchObject({ key: 'basic/one.bin', size: 70_001, etag: md5Etag(bytes) });
      expect(await store.head('basic/one.bin')).toMatchObject({ key: 'basic/one.bin', size: 70_001, etag: md5Etag(bytes) });
      expect((await readAll(store, 'basic/one.bin')).equals(bytes)).toBe(true);
      await store.put('basic/one.bin', 'replaced');
      expect(await store.head('basic/one.bin')).toMatchObject({ size: 8, etag: md5Etag('replaced') });
      expect((await readAll(store, 'basic/one.bin')).toString()).toBe('replaced');
    });

    it('get with ifMatch serves only that version: other bytes are PreconditionFailedError, absent is ObjectNotFoundError', async () => {
      const bytes = randomBytes(300_000);
      await store.put('pinned/one.bin', bytes);
      expect((await buffer(await store.get('pinned/one.bin', { ifMatch: md5Etag(bytes) }))).equals(bytes)).toBe(true);
      const same = Buffer.from(bytes);
      same[0] = same[0]! ^ 0xff; // same size, other bytes
      await store.put('pinned/one.bin', same);
      const refused = await store.get('pinned/one.bin', { ifMatch: md5Etag(bytes) }).then((body) => buffer(body)).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(PreconditionFailedError);
      expect((refused as Error).message).toContain('pinned/one.bin');
      await expect(store.get('pinned/absent.bin', { ifMatch: md5Etag(bytes) })).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    it('reports absent objects: head undefined, get ObjectNotFoundError naming the key', async () => {
      expect(await store.head('basic/absent')).toBeUndefined();
      await expect(store.get('basic/absent')).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(store.get('basic/absent')).rejects.toThrow('basic/absent');
    });

    it('stores a streamed body of unknown length byte-exact (12 MiB, several chunks)', async () => {
      const chunks = Array.from({ length: 12 }, () => randomBytes(1024 * 1024));
      const whole = Buffer.concat(chunks);
      const put = await store.put('stream/big.bin', Readable.from(chunks));
      expect(put.size).toBe(whole.length);
      const head = await store.head('stream/big.bin');
      expect(head?.size).toBe(whole.length);
      expect(createHash('sha256').update(await readAll(store, 'stream/big.bin')).digest('hex')).toBe(createHash('sha256').update(whole).digest('hex'));
    });

    it('lists every key under a prefix in UTF-8 byte order, across pages, with sizes and ETags', async () => {
      const keys = [
        ...Array.from({ length: 23 }, (_, i) => `listing/2026/01/0${i % 3}/h${String(i).padStart(2, '0')}.csv`),
        'listing/a-b.csv',
        'listing/a/b.csv',
        'listing/a.csv',
        'listing/Z.csv',
        'listing/é.csv',
        ...AWKWARD_KEYS.map((k) => `listing/${k}`),
      ];
      for (const key of keys) await store.put(key, `body of ${key}`);
      await store.put('listing-sibling/not-me.csv', 'x');
      const listed: { key: string; size: number; etag: string }[] = [];
      for await (const o of store.list('listing/')) listed.push({ key: o.key, size: o.size, etag: o.etag });
      expect(listed.map((o) => o.key)).toEqual(byteOrder(keys));
      for (const o of listed) {
        expect(o.size).toBe(Buffer.byteLength(`body of ${o.key}`));
        expect(o.etag).toBe(md5Etag(`body of ${o.key}`));
      }
      expect(await listKeys(store, 'listing/2026/01/01/')).toEqual(byteOrder(keys.filter((k) => k.startsWith('listing/2026/01/01/'))));
      expect(await listKeys(store, 'listing/a')).toEqual(byteOrder(keys.filter((k) => k.startsWith('listing/a'))));
      expect(await listKeys(store, 'listing/nothing-here/')).toEqual([]);
    });

    it('lists only the keys after startAfter (exclusive, need not exist), in byte order, across pages and folders', async () => {
      const keys = [
        ...Array.from({ length: 30 }, (_, i) => `after/manifests/2026010${i % 3}T${String(i).padStart(2, '0')}00.json`),
        'after/manifests/20260101T0500.json.bak',
        'after/a/b.csv',
        'after/a-b.csv',
        'after/a.csv',
        'after/deep/x/y/z.csv',
        'after/é.csv',
        ...AWKWARD_KEYS.map((k) => `after/${k}`),
      ];
      for (const key of keys) await store.put(key, `body of ${key}`);
      await store.put('after-sibling/not-me.csv', 'x');
      // The oracle: the byte-ordered keys under the prefix that sort after startAfter, computed without the store.
      const expected = (prefix: string, after: string) =>
        byteOrder(keys.filter((k) => k.startsWith(prefix) && Buffer.compare(Buffer.from(k), Buffer.from(after)) > 0));
      const listAfter = async (prefix: string, startAfter: string) => {
        const listed: string[] = [];
        for await (const o of store.list(prefix, { startAfter })) {
          expect(o.etag).toBe(md5Etag(`body of ${o.key}`));
          listed.push(o.key);
        }
        return listed;
      };
      const cases: [string, string][] = [
        ['after/manifests/', 'after/manifests/20260101T1300.json'], // an existing key: excluded
        ['after/manifests/', 'after/manifests/20260101T1301.json'], // between two keys
        ['after/manifests/', 'after/manifests/20260101T0500.json'], // its .bak sorts right after it
        ['after/manifests/', 'after/manifests/20260102T2900.json'], // the last: nothing after it
        ['after/manifests/', 'after/manifests/2026010'], // a partial name
        ['after/manifests/', 'after/'], // before the prefix: everything
        ['after/', 'after/a'], // a folder and a file named alike
        ['after/', 'after/a/'], // inside a folder
        ['after/', 'after/deep/x/'], // deeper than the prefix
        ['after/', 'after/awkward/a space/'],
        ['after/', 'after/z'], // only the non-ASCII key after it
        ['after/', 'b'], // after the whole prefix
      ];
      for (const [prefix, after] of cases) expect({ prefix, after, listed: await listAfter(prefix, after) }).toEqual({ prefix, after, listed: expected(prefix, after) });
      expect(await listAfter('after/manifests/', '')).toEqual(expected('after/manifests/', ''));
      await expect(listAfter('after/', 'bad\u0001key')).rejects.toBeInstanceOf(InvalidKeyError);
    });

    it('putIfAbsent creates once and refuses to overwrite', async () => {
      expect(await store.putIfAbsent('cond/once.json', 'first')).toBe(true);
      expect(await store.putIfAbsent('cond/once.json', 'second')).toBe(false);
      expect((await readAll(store, 'cond/once.json')).toString()).toBe('first');
    });

    it('putIfAbsent: exactly one of 20 concurrent writers wins, and its body is what is stored', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.putIfAbsent('cond/race.json', `writer ${i}`)));
      const winners = results.flatMap((won, i) => (won ? [i] : []));
      expect(winners).toHaveLength(1);
      expect((await readAll(store, 'cond/race.json')).toString()).toBe(`writer ${winners[0]}`);
    });

    it('putIfMatch swaps only when the ETag matches, and never creates', async () => {
      await store.put('cond/cas.json', 'v1');
      const v1 = (await store.head('cond/cas.json'))!.etag;
      expect(await store.putIfMatch('cond/cas.json', 'v2', md5Etag('something else'))).toBe(false);
      expect(await store.putIfMatch('cond/cas.json', 'v2', v1)).toBe(true);
      expect(await store.putIfMatch('cond/cas.json', 'v3', v1)).toBe(false);
      expect((await readAll(store, 'cond/cas.json')).toString()).toBe('v2');
      expect(await store.putIfMatch('cond/never-created.json', 'x', v1)).toBe(false);
      expect(await store.head('cond/never-created.json')).toBeUndefined();
    });

    it('putIfMatch: exactly one of 20 concurrent compare-and-swaps from the same ETag wins', async () => {
      await store.put('cond/cas-race.json', 'base');
      const base = (await store.head('cond/cas-race.json'))!.etag;
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.putIfMatch('cond/cas-race.json', `swap ${i}`, base)));
      const winners = results.flatMap((won, i) => (won ? [i] : []));
      expect(winners).toHaveLength(1);
      expect((await readAll(store, 'cond/cas-race.json')).toString()).toBe(`swap ${winners[0]}`);
    });

    it('copies server-side byte-exact, keys with spaces, unicode, = & + # % ? included', async () => {
      for (const key of AWKWARD_KEYS) {
        const bytes = Buffer.concat([Buffer.from(key), randomBytes(999)]);
        await store.put(`copy-src/${key}`, bytes);
        const copied = await store.copy(`copy-src/${key}`, `copy-dst/${key}`, { ifMatch: md5Etag(bytes) });
        expect(copied).toMatchObject({ key: `copy-dst/${key}`, size: bytes.length });
        expect((await readAll(store, `copy-dst/${key}`)).equals(bytes)).toBe(true);
        expect((await readAll(store, `copy-src/${key}`)).equals(bytes)).toBe(true);
      }
    });

    it('copy rejects a missing source (ObjectNotFoundError) and a changed one (PreconditionFailedError) without writing', async () => {
      await expect(store.copy('copy-src/missing', 'copy-dst/missing')).rejects.toBeInstanceOf(ObjectNotFoundError);
      await store.put('copy-src/changed', 'new content');
      await expect(store.copy('copy-src/changed', 'copy-dst/changed', { ifMatch: md5Etag('old content') })).rejects.toBeInstanceOf(PreconditionFailedError);
      await expect(store.copy('copy-src/changed', 'copy-dst/changed', { ifMatch: md5Etag('old content'), size: 11 })).rejects.toBeInstanceOf(
        PreconditionFailedError,
      );
      expect(await store.head('copy-dst/missing')).toBeUndefined();
      expect(await store.head('copy-dst/changed')).toBeUndefined();
    });

    it('deletes many keys (more than one 1000-key request), missing keys included, with one outcome per key in order', async () => {
      const keys = Array.from({ length: 2300 }, (_, i) => `bulk/${String(i).padStart(5, '0')}`);
      await pMap(keys.slice(0, 2100), (key) => store.put(key, key), { concurrency: 32 });
      const outcomes = await store.deleteMany([...keys, 'bulk/../escape']);
      expect(outcomes.map((o) => o.key)).toEqual([...keys, 'bulk/../escape']);
      expect(outcomes.slice(0, -1).filter((o) => o.error)).toEqual([]);
      expect(outcomes.at(-1)?.error?.code).toBe('InvalidKey');
      expect(await listKeys(store, 'bulk/')).toEqual([]);
    });

    it('rejects keys that could escape the root or are malformed, before touching anything', async () => {
      const bad = ['../escape', 'a/../../escape', '/absolute', 'a//b', 'a/./b', 'back\\slash', 'nul\0byte', '', 'trailing/', '..'];
      for (const key of bad) {
        await expect(store.put(key, 'x'), key).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(store.head(key), key).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(store.get(key), key).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(store.putIfAbsent(key, 'x'), key).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(store.copy('basic/one.bin', key), key).rejects.toBeInstanceOf(InvalidKeyError);
      }
      await expect(listKeys(store, '../')).rejects.toBeInstanceOf(InvalidKeyError);
    });
  });
}
