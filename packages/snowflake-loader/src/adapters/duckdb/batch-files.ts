// Make each batch file readable by DuckDB as a local file: in place when the store is a local
// directory, otherwise streamed to a temporary file (DuckDB's httpfs is not available offline).
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import pMap from 'p-map';
import { CorruptFileError, LoadInputError } from '../../errors.js';
import { stageFileName } from '../../load-request.js';
import type { BatchFile, BatchFileSource, PinnedFileReader } from '../../warehouse-contract.js';

export type Compression = 'none' | 'gzip' | 'zstd';

export interface LocalBatchFile {
  readonly file: BatchFile;
  readonly localPath: string;
  readonly compression: Compression;
}

export interface LocalBatch {
  readonly files: readonly LocalBatchFile[];
  /**
   * Files read in place from the store's own directory are checked again after the scan (a file
   * rewritten while DuckDB read it fails here, before the load commits). Temporary copies need nothing.
   */
  verifyUnchanged(): Promise<void>;
  /** Remove temporary copies. */
  dispose(): Promise<void>;
}

/** DuckDB expands these in file names (globs): such a path is copied to a plain temporary name first. */
const GLOB_CHARACTERS = /[*?[\]{}]/;

const DOWNLOAD_CONCURRENCY = 4;

export async function localBatchFiles(
  files: readonly BatchFile[],
  source: BatchFileSource | undefined,
  tempRoot: string | undefined,
  owner: { readonly entity: string; readonly batchId: string },
  pinned?: PinnedFileReader,
): Promise<LocalBatch> {
  if (files.length === 0) return { files: [], verifyUnchanged: async () => {}, dispose: async () => {} };
  if (!source) {
    throw new LoadInputError(
      'The DuckDB warehouse reads batch files through an object store: pass openWarehouse(url, { files: store })',
    );
  }
  // One promise, assigned before any await: concurrent downloads must share one directory, or
  // all but the last would be created and never disposed.
  let tempDir: Promise<string> | undefined;
  const dispose = async () => {
    if (tempDir) await rm(await tempDir, { recursive: true, force: true });
  };
  const inPlace: BatchFile[] = [];
  try {
    const local = await pMap(
      files,
      async (file, index): Promise<LocalBatchFile> => {
        let localPath = source.localPath?.(file.key);
        let size: number;
        if (localPath !== undefined && !GLOB_CHARACTERS.test(localPath)) {
          // Pinned: the file is as claimed (size and ETag) now, and again after the scan (verifyUnchanged).
          if (pinned) {
            await pinned.verifyPinned(file);
            inPlace.push(file);
          }
          size = (await stat(localPath)).size;
        } else {
          // Named after this process, so a later load can tell (and remove) one a killed load left behind.
          tempDir ??= sweepAbandoned(tempRoot ?? tmpdir()).then(() => mkdtemp(path.join(tempRoot ?? tmpdir(), `batchline-load-${process.pid}-`)));
          // A plain name (index + a safe suffix such as .gz): keys are data, never a pattern DuckDB expands.
          localPath = path.join(await tempDir, `${index}${safeSuffix(file.path)}`);
          size = await download(pinned ? () => pinned.openPinned(file) : () => source.get(file.key), localPath);
        }
        if (size !== file.size) {
          throw new LoadInputError(
            `Batch file ${JSON.stringify(file.path)} is ${size} bytes, but the claim pinned ${file.size} bytes: ` +
              'it changed after the claim and is not loaded; restore it, or re-pin the batch to what is there now (batchline repin)',
          );
        }
        const compression = await sniffCompression(localPath);
        // DuckDB reads a gzip stream cut at a record boundary as a shorter, valid file: check the whole
        // stream first, so a truncated object fails by name instead of loading in part.
        if (compression === 'gzip') {
          const damage = await gzipDamage(localPath);
          if (damage !== undefined) {
            throw new CorruptFileError(owner.entity, owner.batchId, stageFileName(owner.batchId, file.path), 'truncated or corrupt gzip', damage);
          }
        }
        return { file, localPath, compression };
      },
      { concurrency: DOWNLOAD_CONCURRENCY },
    );
    const verifyUnchanged = async () => {
      await pMap(inPlace, (file) => pinned!.verifyPinned(file), { concurrency: DOWNLOAD_CONCURRENCY });
    };
    return { files: local, verifyUnchanged, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** `.gz`, `.csv`... from the key when it is plain ASCII, else nothing (compression is sniffed anyway). */
function safeSuffix(filePath: string): string {
  const ext = path.extname(filePath);
  return /^\.[A-Za-z0-9]{1,8}$/.test(ext) ? ext : '';
}

async function download(open: () => Promise<Readable>, target: string): Promise<number> {
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline(await open(), counter, createWriteStream(target, { flags: 'wx' }));
  return bytes;
}

/** By magic number, not by name: a compressed object without a .gz suffix still loads. */
async function sniffCompression(file: string): Promise<Compression> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
    if (bytesRead >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
    return 'none';
  } finally {
    await handle.close();
  }
}

/** Undefined when the file decompresses to its end (every member, trailer checksums included), else zlib's reason. */
async function gzipDamage(file: string): Promise<string | undefined> {
  try {
    await pipeline(createReadStream(file), createGunzip(), async function discard(chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) void chunk;
    });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Remove the temporary directories of loads whose process is gone (SIGKILL leaves them). Best effort. */
async function sweepAbandoned(root: string): Promise<void> {
  const names = await readdir(root).catch(() => [] as string[]);
  await Promise.all(
    names.map(async (name) => {
      const pid = /^batchline-load-(\d+)-/.exec(name)?.[1];
      if (pid === undefined || Number(pid) === process.pid || processAlive(Number(pid))) return;
      await rm(path.join(root, name), { recursive: true, force: true }).catch(() => undefined);
    }),
  );
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
