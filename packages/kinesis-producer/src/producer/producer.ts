import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import type {
  DrainOptions,
  Producer,
  ProducerEvent,
  ProducerMetrics,
  ProducerOptions,
  PutOutcome,
  RecordSink,
} from '../producer-contract.js';
import { CsvRecordSplitter, type SplitHandler } from '../records/csv-record-splitter.js';
import { FIREHOSE_LIMITS } from '../records/limits.js';
import { AckTracker, type PendingRange } from '../tail/ack-tracker.js';
import { CheckpointStore, type CheckpointState, type FileCheckpoint } from '../tail/checkpoint-store.js';
import { DeadLetterFile } from '../tail/dead-letter-file.js';
import { fingerprint, FINGERPRINT_BYTES, identityKey, type Fingerprint } from '../tail/file-identity.js';
import { resolveFlow, type FlowSettings } from './flow-settings.js';

/** Sink error codes that no amount of retrying fixes: the flow stops, unacknowledged records stay unacknowledged. */
const FATAL_CODES = new Set([
  'ResourceNotFoundException',
  'InvalidArgumentException',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ValidationException',
  'CredentialsProviderError',
]);

const EMPTY = Buffer.alloc(0);
/** Bytes compared at the end of what was read, to recognise a copy. */
const TAIL_BYTES = 1024;
/** Largest read from a file at once. */
const READ_CHUNK_BYTES = 1024 * 1024;
/** Most bytes read from one file per poll cycle, so one busy file does not starve the others. */
const READ_BYTES_PER_CYCLE = 64 * 1024 * 1024;

/** A fatal sink error: the flow stopped; its checkpoint covers only acknowledged records. */
export class ProducerError extends Error {
  override readonly name = 'ProducerError';
  constructor(
    message: string,
    readonly stream: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** A Firehose record ready to send, and what its acknowledgement unlocks. */
interface OutRecord {
  readonly data: Buffer;
  /** The pooled buffer under `data`, returned once the record's call settled. */
  readonly pooled: Buffer | undefined;
  /** CSV records inside. */
  readonly lines: number;
  readonly tracker: AckTracker;
  readonly range: PendingRange;
}

interface TailedFile {
  path: string;
  readonly key: string;
  readonly dev: string;
  readonly ino: string;
  readonly handle: FileHandle;
  fp: Fingerprint;
  /** Next byte to read. */
  readOffset: number;
  /** Size at the last stat. */
  size: number;
  splitter: CsvRecordSplitter;
  /** Where the splitter's records go (into this file's flow). */
  readonly handler: SplitHandler;
  tracker: AckTracker;
  headerRemaining: number;
  /** The dead-letter record in progress (an oversized record streamed in pieces). */
  deadRange: PendingRange | undefined;
  /** The last bytes (up to 1 KiB) before `tailEnd`, the end of the last complete record read: to recognise a copy of this file. */
  tail: Buffer;
  tailEnd: number;
  /** The last bytes (up to 1 KiB) read, ending at `readOffset`. */
  recent: Buffer;
  /** Set once the path no longer leads to this file. */
  ending: { readonly since: number; readonly reason: 'rotated' | 'deleted' } | undefined;
  closed: boolean;
}

/** CSV records being packed into one Firehose record, copied into a pooled buffer. */
interface Aggregate {
  readonly file: TailedFile;
  readonly tracker: AckTracker;
  readonly range: PendingRange;
  readonly cap: number;
  readonly buffer: Buffer;
  bytes: number;
  lines: number;
}

/**
 * Reuses the aggregate buffers (up to 1,000 KiB each) once their call settled, so a
 * long run does not leave a trail of large garbage buffers behind (RSS stays flat).
 */
class BufferPool {
  private readonly free: Buffer[] = [];
  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {}
  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }
  give(buffer: Buffer): void {
    if (buffer.length === this.size && this.free.length < this.keep) this.free.push(buffer);
  }
}

interface FlowState {
  readonly settings: FlowSettings;
  readonly files: Map<string, TailedFile>;
  /** Firehose records of the call being filled. */
  batch: OutRecord[];
  batchBytes: number;
  aggregate: Aggregate | undefined;
  /** Full calls waiting for a free slot. */
  ready: OutRecord[][];
  readonly inFlight: Set<Promise<void>>;
  readonly pool: BufferPool;
  /** Concurrent calls: maxInFlightCalls, or more when the sink holds calls until it has enough bytes. */
  readonly maxInFlight: number;
  /** Reused for every read: pieces are copied out before the next read. */
  readonly readBuffer: Buffer;
  ageTimer: NodeJS.Timeout | undefined;
  ageDue: boolean;
  /** First discovery done: END_OF_FILE applies only to files present then. */
  discovered: boolean;
  /** Content of files truncated in place (copytruncate), so their copy is read from where we were, not from 0. */
  truncated: Array<{ readonly path: string; readonly hash: string; readonly tail: Buffer; readonly tailEnd: number; readonly at: number }>;
  fatal: ProducerError | undefined;
}

class Counters {
  linesRead = 0;
  recordsSent = 0;
  bytesSent = 0;
  calls = 0;
  retries = 0;
  failedRecords = 0;
  deadLetters = 0;
  firehoseRecordsSent = 0;
  recordsSkipped = 0;
}

function isBlankLine(bytes: Buffer, start: number, length: number): boolean {
  return (length === 1 && bytes[start] === 0x0a) || (length === 2 && bytes[start] === 0x0d && bytes[start + 1] === 0x0a);
}

function errorCode(err: unknown): string {
  const e = err as { name?: unknown; code?: unknown };
  if (typeof e?.name === 'string' && e.name !== 'Error') return e.name;
  if (typeof e?.code === 'string') return e.code;
  return 'SinkError';
}

function positiveInteger(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return v;
}

export function createProducer(options: ProducerOptions): Producer {
  return new TailingProducer(options);
}

class TailingProducer implements Producer {
  private readonly sink: RecordSink;
  private readonly flows: FlowState[];
  private readonly checkpoints: CheckpointStore;
  private readonly deadLetters: DeadLetterFile;
  private readonly counters = new Counters();
  private readonly retryBase: number;
  private readonly retryMax: number;
  private readonly shutdownTimeout: number;
  private readonly rotationGrace: number;
  private readonly onEvent: (event: ProducerEvent) => void;

  /** Checkpoints loaded from disk and not yet matched to an open file, per flow. */
  private saved: CheckpointState = new Map();
  private initialized: Promise<void> | undefined;
  private mode: 'idle' | 'following' | 'draining' = 'idle';
  private stopping = false;
  /** Stop retrying: shutdown timed out or a flow failed. */
  private abandoned = false;
  private followDone: Promise<void> | undefined;
  private checkpointDirty = false;
  private wakers: Array<() => void> = [];

  constructor(options: ProducerOptions) {
    if (!options || !Array.isArray(options.flows) || options.flows.length === 0) {
      throw new Error('createProducer needs at least one flow ({ filePattern, deliveryStream })');
    }
    if (!options.sink || typeof options.sink.putRecordBatch !== 'function') {
      throw new Error('createProducer needs a sink with putRecordBatch(stream, records)');
    }
    if (typeof options.checkpointFile !== 'string' || options.checkpointFile === '') {
      throw new Error(`createProducer needs a checkpointFile path, got ${JSON.stringify(options.checkpointFile)}`);
    }
    this.sink = options.sink;
    const settings = options.flows.map(resolveFlow);
    const ids = new Set<string>();
    for (const s of settings) {
      if (ids.has(s.id)) throw new Error(`Two flows send ${JSON.stringify(s.filePattern)} to ${JSON.stringify(s.deliveryStream)}`);
      ids.add(s.id);
    }
    const maxInFlight = positiveInteger('maxInFlightCalls', options.maxInFlightCalls, 1);
    this.flows = settings.map((s) => ({
      settings: s,
      files: new Map(),
      batch: [],
      batchBytes: 0,
      aggregate: undefined,
      ready: [],
      inFlight: new Set(),
      pool: new BufferPool(Math.max(1, s.aggregatedRecordSizeBytes), 12),
      maxInFlight: Math.max(
        maxInFlight,
        Math.min(64, Math.ceil((options.sink.minPendingBytes ?? 0) / s.callBytes) + (options.sink.minPendingBytes ? 1 : 0)),
      ),
      // Without aggregation every record is an object of its own: smaller reads keep one read's worth small.
      readBuffer: Buffer.allocUnsafeSlow(s.aggregatedRecordSizeBytes > 0 ? READ_CHUNK_BYTES : READ_CHUNK_BYTES / 16),
      ageTimer: undefined,
      ageDue: false,
      discovered: false,
      truncated: [],
      fatal: undefined,
    }));
    this.checkpoints = new CheckpointStore(path.resolve(options.checkpointFile));
    this.checkpoints.source(() => this.snapshot());
    this.deadLetters = new DeadLetterFile(path.resolve(options.deadLetterFile ?? `${options.checkpointFile}.dead-letter.csv`));
    this.retryBase = positiveInteger('retryBaseDelayMillis', options.retryBaseDelayMillis, 100);
    this.retryMax = positiveInteger('retryMaxDelayMillis', options.retryMaxDelayMillis, 10_000);
    this.shutdownTimeout = positiveInteger('shutdownTimeoutMillis', options.shutdownTimeoutMillis, 30_000, 0);
    this.rotationGrace = positiveInteger('rotationGraceMillis', options.rotationGraceMillis, 2_000, 0);
    this.onEvent = options.onEvent ?? (() => undefined);
  }

  metrics(): ProducerMetrics {
    let lagBytes = 0;
    let filesTracked = 0;
    for (const flow of this.flows) {
      for (const file of flow.files.values()) {
        filesTracked++;
        lagBytes += Math.max(0, file.size - file.tracker.committed);
      }
    }
    return { ...this.counters, lagBytes, filesTracked };
  }

  async start(): Promise<void> {
    if (this.mode !== 'idle') throw new Error(`The producer is already ${this.mode}`);
    this.mode = 'following';
    this.stopping = false;
    this.abandoned = false;
    let failure: unknown;
    const run = (async () => {
      await this.init();
      await Promise.all(
        this.flows.map((flow) =>
          this.follow(flow).catch((err) => {
            failure ??= err;
            this.stopping = true;
            this.wake();
          }),
        ),
      );
      await this.shutdown();
    })();
    this.followDone = run.catch((err) => {
      failure ??= err;
    });
    try {
      await this.followDone;
    } finally {
      this.mode = 'idle';
      this.followDone = undefined;
    }
    if (failure) throw failure;
  }

  async stop(): Promise<void> {
    if (this.mode !== 'following' || !this.followDone) return;
    this.stopping = true;
    this.wake();
    await this.followDone;
  }

  async drain(options: DrainOptions = {}): Promise<ProducerMetrics> {
    if (this.mode !== 'idle') throw new Error(`Cannot drain while the producer is ${this.mode}`);
    this.mode = 'draining';
    this.stopping = false;
    this.abandoned = false;
    try {
      await this.init();
      await Promise.all(this.flows.map((flow) => this.drainFlow(flow, options.includePartialLastRecord === true)));
      await this.settle(Number.POSITIVE_INFINITY);
      const fatal = this.flows.find((f) => f.fatal)?.fatal;
      for (const flow of this.flows) this.retireFiles(flow);
      await this.persistCheckpoint();
      await this.closeFiles();
      if (fatal) throw fatal;
      return this.metrics();
    } finally {
      this.mode = 'idle';
    }
  }

  // ---------------------------------------------------------------- lifecycle

  private init(): Promise<void> {
    this.initialized ??= this.checkpoints.load().then((state) => {
      this.saved = state;
    });
    return this.initialized;
  }

  private async follow(flow: FlowState): Promise<void> {
    while (!this.stopping) {
      await this.discover(flow, false);
      if (this.checkpointDirty) {
        // New files (and where they start) are on disk before anything is read from them.
        this.checkpointDirty = false;
        await this.persistCheckpoint();
      }
      let progressed = false;
      for (const file of this.readOrder(flow)) {
        if (this.stopping) break;
        progressed = (await this.readAvailable(flow, file, READ_BYTES_PER_CYCLE)) || progressed;
        if (file.ending && !file.closed && Date.now() - file.ending.since >= this.rotationGrace) {
          await this.finishFile(flow, file);
        }
      }
      if (flow.ageDue) await this.flushFlow(flow);
      this.retireFiles(flow);
      if (flow.fatal) throw flow.fatal;
      if (!progressed && !this.stopping) await this.sleep(flow.settings.pollMillis);
    }
  }

  private async drainFlow(flow: FlowState, includePartial: boolean): Promise<void> {
    await this.discover(flow, true);
    for (const file of this.readOrder(flow)) {
      const end = (await file.handle.stat()).size;
      file.size = end;
      await this.readAvailable(flow, file, Number.POSITIVE_INFINITY, end);
      if (file.ending || includePartial) await this.finishFile(flow, file);
      if (flow.fatal) break;
    }
    await this.flushFlow(flow);
  }

  /** Flush every flow, wait for in-flight calls up to the timeout, checkpoint, close files. */
  private async shutdown(): Promise<void> {
    const deadline = Date.now() + this.shutdownTimeout;
    if (!this.flows.some((f) => f.fatal)) {
      const flushes = Promise.all(this.flows.map((flow) => this.flushFlow(flow)));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))));
      await Promise.race([flushes, timeout]);
      clearTimeout(timer);
    }
    await this.settle(deadline);
    for (const flow of this.flows) this.retireFiles(flow);
    try {
      await this.persistCheckpoint();
    } finally {
      await this.closeFiles();
    }
  }

  /** Wait for every in-flight call (pushing the sink's buffers out) until the deadline; then abandon the rest. */
  private async settle(deadline: number): Promise<void> {
    for (;;) {
      const pending = this.flows.flatMap((f) => [...f.inFlight]);
      if (pending.length === 0) break;
      if (Date.now() >= deadline) {
        this.abandoned = true;
        this.wake();
        break;
      }
      await this.flushSink();
      await Promise.race([Promise.allSettled(pending), this.delay(Math.min(25, Math.max(0, deadline - Date.now())))]);
    }
    await this.deadLetters.close();
  }

  /** Push out what the sink buffers, so pending calls settle. */
  private async flushSink(): Promise<void> {
    try {
      await this.sink.flush?.();
    } catch {
      // a failed write shows up as failed outcomes and is retried
    }
  }

  private async closeFiles(): Promise<void> {
    for (const flow of this.flows) {
      if (flow.ageTimer) clearTimeout(flow.ageTimer);
      flow.ageTimer = undefined;
      for (const file of flow.files.values()) {
        if (!file.closed) {
          file.closed = true;
          await file.handle.close().catch(() => undefined);
        }
        // Not finished: the next session resumes from the acknowledged offset.
        this.savedFor(flow).set(file.key, this.checkpointOf(file));
      }
      flow.files.clear();
      flow.batch = [];
      flow.batchBytes = 0;
      flow.aggregate = undefined;
      flow.ready = [];
    }
  }

  // ---------------------------------------------------------------- files

  private savedFor(flow: FlowState): Map<string, FileCheckpoint> {
    let m = this.saved.get(flow.settings.id);
    if (!m) {
      m = new Map();
      this.saved.set(flow.settings.id, m);
    }
    return m;
  }

  /**
   * Rotated and deleted files first. A new file at the path of a rotated one waits
   * until the old one is finished, so one path's records go out in file order.
   */
  private readOrder(flow: FlowState): TailedFile[] {
    const files = [...flow.files.values()].filter((f) => !f.closed);
    const ending = files.filter((f) => f.ending);
    const pathsInRotation = new Set(ending.map((f) => f.path));
    return [...ending, ...files.filter((f) => !f.ending && (this.mode === 'draining' || !pathsInRotation.has(f.path)))];
  }

  private async discover(flow: FlowState, draining: boolean): Promise<void> {
    const s = flow.settings;
    // A plain path needs no directory walk on every poll.
    const paths = isDynamicPattern(s.filePattern)
      ? (await glob(s.filePattern, { absolute: true, onlyFiles: true, dot: true })).sort()
      : [path.resolve(s.filePattern)];
    const seen = new Set<string>();
    for (const p of paths) {
      let st;
      try {
        st = await stat(p, { bigint: true });
      } catch {
        continue; // gone between listing and stat
      }
      if (!st.isFile()) continue;
      const key = identityKey(st.dev, st.ino);
      const tracked = flow.files.get(key);
      if (tracked) {
        seen.add(key);
        tracked.path = p;
        continue;
      }
      const file = await this.openFile(flow, p);
      if (file) seen.add(file.key);
    }
    // Files the pattern no longer reaches: renamed away or deleted. Read them to their end, then let go.
    for (const file of flow.files.values()) {
      if (seen.has(file.key) || file.ending || file.closed) continue;
      const st = await file.handle.stat();
      const reason = st.nlink === 0 ? 'deleted' : 'rotated';
      file.ending = { since: Date.now(), reason };
      this.onEvent({ type: reason === 'deleted' ? 'file-deleted' : 'file-rotated', stream: s.deliveryStream, path: file.path });
    }
    if (!flow.discovered || draining) await this.recoverRotatedWhileDown(flow);
    flow.discovered = true;
  }

  /**
   * Checkpointed files the pattern no longer finds were rotated (or deleted) while the
   * producer was down. Rotation keeps a file in its directory, so look there for the
   * same device, inode and fingerprint and read it from its checkpoint to its end.
   */
  private async recoverRotatedWhileDown(flow: FlowState): Promise<void> {
    const saved = this.savedFor(flow);
    for (const [key, entry] of [...saved]) {
      if (flow.files.has(key)) continue;
      saved.delete(key);
      let found: string | undefined;
      try {
        const dir = path.dirname(entry.path);
        for (const name of await readdir(dir)) {
          const candidate = path.join(dir, name);
          const st = await stat(candidate, { bigint: true }).catch(() => undefined);
          if (st?.isFile() && identityKey(st.dev, st.ino) === key) {
            found = candidate;
            break;
          }
        }
      } catch {
        // directory gone
      }
      const file = found ? await this.openFile(flow, found, entry) : undefined;
      if (file && file.key === key && file.readOffset === entry.offset) {
        file.ending = { since: 0, reason: 'rotated' };
        this.onEvent({ type: 'file-rotated', stream: flow.settings.deliveryStream, path: file.path, offset: entry.offset });
      } else if (file) {
        // Not the checkpointed content after all: never read it as if it were.
        flow.files.delete(file.key);
        file.closed = true;
        await file.handle.close();
      } else {
        this.onEvent({
          type: 'file-finished',
          stream: flow.settings.deliveryStream,
          path: entry.path,
          offset: entry.offset,
          message: 'checkpointed file no longer exists; forgetting it',
        });
      }
    }
  }

  private async openFile(flow: FlowState, p: string, recovering?: FileCheckpoint): Promise<TailedFile | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(p, 'r');
    } catch {
      return undefined; // vanished or unreadable right now; the next poll tries again
    }
    try {
      const st = await handle.stat({ bigint: true });
      const key = identityKey(st.dev, st.ino);
      if (flow.files.has(key) || !st.isFile()) {
        await handle.close();
        return undefined;
      }
      const size = Number(st.size);
      const fp = await fingerprint(handle);
      const saved = recovering ?? this.savedFor(flow).get(key);
      this.savedFor(flow).delete(key);
      let offset = 0;
      if (saved && saved.offset <= size && (await this.matches(handle, saved))) {
        offset = saved.offset;
      } else if (recovering) {
        await handle.close();
        return undefined;
      } else if (!saved && (offset = await this.copiedFrom(flow, p, handle, fp, key, size)) > 0) {
        this.onEvent({
          type: 'file-opened',
          stream: flow.settings.deliveryStream,
          path: p,
          offset,
          message: 'same first KiB as a followed file: a copy (copytruncate); reading on from where that file was read',
        });
      } else if (!saved && !flow.discovered && flow.settings.initialPosition === 'END_OF_FILE') {
        offset = await lastLineEnd(handle, size);
      }
      const file: TailedFile = {
        handler: {
          record: (bytes, start, end, fileEnd) => this.addRecord(flow, file, bytes, start, end, fileEnd),
          oversized: (data, fileEnd, final) => this.addOversized(flow, file, data, fileEnd, final),
        },
        path: p,
        key,
        dev: String(st.dev),
        ino: String(st.ino),
        handle,
        fp,
        readOffset: offset,
        size,
        splitter: new CsvRecordSplitter(FIREHOSE_LIMITS.maxRecordBytes, offset),
        tracker: new AckTracker(offset),
        headerRemaining: offset === 0 ? flow.settings.skipHeaderLines : 0,
        tail: EMPTY,
        tailEnd: offset,
        recent: EMPTY,
        deadRange: undefined,
        ending: undefined,
        closed: false,
      };
      flow.files.set(key, file);
      this.checkpointDirty = true;
      this.onEvent({ type: 'file-opened', stream: flow.settings.deliveryStream, path: p, offset });
      return file;
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }

  /**
   * copytruncate copies a followed file, then truncates it. A new file that starts with
   * the same KiB as a followed (or lately truncated) file and holds the same bytes just
   * before where that file was read up to is such a copy: it is read on from there, so
   * lines written just before the truncation are not lost and the rest is not sent
   * twice. A copy never takes its original's path (a new file there after a rename is
   * a new generation, whatever it holds). Anything less certain is a new file, read
   * from 0 (duplicates, never loss). Returns the offset to start at, or 0.
   */
  private async copiedFrom(flow: FlowState, p: string, handle: FileHandle, fp: Fingerprint, key: string, size: number): Promise<number> {
    if (fp.bytes !== FINGERPRINT_BYTES) return 0;
    const candidates = [
      ...[...flow.files.values()]
        .filter((f) => f.key !== key && !f.ending && f.fp.bytes === FINGERPRINT_BYTES)
        .map((f) => ({ path: f.path, hash: f.fp.hash, tail: f.tail, tailEnd: f.tailEnd, generation: undefined as unknown })),
      ...flow.truncated.map((t) => ({ ...t, generation: t as unknown })),
    ];
    for (const c of candidates) {
      if (c.path === p || c.hash !== fp.hash || c.tail.length === 0 || c.tail.length !== Math.min(TAIL_BYTES, c.tailEnd) || size < c.tailEnd) continue;
      const here = Buffer.alloc(c.tail.length);
      const { bytesRead } = await handle.read(here, 0, here.length, c.tailEnd - here.length);
      if (bytesRead !== here.length || !here.equals(c.tail)) continue;
      if (c.generation) flow.truncated = flow.truncated.filter((t) => t !== c.generation);
      return c.tailEnd;
    }
    return 0;
  }

  /** Keep the bytes just before the last complete record's end (see copiedFrom). */
  private rememberTail(file: TailedFile, chunk: Buffer, bytesRead: number): void {
    const chunkStart = file.readOffset - bytesRead;
    const complete = file.readOffset - file.splitter.pendingBytes;
    if (complete > file.tailEnd && complete > chunkStart) {
      const inChunk = complete - chunkStart;
      file.tail =
        inChunk >= TAIL_BYTES
          ? Buffer.from(chunk.subarray(inChunk - TAIL_BYTES, inChunk))
          : Buffer.concat([file.recent.subarray(Math.max(0, file.recent.length - (TAIL_BYTES - inChunk))), chunk.subarray(0, inChunk)]);
      file.tailEnd = complete;
    }
    file.recent =
      bytesRead >= TAIL_BYTES
        ? Buffer.from(chunk.subarray(bytesRead - TAIL_BYTES, bytesRead))
        : Buffer.concat([file.recent, chunk.subarray(0, bytesRead)]).subarray(-TAIL_BYTES);
  }

  private async matches(handle: FileHandle, saved: FileCheckpoint): Promise<boolean> {
    const fp = await fingerprint(handle, saved.fingerprintBytes);
    return fp.bytes === saved.fingerprintBytes && fp.hash === saved.fingerprint;
  }

  /** Check for truncation (copytruncate) and content replaced in place; refresh size and fingerprint. */
  private async checkFile(flow: FlowState, file: TailedFile): Promise<void> {
    const size = Number((await file.handle.stat()).size);
    let truncated = size < file.readOffset;
    if (!truncated && size !== file.size && file.fp.bytes > 0) {
      const now = await fingerprint(file.handle, file.fp.bytes);
      truncated = now.hash !== file.fp.hash || now.bytes !== file.fp.bytes;
    }
    file.size = size;
    if (truncated) {
      this.onEvent({ type: 'file-truncated', stream: flow.settings.deliveryStream, path: file.path, offset: file.readOffset });
      if (file.fp.bytes === FINGERPRINT_BYTES && file.tail.length > 0) {
        const now = Date.now();
        flow.truncated = flow.truncated.filter((t) => now - t.at < 600_000).slice(-15);
        flow.truncated.push({ path: file.path, hash: file.fp.hash, tail: file.tail, tailEnd: file.tailEnd, at: now });
      }
      file.readOffset = 0;
      file.splitter = new CsvRecordSplitter(FIREHOSE_LIMITS.maxRecordBytes, 0);
      file.tracker = new AckTracker(0);
      file.deadRange = undefined;
      file.headerRemaining = flow.settings.skipHeaderLines;
      file.tail = file.recent = EMPTY;
      file.tailEnd = 0;
    }
    if (truncated || (file.fp.bytes < FINGERPRINT_BYTES && size > file.fp.bytes)) file.fp = await fingerprint(file.handle);
  }

  /** Read what the file has now (up to `limit` bytes, or up to `end`); returns whether anything was read. */
  private async readAvailable(flow: FlowState, file: TailedFile, limit: number, end?: number): Promise<boolean> {
    if (file.closed) return false;
    if (end === undefined) await this.checkFile(flow, file);
    let readTotal = 0;
    for (;;) {
      const target = end ?? file.size;
      let want = Math.min(flow.readBuffer.length, target - file.readOffset, limit - readTotal);
      if (want <= 0) {
        if (end !== undefined || readTotal >= limit) break;
        // Caught up with the last stat: look once more, the writer may have appended meanwhile.
        const size = Number((await file.handle.stat()).size);
        if (size <= file.size) break;
        file.size = size;
        want = Math.min(flow.readBuffer.length, size - file.readOffset, limit - readTotal);
        if (want <= 0) break;
      }
      const chunk = flow.readBuffer;
      const { bytesRead } = await file.handle.read(chunk, 0, want, file.readOffset);
      if (bytesRead === 0) break;
      file.readOffset += bytesRead;
      readTotal += bytesRead;
      this.rememberTail(file, chunk, bytesRead);
      if (file.readOffset > file.size) file.size = file.readOffset;
      file.splitter.pushTo(bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead), file.handler);
      await this.dispatchReady(flow);
      if (this.stopping && this.mode === 'following') break;
      if (flow.fatal) break;
    }
    return readTotal > 0;
  }

  /** The file will not grow again: its last record goes out even without a newline, then it is closed. */
  private async finishFile(flow: FlowState, file: TailedFile): Promise<void> {
    if (file.closed) return;
    if (file.ending) await this.readAvailable(flow, file, Number.POSITIVE_INFINITY);
    file.splitter.finishTo(file.handler);
    await this.dispatchReady(flow);
    if (!file.ending) return; // drain({ includePartialLastRecord }) on a live file: keep it open
    file.closed = true;
    await file.handle.close();
  }

  /** Forget finished files once everything they held is acknowledged. */
  private retireFiles(flow: FlowState): void {
    for (const file of [...flow.files.values()]) {
      if (!file.closed || !file.ending) continue;
      if (file.tracker.pending > 0 || file.deadRange || flow.aggregate?.file === file) continue;
      flow.files.delete(file.key);
      this.onEvent({ type: 'file-finished', stream: flow.settings.deliveryStream, path: file.path, offset: file.tracker.committed });
      void this.persistCheckpoint();
    }
  }

  // ---------------------------------------------------------------- records -> Firehose records -> calls

  /** One complete CSV record, `bytes[start, end)`, ending at file offset `fileEnd`: copied out at once (the read buffer is reused). */
  private addRecord(flow: FlowState, file: TailedFile, bytes: Buffer, start: number, stop: number, end: number): void {
    const s = flow.settings;
    const length = stop - start;
    this.counters.linesRead++;
    if (file.headerRemaining > 0 || isBlankLine(bytes, start, length)) {
      if (file.headerRemaining > 0) file.headerRemaining--;
      this.counters.recordsSkipped++;
      const agg = flow.aggregate;
      // Inside an open aggregate of this file, the skipped bytes ride on its range; else they are done now.
      if (agg && agg.tracker === file.tracker) agg.range.end = end;
      else file.tracker.skip(end);
      return;
    }
    let agg = flow.aggregate;
    if (agg && (agg.tracker !== file.tracker || agg.bytes + length > agg.cap)) {
      this.sealAggregate(flow);
      agg = undefined;
    }
    if (!agg) {
      if (flow.batch.length > 0 && (flow.batch.length >= s.callRecords || flow.batchBytes + length > s.callBytes)) {
        this.batchReady(flow);
      }
      const room = s.callBytes - flow.batchBytes;
      const cap = Math.max(length, Math.min(s.aggregatedRecordSizeBytes, room));
      // A record bigger than the aggregate size (or no aggregation) gets a buffer of its own.
      const buffer = s.aggregatedRecordSizeBytes > 0 && cap <= flow.pool.size ? flow.pool.take() : Buffer.allocUnsafe(cap);
      agg = { file, tracker: file.tracker, range: file.tracker.add(end), cap, buffer, bytes: 0, lines: 0 };
      flow.aggregate = agg;
      this.armAgeTimer(flow);
    }
    bytes.copy(agg.buffer, agg.bytes, start, stop);
    agg.bytes += length;
    agg.lines++;
    agg.range.end = end;
    if (agg.bytes >= agg.cap) this.sealAggregate(flow);
  }

  private addOversized(flow: FlowState, file: TailedFile, data: Buffer, end: number, final: boolean): void {
    if (!file.deadRange) {
      // Records after this one must not ride on an aggregate registered before it.
      if (flow.aggregate?.tracker === file.tracker) this.sealAggregate(flow);
      this.counters.linesRead++;
      this.counters.deadLetters++;
      file.deadRange = file.tracker.add(end);
      this.onEvent({
        type: 'dead-letter',
        stream: flow.settings.deliveryStream,
        path: file.path,
        offset: end - data.length,
        message: `record over ${FIREHOSE_LIMITS.maxRecordBytes} bytes written to ${this.deadLetters.file}`,
      });
    }
    file.deadRange.end = end;
    this.deadLetters.write(Buffer.from(data)); // copied: the read buffer is reused
    if (!final) return;
    const range = file.deadRange;
    const tracker = file.tracker;
    file.deadRange = undefined;
    this.deadLetters.sync().then(
      () => {
        tracker.ack(range);
        void this.persistCheckpoint();
      },
      (err: Error) => {
        flow.fatal ??= new ProducerError(err.message, flow.settings.deliveryStream, 'DeadLetterWriteFailed');
        this.wake();
      },
    );
  }

  private sealAggregate(flow: FlowState): void {
    const agg = flow.aggregate;
    if (!agg) return;
    flow.aggregate = undefined;
    const data = agg.buffer.subarray(0, agg.bytes);
    const pooled = flow.settings.aggregatedRecordSizeBytes > 0 && agg.buffer.length === flow.pool.size ? agg.buffer : undefined;
    const s = flow.settings;
    if (flow.batch.length > 0 && (flow.batch.length >= s.callRecords || flow.batchBytes + data.length > s.callBytes)) {
      this.batchReady(flow);
    }
    flow.batch.push({ data, pooled, lines: agg.lines, tracker: agg.tracker, range: agg.range });
    flow.batchBytes += data.length;
    if (flow.batch.length >= s.callRecords || flow.batchBytes >= s.callBytes) this.batchReady(flow);
  }

  private batchReady(flow: FlowState): void {
    if (flow.batch.length === 0) return;
    flow.ready.push(flow.batch);
    flow.batch = [];
    flow.batchBytes = 0;
    if (!flow.aggregate && flow.ageTimer) {
      clearTimeout(flow.ageTimer);
      flow.ageTimer = undefined;
    }
  }

  private armAgeTimer(flow: FlowState): void {
    if (flow.ageTimer || this.mode !== 'following') return;
    flow.ageTimer = setTimeout(() => {
      flow.ageTimer = undefined;
      flow.ageDue = true;
      this.wake();
    }, flow.settings.maxBufferAgeMillis);
    flow.ageTimer.unref();
  }

  /** Send everything buffered, however small. */
  private async flushFlow(flow: FlowState): Promise<void> {
    flow.ageDue = false;
    if (flow.ageTimer) clearTimeout(flow.ageTimer);
    flow.ageTimer = undefined;
    this.sealAggregate(flow);
    this.batchReady(flow);
    await this.dispatchReady(flow);
  }

  /** Start calls for ready batches, waiting for a free slot: this wait is what pauses reading. */
  private async dispatchReady(flow: FlowState): Promise<void> {
    while (flow.ready.length > 0) {
      if (flow.fatal || this.abandoned) return;
      while (flow.inFlight.size >= flow.maxInFlight) {
        await Promise.race(flow.inFlight);
        if (flow.fatal || this.abandoned) return;
      }
      const batch = flow.ready.shift()!;
      const earlier = [...flow.inFlight];
      const call: Promise<void> = this.deliver(flow, batch, earlier)
        .catch((err: unknown) => {
          flow.fatal ??= new ProducerError((err as Error).message, flow.settings.deliveryStream, errorCode(err));
          this.wake();
        })
        .finally(() => flow.inFlight.delete(call));
      flow.inFlight.add(call);
    }
  }

  /**
   * One call and its retries of failed records only. The slot is held until the
   * checkpoint covering the acknowledged records is on disk, so after a crash the
   * records sent twice are at most what the in-flight slots held. `earlier` are the
   * calls in flight when this one started: they hold the records before its own.
   */
  private async deliver(flow: FlowState, records: OutRecord[], earlier: readonly Promise<void>[]): Promise<void> {
    try {
      await this.deliverAndCheckpoint(flow, records, earlier);
    } finally {
      for (const r of records) if (r.pooled) flow.pool.give(r.pooled);
    }
  }

  private async deliverAndCheckpoint(flow: FlowState, records: OutRecord[], earlier: readonly Promise<void>[]): Promise<void> {
    const stream = flow.settings.deliveryStream;
    let pending = records;
    let attempt = 0;
    while (pending.length > 0) {
      if (this.abandoned || flow.fatal) return;
      this.counters.calls++;
      let outcomes: PutOutcome[];
      try {
        const put = Promise.resolve(
          this.sink.putRecordBatch(
            stream,
            pending.map((r) => r.data),
          ),
        );
        if (attempt > 0 && this.sink.flush) {
          // A sink that settles calls by size would hold a resend until later calls fill its buffer,
          // and the later calls already answered wait for this one (below): push the resend out now.
          void put.catch(() => undefined); // rejections are taken by the await below
          await this.flushSink();
        }
        outcomes = await put;
        if (!Array.isArray(outcomes) || outcomes.length !== pending.length) {
          throw new Error(`The sink returned ${Array.isArray(outcomes) ? outcomes.length : 'no'} outcomes for ${pending.length} records`);
        }
      } catch (err) {
        const code = errorCode(err);
        const message = (err as Error)?.message ?? String(err);
        outcomes = pending.map(() => ({ ok: false as const, code, message }));
      }
      const failed: OutRecord[] = [];
      let firstFailure: Extract<PutOutcome, { ok: false }> | undefined;
      for (let i = 0; i < pending.length; i++) {
        const outcome = outcomes[i]!;
        const record = pending[i]!;
        if (outcome.ok) {
          record.tracker.ack(record.range);
          this.counters.recordsSent += record.lines;
          this.counters.bytesSent += record.data.length;
          this.counters.firehoseRecordsSent++;
        } else {
          failed.push(record);
          this.counters.failedRecords++;
          firstFailure ??= outcome;
          if (FATAL_CODES.has(outcome.code)) {
            flow.fatal ??= new ProducerError(
              `Delivery stream ${JSON.stringify(stream)} refused records: ${outcome.code}: ${outcome.message}`,
              stream,
              outcome.code,
            );
          }
        }
      }
      if (flow.fatal) {
        this.wake();
        break;
      }
      if (failed.length === 0) break;
      attempt++;
      this.counters.retries += failed.length;
      this.onEvent({ type: 'retry', stream, records: failed.length, code: firstFailure!.code, message: firstFailure!.message });
      await backoff(Math.random() * Math.min(this.retryMax, this.retryBase * 2 ** Math.min(attempt, 30)));
      pending = failed;
    }
    // Answered before an earlier call: the checkpoint cannot pass this call's records until that
    // one's are acknowledged too. Releasing the slot now would let further calls go out while the
    // checkpoint stays behind all of them, and a crash would send them all again.
    if (earlier.length > 0 && !flow.fatal && !this.abandoned) await Promise.allSettled(earlier);
    await this.persistCheckpoint();
  }

  // ---------------------------------------------------------------- checkpoints

  private checkpointOf(file: TailedFile): FileCheckpoint {
    return {
      path: file.path,
      dev: file.dev,
      ino: file.ino,
      fingerprint: file.fp.hash,
      fingerprintBytes: file.fp.bytes,
      offset: file.tracker.committed,
      updatedAt: new Date().toISOString(),
    };
  }

  private snapshot(): CheckpointState {
    const state: CheckpointState = new Map();
    for (const flow of this.flows) {
      const files = new Map(this.savedFor(flow));
      for (const file of flow.files.values()) files.set(file.key, this.checkpointOf(file));
      state.set(flow.settings.id, files);
    }
    return state;
  }

  private async persistCheckpoint(): Promise<void> {
    try {
      await this.checkpoints.persist();
    } catch (err) {
      // The checkpoint only lags; the next write catches up.
      this.onEvent({ type: 'checkpoint-error', stream: '', message: (err as Error).message });
    }
  }

  // ---------------------------------------------------------------- timing

  private wake(): void {
    const wakers = this.wakers;
    this.wakers = [];
    for (const w of wakers) w();
  }

  private sleep(ms: number): Promise<void> {
    return this.delay(ms, true);
  }

  /** A timer; `wakeable` ones end early on wake() (stop, age flush, abandon). */
  private delay(ms: number, wakeable = false): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (wakeable) this.wakers = this.wakers.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (wakeable) this.wakers.push(done);
    });
  }
}

/** Full-jitter backoff; unref'ed so an abandoned retry does not keep the process alive. */
function backoff(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** END_OF_FILE starts after the last complete line, so a half-written line is not sent as a fragment. */
async function lastLineEnd(handle: FileHandle, size: number): Promise<number> {
  const window = Math.min(size, 64 * 1024);
  if (window === 0) return 0;
  const buf = Buffer.alloc(window);
  await handle.read(buf, 0, window, size - window);
  const lf = buf.lastIndexOf(0x0a);
  if (lf < 0) return size;
  return size - window + lf + 1;
}
