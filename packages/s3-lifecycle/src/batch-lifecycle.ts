import { type BatchId, assertBatchId } from '@batchline/batch-id';
import pMap, { pMapSkip } from 'p-map';
import { CorruptObjectError, readJson } from './json-object.js';
import { assertEntity, assertKey, normalizeRoot } from './keys.js';
import { BatchInProgressError, Lease, type LeaseOptions, defaultLeaseOwner } from './lease.js';
import { ObjectNotFoundError, type ObjectStore, PreconditionFailedError } from './object-store.js';
import { BatchDeleteError, BatchFileError, BatchNotClaimedError } from './errors.js';

export { BatchDeleteError, BatchFileError, BatchNotClaimedError };

/** A file pinned by a claim: its path relative to `landing/` (and to `processing/<id>/`). */
export interface ManifestFile {
  readonly path: string;
  readonly size: number;
  readonly etag: string;
}

/**
 * Where a batch is. `claiming` and `archiving` mean a move is under way (or was interrupted:
 * calling claim/archive again finishes it); `claimed` and `archived` mean it finished.
 */
export type BatchState = 'claiming' | 'claimed' | 'archiving' | 'archived';

export interface BatchTransition {
  readonly state: string;
  readonly at: string;
}

export interface BatchManifest {
  readonly version: 1;
  readonly entity: string;
  readonly batchId: BatchId;
  readonly state: BatchState;
  /** Every file of the batch, in key order, pinned by size and ETag when the batch was claimed. */
  readonly files: readonly ManifestFile[];
  readonly transitions: readonly BatchTransition[];
  /** Sum of the pinned files' sizes. */
  readonly bytes: number;
}

export type ProgressEvent = { entity: string; batchId: BatchId; step: string; done: number; total: number };

export interface LifecycleOptions {
  /** Prefix before `<entity>/`, e.g. `firehose/`. Default: none. */
  readonly root?: string;
  /** Parallel copies/deletes. Default 64. */
  readonly concurrency?: number;
  /** Called as files move, for progress output. */
  readonly onProgress?: (event: ProgressEvent) => void;
  /**
   * The per-batch lease that lets exactly one claim/archive of a batch run at a time.
   * `owner` identifies this runner (a retry with the same owner resumes at once); `wait: true`
   * waits for another runner instead of failing with BatchInProgressError.
   */
  readonly lease?: Omit<LeaseOptions, 'purpose'>;
}

export interface EntityStatus {
  readonly entity: string;
  readonly landing: { readonly files: number; readonly bytes: number };
  readonly processing: { readonly batches: number; readonly files: number; readonly bytes: number };
  readonly processed: { readonly batches: number; readonly files: number; readonly bytes: number };
  readonly batches: readonly { readonly batchId: BatchId; readonly state: BatchState; readonly files: number; readonly bytes: number }[];
}

export { BatchInProgressError };

export interface BatchLifecycle {
  readonly store: ObjectStore;
  /** Pin landing/ in a manifest and move exactly those files to processing/<id>/. Resumes an interrupted claim. */
  claim(entity: string, batchId: BatchId): Promise<BatchManifest>;
  /** Move a claimed batch's files from processing/<id>/ to processed/<id>/. Resumes an interrupted archive. */
  archive(entity: string, batchId: BatchId): Promise<BatchManifest>;
  readManifest(entity: string, batchId: BatchId): Promise<BatchManifest | undefined>;
  status(entity: string): Promise<EntityStatus>;
  /** Full object key of a pinned file while the batch is in processing. */
  processingKey(entity: string, batchId: BatchId, path: string): string;
  /** Full object key of a pinned file once the batch is archived. */
  processedKey(entity: string, batchId: BatchId, path: string): string;
  /** The landing prefix producers write to, e.g. `firehose/orders/landing/`. */
  landingPrefix(entity: string): string;
  processingPrefix(entity: string, batchId: BatchId): string;
  processedPrefix(entity: string, batchId: BatchId): string;
  manifestKey(entity: string, batchId: BatchId): string;
  /** Hold a lease for one run of a batch (the pipeline's one-run-per-batch rule), next to the manifests. */
  acquireRunLease(batchId: BatchId, options?: LeaseOptions): Promise<Lease>;
}

const MAX_DELETE_BATCH = 1000;
const MANIFEST_VERSION = 1;

type Stored = { value: BatchManifest; etag: string };

class StoreBatchLifecycle implements BatchLifecycle {
  private readonly root: string;
  private readonly concurrency: number;
  private readonly leaseOptions: Omit<LeaseOptions, 'purpose'>;

  constructor(
    readonly store: ObjectStore,
    private readonly options: LifecycleOptions,
  ) {
    this.root = normalizeRoot(options.root);
    const concurrency = options.concurrency ?? 64;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024) {
      throw new RangeError(`concurrency must be an integer from 1 to 1024, got ${concurrency}`);
    }
    this.concurrency = concurrency;
    // One owner per lifecycle instance, so its own claim and archive never block each other.
    this.leaseOptions = { ...options.lease, owner: options.lease?.owner ?? defaultLeaseOwner() };
  }

  landingPrefix(entity: string): string {
    assertEntity(entity);
    return `${this.root}${entity}/landing/`;
  }

  processingPrefix(entity: string, batchId: BatchId): string {
    assertEntity(entity);
    assertBatchId(batchId);
    return `${this.root}${entity}/processing/${batchId}/`;
  }

  processedPrefix(entity: string, batchId: BatchId): string {
    assertEntity(entity);
    assertBatchId(batchId);
    return `${this.root}${entity}/processed/${batchId}/`;
  }

  processingKey(entity: string, batchId: BatchId, path: string): string {
    const key = this.processingPrefix(entity, batchId) + path;
    assertKey(key);
    return key;
  }

  processedKey(entity: string, batchId: BatchId, path: string): string {
    const key = this.processedPrefix(entity, batchId) + path;
    assertKey(key);
    return key;
  }

  manifestKey(entity: string, batchId: BatchId): string {
    assertEntity(entity);
    assertBatchId(batchId);
    return `${this.manifestsPrefix(entity)}${batchId}.json`;
  }

  acquireRunLease(batchId: BatchId, options?: LeaseOptions): Promise<Lease> {
    assertBatchId(batchId);
    return Lease.acquire(this.store, `${this.root}_batchline/leases/runs/${batchId}.json`, { purpose: `run of batch ${batchId}`, ...options });
  }

  async readManifest(entity: string, batchId: BatchId): Promise<BatchManifest | undefined> {
    return (await this.readStored(entity, batchId))?.value;
  }

  async claim(entity: string, batchId: BatchId): Promise<BatchManifest> {
    const manifestKey = this.manifestKey(entity, batchId);
    const known = await this.readStored(entity, batchId);
    if (known && known.value.state !== 'claiming') return known.value;
    return this.withLease(entity, batchId, 'claim', async (lease) => {
      let current = await this.readStored(entity, batchId);
      if (current === undefined) {
        const files = await this.pinLanding(entity);
        const manifest: BatchManifest = {
          version: MANIFEST_VERSION,
          entity,
          batchId,
          state: 'claiming',
          files,
          bytes: files.reduce((sum, file) => sum + file.size, 0),
          transitions: [{ state: 'claiming', at: new Date().toISOString() }],
        };
        // The manifest is the claim: from here on, the batch is exactly these files.
        if (await this.store.putIfAbsent(manifestKey, JSON.stringify(manifest))) {
          const head = await this.store.head(manifestKey);
          if (head) current = { value: manifest, etag: head.etag };
        }
        current ??= await this.readStored(entity, batchId);
        if (current === undefined) throw new BatchInProgressError(`Manifest ${manifestKey} vanished while claiming; retry`, { key: manifestKey });
      }
      if (current.value.state !== 'claiming') return current.value;
      await this.moveFiles(current.value, 'claim', this.landingPrefix(entity), this.processingPrefix(entity, batchId), lease, true);
      return (await this.transition(current, 'claimed')).value;
    });
  }

  async archive(entity: string, batchId: BatchId): Promise<BatchManifest> {
    const check = (stored: Stored | undefined): BatchManifest | undefined => {
      if (stored === undefined) throw new BatchNotClaimedError(entity, batchId, 'it has no manifest; claim it first');
      if (stored.value.state === 'claiming') throw new BatchNotClaimedError(entity, batchId, 'its claim did not finish; run claim again to resume it');
      return stored.value.state === 'archived' ? stored.value : undefined;
    };
    const done = check(await this.readStored(entity, batchId));
    if (done) return done;
    return this.withLease(entity, batchId, 'archive', async (lease) => {
      let current = (await this.readStored(entity, batchId))!;
      const finished = check(current);
      if (finished) return finished;
      if (current.value.state === 'claimed') current = await this.transition(current, 'archiving');
      await this.moveFiles(current.value, 'archive', this.processingPrefix(entity, batchId), this.processedPrefix(entity, batchId), lease, false);
      return (await this.transition(current, 'archived')).value;
    });
  }

  async status(entity: string): Promise<EntityStatus> {
    const landing = { files: 0, bytes: 0 };
    for await (const object of this.store.list(this.landingPrefix(entity))) {
      landing.files++;
      landing.bytes += object.size;
    }
    const [processing, processed] = await Promise.all([this.tally(`${this.root}${entity}/processing/`), this.tally(`${this.root}${entity}/processed/`)]);
    const manifestKeys: string[] = [];
    for await (const object of this.store.list(this.manifestsPrefix(entity))) {
      if (object.key.endsWith('.json')) manifestKeys.push(object.key);
    }
    const batches = await pMap(
      manifestKeys,
      async (key) => {
        const batchId = key.slice(this.manifestsPrefix(entity).length, -'.json'.length) as BatchId;
        const manifest = await this.readManifest(entity, batchId);
        return manifest ? { batchId, state: manifest.state, files: manifest.files.length, bytes: manifest.bytes } : pMapSkip;
      },
      { concurrency: 8 },
    );
    return { entity, landing, processing, processed, batches };
  }

  private manifestsPrefix(entity: string): string {
    assertEntity(entity);
    return `${this.root}_batchline/manifests/${entity}/`;
  }

  private async tally(prefix: string): Promise<{ batches: number; files: number; bytes: number }> {
    const batches = new Set<string>();
    let files = 0;
    let bytes = 0;
    for await (const object of this.store.list(prefix)) {
      batches.add(object.key.slice(prefix.length).split('/', 1)[0]!);
      files++;
      bytes += object.size;
    }
    return { batches: batches.size, files, bytes };
  }

  private async readStored(entity: string, batchId: BatchId): Promise<Stored | undefined> {
    const key = this.manifestKey(entity, batchId);
    const stored = await readJson<BatchManifest>(this.store, key);
    if (stored === undefined) return undefined;
    const m = stored.value;
    if (m.version !== MANIFEST_VERSION) throw new CorruptObjectError(key, `manifest version ${JSON.stringify(m.version)}, expected ${MANIFEST_VERSION}`);
    if (m.entity !== entity || m.batchId !== batchId) throw new CorruptObjectError(key, `manifest names ${m.entity}/${m.batchId}`);
    if (!Array.isArray(m.files) || !['claiming', 'claimed', 'archiving', 'archived'].includes(m.state)) {
      throw new CorruptObjectError(key, 'manifest has no files list or an unknown state');
    }
    return stored;
  }

  /** Every object now in landing/, streamed from the listing straight into the manifest's file list. */
  private async pinLanding(entity: string): Promise<ManifestFile[]> {
    const prefix = this.landingPrefix(entity);
    const files: ManifestFile[] = [];
    for await (const object of this.store.list(prefix)) {
      files.push({ path: object.key.slice(prefix.length), size: object.size, etag: object.etag });
    }
    return files;
  }

  private async transition(current: Stored, state: BatchState): Promise<Stored> {
    const key = this.manifestKey(current.value.entity, current.value.batchId);
    const next: BatchManifest = { ...current.value, state, transitions: [...current.value.transitions, { state, at: new Date().toISOString() }] };
    if (!(await this.store.putIfMatch(key, JSON.stringify(next), current.etag))) {
      throw new BatchInProgressError(`Manifest ${key} was changed by another run while this one held the batch; re-run to resume`, { key });
    }
    const head = await this.store.head(key);
    return { value: next, etag: head?.etag ?? '' };
  }

  private async withLease<T>(entity: string, batchId: BatchId, operation: string, work: (lease: Lease) => Promise<T>): Promise<T> {
    const key = `${this.root}_batchline/leases/entities/${entity}/${batchId}.json`;
    const lease = await Lease.acquire(this.store, key, { ...this.leaseOptions, purpose: `${operation} of ${entity}/${batchId}` });
    let result: T;
    try {
      result = await work(lease);
    } catch (error) {
      // The work's error is what the caller needs; a failed release only delays the next run until expiry.
      await lease.release().catch(() => lease.abandon());
      throw error;
    }
    await lease.release();
    return result;
  }

  /**
   * Copy each pinned file to the target prefix, then delete the sources in batches (or rename each
   * file, on a store that can move atomically). Every step is
   * idempotent: a file already at the target (source gone) counts as moved; a file in neither place
   * is an error naming it. On the first failure no new file is started, and the call returns only
   * after the files in flight settled, so nothing runs on behind the caller's back.
   */
  private async moveFiles(manifest: BatchManifest, step: string, from: string, to: string, lease: Lease, pinned: boolean): Promise<void> {
    const { entity, batchId, files } = manifest;
    const total = files.length;
    let done = 0;
    let failure: unknown;
    const deletes: string[] = [];
    const flushDeletes = async (keys: string[]): Promise<void> => {
      if (keys.length === 0) return;
      const outcomes = await this.store.deleteMany(keys);
      const failures = outcomes.flatMap((o) => (o.error ? [{ key: o.key, code: o.error.code, message: o.error.message }] : []));
      if (failures.length > 0) throw new BatchDeleteError(failures);
    };
    await pMap(
      files,
      async (file) => {
        if (failure !== undefined) return pMapSkip;
        try {
          lease.assertHeld();
          const source = from + file.path;
          const copied = await this.transferOne(manifest, file, source, to + file.path, pinned);
          if (copied && !this.store.move) deletes.push(source);
          if (deletes.length >= MAX_DELETE_BATCH) await flushDeletes(deletes.splice(0, MAX_DELETE_BATCH));
          done++;
          this.options.onProgress?.({ entity, batchId, step, done, total });
        } catch (error) {
          failure ??= error;
        }
        return undefined;
      },
      { concurrency: this.concurrency },
    );
    if (failure !== undefined) throw failure;
    lease.assertHeld();
    while (deletes.length > 0) await flushDeletes(deletes.splice(0, MAX_DELETE_BATCH));
  }

  /**
   * Copy (or, where the store can, atomically move) one file. True when the source was transferred
   * now (a copied source must still be deleted); false when it had already moved.
   */
  private async transferOne(manifest: BatchManifest, file: ManifestFile, source: string, target: string, pinned: boolean): Promise<boolean> {
    const options = { size: file.size, ...(pinned ? { ifMatch: file.etag } : {}) };
    try {
      if (this.store.move) await this.store.move(source, target, options);
      else await this.store.copy(source, target, options);
      return true;
    } catch (error) {
      if (error instanceof PreconditionFailedError) {
        throw new BatchFileError(manifest.entity, manifest.batchId, file.path, `${source} was replaced after the batch pinned it (ETag ${file.etag}); refusing to move a different file`);
      }
      if (!(error instanceof ObjectNotFoundError)) throw error;
    }
    const there = await this.store.head(target);
    if (there === undefined) {
      throw new BatchFileError(manifest.entity, manifest.batchId, file.path, `missing: neither ${source} nor ${target} exists`);
    }
    if (there.size !== file.size) {
      throw new BatchFileError(manifest.entity, manifest.batchId, file.path, `${target} has ${there.size} bytes, the manifest pinned ${file.size}`);
    }
    return false;
  }
}

export function createBatchLifecycle(store: ObjectStore, options: LifecycleOptions = {}): BatchLifecycle {
  return new StoreBatchLifecycle(store, options);
}
