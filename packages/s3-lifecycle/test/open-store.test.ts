import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidStoreUrlError, StoreConfigError, openObjectStore, parseStoreUrl } from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'batchline-open-store-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('store URLs are checked where they enter (issue 11)', () => {
  it.each([
    ['file:///data/bucket', { kind: 'file', dir: '/data/bucket' }],
    ['file://localhost/data/bucket', { kind: 'file', dir: '/data/bucket' }],
    ['file:///data/my%20bucket', { kind: 'file', dir: '/data/my bucket' }],
    ['file:///data/q%3Fx', { kind: 'file', dir: '/data/q?x' }],
    ['s3://acme-data', { kind: 's3', bucket: 'acme-data', prefix: '' }],
    ['s3://acme-data/firehose', { kind: 's3', bucket: 'acme-data', prefix: 'firehose/' }],
  ])('accepts %s', (url, want) => {
    expect(parseStoreUrl(url)).toEqual(want);
  });

  it('resolves file://rel/dir against the working directory', () => {
    expect(parseStoreUrl('file://rel/dir', '/work')).toEqual({ kind: 'file', dir: '/work/rel/dir' });
  });

  it.each([
    ['file:///dir/q?x=1&y=../../etc', /query \(\?\) or fragment/],
    ['file:///dir/x#frag', /query \(\?\) or fragment/],
    ['file:///dir/%2e%2e/%2e%2e/etc', /"\.\." segment \(also when percent-encoded\)/],
    ['file:///dir/../etc', /"\.\." segment/],
    ['file:///dir/%zz', /bad percent-encoding/],
    ['file:///dir/%00x', /NUL/],
    ['file://', /no directory/],
    ['s3://', /no bucket/],
    ['s3://Bad_Bucket/x', /Invalid S3 bucket name "Bad_Bucket": expected 3-63 characters/],
    ['s3://acme-data/x?versionId=1', /query \(\?\) or fragment/],
    ['s3://acme-data/a/../b', /"\." or "\.\." segment/],
    ['ftp://x', /unknown scheme/],
  ])('refuses %s naming the URL', (url, reason) => {
    let error: unknown;
    try {
      parseStoreUrl(url);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidStoreUrlError);
    const e = error as InvalidStoreUrlError;
    expect(e.message).toContain(JSON.stringify(url));
    expect(e.message).toMatch(reason);
    expect(e.exitCode).toBe(2);
    expect(e.permanent).toBe(true);
  });

  it('a store path that is a regular file is a configuration error; a missing one is not created by opening', async () => {
    const file = path.join(dir, 'not-a-dir');
    await writeFile(file, 'x');
    expect(() => openObjectStore(`file://${file}`)).toThrow(StoreConfigError);
    expect(() => openObjectStore(`file://${file}`)).toThrow(/which is not a directory; expected a directory/);
    const missing = path.join(dir, 'missing', 'bucket');
    const store = openObjectStore(`file://${missing}`);
    const keys: string[] = [];
    for await (const o of store.list('')) keys.push(o.key);
    expect(keys).toEqual([]);
    expect(existsSync(missing)).toBe(false);
    await store.close();
  });

  it('the next write sweeps temporary files a killed writer left in .batchline-tmp/, and only those', async () => {
    const root = path.join(dir, 'sweep');
    const tmp = path.join(root, '.batchline-tmp');
    await mkdir(tmp, { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const alive = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const names = {
        deadWriter: `${hostname()}.${dead}.${randomUUID()}`,
        liveWriter: `${hostname()}.${alive.pid}.${randomUUID()}`,
        otherHostRecent: `elsewhere.${dead}.${randomUUID()}`,
        oldUnnamed: randomUUID(),
        recentUnnamed: randomUUID(),
      };
      for (const name of Object.values(names)) await writeFile(path.join(tmp, name), 'partial');
      const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
      await utimes(path.join(tmp, names.oldUnnamed), twoDaysAgo, twoDaysAgo);
      const store = openObjectStore(`file://${root}`);
      await store.put('orders/landing/x.csv', 'a,b\n');
      await store.close();
      const left = new Set(await readdir(tmp));
      expect(left.has(names.deadWriter)).toBe(false);
      expect(left.has(names.oldUnnamed)).toBe(false);
      expect(left.has(names.liveWriter)).toBe(true);
      expect(left.has(names.otherHostRecent)).toBe(true);
      expect(left.has(names.recentUnnamed)).toBe(true);
    } finally {
      alive.kill('SIGKILL');
    }
  });
});
