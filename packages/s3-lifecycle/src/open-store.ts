import { statSync } from 'node:fs';
import path from 'node:path';
import { FileObjectStore, type FileObjectStoreOptions } from './adapters/filesystem/filesystem-store.js';
import { S3ObjectStore, type S3ObjectStoreOptions } from './adapters/s3/s3-store.js';
import type { ObjectStore } from './object-store.js';
import { InvalidStoreUrlError, StoreConfigError } from './errors.js';

export { InvalidStoreUrlError };

/** Settings for openObjectStore; each applies to the adapter the URL selects. */
export type OpenObjectStoreOptions = FileObjectStoreOptions & Omit<S3ObjectStoreOptions, 'bucket' | 'prefix'>;

/** What a store URL names, checked at the edge: nothing is opened or created. */
export type StoreLocation = { readonly kind: 'file'; readonly dir: string } | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string };

// S3 bucket naming rules: 3-63 characters, lowercase letters, digits, dots and hyphens, a letter or digit at both ends.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function decodePath(url: string, raw: string): string {
  // RFC 8089: a file URL has a path only; `?` and `#` start a query and a fragment, which name nothing on disk.
  if (raw.includes('?') || raw.includes('#')) throw new InvalidStoreUrlError(url, 'a query (?) or fragment (#) is not part of a directory; percent-encode them (%3F, %23) if the name has them');
  let dir: string;
  try {
    dir = decodeURIComponent(raw);
  } catch {
    throw new InvalidStoreUrlError(url, 'bad percent-encoding');
  }
  // Checked after decoding, so `%2e%2e` is refused like `..`.
  if (dir.includes('\0')) throw new InvalidStoreUrlError(url, 'a NUL character');
  if (dir.split('/').includes('..')) throw new InvalidStoreUrlError(url, 'a ".." segment (also when percent-encoded); name the directory without climbing out of it');
  return dir;
}

/**
 * Parse a store URL without touching anything:
 * - `file:///abs/dir` or `file://localhost/abs/dir` (RFC 8089), or `file://rel/dir` relative to the working
 *   directory; percent-encoded, no query, fragment or `..` segment (before or after decoding);
 * - `s3://bucket[/prefix]` with a valid bucket name, no query or fragment.
 */
export function parseStoreUrl(url: unknown, cwd: string = process.cwd()): StoreLocation {
  if (typeof url !== 'string') throw new InvalidStoreUrlError(url, 'not a string');
  if (url.startsWith('file://')) {
    let rest = url.slice('file://'.length);
    if (rest.startsWith('localhost/')) rest = rest.slice('localhost'.length);
    if (rest === '' || rest === '/') throw new InvalidStoreUrlError(url, 'no directory');
    return { kind: 'file', dir: path.resolve(cwd, decodePath(url, rest)) };
  }
  if (url.startsWith('s3://')) {
    const rest = url.slice('s3://'.length);
    if (rest.includes('?') || rest.includes('#')) throw new InvalidStoreUrlError(url, 'a query (?) or fragment (#); expected s3://<bucket>[/<prefix>]');
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    let prefix = slash === -1 ? '' : rest.slice(slash + 1);
    if (bucket === '') throw new InvalidStoreUrlError(url, 'no bucket');
    if (!BUCKET.test(bucket) || bucket.includes('..')) throw new InvalidStoreUrlError(url, `Invalid S3 bucket name ${JSON.stringify(bucket)}: expected 3-63 characters of a-z, 0-9, "." and "-", a letter or digit at both ends`);
    if (prefix.split('/').some((segment) => segment === '..' || segment === '.')) throw new InvalidStoreUrlError(url, 'a "." or ".." segment in the prefix');
    if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
    return { kind: 's3', bucket, prefix };
  }
  throw new InvalidStoreUrlError(url, 'unknown scheme');
}

/**
 * Open a store by URL (see parseStoreUrl for the forms):
 * - `file://data/store` (relative to the working directory) or `file:///abs/dir`; a path that exists and
 *   is not a directory is a configuration error (StoreConfigError), and nothing is created until a write;
 * - `s3://bucket` or `s3://bucket/some/prefix`; endpoint, region and path style come from `options`
 *   or the environment (AWS_ENDPOINT_URL_S3, AWS_REGION, ...); credentials only from the SDK's
 *   default provider chain.
 */
export function openObjectStore(url: string, options: OpenObjectStoreOptions = {}): ObjectStore & { close(): Promise<void> } {
  const location = parseStoreUrl(url);
  if (location.kind === 'file') {
    const stats = statSync(location.dir, { throwIfNoEntry: false });
    if (stats && !stats.isDirectory()) {
      throw new StoreConfigError(`Store ${JSON.stringify(url)} names ${JSON.stringify(location.dir)}, which is not a directory; expected a directory (or a path where one may be created)`);
    }
    return new FileObjectStore(location.dir, options);
  }
  return new S3ObjectStore({ ...options, bucket: location.bucket, prefix: location.prefix });
}
