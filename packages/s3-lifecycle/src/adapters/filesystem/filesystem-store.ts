import { createHash, randomUUID } from 'node:crypto';
import { constants, createWriteStream, type Stats } from 'node:fs';
import { link, lstat, mkdir, open, readdir, rename, rm, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { type Readable, Transform, pipeline as pipeStreams } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import pMap from 'p-map';
import { assertKey, assertPrefix, startAfterOf } from '../../keys.js';
import { BlockedPathError } from '../../errors.js';
import {
  type CopyOptions,
  type DeleteOutcome,
  type GetOptions,
  InvalidKeyError,
  type ListOptions,
  type ObjectBody,
  ObjectNotFoundError,
  type ObjectStore,
  PreconditionFailedError,
  type StoredObject,
} from '../../object-store.js';

export interface FileObjectStoreOptions {
  /** fsync each file before it is renamed into place, so a power cut never exposes a torn object. Default true. */
  readonly fsync?: boolean;
  /** A cross-process lock older than this is considered abandoned by a crashed process. Default 10 s. */
  readonly lockStaleMs?: number;
}

/** Folders of the store's own, at the top of the root; keys may not start with them. */
const TMP_DIR = '.batchline-tmp';
const LOCK_DIR = '.batchline-locks';
const RESERVED = new Set([TMP_DIR, LOCK_DIR]);
const MAX_SEGMENT_BYTES = 255;
const ETAG_CACHE_LIMIT = 200_000;
/** Files up to this size are copied through memory in one read (faster than streams for landing-sized files). */
const SMALL_FILE_BYTES = 8 * 1024 * 1024;

interface CachedEtag {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly etag: string;
}

function quoteMd5(hash: ReturnType<typeof createHash>): string {
  return `"${hash.digest('hex')}"`;
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * When a file last changed, for settling: the later of its mtime and ctime. A copy that preserves times
 * (`cp -p`, `rsync -t`) sets an old mtime, but ctime still moves with every write, rename and time change.
 */
function changedAt(stats: Stats): Date {
  return new Date(Math.max(stats.mtimeMs, stats.ctimeMs));
}

/**
 * Remove temporary files a killed writer left behind (SIGKILL gives no chance to clean up): those of a
 * process on this host that is gone, and any older than a day (another host's, or an older release's).
 * Best effort: a sweep that fails leaves the files for the next one.
 */
async function sweepTempFiles(dir: string): Promise<void> {
  const host = hostname();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(
    names.map(async (name) => {
      const file = path.join(dir, name);
      const parts = /^(.+)\.(\d+)\.[0-9a-f-]{36}$/.exec(name);
      let abandoned = false;
      if (parts && parts[1] === host) abandoned = Number(parts[2]) !== process.pid && !processAlive(Number(parts[2]));
      else abandoned = await lstat(file).then((s) => Date.now() - s.mtimeMs > TEMP_MAX_AGE_MS, () => false);
      if (abandoned) await rm(file, { force: true, recursive: true }).catch(() => undefined);
    }),
  );
}

const TEMP_MAX_AGE_MS = 24 * 3600 * 1000;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Byte-wise (UTF-8) order, as S3 lists keys. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Whether a listing that starts after `after` may hold `key`: a file's key sorts after it, or a folder's
 * (`name/`) does or starts it (a key under the folder can then sort after it).
 */
function isAfter(key: string, after: Buffer): boolean {
  const bytes = Buffer.from(key, 'utf8');
  if (Buffer.compare(bytes, after) > 0) return true;
  return key.endsWith('/') && after.subarray(0, bytes.length).equals(bytes);
}

/** A stream tap that hashes (MD5, as S3 does for single-part objects) and counts what passes through. */
function hashingTap(): { tap: Transform; result: () => { etag: string; size: number } } {
  const hash = createHash('md5');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer | string, _encoding, done) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      hash.update(buf);
      size += buf.byteLength;
      done(null, buf);
    },
  });
  return { tap, result: () => ({ etag: quoteMd5(hash), size }) };
}

/**
 * The embedded object store: a directory tree. Every write goes to a temporary file that is
 * renamed into place (atomic within one filesystem); `putIfAbsent` publishes with link(2), so
 * exactly one racing writer wins; `putIfMatch` compares and swaps under a per-key lock that also
 * holds across processes. ETags are the MD5 of the content, quoted, like S3's single-part ETags.
 */
export class FileObjectStore implements ObjectStore {
  readonly location: string;
  readonly root: string;
  /**
   * A local file may be written in place by another program (`cp`, `rsync`, an editor), so the lifecycle
   * leaves files changed within the last 5 seconds for the next batch by default.
   */
  readonly defaultSettleSeconds = 5;
  private readonly fsync: boolean;
  private readonly lockStaleMs: number;
  private readonly etags = new Map<string, CachedEtag>();
  private readonly localLocks = new Map<string, Promise<void>>();
  private ready: Promise<void> | undefined;

  constructor(root: string, options: FileObjectStoreOptions = {}) {
    if (typeof root !== 'string' || root === '' || root.includes('\0')) {
      throw new TypeError(`FileObjectStore root must be a directory path, got ${JSON.stringify(root)}`);
    }
    this.root = path.resolve(root);
    this.location = pathToFileURL(this.root).href;
    this.fsync = options.fsync ?? true;
    this.lockStaleMs = options.lockStaleMs ?? 10_000;
  }

  /** Nothing to release (no threads, no sockets); here so every store from openObjectStore can be closed alike. */
  async close(): Promise<void> {}

  /** The file that holds `key`. Throws InvalidKeyError for keys that could escape the root. */
  localPath(key: string): string {
    assertKey(key);
    const segments = key.split('/');
    if (RESERVED.has(segments[0]!)) throw new InvalidKeyError(key, `starts with the store's reserved folder ${segments[0]}/`);
    for (const segment of segments) {
      if (Buffer.byteLength(segment, 'utf8') > MAX_SEGMENT_BYTES) {
        throw new InvalidKeyError(key, `has a path segment longer than ${MAX_SEGMENT_BYTES} bytes, which a filesystem cannot store`);
      }
    }
    return path.join(this.root, ...segments);
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncGenerator<StoredObject> {
    assertPrefix(prefix);
    const startAfter = startAfterOf(options);
    const dirKey = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    yield* this.walk(dirKey, prefix, options.onUnlisted ?? (() => {}), startAfter === undefined ? undefined : Buffer.from(startAfter, 'utf8'));
  }

  async head(key: string): Promise<StoredObject | undefined> {
    const file = this.localPath(key);
    let handle: FileHandle;
    try {
      handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      if (isAbsent(error) || errorCode(error) === 'ELOOP') return undefined; // a symbolic link is not an object
      throw error;
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) return undefined;
      const etag = await this.etagOf(file, stats, handle);
      return { key, size: stats.size, etag, lastModified: changedAt(stats) };
    } finally {
      await handle.close();
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const file = this.localPath(key);
    const handle = await this.openForRead(key, file);
    const expected = options.ifMatch;
    if (expected === undefined) return handle.createReadStream();
    try {
      if ((await this.etagOf(file, await handle.stat(), handle)) !== expected) throw new PreconditionFailedError(key, expected);
    } catch (error) {
      await handle.close();
      throw error;
    }
    // A file can change in place while it is read (S3 objects cannot): hash the bytes as they pass, and
    // fail the stream at its end rather than hand on other bytes as the pinned version.
    const hash = createHash('md5');
    const check = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
      flush(done) {
        done(quoteMd5(hash) === expected ? null : new PreconditionFailedError(key, expected));
      },
    });
    return pipeStreams(handle.createReadStream({ start: 0 }), check, () => {});
  }

  async put(key: string, body: ObjectBody): Promise<StoredObject> {
    const file = this.localPath(key);
    const temp = await this.writeTemp(body);
    try {
      await this.publish(temp.path, file, (from, to) => rename(from, to));
    } catch (error) {
      await rm(temp.path, { force: true });
      throw error;
    }
    return this.remember(key, file, temp.etag);
  }

  async putIfAbsent(key: string, body: ObjectBody): Promise<boolean> {
    const file = this.localPath(key);
    // Cheap early answer; the link below still decides any race.
    if (await this.exists(file)) return false;
    const temp = await this.writeTemp(body);
    try {
      // link(2) fails with EEXIST when the name exists: the filesystem picks exactly one winner.
      await this.publish(temp.path, file, (from, to) => link(from, to));
      await this.remember(key, file, temp.etag);
      return true;
    } catch (error) {
      if (errorCode(error) === 'EEXIST') return false;
      throw error;
    } finally {
      await rm(temp.path, { force: true });
    }
  }

  async putIfMatch(key: string, body: ObjectBody, etag: string): Promise<boolean> {
    const file = this.localPath(key);
    const temp = await this.writeTemp(body);
    try {
      return await this.withKeyLock(key, async () => {
        const current = await this.head(key);
        if (current === undefined || current.etag !== etag) return false;
        await rename(temp.path, file);
        await this.remember(key, file, temp.etag);
        return true;
      });
    } finally {
      await rm(temp.path, { force: true });
    }
  }

  async copy(sourceKey: string, targetKey: string, options: CopyOptions = {}): Promise<StoredObject> {
    const source = this.localPath(sourceKey);
    const target = this.localPath(targetKey);
    const handle = await this.openForRead(sourceKey, source);
    // Hash the bytes actually copied, so `ifMatch` vouches for exactly what lands at the target.
    let temp: { path: string; etag: string; size: number };
    try {
      const { size } = await handle.stat();
      temp = await this.writeTemp(size <= SMALL_FILE_BYTES ? await handle.readFile() : handle.createReadStream({ autoClose: false }));
    } finally {
      await handle.close();
    }
    try {
      if (options.ifMatch !== undefined && temp.etag !== options.ifMatch) {
        throw new PreconditionFailedError(sourceKey, options.ifMatch);
      }
      await this.publish(temp.path, target, (from, to) => rename(from, to));
    } catch (error) {
      await rm(temp.path, { force: true });
      throw error;
    }
    return this.remember(targetKey, target, temp.etag);
  }

  /** rename(2): atomic within the store's filesystem. With `ifMatch`, the inode that moved is the one that was hashed. */
  async move(sourceKey: string, targetKey: string, options: CopyOptions = {}): Promise<StoredObject> {
    const source = this.localPath(sourceKey);
    const target = this.localPath(targetKey);
    const handle = await this.openForRead(sourceKey, source);
    let before: Stats;
    let etag: string;
    try {
      before = await handle.stat();
      etag = await this.etagOf(source, before, handle);
    } finally {
      await handle.close();
    }
    if (options.ifMatch !== undefined && etag !== options.ifMatch) throw new PreconditionFailedError(sourceKey, options.ifMatch);
    try {
      await this.publish(source, target, (from, to) => rename(from, to));
    } catch (error) {
      if (isAbsent(error) && !(await this.exists(source))) throw new ObjectNotFoundError(sourceKey);
      throw error;
    }
    this.etags.delete(source);
    const after = await lstat(target);
    if (after.ino !== before.ino || after.dev !== before.dev) {
      // The source was replaced between hashing and renaming: what moved is not the pinned version.
      throw new PreconditionFailedError(sourceKey, options.ifMatch ?? etag);
    }
    this.cacheEtag(target, after, etag);
    await this.pruneEmptyDirs(new Set([path.dirname(source)]));
    return { key: targetKey, size: after.size, etag, lastModified: after.mtime };
  }

  async deleteMany(keys: readonly string[]): Promise<DeleteOutcome[]> {
    const parents = new Set<string>();
    const outcomes = await pMap(
      keys,
      async (key): Promise<DeleteOutcome> => {
        let file: string;
        try {
          file = this.localPath(key);
        } catch (error) {
          return { key, error: { code: 'InvalidKey', message: (error as Error).message } };
        }
        try {
          await unlink(file);
          this.etags.delete(file);
          parents.add(path.dirname(file));
        } catch (error) {
          const code = errorCode(error);
          if (code !== 'ENOENT' && code !== 'ENOTDIR') return { key, error: { code: code ?? 'Error', message: (error as Error).message } };
        }
        return { key };
      },
      { concurrency: 16 },
    );
    await this.pruneEmptyDirs(parents);
    return outcomes;
  }

  private async openForRead(key: string, file: string): Promise<FileHandle> {
    let handle: FileHandle;
    try {
      handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      if (isAbsent(error)) throw new ObjectNotFoundError(key);
      if (errorCode(error) === 'ELOOP') throw new InvalidKeyError(key, 'names a symbolic link, which the store does not follow');
      throw error;
    }
    const stats = await handle.stat();
    if (!stats.isFile()) {
      await handle.close();
      throw new ObjectNotFoundError(key);
    }
    return handle;
  }

  /**
   * Keys under `dirKey` (a '' or '/'-terminated key prefix) that start with `prefix`, in UTF-8 byte order.
   * Entries that are not objects (symbolic links, sockets, names no key can address, unreadable files)
   * are reported to `unlisted` instead, so nothing under a prefix disappears without a word. With `after`,
   * keys up to it are passed over by name alone (no stat, no hash) and folders whose keys all sort before it
   * are not read.
   */
  private async *walk(
    dirKey: string,
    prefix: string,
    unlisted: (entry: { key: string; reason: string }) => void,
    after: Buffer | undefined,
  ): AsyncGenerator<StoredObject> {
    const dir = dirKey === '' ? this.root : path.join(this.root, ...dirKey.slice(0, -1).split('/'));
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true, encoding: 'buffer' });
    } catch (error) {
      if (isAbsent(error)) return;
      throw error;
    }
    // A folder's keys all start with `name/`, so sorting folders as `name/` keeps global key order.
    const sorted = entries
      .map((entry) => ({ entry, name: entry.name.toString('utf8') }))
      .filter(({ name }) => !(dirKey === '' && RESERVED.has(name)))
      .map(({ entry, name }) => ({ entry, name, sortKey: entry.isDirectory() ? `${name}/` : name }))
      .filter(({ sortKey }) => after === undefined || isAfter(dirKey + sortKey, after))
      .sort((a, b) => compareUtf8(a.sortKey, b.sortKey));
    for (const { entry, name, sortKey } of sorted) {
      const key = dirKey + sortKey;
      if (entry.isDirectory()) {
        if (key.startsWith(prefix) || prefix.startsWith(key)) yield* this.walk(key, prefix, unlisted, after);
        continue;
      }
      if (!key.startsWith(prefix)) continue;
      if (!Buffer.from(name, 'utf8').equals(entry.name)) {
        unlisted({ key, reason: 'its file name is not valid UTF-8, so no object key can name it' });
        continue;
      }
      if (entry.isSymbolicLink()) {
        unlisted({ key, reason: 'a symbolic link, which the store does not follow' });
        continue;
      }
      if (!entry.isFile()) {
        unlisted({ key, reason: 'not a regular file (a socket, FIFO or device)' });
        continue;
      }
      let object: StoredObject | undefined;
      try {
        object = await this.head(key);
      } catch (error) {
        // A file name no key can address, or a file this process may not read.
        if (error instanceof InvalidKeyError) unlisted({ key, reason: error.reason });
        else if (errorCode(error) === 'EACCES' || errorCode(error) === 'EPERM') unlisted({ key, reason: `not readable (${errorCode(error)})` });
        else throw error;
        continue;
      }
      if (object) yield object;
    }
  }

  private async etagOf(file: string, stats: Stats, handle: FileHandle): Promise<string> {
    const cached = this.etags.get(file);
    if (cached && cached.ino === stats.ino && cached.size === stats.size && cached.mtimeMs === stats.mtimeMs && cached.ctimeMs === stats.ctimeMs) {
      return cached.etag;
    }
    const hash = createHash('md5');
    for await (const chunk of handle.createReadStream({ start: 0, autoClose: false })) hash.update(chunk as Buffer);
    const etag = quoteMd5(hash);
    this.cacheEtag(file, stats, etag);
    return etag;
  }

  private cacheEtag(file: string, stats: Stats, etag: string): void {
    if (this.etags.size >= ETAG_CACHE_LIMIT) this.etags.clear();
    this.etags.set(file, { ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, etag });
  }

  private async remember(key: string, file: string, etag: string): Promise<StoredObject> {
    const stats = await lstat(file);
    this.cacheEtag(file, stats, etag);
    return { key, size: stats.size, etag, lastModified: stats.mtime };
  }

  private async writeTemp(body: ObjectBody): Promise<{ path: string; etag: string; size: number }> {
    this.ready ??= mkdir(path.join(this.root, TMP_DIR), { recursive: true }).then(() => sweepTempFiles(path.join(this.root, TMP_DIR)));
    await this.ready;
    // Named after their writer, so the next store on this host can tell one left by a killed process.
    const temp = path.join(this.root, TMP_DIR, `${hostname()}.${process.pid}.${randomUUID()}`);
    try {
      if (typeof body === 'string' || body instanceof Uint8Array) {
        // Small bodies skip the stream machinery: one write, one optional fsync.
        const bytes = typeof body === 'string' ? Buffer.from(body) : body;
        const handle = await open(temp, 'wx', 0o644);
        try {
          await handle.writeFile(bytes);
          if (this.fsync) await handle.sync();
        } finally {
          await handle.close();
        }
        return { path: temp, etag: quoteMd5(createHash('md5').update(bytes)), size: bytes.byteLength };
      }
      const { tap, result } = hashingTap();
      await pipeline(body, tap, createWriteStream(temp, { flags: 'wx', mode: 0o644, flush: this.fsync }));
      return { path: temp, ...result() };
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** Put a finished file at its key's path, creating folders when missing (again, if a delete pruned them meanwhile). */
  private async publish(from: string, file: string, place: (from: string, to: string) => Promise<void>): Promise<void> {
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await place(from, file);
          return;
        } catch (error) {
          if (errorCode(error) !== 'ENOENT' || attempt >= 5 || !(await this.exists(from))) throw error;
        }
        await mkdir(path.dirname(file), { recursive: true });
      }
    } catch (error) {
      throw await this.blocked(error, file);
    }
  }

  /** A write refused for a reason no retry changes becomes a BlockedPathError naming what is in the way. */
  private async blocked(error: unknown, file: string): Promise<unknown> {
    const code = errorCode(error);
    const key = path.relative(this.root, file).split(path.sep).join('/');
    if (code === 'ENOTDIR' || code === 'EEXIST') {
      // The first ancestor (below the root) that exists but is not a folder is what blocks.
      const ancestors: string[] = [];
      for (let dir = path.dirname(file); dir.startsWith(this.root + path.sep); dir = path.dirname(dir)) ancestors.unshift(dir);
      for (const dir of ancestors) {
        const stats = await lstat(dir).catch(() => undefined);
        if (stats === undefined) break;
        if (!stats.isDirectory()) return new BlockedPathError(key, dir, code, `a file stands where the store needs a folder: ${dir}`);
      }
      return code === 'ENOTDIR' ? new BlockedPathError(key, file, code, 'a file stands where the store needs a folder') : error;
    }
    if (code === 'EISDIR') return new BlockedPathError(key, file, code, 'a folder stands where the store needs a file');
    if (code === 'EACCES' || code === 'EPERM') return new BlockedPathError(key, file, code, 'the store has no permission to write there');
    if (code === 'EROFS') return new BlockedPathError(key, file, code, 'the filesystem is read-only');
    return error;
  }

  private async exists(file: string): Promise<boolean> {
    return lstat(file).then(
      () => true,
      () => false,
    );
  }

  private async pruneEmptyDirs(dirs: Set<string>): Promise<void> {
    const byDepth = [...dirs].sort((a, b) => b.length - a.length);
    const done = new Set<string>();
    for (let dir of byDepth) {
      while (dir.startsWith(this.root + path.sep) && !done.has(dir)) {
        done.add(dir);
        try {
          await rmdir(dir);
        } catch {
          break; // not empty, already gone, or busy: leave it
        }
        dir = path.dirname(dir);
      }
    }
  }

  /** Serialize compare-and-swap on one key: in this process by a promise chain, across processes by a lock file. */
  private async withKeyLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.localLocks.get(key) ?? Promise.resolve();
    let unlock!: () => void;
    const mine = new Promise<void>((resolve) => (unlock = resolve));
    const chained = previous.then(() => mine);
    this.localLocks.set(key, chained);
    await previous;
    try {
      const lockDir = path.join(this.root, LOCK_DIR);
      await mkdir(lockDir, { recursive: true });
      // proper-lockfile (with graceful-fs) loads on the first conditional write, not when the package is imported.
      const { default: lockfile } = await import('proper-lockfile');
      const release = await lockfile.lock(this.localPath(key), {
        realpath: false,
        lockfilePath: path.join(lockDir, `${createHash('sha256').update(key).digest('hex')}.lock`),
        stale: this.lockStaleMs,
        retries: { retries: 200, factor: 1.3, minTimeout: 2, maxTimeout: 100 },
      });
      try {
        return await work();
      } finally {
        await release();
      }
    } finally {
      unlock();
      if (this.localLocks.get(key) === chained) this.localLocks.delete(key);
    }
  }
}

function isAbsent(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}
