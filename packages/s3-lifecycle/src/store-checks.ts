// What the pipeline assumes of its object store, checked against the real thing: list, get, put and delete under
// the root, conditional writes that are really enforced (claims, leases and locks depend on them), a missing key
// that reads as absent rather than forbidden, and copies with and without a source condition. Safe at any time:
// only scratch keys under <root>_batchline/doctor/ are written, and they are deleted again.
import { randomUUID } from 'node:crypto';
import { UnsafeStoreError } from './errors.js';
import { normalizeRoot } from './keys.js';
import { ObjectNotFoundError, PreconditionFailedError, type ObjectStore } from './object-store.js';

export interface StoreCheck {
  /** Stable id, e.g. `conditional-create`. */
  readonly id: string;
  /** What was checked, in words. */
  readonly title: string;
  readonly ok: boolean;
  /** What happened (on failure: what went wrong). */
  readonly detail: string;
  /** How to fix a failure. */
  readonly fix?: string;
}

export interface StoreCheckOptions {
  /** The pipeline's root prefix ('' or ending in '/'). */
  readonly root?: string;
  /** Entities whose prefixes are listed (default orders, customers). */
  readonly entities?: readonly string[];
}

const LIST_FIX = 'Grant the pipeline role s3:ListBucket on the bucket (conditioned on the root prefix); see docs/iam.md';
const WRITE_FIX = 'Grant the pipeline role s3:PutObject on <bucket>/<root>* (and kms:GenerateDataKey under SSE-KMS); see docs/iam.md';
const READ_FIX = 'Grant the pipeline role s3:GetObject on <bucket>/<root>* (and kms:Decrypt under SSE-KMS); see docs/iam.md';
const DELETE_FIX = 'Grant the pipeline role s3:DeleteObject on <bucket>/<root>*; see docs/iam.md';
const CONDITIONAL_FIX =
  'Use a store that enforces conditional writes (If-None-Match: * and If-Match on PutObject): Amazon S3 does; some S3-compatible ' +
  'products and plain local emulators ignore them. Without them two runners can both claim a batch. Only if a single runner can ' +
  'ever touch this store: batchline run --unsafe-ignore-conditional-writes';
const MISSING_FIX =
  'A missing key answered 403 (forbidden), not 404: without s3:ListBucket, S3 hides whether a key exists. Grant s3:ListBucket on the bucket; see docs/iam.md';

function message(error: unknown): string {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  return `${e?.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${e?.message ?? String(error)}`;
}

async function text(store: ObjectStore, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(key)) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

/** The scratch folder of one check run: `<root>_batchline/doctor/<id>/`. */
export function doctorScratchPrefix(root = '', runId: string = randomUUID()): string {
  return `${normalizeRoot(root)}_batchline/doctor/${runId}/`;
}

/**
 * Whether the store enforces conditional writes: a second putIfAbsent of one key must lose, and putIfMatch
 * with a wrong ETag must fail. Writes and deletes two scratch keys under `prefix`.
 */
export async function probeConditionalWrites(store: ObjectStore, prefix: string): Promise<StoreCheck[]> {
  const key = `${prefix}conditional`;
  const checks: StoreCheck[] = [];
  try {
    const first = await store.putIfAbsent(key, 'first');
    const second = await store.putIfAbsent(key, 'second');
    const kept = first ? await text(store, key) : undefined;
    const ok = first && !second && kept === 'first';
    checks.push({
      id: 'conditional-create',
      title: 'a second putIfAbsent (If-None-Match: *) of one key loses',
      ok,
      detail: ok
        ? 'the second create was refused, the first object kept'
        : !first
          ? 'the first create of a new key was refused'
          : `the second create ${second ? 'also succeeded' : 'was refused'} and the key holds ${JSON.stringify(kept)}: If-None-Match is ignored`,
      ...(ok ? {} : { fix: CONDITIONAL_FIX }),
    });
    const head = await store.head(key);
    const wrong = head ? `"${head.etag.replace(/"/g, '')}-not-this-one"` : '"0"';
    const replaced = await store.putIfMatch(key, 'third', wrong);
    const after = await text(store, key);
    const refused = !replaced && after !== 'third';
    const current = await store.head(key);
    const right = current ? await store.putIfMatch(key, 'fourth', current.etag) : false;
    const matchOk = refused && right;
    checks.push({
      id: 'conditional-replace',
      title: 'putIfMatch (If-Match) with a wrong ETag fails; with the right one it succeeds',
      ok: matchOk,
      detail: refused ? (right ? 'a wrong ETag was refused, the right one accepted' : 'a wrong ETag was refused, but so was the current one') : 'a replace with a wrong ETag succeeded: If-Match is ignored',
      ...(matchOk ? {} : { fix: CONDITIONAL_FIX }),
    });
  } catch (error) {
    checks.push({ id: 'conditional-create', title: 'conditional writes (If-None-Match / If-Match)', ok: false, detail: message(error), fix: `${WRITE_FIX}. ${CONDITIONAL_FIX}` });
  } finally {
    await store.deleteMany([key]).catch(() => undefined);
  }
  return checks;
}

/** Every check, in order; never throws for a failed check (each carries its fix). */
export async function checkStore(store: ObjectStore, options: StoreCheckOptions = {}): Promise<StoreCheck[]> {
  const root = normalizeRoot(options.root);
  const prefix = doctorScratchPrefix(root);
  const probe = `${prefix}probe.txt`;
  const checks: StoreCheck[] = [];
  const run = async (id: string, title: string, fix: string, fn: () => Promise<string>): Promise<boolean> => {
    try {
      checks.push({ id, title, ok: true, detail: await fn() });
      return true;
    } catch (error) {
      checks.push({ id, title, ok: false, detail: message(error), fix });
      return false;
    }
  };
  const body = `batchline doctor ${new Date().toISOString()}`;
  const put = await run('put', `put a scratch object under ${root}_batchline/doctor/`, WRITE_FIX, async () => {
    const stored = await store.put(probe, body);
    return `wrote ${stored.size} bytes`;
  });
  if (put) {
    await run('get', 'get it back, byte for byte', READ_FIX, async () => {
      const got = await text(store, probe);
      if (got !== body) throw new Error(`read back ${JSON.stringify(got.slice(0, 80))}, expected what was written`);
      return 'identical';
    });
  }
  await run('list', `list ${root}_batchline/doctor/ and each entity prefix`, LIST_FIX, async () => {
    const seen: string[] = [];
    for await (const o of store.list(prefix)) seen.push(o.key);
    if (put && !seen.includes(probe)) throw new Error(`the listing of ${prefix} does not show the object just written`);
    const counts: string[] = [];
    for (const entity of options.entities ?? ['orders', 'customers']) {
      let n = 0;
      for await (const _ of store.list(`${root}${entity}/`)) if (++n >= 1000) break;
      counts.push(`${entity}: ${n >= 1000 ? '1000+' : n} objects`);
    }
    return `scratch object listed; ${counts.join(', ')}`;
  });
  await run('missing-key', 'a missing key reads as absent (404), not forbidden (403)', MISSING_FIX, async () => {
    const missing = `${prefix}never-written`;
    const head = await store.head(missing);
    if (head !== undefined) throw new Error(`HEAD of a key never written found an object (${head.size} bytes)`);
    try {
      await store.get(missing);
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return 'HEAD and GET answered "not found"';
      throw error;
    }
    throw new Error('GET of a key never written returned a body');
  });
  checks.push(...(await probeConditionalWrites(store, prefix)));
  if (put) {
    await run(
      'copy',
      'copy with and without a source condition (x-amz-copy-source-if-match), as claims and archives do',
      'Grant s3:GetObject and s3:PutObject on <bucket>/<root>*; a bucket policy that requires conditional headers on every write makes plain CopyObject fail (see docs/iam.md, bucket-policy caveats)',
      async () => {
        const head = await store.head(probe);
        if (!head) throw new Error('the scratch object vanished');
        await store.copy(probe, `${prefix}copy-plain.txt`);
        await store.copy(probe, `${prefix}copy-pinned.txt`, { ifMatch: head.etag });
        try {
          await store.copy(probe, `${prefix}copy-wrong.txt`, { ifMatch: `"${head.etag.replace(/"/g, '')}-not-this-one"` });
        } catch (error) {
          if (error instanceof PreconditionFailedError) return 'plain and pinned copies worked; a copy pinned to another version was refused';
          throw error;
        }
        throw new Error('a copy pinned to a wrong ETag succeeded: the copy-source condition is ignored');
      },
    );
  }
  await run('delete', 'delete the scratch objects', DELETE_FIX, async () => {
    const keys: string[] = [];
    for await (const o of store.list(prefix)) keys.push(o.key);
    const outcomes = await store.deleteMany(keys);
    const refused = outcomes.filter((o) => o.error);
    if (refused.length > 0) throw new Error(`refused for ${refused.length} key(s): ${refused[0]!.error!.code} ${refused[0]!.error!.message}`);
    for await (const o of store.list(prefix)) throw new Error(`${o.key} is still there after the delete`);
    return `deleted ${keys.length} scratch object(s)`;
  });
  return checks;
}

/** Where `run` caches a passed conditional-write check: once per store (and root). */
export function conditionalWritesMarkerKey(root = ''): string {
  return `${normalizeRoot(root)}_batchline/store-checks/conditional-writes.json`;
}

/**
 * `run`'s guard: refuse a store that ignores conditional writes (two runners could both claim a batch).
 * Probed once per store and root, then remembered under `<root>_batchline/store-checks/` (only a pass is
 * remembered; a failing store is probed again next time). Throws UnsafeStoreError naming `batchline doctor`.
 */
export async function requireConditionalWrites(store: ObjectStore, options: { root?: string } = {}): Promise<'cached' | 'checked'> {
  const root = normalizeRoot(options.root);
  const marker = conditionalWritesMarkerKey(root);
  if (await store.head(marker)) return 'cached';
  const checks = await probeConditionalWrites(store, doctorScratchPrefix(root));
  const failed = checks.filter((c) => !c.ok);
  if (failed.length > 0) throw new UnsafeStoreError(store.location, failed.map((c) => c.detail).join('; '));
  await store.putIfAbsent(marker, `${JSON.stringify({ conditionalWrites: 'enforced', checkedAt: new Date().toISOString(), checks: checks.map((c) => c.id) })}\n`);
  return 'checked';
}
