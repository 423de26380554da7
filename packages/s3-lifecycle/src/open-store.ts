import path from 'node:path';
import { FileObjectStore, type FileObjectStoreOptions } from './adapters/filesystem/filesystem-store.js';
import { S3ObjectStore, type S3ObjectStoreOptions } from './adapters/s3/s3-store.js';
import type { ObjectStore } from './object-store.js';
import { InvalidStoreUrlError } from './errors.js';

export { InvalidStoreUrlError };

/** Settings for openObjectStore; each applies to the adapter the URL selects. */
export type OpenObjectStoreOptions = FileObjectStoreOptions & Omit<S3ObjectStoreOptions, 'bucket' | 'prefix'>;

/**
 * Open a store by URL:
 * - `file://data/store` (relative to the working directory) or `file:///abs/dir`
 * - `s3://bucket` or `s3://bucket/some/prefix`; endpoint, region and path style come from `options`
 *   or the environment (AWS_ENDPOINT_URL_S3, AWS_REGION, ...); credentials only from the SDK's
 *   default provider chain.
 */
export function openObjectStore(url: string, options: OpenObjectStoreOptions = {}): ObjectStore & { close(): Promise<void> } {
  if (typeof url !== 'string') throw new InvalidStoreUrlError(url, 'not a string');
  if (url.startsWith('file://')) {
    let dir = url.slice('file://'.length);
    if (dir.startsWith('localhost/')) dir = dir.slice('localhost'.length);
    if (dir === '' || dir.includes('\0')) throw new InvalidStoreUrlError(url, 'no directory');
    try {
      dir = decodeURIComponent(dir);
    } catch {
      throw new InvalidStoreUrlError(url, 'bad percent-encoding');
    }
    return new FileObjectStore(path.resolve(dir), options);
  }
  if (url.startsWith('s3://')) {
    const rest = url.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    let prefix = slash === -1 ? '' : rest.slice(slash + 1);
    if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
    if (bucket === '') throw new InvalidStoreUrlError(url, 'no bucket');
    return new S3ObjectStore({ ...options, bucket, prefix });
  }
  throw new InvalidStoreUrlError(url, 'unknown scheme');
}
