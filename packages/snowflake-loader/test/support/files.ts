// A batch laid out as the claim leaves it: <root>/<entity>/processing/<BATCH_ID>/<path>, read through a
// BatchFileSource over a real directory (in place, or streamed like an S3 store).
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { BatchFile, BatchFileSource, Entity } from '../../src/index.js';

export interface TestStore {
  readonly dir: string;
  readonly inPlace: BatchFileSource;
  readonly streamed: BatchFileSource;
  put(entity: Entity, batchId: string, relPath: string, body: string | Buffer, opts?: { gzip?: boolean }): Promise<BatchFile>;
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
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
