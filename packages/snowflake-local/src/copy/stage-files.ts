import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { SnowflakeError } from '../errors.js';

/**
 * Where a stage's files come from. Any `ObjectStore` of @batchline/s3-lifecycle
 * satisfies it (the filesystem store and the S3 store against a local server).
 */
export interface StageFileSource {
  get(key: string): Promise<Readable>;
  /** A local path for the key, so the server can read it without streaming. */
  localPath?(key: string): string | undefined;
  /** Needed only for a COPY without FILES = (...). */
  list?(prefix: string): AsyncIterable<{ readonly key: string }>;
}

function stageAreaFailure(cause: string): SnowflakeError {
  return new SnowflakeError('091003', '22000', `Failure using stage area. Cause: [${cause}]`);
}

function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; code?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return (
    err?.name === 'ObjectNotFoundError' ||
    err?.name === 'NoSuchKey' ||
    err?.name === 'NotFound' ||
    err?.code === 'ENOENT' ||
    err?.Code === 'NoSuchKey' ||
    err?.$metadata?.httpStatusCode === 404
  );
}

/** Maps stage URLs onto object keys of the test's store. */
export class StageFiles {
  private readonly prefixes: [string, string][];

  /**
   * @param mapping stage URL prefix -> object key prefix. Without one, the
   *   bucket is the store's root: `s3://bucket/a/b.csv` reads key `a/b.csv`.
   */
  constructor(
    private readonly store: StageFileSource | undefined,
    mapping: Readonly<Record<string, string>> | undefined,
  ) {
    this.prefixes = Object.entries(mapping ?? {}).sort((a, b) => b[0].length - a[0].length);
  }

  keyFor(url: string): string {
    for (const [urlPrefix, keyPrefix] of this.prefixes) {
      if (url.startsWith(urlPrefix)) return keyPrefix + url.slice(urlPrefix.length);
    }
    if (this.prefixes.length === 0) {
      const m = url.match(/^(?:s3|s3gov|gcs|azure):\/\/[^/]+\/(.*)$/);
      if (m) return m[1]!;
    }
    throw stageAreaFailure(`snowflake-local has no object-store mapping for ${url}; pass stageUrls to startSnowflakeLocal`);
  }

  /** The file's bytes, or undefined when it does not exist. */
  async read(url: string): Promise<Buffer | undefined> {
    if (!this.store) throw stageAreaFailure('snowflake-local was started without an objectStore');
    const key = this.keyFor(url);
    try {
      const path = this.store.localPath?.(key);
      if (path) return await readFile(path);
      const stream = await this.store.get(key);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
      return Buffer.concat(chunks);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw stageAreaFailure(e instanceof Error ? e.message : String(e));
    }
  }

  /** Files under a URL prefix, as URLs, in key order. */
  async list(urlPrefix: string): Promise<string[]> {
    if (!this.store) throw stageAreaFailure('snowflake-local was started without an objectStore');
    if (!this.store.list) throw stageAreaFailure('the objectStore cannot list; name the files with FILES = (...)');
    const keyPrefix = this.keyFor(urlPrefix);
    const urls: string[] = [];
    for await (const o of this.store.list(keyPrefix)) urls.push(urlPrefix + o.key.slice(keyPrefix.length));
    return urls.sort();
  }
}
