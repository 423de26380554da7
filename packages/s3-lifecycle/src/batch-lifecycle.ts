import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { type BatchId, assertBatchId, isBatchId } from '@batchline/batch-id';
import pMap, { pMapSkip } from 'p-map';
import {
  BatchDeleteError,
  BatchFileError,
  BatchInProgressError,
  BatchNotClaimedError,
  BatchStateError,
  CorruptObjectError,
  InvalidLifecycleOptionError,
  ObjectNotFoundError,
  PinnedFileChangedError,
  PreconditionFailedError,
  quote,
} from './errors.js';
import { readJson } from './json-object.js';
import { assertEntity, assertKey, normalizeRoot } from './keys.js';
import { type LandingScan, type SkippedKey, scanLanding, unmovableReason } from './landing.js';
import { Lease, type LeaseOptions, type LeaseRecord, defaultLeaseOwner } from './lease.js';
import type { ObjectStore } from './object-store.js';

export { BatchDeleteError, BatchFileError, BatchInProgressError, BatchNotClaimedError };
export type { SkippedKey };

/** A file pinned by a claim: its path relative to `landing/` (and to `processing/<id>/`). */
export interface ManifestFile {
  readonly path: string;
  readonly size: number;
  readonly etag: string;
}

/**
 * Where a batch is. `claiming`, `archiving` and `releasing` mean a move is under way (or was
 * interrupted: calling the same operation again finishes it); `claimed` and `archived` mean it finished.
 */
export type BatchState = 'claiming' | 'claimed' | 'archiving' | 'archived' | 'releasing';

const STATES: readonly BatchState[] = ['claiming', 'claimed', 'archiving', 'archived', 'releasing'];

export interface FileVersion {
  readonly size: number;
  readonly etag: string;
}

/** One file's change on repin: `before` absent = added, `after` absent = removed. */
export interface FileChange {
  readonly path: string;
  readonly before?: FileVersion;
  readonly after?: FileVersion;
}

export interface BatchTransition {
  readonly state: string;
  readonly at: string;
  /** Set on the transition a repin records: what changed against the previous pin. */
  readonly repinned?: readonly FileChange[];
}

export interface BatchManifest {
  readonly version: 1;
  readonly entity: string;
  readonly batchId: BatchId;
  readonly state: BatchState;
  /** Every file of the batch, in key order, pinned by size and ETag (at the claim, or at the last repin). */
  readonly files: readonly ManifestFile[];
  readonly transitions: readonly BatchTransition[];
  /** Sum of the pinned files' sizes. */
  readonly bytes: number;
  /**
   * Landing entries the claim left in landing/, with the reason: keys the store cannot take (they stay
   * until someone renames or removes them) and files still settling (the next batch takes them).
   */
  readonly skipped?: readonly SkippedKey[];
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
   * The per-batch lease that lets exactly one claim/archive/repin/release of a batch run at a time, and the
   * entity's claim lock (same TTL and polling). `owner` identifies this runner (a retry with the same owner
   * resumes at once); `wait: true` waits for another runner of the same batch instead of failing with
   * BatchInProgressError. Claims of other batches of the entity are always waited for.
   */
  readonly lease?: Omit<LeaseOptions, 'purpose'>;
  /**
   * A landing file that changed within this many seconds is left for the next batch (it may still be
   * being written). Default: the store's `defaultSettleSeconds` (FileObjectStore 5, S3 0: PUTs are atomic).
   */
  readonly settleSeconds?: number;
}

/** What a new claim is about to pin, shown to `beforePin` under the entity's claim lock. */
export interface PinPlan {
  readonly entity: string;
  readonly batchId: BatchId;
  readonly files: readonly ManifestFile[];
  readonly skipped: readonly SkippedKey[];
  /** Every batch id of this entity that has a manifest (any state), ascending. */
  readonly batchIds: readonly BatchId[];
}

export interface ClaimOptions {
  /** Overrides the lifecycle's settleSeconds for this claim. */
  readonly settleSeconds?: number;
  /**
   * Runs under the entity's claim lock before landing/ is listed, only when the claim is new. Throw to
   * refuse: nothing is listed or written, and the error reaches the caller.
   */
  readonly beforeList?: (context: { readonly entity: string; readonly batchId: BatchId }) => void | Promise<void>;
  /**
   * Runs under the entity's claim lock after landing/ was listed and before the manifest is written,
   * only when the claim is new (a claim that resumes or returns an existing manifest skips it). Throw to
   * refuse: nothing is written, nothing moves, and the error reaches the caller.
   */
  readonly beforePin?: (plan: PinPlan) => void | Promise<void>;
}

export type BatchLocation = 'processing' | 'processed';

/** A pinned file as a loader reads it: where it is now, and what it must be. */
export interface LoadableFile {
  readonly entity: string;
  readonly batchId: BatchId;
  /** Relative to `<location>/<BATCH_ID>/`: the name pinned in the manifest. */
  readonly path: string;
  /** The full object key in the store now. */
  readonly key: string;
  /** `<location>/<BATCH_ID>/<path>`: relative to the entity's stage, `<root><entity>/`. */
  readonly stagePath: string;
  /** `processing/<BATCH_ID>/<path>`: the name the claim gave it, the same after archiving (a stable source name). */
  readonly claimPath: string;
  readonly size: number;
  readonly etag: string;
}

export interface LoadableBatch {
  readonly entity: string;
  readonly batchId: BatchId;
  readonly state: BatchState;
  readonly location: BatchLocation;
  readonly files: readonly LoadableFile[];
}

export interface RepinResult {
  readonly manifest: BatchManifest;
  /** Empty when processing/<id>/ already held exactly the pinned files (nothing was written). */
  readonly changes: readonly FileChange[];
}

export interface ReleaseResult {
  readonly entity: string;
  readonly batchId: BatchId;
  /** Files put back in landing/. */
  readonly files: number;
  /** True when there was no manifest: released before (or never claimed). */
  readonly alreadyReleased: boolean;
}

export interface BatchSummary {
  readonly batchId: BatchId;
  readonly state: BatchState;
  readonly files: number;
  readonly bytes: number;
  /** The time of the manifest's last transition. */
  readonly updatedAt: string;
  /** Set while a runner holds the batch (a claim, archive, repin or release in progress). */
  readonly heldBy?: { readonly owner: string; readonly purpose: string; readonly expiresAt: string };
}

export interface EntityStatus {
  readonly entity: string;
  readonly landing: {
    readonly files: number;
    readonly bytes: number;
    /** Files the next claim would take. */
    readonly waiting: number;
    /** Files changed within settleSeconds (the claim after next takes them). */
    readonly settling: number;
    /** Files pinned by a batch still claiming or releasing (they belong to it). */
    readonly pinned: number;
    /** Entries the store cannot take (listed in `skipped`). */
    readonly skipped: number;
  };
  readonly processing: { readonly batches: number; readonly files: number; readonly bytes: number };
  /** Absent when `status` was asked for some batches only: the tally lists every archived file ever. */
  readonly processed?: { readonly batches: number; readonly files: number; readonly bytes: number };
  /** Every batch, ascending; with `StatusOptions.batchIds`, those that have a manifest and the open ones. */
  readonly batches: readonly BatchSummary[];
  /** Keys in landing/ no claim will take, with the reason: rename or remove them. */
  readonly skipped: readonly SkippedKey[];
  /** Manifests that could not be read; every other batch is still listed. */
  readonly corrupt: readonly { readonly key: string; readonly reason: string }[];
}

export interface StatusOptions {
  /**
   * Summarize only these batches (those that have a manifest), plus the open ones (claiming or releasing: their
   * files may still be in landing/, found from the pending markers), and leave out the `processed` tally: the
   * cost then follows the batches asked for, not the entity's history. Unreadable manifests are reported among
   * these only. Default: every batch.
   */
  readonly batchIds?: readonly BatchId[];
}

export interface BatchLifecycle {
  readonly store: ObjectStore;
  /**
   * Pin landing/ in a manifest and move exactly those files to processing/<id>/. Resumes an interrupted
   * claim. Pinning is serialized per entity (the claim lock), and never pins a file another open batch pinned.
   */
  claim(entity: string, batchId: BatchId, options?: ClaimOptions): Promise<BatchManifest>;
  /** Move a claimed batch's files from processing/<id>/ to processed/<id>/. Resumes an interrupted archive. */
  archive(entity: string, batchId: BatchId): Promise<BatchManifest>;
  /** Pin a claimed, not yet archived batch to what is now in processing/<id>/, recording old and new size and ETag. */
  repin(entity: string, batchId: BatchId): Promise<RepinResult>;
  /** Put a claimed, not yet archived batch's files back in landing/ and remove its manifest. Resumes an interrupted release. */
  release(entity: string, batchId: BatchId): Promise<ReleaseResult>;
  readManifest(entity: string, batchId: BatchId): Promise<BatchManifest | undefined>;
  /** Where a claimed batch's files are now, with what each must be. Finishes an interrupted archive first. */
  loadableFiles(entity: string, batchId: BatchId): Promise<LoadableBatch>;
  /** Read a pinned file, refusing (PinnedFileChangedError) anything but the pinned size and ETag. */
  openPinned(file: LoadableFile): Promise<Readable>;
  /** Check that a pinned file is still as pinned (for engines that read the store's local file in place). */
  verifyPinned(file: LoadableFile): Promise<void>;
  /**
   * Read-only: every batch with its state (or, with `batchIds`, those and the open ones), landing/ per state,
   * skipped keys, unreadable manifests.
   */
  status(entity: string, options?: StatusOptions): Promise<EntityStatus>;
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
  /**
   * Run `work` holding the entity's claim lock (the one every new claim and release announcement takes),
   * waiting for it. Do not claim the same entity inside `work`: that claim would wait for this lock.
   */
  holdClaimLock<T>(entity: string, purpose: string, work: () => Promise<T>): Promise<T>;
  /** `<root>_batchline/sequence.json`: where the pipeline keeps its batch-sequence record. */
  sequenceKey(): string;
}

const MAX_DELETE_BATCH = 1000;
const MANIFEST_VERSION = 1;
/** A batch id's length (`YYYYMMDDTHHMM`), for the longest key a landing path is moved to. */
const BATCH_ID_PLACEHOLDER = '00000000T0000';

type Stored = { value: BatchManifest; etag: string };
type MoveMode = 'claim' | 'archive' | 'release';

function settleMsOf(option: string, value: number | undefined, fallback: number): number {
  const seconds = value ?? fallback;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0 || seconds > 86_400) {
    throw new InvalidLifecycleOptionError(option, seconds, 'a number of seconds from 0 to 86400');
  }
  return seconds * 1000;
}

function lastAt(manifest: BatchManifest): string {
  return manifest.transitions.at(-1)?.at ?? '';
}

class StoreBatchLifecycle implements BatchLifecycle {
  private readonly root: string;
  private readonly concurrency: number;
  private readonly settleMs: number;
  private readonly leaseOptions: Omit<LeaseOptions, 'purpose'> & { owner: string };

  constructor(
    readonly store: ObjectStore,
    private readonly options: LifecycleOptions,
  ) {
    this.root = normalizeRoot(options.root);
    const concurrency = options.concurrency ?? 64;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024) {
      throw new InvalidLifecycleOptionError('concurrency', concurrency, 'an integer from 1 to 1024');
    }
    this.concurrency = concurrency;
    this.settleMs = settleMsOf('settleSeconds', options.settleSeconds, store.defaultSettleSeconds ?? 0);
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

  holdClaimLock<T>(entity: string, purpose: string, work: () => Promise<T>): Promise<T> {
    assertEntity(entity);
    return this.withClaimLock(entity, 'hold', purpose, () => work());
  }

  sequenceKey(): string {
    return `${this.root}_batchline/sequence.json`;
  }

  acquireRunLease(batchId: BatchId, options?: LeaseOptions): Promise<Lease> {
    assertBatchId(batchId);
    return Lease.acquire(this.store, `${this.root}_batchline/leases/runs/${batchId}.json`, { purpose: `run of batch ${batchId}`, ...options });
  }

  async readManifest(entity: string, batchId: BatchId): Promise<BatchManifest | undefined> {
    return (await this.readStored(entity, batchId))?.value;
  }

  // ---- claim ---------------------------------------------------------------------------------------

  async claim(entity: string, batchId: BatchId, options: ClaimOptions = {}): Promise<BatchManifest> {
    const settleMs = settleMsOf('settleSeconds', options.settleSeconds, this.settleMs / 1000);
    this.manifestKey(entity, batchId); // validates before any request
    const known = await this.readStored(entity, batchId);
    if (known) this.refuseReleasing(known.value, 'claim');
    if (known && known.value.state !== 'claiming') return known.value;
    return this.withLease(entity, batchId, 'claim', async (lease) => {
      let current = await this.reread(entity, batchId, known);
      current ??= await this.pin(entity, batchId, settleMs, options, lease);
      this.refuseReleasing(current.value, 'claim');
      if (current.value.state !== 'claiming') return current.value;
      await this.moveFiles(current.value, 'claim', this.landingPrefix(entity), this.processingPrefix(entity, batchId), lease);
      const claimed = await this.transition(current, 'claimed');
      // The files left landing/: no claim needs to look at this batch any more.
      await this.deleteKeys([this.pendingKey(entity, batchId)]);
      return claimed.value;
    });
  }

  private refuseReleasing(manifest: BatchManifest, operation: string): void {
    if (manifest.state === 'releasing') {
      throw new BatchStateError(
        manifest.entity,
        manifest.batchId,
        'being released (its files are going back to landing/)',
        operation,
        `finish that first: \`batchline release --batch ${manifest.batchId}\``,
      );
    }
  }

  /**
   * Under the entity's claim lock: list landing/, leave out what another open batch pinned, what is still
   * settling and what the store cannot take, and write the manifest. The manifest is the claim: from here
   * on the batch is exactly these files. Only this step is serialized; the moves run outside the lock.
   */
  private async pin(entity: string, batchId: BatchId, settleMs: number, options: ClaimOptions, lease: Lease): Promise<Stored> {
    const manifestKey = this.manifestKey(entity, batchId);
    return this.withClaimLock(entity, batchId, `claim of ${entity} (pinning batch ${batchId})`, async (lock) => {
      await options.beforeList?.({ entity, batchId });
      const pinnedElsewhere = await this.openClaims(entity, batchId);
      const scan: LandingScan = {
        landingPrefix: this.landingPrefix(entity),
        longestTargetPrefix: this.processingPrefix(entity, batchId),
        settleMs,
        pinnedElsewhere,
        now: Date.now(),
      };
      const files: ManifestFile[] = [];
      const skipped: SkippedKey[] = [];
      for await (const entry of scanLanding(this.store, scan)) {
        if (entry.kind === 'take') files.push({ path: entry.path, size: entry.object.size, etag: entry.object.etag });
        else if (entry.kind === 'skip' || entry.kind === 'settling') skipped.push(entry.skipped);
      }
      if (options.beforePin) {
        await options.beforePin({ entity, batchId, files, skipped, batchIds: await this.manifestIds(entity) });
      }
      lease.assertHeld();
      lock.assertHeld();
      const manifest: BatchManifest = {
        version: MANIFEST_VERSION,
        entity,
        batchId,
        state: 'claiming',
        files,
        bytes: files.reduce((sum, file) => sum + file.size, 0),
        transitions: [{ state: 'claiming', at: new Date().toISOString() }],
        ...(skipped.length > 0 ? { skipped } : {}),
      };
      // Announce the open claim before it exists, so a later claim that finds the marker looks for it.
      await this.store.put(this.pendingKey(entity, batchId), JSON.stringify({ version: 1, entity, batchId }));
      let current: Stored | undefined;
      if (await this.store.putIfAbsent(manifestKey, manifestJson(manifest))) {
        const head = await this.store.head(manifestKey);
        if (head) current = { value: manifest, etag: head.etag };
      }
      current ??= await this.readStored(entity, batchId);
      if (current === undefined) throw new BatchInProgressError(`Manifest ${manifestKey} vanished while claiming; retry`, { key: manifestKey });
      return current;
    });
  }

  /**
   * Paths pinned by other batches whose files may be in landing/ (claiming, or releasing), from the
   * pending markers. Markers whose batch is past that are removed (we hold the claim lock, so no claim
   * is between writing its marker and its manifest).
   */
  private async openClaims(entity: string, self: BatchId): Promise<Map<string, string>> {
    await this.indexOpenClaims(entity);
    const prefix = this.pendingPrefix(entity);
    const ids: BatchId[] = [];
    const stale: string[] = [];
    for await (const object of this.store.list(prefix)) {
      const id = object.key.slice(prefix.length, -'.json'.length);
      if (!object.key.endsWith('.json') || !isBatchId(id)) stale.push(object.key);
      else if (id !== self) ids.push(id);
    }
    const pinned = new Map<string, string>();
    await pMap(
      ids,
      async (id) => {
        const stored = await this.readOpenCandidate(entity, id);
        if (stored === undefined || (stored.value.state !== 'claiming' && stored.value.state !== 'releasing')) {
          stale.push(this.pendingKey(entity, id));
          return;
        }
        for (const file of stored.value.files) pinned.set(file.path, id);
      },
      { concurrency: 8 },
    );
    if (stale.length > 0) await this.deleteKeys(stale);
    return pinned;
  }

  /**
   * Once per entity and store: manifests left claiming or releasing by a version without pending markers
   * (or by hand) get their marker, so their files are never pinned twice. Runs under the claim lock.
   */
  private async indexOpenClaims(entity: string): Promise<void> {
    const indexed = `${this.root}_batchline/pending/${entity}.json`;
    if (await this.store.head(indexed)) return;
    await pMap(
      await this.manifestIds(entity),
      async (id) => {
        const stored = await this.readOpenCandidate(entity, id);
        if (stored && (stored.value.state === 'claiming' || stored.value.state === 'releasing')) {
          await this.store.put(this.pendingKey(entity, id), JSON.stringify({ version: 1, entity, batchId: id }));
        }
      },
      { concurrency: 8 },
    );
    await this.store.put(indexed, JSON.stringify({ version: 1, entity, indexedAt: new Date().toISOString() }));
  }

  /** A manifest a new claim must read; one it cannot read stops the claim (its files might be in landing/). */
  private async readOpenCandidate(entity: string, batchId: BatchId): Promise<Stored | undefined> {
    try {
      return await this.readStored(entity, batchId);
    } catch (error) {
      if (!(error instanceof CorruptObjectError)) throw error;
      throw new CorruptObjectError(
        error.key,
        `${error.reason}; new claims of ${entity} stop until it is repaired or moved out of _batchline/manifests/, ` +
          'because the files it pins might still be in landing/ (see `batchline status`)',
      );
    }
  }

  private async manifestIds(entity: string): Promise<BatchId[]> {
    return (await this.everyManifestId(entity, [])).sort();
  }

  // ---- archive -------------------------------------------------------------------------------------

  async archive(entity: string, batchId: BatchId): Promise<BatchManifest> {
    const check = (stored: Stored | undefined): BatchManifest | undefined => {
      if (stored === undefined) throw new BatchNotClaimedError(entity, batchId, 'it has no manifest; claim it first');
      if (stored.value.state === 'claiming') throw new BatchNotClaimedError(entity, batchId, 'its claim did not finish; run claim again to resume it');
      this.refuseReleasing(stored.value, 'archive');
      return stored.value.state === 'archived' ? stored.value : undefined;
    };
    const known = await this.readStored(entity, batchId);
    const done = check(known);
    if (done) return done;
    return this.withLease(entity, batchId, 'archive', async (lease) => {
      let current = (await this.reread(entity, batchId, known))!;
      const finished = check(current);
      if (finished) return finished;
      if (current.value.state === 'claimed') {
        // A claim killed between its 'claimed' transition and removing its open-claim marker left the marker;
        // the batch is past landing/ for good here, so the marker goes (a no-op delete on a clean run).
        await this.deleteKeys([this.pendingKey(entity, batchId)]);
        current = await this.transition(current, 'archiving');
      }
      await this.moveFiles(current.value, 'archive', this.processingPrefix(entity, batchId), this.processedPrefix(entity, batchId), lease);
      return (await this.transition(current, 'archived')).value;
    });
  }

  // ---- repin and release ---------------------------------------------------------------------------

  /** Refuse repin/release of a batch whose files are not (only) in processing/<id>/, saying what to run. */
  private refuseUnlessClaimed(manifest: BatchManifest, operation: 'repin' | 'release'): void {
    const id = manifest.batchId;
    if (manifest.state === 'archived') {
      throw new BatchStateError(manifest.entity, id, 'archived', operation, `its files are in processed/${id}/; to load it again run \`batchline replay --batch ${id}\``);
    }
    if (manifest.state === 'archiving') {
      throw new BatchStateError(
        manifest.entity,
        id,
        'being archived (or its archive was interrupted)',
        operation,
        `finish it with \`batchline run --batch ${id}\`; to load it again afterwards run \`batchline replay --batch ${id}\``,
      );
    }
    if (operation === 'repin' && manifest.state === 'claiming') {
      throw new BatchStateError(
        manifest.entity,
        id,
        'still claiming (its claim was interrupted)',
        operation,
        `finish the claim with \`batchline run --batch ${id}\`, or give its files back with \`batchline release --batch ${id}\``,
      );
    }
    if (operation === 'repin') this.refuseReleasing(manifest, operation);
  }

  async repin(entity: string, batchId: BatchId): Promise<RepinResult> {
    this.manifestKey(entity, batchId);
    const known = await this.readStored(entity, batchId);
    if (known === undefined) throw new BatchNotClaimedError(entity, batchId, `it has no manifest; claim it with \`batchline run --batch ${batchId}\``, 'be re-pinned');
    this.refuseUnlessClaimed(known.value, 'repin');
    return this.withLease(entity, batchId, 'repin', async () => {
      const current = await this.reread(entity, batchId, known);
      if (current === undefined) throw new BatchNotClaimedError(entity, batchId, 'its manifest was removed meanwhile (released?)', 'be re-pinned');
      this.refuseUnlessClaimed(current.value, 'repin');
      const prefix = this.processingPrefix(entity, batchId);
      const problems: string[] = [];
      const files: ManifestFile[] = [];
      const listing = this.store.list(prefix, { onUnlisted: (entry) => problems.push(`${quote(entry.key)} (${entry.reason})`) });
      for await (const object of listing) {
        const path = object.key.slice(prefix.length);
        const reason = unmovableReason(path, object.key, prefix);
        if (reason !== undefined) problems.push(`${quote(object.key)} (${reason})`);
        else files.push({ path, size: object.size, etag: object.etag });
      }
      if (problems.length > 0) {
        throw new BatchStateError(
          entity,
          batchId,
          'claimed',
          'repin',
          `processing/${batchId}/ holds entries the store cannot pin: ${problems.slice(0, 5).join(', ')}${problems.length > 5 ? ', …' : ''}; ` +
            `rename or remove them, then run \`batchline repin --batch ${batchId}\` again`,
        );
      }
      const changes = diffFiles(current.value.files, files);
      if (changes.length === 0) return { manifest: current.value, changes };
      const repinned = await this.transition(current, 'claimed', { files, bytes: files.reduce((sum, f) => sum + f.size, 0) }, { repinned: changes });
      return { manifest: repinned.value, changes };
    });
  }

  async release(entity: string, batchId: BatchId): Promise<ReleaseResult> {
    this.manifestKey(entity, batchId);
    const gone: ReleaseResult = { entity, batchId, files: 0, alreadyReleased: true };
    const known = await this.readStored(entity, batchId);
    if (known === undefined) return gone;
    this.refuseUnlessClaimed(known.value, 'release');
    return this.withLease(entity, batchId, 'release', async (lease) => {
      let current = await this.reread(entity, batchId, known);
      if (current === undefined) return gone;
      this.refuseUnlessClaimed(current.value, 'release');
      if (current.value.state !== 'releasing') {
        // Announce it under the claim lock before any file reappears in landing/: a claim of another
        // batch then either pinned before (these files were not in landing/) or sees the marker.
        const before = current;
        current = await this.withClaimLock(entity, batchId, `release of ${entity}/${batchId}`, async () => {
          await this.store.put(this.pendingKey(entity, batchId), JSON.stringify({ version: 1, entity, batchId }));
          return this.transition(before, 'releasing');
        });
      }
      const manifest = current.value;
      await this.moveFiles(manifest, 'release', this.processingPrefix(entity, batchId), this.landingPrefix(entity), lease);
      // Keep what was released for the record, then drop the manifest: the batch id is free again.
      const releasedAt = lastAt(manifest);
      const record: BatchManifest & { releasedAt: string } = { ...manifest, releasedAt };
      await this.store.put(`${this.root}_batchline/released/${entity}/${batchId}/${releasedAt.replace(/[-:.]/g, '')}.json`, JSON.stringify(record));
      lease.assertHeld();
      await this.deleteKeys([this.manifestKey(entity, batchId)]);
      await this.deleteKeys([this.pendingKey(entity, batchId)]);
      return { entity, batchId, files: manifest.files.length, alreadyReleased: false };
    });
  }

  // ---- loading -------------------------------------------------------------------------------------

  async loadableFiles(entity: string, batchId: BatchId): Promise<LoadableBatch> {
    let manifest = await this.readManifest(entity, batchId);
    const action = 'be loaded';
    if (manifest === undefined) throw new BatchNotClaimedError(entity, batchId, `it has no manifest; claim it first (\`batchline run --batch ${batchId}\`)`, action);
    if (manifest.state === 'claiming') {
      throw new BatchNotClaimedError(entity, batchId, `its claim did not finish; resume it with \`batchline run --batch ${batchId}\` (or claim again)`, action);
    }
    this.refuseReleasing(manifest, 'load');
    // An interrupted archive leaves files on both sides: finish it (idempotent) so every file has one home.
    if (manifest.state === 'archiving') manifest = await this.archive(entity, batchId);
    const location: BatchLocation = manifest.state === 'archived' ? 'processed' : 'processing';
    const prefix = location === 'processed' ? this.processedPrefix(entity, batchId) : this.processingPrefix(entity, batchId);
    const files = manifest.files.map(
      (file): LoadableFile => ({
        entity,
        batchId,
        path: file.path,
        key: prefix + file.path,
        stagePath: `${location}/${batchId}/${file.path}`,
        claimPath: `processing/${batchId}/${file.path}`,
        size: file.size,
        etag: file.etag,
      }),
    );
    return { entity, batchId, state: manifest.state, location, files };
  }

  async openPinned(file: LoadableFile): Promise<Readable> {
    const changed = (found: { readonly size?: number; readonly etag?: string } | undefined) =>
      new PinnedFileChangedError(file.entity, file.batchId, file.path, file.key, { size: file.size, etag: file.etag }, found && { size: found.size, etag: found.etag });
    let body: Readable;
    try {
      body = await this.store.get(file.key, { ifMatch: file.etag });
    } catch (error) {
      if (error instanceof ObjectNotFoundError) throw changed(undefined);
      if (error instanceof PreconditionFailedError) throw changed(await this.store.head(file.key).catch(() => undefined));
      throw error;
    }
    let size = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.byteLength;
        done(null, chunk);
      },
      flush: (done) => done(size === file.size ? null : changed({ size, etag: 'unknown (other bytes than pinned)' })),
    });
    // A store that can only tell at the end (a local file changed while read) fails its stream: name the file.
    body.once('error', (error) => counted.destroy(error instanceof PreconditionFailedError ? changed({ etag: 'unknown (the file changed while it was read)' }) : error));
    counted.once('close', () => body.destroy());
    return body.pipe(counted);
  }

  async verifyPinned(file: LoadableFile): Promise<void> {
    const found = await this.store.head(file.key);
    if (found === undefined || found.size !== file.size || found.etag !== file.etag) {
      throw new PinnedFileChangedError(file.entity, file.batchId, file.path, file.key, { size: file.size, etag: file.etag }, found && { size: found.size, etag: found.etag });
    }
  }

  // ---- status (read-only) --------------------------------------------------------------------------

  async status(entity: string, options: StatusOptions = {}): Promise<EntityStatus> {
    assertEntity(entity);
    const corrupt: { key: string; reason: string }[] = [];
    const selected = options.batchIds;
    let ids: BatchId[];
    if (selected === undefined) ids = await this.everyManifestId(entity, corrupt);
    else {
      for (const id of selected) assertBatchId(id);
      ids = [...new Set([...selected, ...(await this.openIds(entity))])];
    }
    const manifests = await pMap(
      ids.sort(),
      async (batchId) => {
        try {
          return (await this.readStored(entity, batchId))?.value ?? pMapSkip;
        } catch (error) {
          if (!(error instanceof CorruptObjectError)) throw error;
          corrupt.push({ key: error.key, reason: error.reason });
          return pMapSkip;
        }
      },
      { concurrency: 8 },
    );
    const asked = selected === undefined ? undefined : new Set<string>(selected);
    const isOpen = (m: BatchManifest) => m.state === 'claiming' || m.state === 'releasing';
    const batches = await pMap(
      asked === undefined ? manifests : manifests.filter((m) => asked.has(m.batchId) || isOpen(m)),
      async (manifest): Promise<BatchSummary> => {
        const summary = { batchId: manifest.batchId, state: manifest.state, files: manifest.files.length, bytes: manifest.bytes, updatedAt: lastAt(manifest) };
        if (manifest.state === 'claimed' || manifest.state === 'archived') return summary;
        const heldBy = await this.holder(entity, manifest.batchId);
        return heldBy ? { ...summary, heldBy } : summary;
      },
      { concurrency: 8 },
    );
    const pinnedElsewhere = new Map<string, string>();
    for (const m of manifests) if (isOpen(m)) for (const f of m.files) pinnedElsewhere.set(f.path, m.batchId);
    const landing = { files: 0, bytes: 0, waiting: 0, settling: 0, pinned: 0, skipped: 0 };
    const skipped: SkippedKey[] = [];
    const scan: LandingScan = {
      landingPrefix: this.landingPrefix(entity),
      longestTargetPrefix: `${this.root}${entity}/processing/${BATCH_ID_PLACEHOLDER}/`,
      settleMs: this.settleMs,
      pinnedElsewhere,
      now: Date.now(),
    };
    for await (const entry of scanLanding(this.store, scan)) {
      // files/bytes: everything the store lists as an object (an unlisted symlink is only a skipped entry).
      if (entry.object) {
        landing.files++;
        landing.bytes += entry.object.size;
      }
      if (entry.kind === 'skip') {
        skipped.push(entry.skipped);
        landing.skipped++;
      } else if (entry.kind === 'take') landing.waiting++;
      else if (entry.kind === 'settling') landing.settling++;
      else landing.pinned++;
    }
    const [processing, processed] = await Promise.all([
      this.tally(`${this.root}${entity}/processing/`),
      selected === undefined ? this.tally(`${this.root}${entity}/processed/`) : undefined,
    ]);
    return { entity, landing, processing, ...(processed ? { processed } : {}), batches, skipped, corrupt };
  }

  /** Every manifest's batch id; names that are not manifests' go to `corrupt`. */
  private async everyManifestId(entity: string, corrupt: { key: string; reason: string }[]): Promise<BatchId[]> {
    const prefix = this.manifestsPrefix(entity);
    const ids: BatchId[] = [];
    for await (const object of this.store.list(prefix, { onUnlisted: (entry) => corrupt.push({ key: entry.key, reason: entry.reason }) })) {
      const id = object.key.slice(prefix.length, -'.json'.length);
      if (object.key.endsWith('.json') && isBatchId(id)) ids.push(id);
      else corrupt.push({ key: object.key, reason: 'not a manifest name (<BATCH_ID>.json)' });
    }
    return ids;
  }

  /**
   * Read-only: the batches that may be claiming or releasing, from the pending markers. A store whose
   * manifests were never indexed for markers (no claim ran since markers exist) is read whole instead.
   */
  private async openIds(entity: string): Promise<BatchId[]> {
    if (!(await this.store.head(`${this.root}_batchline/pending/${entity}.json`))) return this.everyManifestId(entity, []);
    const prefix = this.pendingPrefix(entity);
    const ids: BatchId[] = [];
    for await (const object of this.store.list(prefix)) {
      const id = object.key.slice(prefix.length, -'.json'.length);
      if (object.key.endsWith('.json') && isBatchId(id)) ids.push(id);
    }
    return ids;
  }

  /** Who holds a batch's lease now, if anyone (read only). */
  private async holder(entity: string, batchId: BatchId): Promise<BatchSummary['heldBy']> {
    try {
      const lease = await readJson<LeaseRecord>(this.store, this.batchLeaseKey(entity, batchId));
      const record = lease?.value;
      if (!record || record.released || !(Date.parse(record.expiresAt) > Date.now())) return undefined;
      return { owner: String(record.owner), purpose: String(record.purpose), expiresAt: String(record.expiresAt) };
    } catch (error) {
      if (error instanceof CorruptObjectError) return undefined;
      throw error;
    }
  }

  private manifestsPrefix(entity: string): string {
    assertEntity(entity);
    return `${this.root}_batchline/manifests/${entity}/`;
  }

  private pendingPrefix(entity: string): string {
    assertEntity(entity);
    return `${this.root}_batchline/pending/${entity}/`;
  }

  private pendingKey(entity: string, batchId: BatchId): string {
    return `${this.pendingPrefix(entity)}${batchId}.json`;
  }

  private batchLeaseKey(entity: string, batchId: BatchId): string {
    return `${this.root}_batchline/leases/entities/${entity}/${batchId}.json`;
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
    if (m.entity !== entity || m.batchId !== batchId) throw new CorruptObjectError(key, `manifest names ${JSON.stringify(`${m.entity}/${m.batchId}`)}`);
    if (!Array.isArray(m.files) || !STATES.includes(m.state) || !Array.isArray(m.transitions)) {
      throw new CorruptObjectError(key, 'manifest has no files or transitions list, or an unknown state');
    }
    return stored;
  }

  /**
   * The manifest again, now that the lease is held: one HEAD, and the GET only when it changed since
   * `known` was read (at 100,000 files a manifest is ~15 MB to fetch and parse). Same ETag, same bytes.
   */
  private async reread(entity: string, batchId: BatchId, known: Stored | undefined): Promise<Stored | undefined> {
    if (known === undefined || known.etag === '') return this.readStored(entity, batchId);
    const head = await this.store.head(this.manifestKey(entity, batchId));
    if (head === undefined) return undefined;
    return head.etag === known.etag ? known : this.readStored(entity, batchId);
  }

  private async transition(current: Stored, state: BatchState, changes: Partial<BatchManifest> = {}, extra: Partial<BatchTransition> = {}): Promise<Stored> {
    const key = this.manifestKey(current.value.entity, current.value.batchId);
    const next: BatchManifest = {
      ...current.value,
      ...changes,
      state,
      transitions: [...current.value.transitions, { state, at: new Date().toISOString(), ...extra }],
    };
    if (!(await this.store.putIfMatch(key, manifestJson(next), current.etag))) {
      throw new BatchInProgressError(`Manifest ${key} was changed by another run while this one held the batch; re-run to resume`, { key });
    }
    const head = await this.store.head(key);
    return { value: next, etag: head?.etag ?? '' };
  }

  private async deleteKeys(keys: string[]): Promise<void> {
    const outcomes = await this.store.deleteMany(keys);
    const failures = outcomes.flatMap((o) => (o.error ? [{ key: o.key, code: o.error.code, message: o.error.message }] : []));
    if (failures.length > 0) throw new BatchDeleteError(failures);
  }

  private async withLease<T>(entity: string, batchId: BatchId, operation: string, work: (lease: Lease) => Promise<T>): Promise<T> {
    const lease = await Lease.acquire(this.store, this.batchLeaseKey(entity, batchId), { ...this.leaseOptions, purpose: `${operation} of ${entity}/${batchId}` });
    return this.holding(lease, work);
  }

  /**
   * The entity's claim lock: one pin (or release announcement) at a time across batches, waited for.
   * Its owner names the batch, so the same runner retrying the same batch takes it back at once while a
   * claim of another batch from the same runner still waits.
   */
  private async withClaimLock<T>(entity: string, holder: BatchId | 'hold', purpose: string, work: (lock: Lease) => Promise<T>): Promise<T> {
    const lock = await Lease.acquire(this.store, `${this.root}_batchline/leases/claims/${entity}.json`, {
      ...this.leaseOptions,
      owner: `${this.leaseOptions.owner}/${holder === 'hold' ? 'hold' : `claim ${holder}`}`,
      wait: true,
      purpose,
    });
    return this.holding(lock, work);
  }

  private async holding<T>(lease: Lease, work: (lease: Lease) => Promise<T>): Promise<T> {
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
   * Move each of the manifest's files from one prefix to another: copy, then delete the sources in
   * batches (or rename each file, on a store that can move atomically). Every step is idempotent: a
   * file already at the target (source gone) counts as moved; a file in neither place is an error naming
   * it. On the first failure no new file is started, and the call returns only after the files in flight
   * settled, so nothing runs on behind the caller's back.
   */
  private async moveFiles(manifest: BatchManifest, mode: MoveMode, from: string, to: string, lease: Lease): Promise<void> {
    const { entity, batchId, files } = manifest;
    const total = files.length;
    let done = 0;
    let failure: unknown;
    const deletes: string[] = [];
    await pMap(
      files,
      async (file) => {
        if (failure !== undefined) return pMapSkip;
        try {
          lease.assertHeld();
          const source = from + file.path;
          const copied = await this.transferOne(manifest, file, source, to + file.path, mode);
          if (copied && !this.store.move) deletes.push(source);
          if (deletes.length >= MAX_DELETE_BATCH) await this.deleteKeys(deletes.splice(0, MAX_DELETE_BATCH));
          done++;
          this.options.onProgress?.({ entity, batchId, step: mode, done, total });
        } catch (error) {
          failure ??= error;
        }
        return undefined;
      },
      { concurrency: this.concurrency },
    );
    if (failure !== undefined) throw failure;
    lease.assertHeld();
    while (deletes.length > 0) await this.deleteKeys(deletes.splice(0, MAX_DELETE_BATCH));
  }

  /**
   * Copy (or, where the store can, atomically move) one file. True when the source was transferred
   * now (a copied source must still be deleted); false when it had already moved.
   * - claim: pinned to the manifest's ETag (a replaced landing file is never moved into the batch);
   * - archive: a file found only at the target must have the pinned size;
   * - release: files may have been changed in processing/ (that is why one releases), so no pin; but a
   *   different file already at the landing path is never overwritten.
   */
  private async transferOne(manifest: BatchManifest, file: ManifestFile, source: string, target: string, mode: MoveMode): Promise<boolean> {
    const fail = (message: string) => new BatchFileError(manifest.entity, manifest.batchId, file.path, message);
    let ifMatch: string | undefined = mode === 'claim' ? file.etag : undefined;
    if (mode === 'release') {
      const [there, here] = await Promise.all([this.store.head(target), this.store.head(source)]);
      if (here === undefined) {
        if (there === undefined) throw fail(`missing: neither ${quote(source)} nor ${quote(target)} exists`);
        return false;
      }
      if (there !== undefined && there.etag !== here.etag) {
        throw fail(`${quote(target)} exists with other bytes than ${quote(source)}; move one of them aside, then run release again`);
      }
      ifMatch = here.etag;
    }
    const options = { size: file.size, ...(ifMatch !== undefined ? { ifMatch } : {}) };
    try {
      if (this.store.move) await this.store.move(source, target, options);
      else await this.store.copy(source, target, options);
      return true;
    } catch (error) {
      if (error instanceof PreconditionFailedError) {
        throw fail(`${quote(source)} was replaced after the batch pinned it (ETag ${ifMatch}); refusing to move a different file`);
      }
      if (!(error instanceof ObjectNotFoundError)) throw error;
    }
    const there = await this.store.head(target);
    if (there === undefined) throw fail(`missing: neither ${quote(source)} nor ${quote(target)} exists`);
    if (mode !== 'release' && there.size !== file.size) throw fail(`${quote(target)} has ${there.size} bytes, the manifest pinned ${file.size}`);
    return false;
  }
}

/** A file list's JSON by identity: transitions rewrite the manifest, but its files change only at a repin. */
const filesJson = new WeakMap<readonly ManifestFile[], string>();

/** The manifest as stored, its files serialized once per list (15 MB of JSON and 100,000 objects at 100,000 files). */
function manifestJson(manifest: BatchManifest): string {
  const { files, ...rest } = manifest;
  let list = filesJson.get(files);
  if (list === undefined) {
    list = JSON.stringify(files);
    filesJson.set(files, list);
  }
  return `${JSON.stringify(rest).slice(0, -1)},"files":${list}}`;
}

/** What changed from one pin to another, by path. */
function diffFiles(before: readonly ManifestFile[], after: readonly ManifestFile[]): FileChange[] {
  const old = new Map(before.map((f) => [f.path, f]));
  const changes: FileChange[] = [];
  for (const file of after) {
    const was = old.get(file.path);
    old.delete(file.path);
    if (was === undefined) changes.push({ path: file.path, after: { size: file.size, etag: file.etag } });
    else if (was.size !== file.size || was.etag !== file.etag) {
      changes.push({ path: file.path, before: { size: was.size, etag: was.etag }, after: { size: file.size, etag: file.etag } });
    }
  }
  for (const was of old.values()) changes.push({ path: was.path, before: { size: was.size, etag: was.etag } });
  return changes;
}

export function createBatchLifecycle(store: ObjectStore, options: LifecycleOptions = {}): BatchLifecycle {
  return new StoreBatchLifecycle(store, options);
}
