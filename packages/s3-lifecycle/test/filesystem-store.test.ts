import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { buffer } from 'node:stream/consumers';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { toBatchId } from '@batchline/batch-id';
import { BlockedPathError, FileObjectStore, InvalidKeyError, ObjectNotFoundError, PinnedFileChangedError, PreconditionFailedError, createBatchLifecycle, openObjectStore } from '../src/index.js';
import { describeObjectStoreContract, readAll } from './support/store-contract.js';

async function tempStore(): Promise<{ store: FileObjectStore; dir: string; close(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'batchline-fs-store-'));
  return { store: new FileObjectStore(dir), dir, close: () => rm(dir, { recursive: true, force: true }) };
}

describeObjectStoreContract('filesystem', tempStore);

describe('FileObjectStore on disk', () => {
  it('maps keys below its root and never follows a symbolic link out of it', async () => {
    const { store, dir, close } = await tempStore();
    const outside = await mkdtemp(path.join(tmpdir(), 'batchline-outside-'));
    try {
      await writeFile(path.join(outside, 'secret'), 'secret');
      await symlink(path.join(outside, 'secret'), path.join(dir, 'link'));
      await expect(store.get('link')).rejects.toBeInstanceOf(InvalidKeyError);
      expect(await store.head('link')).toBeUndefined();
      const listed = [];
      for await (const o of store.list('')) listed.push(o.key);
      expect(listed).not.toContain('link');
      expect(store.localPath('a/b.csv')).toBe(path.join(dir, 'a', 'b.csv'));
      expect(() => store.localPath('.batchline-tmp/x')).toThrow(InvalidKeyError);
    } finally {
      await close();
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('leaves no temporary files behind and prunes folders emptied by deletes', async () => {
    const { store, dir, close } = await tempStore();
    try {
      await store.put('e/landing/2026/01/02/03/f1', 'a');
      expect(await store.putIfAbsent('e/landing/2026/01/02/03/f1', 'b')).toBe(false);
      await store.copy('e/landing/2026/01/02/03/f1', 'e/processing/x/2026/01/02/03/f1');
      await store.deleteMany(['e/landing/2026/01/02/03/f1']);
      expect(await readdir(path.join(dir, '.batchline-tmp'))).toEqual([]);
      expect(await readdir(path.join(dir, 'e'))).toEqual(['processing']);
      expect((await readAll(store, 'e/processing/x/2026/01/02/03/f1')).toString()).toBe('a');
    } finally {
      await close();
    }
  });

  it('computes the ETag of a file written by another program from its content', async () => {
    const { store, dir, close } = await tempStore();
    try {
      await writeFile(path.join(dir, 'dropped.csv'), 'hello');
      expect((await store.head('dropped.csv'))?.etag).toBe('"5d41402abc4b2a76b9719d911017c592"');
    } finally {
      await close();
    }
  });

  it('opens file:// URLs, relative and absolute', () => {
    const relative = openObjectStore('file://some/dir') as FileObjectStore;
    expect(relative.root).toBe(path.resolve('some/dir'));
    const absolute = openObjectStore('file:///tmp/abs dir') as FileObjectStore;
    expect(absolute.root).toBe('/tmp/abs dir');
    expect(absolute.location).toBe('file:///tmp/abs%20dir');
    expect(() => openObjectStore('ftp://x')).toThrow(/expected file:\/\/<dir>/);
    expect(() => openObjectStore('file://')).toThrow(/no directory/);
  });
});

describe('FileObjectStore.move (atomic rename)', () => {
  it('moves byte-exact, pinned to the ETag, and reports a missing or changed source without touching anything', async () => {
    const { store, close } = await tempStore();
    try {
      await store.put('m/landing/2026/01/02/03/a b=&+#.csv', 'pinned body');
      const etag = (await store.head('m/landing/2026/01/02/03/a b=&+#.csv'))!.etag;
      const moved = await store.move('m/landing/2026/01/02/03/a b=&+#.csv', 'm/processing/x/a b=&+#.csv', { ifMatch: etag });
      expect(moved).toMatchObject({ key: 'm/processing/x/a b=&+#.csv', size: 11, etag });
      expect(await store.head('m/landing/2026/01/02/03/a b=&+#.csv')).toBeUndefined();
      expect((await readAll(store, 'm/processing/x/a b=&+#.csv')).toString()).toBe('pinned body');
      await expect(store.move('m/landing/2026/01/02/03/a b=&+#.csv', 'm/elsewhere')).rejects.toBeInstanceOf(ObjectNotFoundError);
      await store.put('m/landing/changed', 'new');
      await expect(store.move('m/landing/changed', 'm/processing/changed', { ifMatch: etag })).rejects.toBeInstanceOf(PreconditionFailedError);
      expect((await readAll(store, 'm/landing/changed')).toString()).toBe('new');
      expect(await store.head('m/processing/changed')).toBeUndefined();
    } finally {
      await close();
    }
  });
});

describe('FileObjectStore blocked paths (QA: ENOTDIR on archive)', () => {
  it('a file where a folder must be fails move and put with a permanent BlockedPathError naming the blocking file; the source stays', async () => {
    const { store, dir, close } = await tempStore();
    try {
      await store.put('orders/processing/B/a.csv', 'a,b\n');
      await writeFile(path.join(dir, 'orders', 'processed'), 'x');
      const blocker = path.join(dir, 'orders', 'processed');
      const moved = await store.move('orders/processing/B/a.csv', 'orders/processed/B/a.csv').catch((e: unknown) => e);
      expect(moved).toBeInstanceOf(BlockedPathError);
      const error = moved as BlockedPathError;
      expect(error.permanent).toBe(true);
      expect(error.exitCode).toBe(1);
      expect(error.code).toBe('ENOTDIR');
      expect(error.message).toContain(`a file stands where the store needs a folder: ${blocker}`);
      expect(error.message).toContain('remove or fix what blocks that path');
      expect((await store.head('orders/processing/B/a.csv'))?.size).toBe(4);
      await expect(store.put('orders/processed/B/b.csv', 'x')).rejects.toBeInstanceOf(BlockedPathError);
      await rm(blocker);
      await store.move('orders/processing/B/a.csv', 'orders/processed/B/a.csv');
      expect((await store.head('orders/processed/B/a.csv'))?.size).toBe(4);
    } finally {
      await close();
    }
  });
});

describe('FileObjectStore pinned reads', () => {
  it('through the lifecycle, the same change fails openPinned with PinnedFileChangedError naming the file', async () => {
    const { store, dir, close } = await tempStore();
    try {
      const bytes = randomBytes(4 * 1024 * 1024);
      await store.put('orders/landing/2026/01/02/03/big.csv', bytes);
      const life = createBatchLifecycle(store, { settleSeconds: 0 });
      const batch = toBatchId('20260102T0310');
      await life.claim('orders', batch);
      const [file] = (await life.loadableFiles('orders', batch)).files;
      const stream = await life.openPinned(file!);
      await new Promise((resolve) => stream.once('data', resolve));
      stream.pause();
      const handle = await open(path.join(dir, 'orders', 'processing', batch, '2026', '01', '02', '03', 'big.csv'), 'r+');
      await handle.write(Buffer.alloc(1024, 0x5a), 0, 1024, bytes.length - 1024);
      await handle.close();
      const rest = buffer(stream);
      stream.resume();
      const error = await rest.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PinnedFileChangedError);
      expect((error as Error).message).toContain('2026/01/02/03/big.csv');
      expect((error as Error).message).toContain('changed while it was read');
    } finally {
      await close();
    }
  });

  it('a file changed in place while it is read with ifMatch fails the stream instead of passing other bytes on', async () => {
    const { store, dir, close } = await tempStore();
    try {
      const bytes = randomBytes(4 * 1024 * 1024);
      await store.put('pinned/big.bin', bytes);
      const etag = `"${createHash('md5').update(bytes).digest('hex')}"`;
      const stream = await store.get('pinned/big.bin', { ifMatch: etag });
      // Read the first chunk, then overwrite the end of the file in place (same inode, same size).
      const first = await new Promise<Buffer>((resolve) => stream.once('data', (chunk: Buffer) => resolve(chunk)));
      stream.pause();
      expect(first.length).toBeLessThan(bytes.length / 2);
      const handle = await open(path.join(dir, 'pinned', 'big.bin'), 'r+');
      await handle.write(Buffer.alloc(1024, 0x5a), 0, 1024, bytes.length - 1024);
      await handle.close();
      const rest = buffer(stream);
      stream.resume();
      await expect(rest).rejects.toBeInstanceOf(PreconditionFailedError);
    } finally {
      await close();
    }
  });
});
