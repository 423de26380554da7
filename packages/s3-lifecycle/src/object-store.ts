import type { Readable } from 'node:stream';
import { InvalidKeyError, ObjectNotFoundError, PreconditionFailedError } from './errors.js';

export { InvalidKeyError, ObjectNotFoundError, PreconditionFailedError };

/** One object as the store reports it. `etag` is opaque: compare it, never parse it. */
export interface StoredObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  readonly lastModified?: Date;
}

export type ObjectBody = string | Uint8Array | Readable;

export interface DeleteOutcome {
  readonly key: string;
  /** Set when the store refused to delete this key; a missing key is not an error. */
  readonly error?: { readonly code: string; readonly message: string };
}

/**
 * The object-store port. Keys are `/`-separated, never start with `/`, and are
 * untrusted input: adapters reject keys that could escape their root.
 */
export interface ObjectStore {
  /** Where the data lives, for reports: `file:///abs/dir` or `s3://bucket/prefix`. */
  readonly location: string;
  /**
   * How long after its last modification an object written by another program may still be growing
   * (a local file being copied in); the lifecycle's default `settleSeconds`. Absent or 0: objects
   * appear whole (S3 PUTs are atomic).
   */
  readonly defaultSettleSeconds?: number;
  /**
   * Every object under `prefix` (after `options.startAfter`, when set), in key order, fetched page by page. Entries under the prefix that
   * are not objects the store can serve (a symbolic link, a socket, a file name no key can address)
   * are not listed; a store that has such entries reports each to `options.onUnlisted`.
   */
  list(prefix: string, options?: ListOptions): AsyncIterable<StoredObject>;
  head(key: string): Promise<StoredObject | undefined>;
  /**
   * The object's bytes as a stream; rejects with ObjectNotFoundError when absent, and with
   * PreconditionFailedError when `options.ifMatch` is set and the object's ETag differs (a store that
   * cannot check it atomically fails the stream with that error once it sees other bytes).
   */
  get(key: string, options?: GetOptions): Promise<Readable>;
  put(key: string, body: ObjectBody): Promise<StoredObject>;
  /** Create only if absent: false when the key already exists. Exactly one of many racing callers wins. */
  putIfAbsent(key: string, body: ObjectBody): Promise<boolean>;
  /** Replace only if the current ETag matches: false otherwise (compare-and-swap). */
  putIfMatch(key: string, body: ObjectBody, etag: string): Promise<boolean>;
  /**
   * Server-side copy; rejects with ObjectNotFoundError when the source is absent and with
   * PreconditionFailedError when `options.ifMatch` is set and the source's ETag differs.
   */
  copy(sourceKey: string, targetKey: string, options?: CopyOptions): Promise<StoredObject>;
  /**
   * Optional atomic move, for stores that have one (a filesystem rename): the object is at the
   * source or at the target, never both, never neither. Same errors as `copy`. Stores without it
   * are moved by `copy` + `deleteMany`.
   */
  move?(sourceKey: string, targetKey: string, options?: CopyOptions): Promise<StoredObject>;
  /** Delete up to any number of keys (chunked by the adapter); errors are reported per key. */
  deleteMany(keys: readonly string[]): Promise<DeleteOutcome[]>;
  /** A filesystem path for the key when the store is a local directory, so an engine can read it in place. */
  localPath?(key: string): string | undefined;
  /**
   * Release what the adapter holds (copy threads, the client it built); idempotent. A finished process
   * exits without it; call it to free a store early. Stores that hold nothing may omit it.
   */
  close?(): Promise<void>;
}

export interface ListOptions {
  /** Called for each entry under the prefix that is not listed as an object, with the reason. */
  readonly onUnlisted?: (entry: UnlistedEntry) => void;
  /**
   * List only keys after this one (UTF-8 byte order, exclusive; it need not exist), as S3's ListObjectsV2
   * `StartAfter`: a listing of the newest keys under a prefix that holds years of them costs what it returns.
   */
  readonly startAfter?: string;
}

/** An entry under a listed prefix that the store cannot serve as an object. */
export interface UnlistedEntry {
  /** The key it would have (as well as the store can spell it). */
  readonly key: string;
  readonly reason: string;
}

export interface GetOptions {
  /** Read only this exact version (its ETag). */
  readonly ifMatch?: string;
}

export interface CopyOptions {
  /** Copy only this exact version of the source (its ETag). */
  readonly ifMatch?: string;
  /** The source's size when the caller already knows it (saves a HEAD on S3). */
  readonly size?: number;
}

