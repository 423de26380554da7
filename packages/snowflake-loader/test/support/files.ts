// A batch laid out as the claim leaves it: <root>/<entity>/processing/<BATCH_ID>/<path>, read through a
// BatchFileSource over a real directory (in place, or streamed like an S3 store); archive() moves it on to
// processed/<BATCH_ID>/ as s3-lifecycle's archive does.
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { BatchFile, BatchFileSource, Entity } from '../../src/index.js';

export interface TestStore {
  readonly dir: string;
  readonly inPlace: BatchFileSource;
  readonly streamed: BatchFileSource;
  put(entity: Entity, batchId: string, relPath: string, body: string | Buffer, opts?: { gzip?: boolean }): Promise<BatchFile>;
  /** Move the files from processing/<BATCH_ID>/ to processed/<BATCH_ID>/; returns them with their new keys. */
  archive(files: readonly BatchFile[]): Promise<BatchFile[]>;
  dispose(): Promise<void>;
}

export async function createTestStore(): Promise<TestStore> {
  const dir = await mkdtemp(path.join(tmpdir(), 'batchline-loader-test-'));
  const full = (key: string) => path.join(dir, ...key.split('/'));
  return {
    dir,
    inPlace: { get: async (key) => createReadStream(full(key)), localPath: (key) => full(key) },
    streamed: { get: async (key) => createReadStream(full(key)) },
    async put(entity, batchId, relPath, body, opts = {}) {
      const bytes = opts.gzip ? gzipSync(Buffer.from(body)) : Buffer.from(body);
      const key = `${entity}/processing/${batchId}/${relPath}`;
      await mkdir(path.dirname(full(key)), { recursive: true });
      await writeFile(full(key), bytes);
      return { path: relPath, key, size: bytes.length };
    },
    async archive(files) {
      const moved: BatchFile[] = [];
      for (const file of files) {
        const key = file.key.replace(/\/processing\/(\d{8}T\d{4})\//, '/processed/$1/');
        if (key === file.key) throw new Error(`${file.key} is not under processing/<BATCH_ID>/`);
        await mkdir(path.dirname(full(key)), { recursive: true });
        await rename(full(file.key), full(key));
        moved.push({ ...file, key });
      }
      return moved;
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
