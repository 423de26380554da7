import path from 'node:path';
import { ProducerError } from '../errors.js';
import type { DrainOptions, Producer, ProducerEvent, ProducerMetrics, ProducerOptions, RecordSink } from '../producer-contract.js';
import { FIREHOSE_LIMITS } from '../records/limits.js';
import { joinTail } from '../tail/ack-tracker.js';
import { CheckpointStore, type CheckpointState, type FileCheckpoint } from '../tail/checkpoint-store.js';
import { DeadLetterFile } from '../tail/dead-letter-file.js';
import { CallDispatcher } from './call-dispatcher.js';
import { Counters } from './counters.js';
import { FailureReport } from './failure-report.js';
import { boundaryHash, FileSet } from './file-set.js';
import { resolveFlow, type FlowSettings } from './flow-settings.js';
import { RecordPacker } from './record-packer.js';
import type { TailedFile } from './tailed-file.js';

export { ProducerError };

/** Largest read from a file at once. */
const READ_CHUNK_BYTES = 1024 * 1024;
/** Most bytes read from one file per poll cycle, so one busy file does not starve the others. */
const READ_BYTES_PER_CYCLE = 64 * 1024 * 1024;
/** drain() gives up after deliveries failed this long with nothing acknowledged (unless retryBudgetMillis says otherwise). */
export const DEFAULT_DRAIN_RETRY_BUDGET_MILLIS = 300_000;

/** One flow: its files (tailing, rotation), the packing of its records, and its calls. */
interface Flow {
  readonly settings: FlowSettings;
  readonly files: FileSet;
  readonly packer: RecordPacker;
  readonly dispatcher: CallDispatcher;
  /** Reused for every read: pieces are copied out before the next read. */
  readonly readBuffer: Buffer;
}

function isBlankLine(bytes: Buffer, start: number, length: number): boolean {
  return (length === 1 && bytes[start] === 0x0a) || (length === 2 && bytes[start] === 0x0d && bytes[start + 1] === 0x0a);
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
  private readonly flows: Flow[];
  private readonly checkpoints: CheckpointStore;
  private readonly deadLetters: DeadLetterFile;
  private readonly counters = new Counters();
  private readonly shutdownTimeout: number;
  private readonly rotationGrace: number;
  private readonly retryBudget: number | undefined;
  private readonly onEvent: (event: ProducerEvent) => void;

  /** Checkpoints loaded from disk and not yet matched to an open file, per flow. */
  private saved: CheckpointState = new Map();
  private initialized: Promise<void> | undefined;
  private mode: 'idle' | 'following' | 'draining' = 'idle';
  private stopping = false;
  /** Aborted to abandon every call in flight and every backoff: the shutdown deadline passed, or a flow failed. */
  private abandon = new AbortController();
  private abandonTimer: NodeJS.Timeout | undefined;
  private deadline = Number.POSITIVE_INFINITY;
  private stopRequested = false;
  /** Bytes after the checkpoint when the last run closed its files. */
  private lagAtClose = 0;
  private running: Promise<unknown> | undefined;
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
    this.onEvent = options.onEvent ?? (() => undefined);
    const settings = options.flows.map(resolveFlow);
    const ids = new Set<string>();
    for (const s of settings) {
      if (ids.has(s.id)) throw new Error(`Two flows send ${JSON.stringify(s.filePattern)} to ${JSON.stringify(s.deliveryStream)}`);
      ids.add(s.id);
    }
    const maxInFlight = positiveInteger('maxInFlightCalls', options.maxInFlightCalls, 1);
    const retryBase = positiveInteger('retryBaseDelayMillis', options.retryBaseDelayMillis, 100);
    const retryMax = positiveInteger('retryMaxDelayMillis', options.retryMaxDelayMillis, 10_000);
    this.shutdownTimeout = positiveInteger('shutdownTimeoutMillis', options.shutdownTimeoutMillis, 30_000, 0);
    this.rotationGrace = positiveInteger('rotationGraceMillis', options.rotationGraceMillis, 2_000, 0);
    this.retryBudget = options.retryBudgetMillis === undefined ? undefined : positiveInteger('retryBudgetMillis', options.retryBudgetMillis, 0, 0);
    const failureReportMillis = positiveInteger('failureReportMillis', options.failureReportMillis, 10_000);
    this.checkpoints = new CheckpointStore(path.resolve(options.checkpointFile));
    this.checkpoints.source(() => this.snapshot());
    this.deadLetters = new DeadLetterFile(path.resolve(options.deadLetterFile ?? `${options.checkpointFile}.dead-letter.csv`));
    this.flows = settings.map((s) => {
      const packer = new RecordPacker(s, () => this.wake());
      const dispatcher = new CallDispatcher(
        {
          sink: this.sink,
          stream: s.deliveryStream,
          // A sink that settles calls by size needs enough calls in flight to fill its object.
          maxInFlight: Math.max(
            maxInFlight,
            Math.min(64, Math.ceil((options.sink.minPendingBytes ?? 0) / s.callBytes) + (options.sink.minPendingBytes ? 1 : 0)),
          ),
          counters: this.counters,
          // One per flow: a stream recovering says nothing about another that still fails.
          report: new FailureReport(failureReportMillis, this.onEvent),
          retryBaseMillis: retryBase,
          retryMaxMillis: retryMax,
          retryBudgetMillis: () => this.retryBudgetMillis(),
          signal: () => this.abandon.signal,
          persistCheckpoint: () => this.persistCheckpoint(),
          flushSink: () => this.flushSink(),
          onEvent: this.onEvent,
          wake: () => this.failed(),
        },
        packer.pool,
      );
      const flow = {
        settings: s,
        packer,
        dispatcher,
        // Without aggregation every record is an object of its own: smaller reads keep one read's worth small.
        readBuffer: Buffer.allocUnsafeSlow(s.aggregatedRecordSizeBytes > 0 ? READ_CHUNK_BYTES : READ_CHUNK_BYTES / 16),
      } as { -readonly [K in keyof Flow]: Flow[K] };
      flow.files = new FileSet({
        settings: s,
        saved: new Map(),
        handler: {
          record: (file, bytes, start, stop, end) => this.addRecord(flow, file, bytes, start, stop, end),
          oversized: (file, data, end, final) => this.addOversized(flow, file, data, end, final),
        },
        onEvent: this.onEvent,
        opened: () => (this.checkpointDirty = true),
      });
      return flow;
    });
  }

  metrics(): ProducerMetrics {
    let lagBytes = 0;
    let filesTracked = 0;
    for (const flow of this.flows) {
      for (const file of flow.files.files.values()) {
        filesTracked++;
        lagBytes += Math.max(0, file.size - file.tracker.committed);
      }
    }
    const c = this.counters;
    const recordsPending = Math.max(0, c.linesRead - c.recordsSent - c.recordsSkipped - c.deadLetters);
    if (filesTracked === 0) lagBytes = this.lagAtClose;
    return { ...c, lagBytes, filesTracked, recordsPending };
  }

  async start(): Promise<void> {
    if (this.mode !== 'idle') throw new Error(`The producer is already ${this.mode}`);
    this.begin('following');
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
    })().catch((err) => {
      failure ??= err;
    });
    this.running = run;
    try {
      await run;
    } finally {
      this.end();
    }
    failure ??= this.fatal();
    if (failure) throw failure;
  }

  async stop(): Promise<void> {
    if (this.mode === 'idle' || !this.running) return;
    if (!this.stopRequested) {
      this.stopRequested = true;
      this.stopping = true;
      this.deadline = Date.now() + this.shutdownTimeout;
      // Whatever the sink does, calls still unanswered at the deadline are abandoned (their records
      // stay after the checkpoint and are sent again by the next run).
      this.abandonTimer = setTimeout(() => this.abandonCalls(), this.shutdownTimeout);
      this.wake();
    }
    await this.running;
  }

  async drain(options: DrainOptions = {}): Promise<ProducerMetrics> {
    if (this.mode !== 'idle') throw new Error(`Cannot drain while the producer is ${this.mode}`);
    this.begin('draining');
    const run = (async () => {
      await this.init();
      await Promise.all(this.flows.map((flow) => this.drainFlow(flow, options.includePartialLastRecord === true)));
      await this.settle();
      for (const flow of this.flows) this.retireFiles(flow);
      await this.persistCheckpoint();
      await this.closeFiles();
    })();
    this.running = run.catch(() => undefined);
    try {
      await run;
    } finally {
      this.end();
    }
    const fatal = this.fatal();
    if (fatal) throw fatal;
    return this.metrics();
  }

  // ---------------------------------------------------------------- lifecycle

  private begin(mode: 'following' | 'draining'): void {
    this.mode = mode;
    this.stopping = false;
    this.stopRequested = false;
    this.deadline = Number.POSITIVE_INFINITY;
    if (this.abandon.signal.aborted) this.abandon = new AbortController();
    for (const flow of this.flows) {
      flow.dispatcher.fatal = undefined;
      flow.packer.timed = mode === 'following';
    }
  }

  private end(): void {
    clearTimeout(this.abandonTimer);
    this.abandonTimer = undefined;
    this.mode = 'idle';
    this.running = undefined;
  }

  private retryBudgetMillis(): number {
    const budget = this.retryBudget ?? (this.mode === 'draining' ? DEFAULT_DRAIN_RETRY_BUDGET_MILLIS : 0);
    return budget === 0 ? Number.POSITIVE_INFINITY : budget;
  }

  private fatal(): ProducerError | undefined {
    return this.flows.find((f) => f.dispatcher.fatal)?.dispatcher.fatal;
  }

  /** A flow failed for good: stop everything now (what is unacknowledged stays after the checkpoint). */
  private failed(): void {
    this.stopping = true;
    this.abandonCalls();
  }

  private abandonCalls(): void {
    if (!this.abandon.signal.aborted) this.abandon.abort();
    this.wake();
  }

  private init(): Promise<void> {
    this.initialized ??= (async () => {
      // Configuration the sink can check before anything is read (e.g. a missing region): fail at once.
      await this.sink.check?.();
      this.saved = await this.checkpoints.load();
      for (const flow of this.flows) {
        const saved = this.saved.get(flow.settings.id);
        if (saved) for (const [k, v] of saved) flow.files.savedFor().set(k, v);
      }
    })();
    return this.initialized;
  }

  private async follow(flow: Flow): Promise<void> {
    while (!this.stopping) {
      await flow.files.discover(false);
      if (this.checkpointDirty) {
        // New files (and where they start) are on disk before anything is read from them.
        this.checkpointDirty = false;
        await this.persistCheckpoint();
      }
      let progressed = false;
      for (const file of flow.files.readOrder(false)) {
        if (this.stopping) break;
        progressed = (await this.readFile(flow, file, READ_BYTES_PER_CYCLE)) || progressed;
        if (file.ending && !file.closed && Date.now() - file.ending.since >= this.rotationGrace) {
          await this.finishFile(flow, file);
        }
      }
      if (flow.packer.ageDue) {
        flow.packer.flush();
        await flow.dispatcher.dispatch(flow.packer);
      }
      this.retireFiles(flow);
      if (flow.dispatcher.fatal) throw flow.dispatcher.fatal;
      if (!progressed && !this.stopping) await this.sleep(flow.settings.pollMillis);
    }
  }

  private async drainFlow(flow: Flow, includePartial: boolean): Promise<void> {
    const fresh = flow.files.savedFor().size === 0 && flow.settings.initialPosition === 'END_OF_FILE';
    const opened = await flow.files.discover(true);
    if (fresh && opened.some((f) => f.readOffset > 0)) {
      this.onEvent({
        type: 'warning',
        stream: flow.settings.deliveryStream,
        message:
          `flow ${JSON.stringify(flow.settings.filePattern)} starts at END_OF_FILE (the agent's default) and has no checkpoint: ` +
          'this drain sends nothing already in its files, and checkpoints their ends so the next drain sends what is appended; ' +
          'to send what they hold now, run with --initial-position START_OF_FILE (initialPosition: "START_OF_FILE") before a checkpoint exists',
      });
    }
    for (const file of flow.files.readOrder(true)) {
      if (this.stopping) break;
      if (await file.changed()) flow.files.restart(file);
      await file.read(flow.readBuffer, Number.POSITIVE_INFINITY, file.size, () => this.afterChunk(flow));
      if (this.stopping) break;
      if (file.ending || includePartial) await this.finishFile(flow, file);
      if (flow.dispatcher.fatal) break;
    }
    if (!flow.dispatcher.fatal && !this.abandon.signal.aborted) {
      flow.packer.flush();
      await flow.dispatcher.dispatch(flow.packer);
    }
  }

  /** Flush every flow, wait for in-flight calls up to the deadline, checkpoint, close files. */
  private async shutdown(): Promise<void> {
    if (this.deadline === Number.POSITIVE_INFINITY) {
      // Stopped by a fatal error, not stop(): nothing more is sent.
      this.deadline = Date.now() + this.shutdownTimeout;
      this.abandonTimer ??= setTimeout(() => this.abandonCalls(), this.shutdownTimeout);
    }
    if (!this.fatal()) {
      await Promise.all(
        this.flows.map(async (flow) => {
          flow.packer.flush();
          await flow.dispatcher.dispatch(flow.packer);
        }),
      );
    }
    await this.settle();
    for (const flow of this.flows) this.retireFiles(flow);
    try {
      await this.persistCheckpoint();
    } finally {
      await this.closeFiles();
    }
  }

  /** Wait for every in-flight call (pushing the sink's buffers out) until the deadline; then abandon the rest. */
  private async settle(): Promise<void> {
    for (;;) {
      const pending = this.flows.flatMap((f) => [...f.dispatcher.inFlight]);
      if (pending.length === 0) break;
      if (Date.now() >= this.deadline || this.abandon.signal.aborted) {
        this.abandonCalls();
        await Promise.allSettled(pending);
        break;
      }
      await this.flushSink();
      await Promise.race([Promise.allSettled(pending), this.delay(25)]);
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
    this.lagAtClose = 0;
    for (const flow of this.flows) {
      for (const file of flow.files.files.values()) {
        this.lagAtClose += Math.max(0, file.size - file.tracker.committed);
        if (!file.closed) {
          file.closed = true;
          await file.handle.close().catch(() => undefined);
        }
        // Not finished: the next session resumes from the acknowledged offset.
        flow.files.savedFor().set(file.key, this.checkpointOf(file));
      }
      flow.files.files.clear();
      flow.packer.clear();
    }
  }

  // ---------------------------------------------------------------- reading

  /** After each chunk read: start the calls it filled (waiting for a slot pauses reading); false stops reading. */
  private async afterChunk(flow: Flow): Promise<boolean> {
    await flow.dispatcher.dispatch(flow.packer);
    if (this.stopping && this.mode === 'following') return false;
    return !flow.dispatcher.fatal && !this.abandon.signal.aborted;
  }

  private async readFile(flow: Flow, file: TailedFile, limit: number): Promise<boolean> {
    if (file.closed) return false;
    if (await file.changed()) flow.files.restart(file);
    return file.read(flow.readBuffer, limit, undefined, () => this.afterChunk(flow));
  }

  /** The file will not grow again: its last record goes out even without a newline, then it is closed. */
  private async finishFile(flow: Flow, file: TailedFile): Promise<void> {
    if (file.closed) return;
    if (file.ending) await this.readFile(flow, file, Number.POSITIVE_INFINITY);
    if (this.abandon.signal.aborted) return;
    file.finishRecords();
    await flow.dispatcher.dispatch(flow.packer);
    if (!file.ending) return; // drain({ includePartialLastRecord }) on a live file: keep it open
    file.closed = true;
    await file.handle.close();
  }

  private retireFiles(flow: Flow): void {
    if (flow.files.retire((file) => flow.packer.holds(file.tracker)) > 0) void this.persistCheckpoint();
  }

  // ---------------------------------------------------------------- records -> packer or dead letters

  /** One complete CSV record, `bytes[start, stop)`, ending at file offset `end`. */
  private addRecord(flow: Flow, file: TailedFile, bytes: Buffer, start: number, stop: number, end: number): void {
    this.counters.linesRead++;
    if (file.headerRemaining > 0 || isBlankLine(bytes, start, stop - start)) {
      if (file.headerRemaining > 0) file.headerRemaining--;
      this.counters.recordsSkipped++;
      flow.packer.skip(file.tracker, bytes, start, stop, end);
      return;
    }
    flow.packer.add(file.tracker, bytes, start, stop, end);
  }

  /** A record over the record limit, in pieces: written whole to the dead-letter file, then passed by the checkpoint. */
  private addOversized(flow: Flow, file: TailedFile, data: Buffer, end: number, final: boolean): void {
    if (!file.deadRange) {
      // Records after this one must not ride on an aggregate registered before it.
      flow.packer.sealFor(file.tracker);
      this.counters.linesRead++;
      this.counters.deadLetters++;
      file.deadRange = file.tracker.add(end);
      file.deadStart = end - data.length;
      file.deadTail = Buffer.alloc(0);
    }
    file.deadRange.end = end;
    file.deadTail = joinTail(file.deadTail, data);
    this.deadLetters.write(Buffer.from(data)); // copied: the read buffer is reused
    if (!final) return;
    const range = file.deadRange;
    const tracker = file.tracker;
    const start = file.deadStart;
    range.tail = file.deadTail;
    range.appendTail = true;
    file.deadRange = undefined;
    const bytes = end - start;
    const reason = `a CSV record of ${bytes} bytes is over Firehose's ${FIREHOSE_LIMITS.maxRecordBytes}-byte record limit`;
    this.onEvent({
      type: 'dead-letter',
      stream: flow.settings.deliveryStream,
      path: file.path,
      offset: start,
      bytes,
      message: `${reason}: written whole to ${this.deadLetters.file} (reason in ${this.deadLetters.reasonsFile})`,
    });
    this.deadLetters.commit({ stream: flow.settings.deliveryStream, file: file.path, offset: start, bytes, reason }).then(
      () => {
        tracker.ack(range);
        void this.persistCheckpoint();
      },
      (err: Error) => {
        flow.dispatcher.fatal ??= new ProducerError(err.message, flow.settings.deliveryStream, 'DeadLetterWriteFailed', {
          permanent: true,
          exitCode: 1,
        });
        this.failed();
      },
    );
  }

  // ---------------------------------------------------------------- checkpoints

  private checkpointOf(file: TailedFile): FileCheckpoint {
    const tail = file.tracker.committedTail;
    return {
      path: file.path,
      dev: file.dev,
      ino: file.ino,
      fingerprint: file.fp.hash,
      fingerprintBytes: file.fp.bytes,
      offset: file.tracker.committed,
      ...(file.tracker.committed > 0 && tail.length > 0 ? { boundaryHash: boundaryHash(tail), boundaryBytes: tail.length } : {}),
      updatedAt: new Date().toISOString(),
    };
  }

  private snapshot(): CheckpointState {
    const state: CheckpointState = new Map();
    for (const flow of this.flows) {
      const files = new Map(flow.files.savedFor());
      for (const file of flow.files.files.values()) files.set(file.key, this.checkpointOf(file));
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

  /** A poll pause that ends early on wake() (stop, age flush, failure). */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakers = this.wakers.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.push(done);
    });
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}
