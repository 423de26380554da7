/**
 * A real S3 API for tests: fauxqs (in-process, loopback, port 0, data in memory) with a thin layer
 * in front of it for the two S3 features fauxqs 1.9 lacks and this package relies on:
 *
 * 1. Conditional requests. S3 enforces `If-None-Match: *` and `If-Match: <etag>` on PutObject and
 *    CompleteMultipartUpload, `If-Match` on GetObject, and `x-amz-copy-source-if-match` on CopyObject/UploadPartCopy;
 *    fauxqs ignores them. A Fastify preHandler hook takes a per-key lock for every write
 *    (PUT/POST/DELETE on an object), evaluates the precondition against the current object
 *    (read from the server's memory), answers 412 PreconditionFailed (or 404 NoSuchKey for If-Match
 *    on a missing key) as S3 does, and holds the lock until the response is sent, so check and
 *    write are atomic per key.
 * 2. UploadPartCopy (multipart copy of a range of another object), which fauxqs treats as an
 *    empty UploadPart: the hook reads the range with an in-process ranged GET and uploads it as
 *    the part, answering with S3's CopyPartResult.
 * 3. Listing order. S3 lists keys in UTF-8 byte order; fauxqs sorts with localeCompare but pages
 *    with a plain `<=` comparison, so a page boundary can skip keys whose orders differ ('Z.csv'
 *    after 'a.csv'). Its in-memory store is subclassed to sort and page in byte order.
 * 4. ListObjectsV2 `encoding-type=url` (percent-encoded keys in the answer), which fauxqs ignores.
 *
 * Nothing here mocks the SDK: the adapter talks HTTP to this server exactly as to S3.
 */
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { type BuildAppOptions, buildApp } from 'fauxqs';
import { S3ObjectStore, createS3Client } from '../../src/index.js';
import type { StoreFixture } from './store-contract.js';

type App = ReturnType<typeof buildApp>;
/** The parts of Fastify's request and reply the layer uses (fastify itself is fauxqs's dependency, not ours). */
type HookRequest = Parameters<Parameters<App['addHook']>[1]>[0] & {
  method: string;
  url: string;
  params: unknown;
  query: unknown;
  headers: Record<string, string | string[] | undefined>;
};
type HookReply = Parameters<Parameters<App['addHook']>[1]>[1] & {
  status(code: number): HookReply;
  header(name: string, value: string): HookReply;
  send(payload: unknown): HookReply;
  raw: { once(event: 'close', listener: () => void): void };
};

interface FauxqsObject {
  key: string;
  etag: string;
  body: Buffer;
}

export interface DirectAccess {
  put(bucket: string, key: string, body: Buffer): void;
  /** The object's ETag, or undefined when absent. */
  etag(bucket: string, key: string): string | undefined;
  /** key -> ETag (the MD5 of the stored bytes) for every object under `prefix`. */
  etags(bucket: string, prefix: string): Map<string, string>;
}
interface FauxqsList {
  objects: FauxqsObject[];
  commonPrefixes: string[];
  isTruncated: boolean;
}
interface FauxqsListOptions {
  prefix?: string;
  delimiter?: string;
  maxKeys?: number;
  startAfter?: string;
  marker?: string;
}

/** fauxqs's stores, with S3's byte-order listing (the classes are not in the package's exports map). */
async function fauxqsStores() {
  const dist = import.meta.resolve('fauxqs');
  const [{ S3Store }, { SqsStore }, { SnsStore }] = await Promise.all([
    import(new URL('./s3/s3Store.js', dist).href),
    import(new URL('./sqs/sqsStore.js', dist).href),
    import(new URL('./sns/snsStore.js', dist).href),
  ]);
  const Base = S3Store as new () => {
    listObjects(bucket: string, options?: FauxqsListOptions): FauxqsList;
    putObject(bucket: string, key: string, body: Buffer, contentType?: string): FauxqsObject;
    getObject(bucket: string, key: string): FauxqsObject;
  };
  class ByteOrderS3Store extends Base {
    /** Per bucket: the keys in byte order, rebuilt only after the bucket's map changed. */
    private readonly sortedKeys = new Map<string, { version: number; entries: { bytes: Buffer; object: FauxqsObject }[] }>();
    private readonly versions = new WeakMap<Map<string, FauxqsObject>, { value: number }>();

    /** Count every change to a bucket's object map (whatever fauxqs method makes it). */
    private versionOf(objects: Map<string, FauxqsObject>): { value: number } {
      let version = this.versions.get(objects);
      if (!version) {
        const counter = { value: 0 };
        version = counter;
        this.versions.set(objects, counter);
        const { set, delete: remove, clear } = objects;
        objects.set = function (key, value) {
          counter.value++;
          return set.call(this, key, value);
        };
        objects.delete = function (key) {
          counter.value++;
          return remove.call(this, key);
        };
        objects.clear = function () {
          counter.value++;
          clear.call(this);
        };
      }
      return version;
    }

    override listObjects(bucket: string, options: FauxqsListOptions = {}): FauxqsList {
      const objects = (this as unknown as { buckets: Map<string, Map<string, FauxqsObject>> }).buckets.get(bucket);
      if (options.delimiter || !objects) return super.listObjects(bucket, options) as FauxqsList;
      const version = this.versionOf(objects).value;
      let cached = this.sortedKeys.get(bucket);
      if (!cached || cached.version !== version) {
        const entries = [...objects.values()].map((object) => ({ bytes: Buffer.from(object.key, 'utf8'), object })).sort((a, b) => Buffer.compare(a.bytes, b.bytes));
        cached = { version, entries };
        this.sortedKeys.set(bucket, cached);
      }
      const { entries } = cached;
      const prefix = Buffer.from(options.prefix ?? '', 'utf8');
      const after = Buffer.from(options.startAfter ?? options.marker ?? '', 'utf8');
      // First entry >= prefix and > after (binary search), then walk while the prefix matches.
      const firstAtLeast = (bound: Buffer, strict: boolean) => {
        let lo = 0;
        let hi = entries.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          const c = Buffer.compare(entries[mid]!.bytes, bound);
          if (c < 0 || (strict && c === 0)) lo = mid + 1;
          else hi = mid;
        }
        return lo;
      };
      const maxKeys = options.maxKeys ?? 1000;
      const result: FauxqsObject[] = [];
      let i = Math.max(firstAtLeast(prefix, false), after.length > 0 ? firstAtLeast(after, true) : 0);
      for (; i < entries.length && result.length < maxKeys; i++) {
        const entry = entries[i]!;
        if (entry.bytes.subarray(0, prefix.length).compare(prefix) !== 0) break;
        result.push(entry.object);
      }
      const isTruncated = i < entries.length && result.length === maxKeys && entries[i]!.bytes.subarray(0, prefix.length).compare(prefix) === 0;
      return { objects: result, commonPrefixes: [], isTruncated };
    }
  }
  const s3Store = new ByteOrderS3Store();
  const direct: DirectAccess = {
    put: (bucket, key, body) => void s3Store.putObject(bucket, key, body, 'application/octet-stream'),
    etag: (bucket, key) => {
      try {
        return s3Store.getObject(bucket, key).etag;
      } catch {
        return undefined; // NoSuchKey / NoSuchBucket
      }
    },
    etags: (bucket, prefix) =>
      new Map(s3Store.listObjects(bucket, { prefix, maxKeys: Number.MAX_SAFE_INTEGER }).objects.map((o) => [o.key, o.etag] as const)),
  };
  const stores = { s3Store, sqsStore: new SqsStore(), snsStore: new SnsStore() } as unknown as NonNullable<BuildAppOptions['stores']>;
  return { stores, direct };
}

export interface S3Server {
  readonly endpoint: string;
  /** Test set-up and inspection straight on the server's memory, bypassing HTTP (e.g. seeding 50 files per crash scenario). */
  readonly direct: DirectAccess;
  /** Conditional requests answered 412/404 by the layer, for tests that want to see it work. */
  readonly rejected: { count: number };
  close(): Promise<void>;
}

function errorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/** The copy source header, `bucket/key` (URL-encoded, optional leading slash and ?versionId). */
function parseCopySource(header: string): { bucket: string; key: string } | undefined {
  const raw = decodeURIComponent(header.split('?')[0]!).replace(/^\//, '');
  const slash = raw.indexOf('/');
  return slash === -1 ? undefined : { bucket: raw.slice(0, slash), key: raw.slice(slash + 1) };
}

function addS3Conditions(app: App, direct: DirectAccess, rejected: { count: number }, enforce = true): void {
  const locks = new Map<string, Promise<void>>();
  async function lock(id: string): Promise<() => void> {
    const previous = locks.get(id) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const chained = previous.then(() => mine);
    locks.set(id, chained);
    await previous;
    return () => {
      release();
      if (locks.get(id) === chained) locks.delete(id);
    };
  }
  function currentEtag(bucket: string, key: string): string | undefined {
    return direct.etag(bucket, key);
  }

  app.addHook('preHandler', async (request: HookRequest, reply: HookReply) => {
    const params = request.params as { bucket?: string; '*'?: string } | undefined;
    const bucket = params?.bucket;
    const key = params?.['*'];
    if (!bucket || !key) return;
    if (request.method === 'GET' || request.method === 'HEAD') {
      // GetObject/HeadObject If-Match (S3 answers 412 when the ETag differs); fauxqs ignores it.
      const ifMatch = request.headers['if-match'];
      const etag = ifMatch === undefined ? undefined : currentEtag(bucket, key);
      if (ifMatch !== undefined && etag !== undefined && etag !== ifMatch) {
        rejected.count++;
        return reply.status(412).header('content-type', 'application/xml').send(errorXml('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold'));
      }
      return;
    }
    if (!['PUT', 'POST', 'DELETE'].includes(request.method)) return;
    const query = request.query as Record<string, string | undefined>;
    const isPart = query.uploadId !== undefined && query.partNumber !== undefined;
    const copySource = request.headers['x-amz-copy-source'] as string | undefined;
    const fail = (status: number, code: string, message: string) => {
      rejected.count++;
      return reply.status(status).header('content-type', 'application/xml').send(errorXml(code, message));
    };

    if (copySource !== undefined) {
      const ifMatch = request.headers['x-amz-copy-source-if-match'] as string | undefined;
      const source = parseCopySource(copySource);
      if (enforce && ifMatch !== undefined && source) {
        const etag = currentEtag(source.bucket, source.key);
        if (etag !== undefined && etag !== ifMatch) return fail(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      }
      if (isPart && source) {
        // UploadPartCopy: copy the source range into the part.
        const range = request.headers['x-amz-copy-source-range'] as string | undefined;
        const got = await app.inject({ method: 'GET', url: `/${source.bucket}/${encodeKey(source.key)}`, headers: range ? { range } : {} });
        if (got.statusCode >= 300) return reply.status(got.statusCode).header('content-type', 'application/xml').send(got.body);
        const put = await app.inject({
          method: 'PUT',
          url: request.url,
          headers: { 'content-type': 'application/octet-stream' },
          payload: got.rawPayload,
        });
        const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<CopyPartResult><ETag>${String(put.headers.etag)}</ETag><LastModified>${new Date().toISOString()}</LastModified></CopyPartResult>`;
        return reply.status(200).header('content-type', 'application/xml').send(xml);
      }
    }
    if (isPart || !enforce) return;

    const release = await lock(`${bucket}/${key}`);
    reply.raw.once('close', release);
    const ifNoneMatch = request.headers['if-none-match'];
    const ifMatch = request.headers['if-match'];
    if (ifNoneMatch === undefined && ifMatch === undefined) return;
    const etag = currentEtag(bucket, key);
    if (ifNoneMatch === '*' && etag !== undefined) return fail(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    if (ifMatch !== undefined) {
      if (etag === undefined) return fail(404, 'NoSuchKey', 'The specified key does not exist.');
      if (etag !== ifMatch) return fail(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    }
  });
}

const XML_ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'" };

/**
 * ListObjectsV2 `encoding-type=url`, which fauxqs ignores: S3 then percent-encodes Key, Prefix, StartAfter and
 * Delimiter as a form would (space as '+') and says `<EncodingType>url</EncodingType>`. Without it, keys go out raw.
 */
function addListEncoding(app: App): void {
  app.addHook('onSend', async (request: HookRequest, _reply: HookReply, payload: unknown) => {
    const query = request.query as Record<string, string | undefined> | undefined;
    const params = request.params as { bucket?: string; '*'?: string } | undefined;
    if (request.method !== 'GET' || params?.['*'] || query?.['encoding-type'] !== 'url') return payload;
    const xml = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : undefined;
    if (xml === undefined || !xml.includes('<ListBucketResult')) return payload;
    const encode = (text: string) => encodeURIComponent(text.replace(/&(amp|lt|gt|quot|apos);/g, (e) => XML_ENTITIES[e]!)).replace(/%20/g, '+');
    return xml
      .replace(/<(Key|Prefix|StartAfter|Delimiter)>([^<]*)<\/\1>/g, (_m, tag: string, text: string) => `<${tag}>${encode(text)}</${tag}>`)
      .replace('</ListBucketResult>', '  <EncodingType>url</EncodingType>\n</ListBucketResult>');
  });
}

/**
 * `conditionalWrites: false` leaves out the conditional-write layer (If-None-Match, If-Match, copy-source
 * If-Match are then ignored, as by plain emulators and some S3-compatible stores): what `batchline doctor`
 * and `run`'s store guard must detect.
 */
export async function startS3Server(options: { conditionalWrites?: boolean } = {}): Promise<S3Server> {
  const { stores, direct } = await fauxqsStores();
  const app = buildApp({ logger: false, stores });
  const rejected = { count: 0 };
  addS3Conditions(app, direct, rejected, options.conditionalWrites ?? true);
  addListEncoding(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('fauxqs did not report a TCP address');
  return { endpoint: `http://127.0.0.1:${address.port}`, direct, rejected, close: () => app.close() };
}

/** Credentials for the local server only, generated per run, handed over the SDK's default chain (env). */
export function useGeneratedCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = `TEST${randomBytes(8).toString('hex').toUpperCase()}`;
  process.env.AWS_SECRET_ACCESS_KEY = randomBytes(24).toString('base64');
  process.env.AWS_REGION = 'us-east-1';
  // The SDK warns once that its 2027 releases will need Node 22; this package pins a range that runs on Node 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_ENDPOINT_URL;
  delete process.env.AWS_ENDPOINT_URL_S3;
}

let buckets = 0;

/** A fresh bucket on `server`, as an S3ObjectStore (small list pages, so paging is exercised). */
export async function s3StoreFixture(
  server: S3Server,
  options: { listPageSize?: number; prefix?: string; maxAttempts?: number; copyThreads?: number; signed?: boolean } = {},
): Promise<S3ObjectStore> {
  const bucket = `batchline-test-${process.pid}-${++buckets}`;
  const client = createS3Client({ endpoint: server.endpoint, maxAttempts: options.maxAttempts ?? 2 });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const common = { bucket, listPageSize: options.listPageSize ?? 7, ...(options.prefix ? { prefix: options.prefix } : {}) };
  if (!options.copyThreads && !options.signed) return new S3ObjectStore({ ...common, client });
  // Built from settings, so copies go through worker threads with their own clients, or (0 threads) the signed copy path.
  client.destroy();
  const store = new S3ObjectStore({ ...common, endpoint: server.endpoint, maxAttempts: options.maxAttempts ?? 2, copyThreads: options.copyThreads ?? 0 });
  await store.warmUp();
  return store;
}

/** A StoreFixture that owns its own server. */
export async function openS3Fixture(
  options: { listPageSize?: number; prefix?: string; copyThreads?: number; signed?: boolean } = {},
): Promise<StoreFixture & { server: S3Server }> {
  useGeneratedCredentials();
  const server = await startS3Server();
  const store = await s3StoreFixture(server, options);
  return {
    store,
    server,
    seed: (key, body) => server.direct.put(store.bucket, store.prefix + key, body),
    etags: (prefix) => new Map([...server.direct.etags(store.bucket, store.prefix + prefix)].map(([k, e]) => [k.slice(store.prefix.length), e])),
    close: async () => {
      await store.close();
      store.client.destroy();
      await server.close();
    },
  };
}
