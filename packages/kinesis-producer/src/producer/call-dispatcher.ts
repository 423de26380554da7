import { classifyFailure, errorCode, ProducerError } from '../errors.js';
import type { ProducerEvent, PutOutcome, RecordSink } from '../producer-contract.js';
import type { Counters } from './counters.js';
import type { FailureReport } from './failure-report.js';
import type { OutRecord, RecordPacker } from './record-packer.js';

export interface CallDispatcherOptions {
  readonly sink: RecordSink;
  readonly stream: string;
  /** Concurrent calls of this flow. */
  readonly maxInFlight: number;
  readonly counters: Counters;
  readonly report: FailureReport;
  readonly retryBaseMillis: number;
  readonly retryMaxMillis: number;
  /** How long deliveries may fail with nothing acknowledged before giving up (Infinity: never). */
  readonly retryBudgetMillis: () => number;
  /** Aborted when the producer abandons its calls (shutdown deadline, a fatal error). */
  readonly signal: () => AbortSignal;
  readonly persistCheckpoint: () => Promise<void>;
  readonly flushSink: () => Promise<void>;
  readonly onEvent: (event: ProducerEvent) => void;
  /** Something changed that a waiting loop should look at (a fatal error). */
  readonly wake: () => void;
}

/**
 * Sends the calls of one flow: at most `maxInFlight` at once (waiting for a slot is what
 * pauses reading), resends only the records that failed, after a full-jitter backoff,
 * and stops the flow (`fatal`) on a refusal no retry can fix or when the retry budget is spent.
 */
export class CallDispatcher {
  readonly inFlight = new Set<Promise<void>>();
  fatal: ProducerError | undefined;
  /** When deliveries of this flow started failing with nothing acknowledged since. */
  private failingSince: number | undefined;

  constructor(
    private readonly o: CallDispatcherOptions,
    private readonly pool: { give(buffer: Buffer): void },
  ) {}

  private get stopped(): boolean {
    return this.fatal !== undefined || this.o.signal().aborted;
  }

  /** Start calls for the packer's ready batches, waiting for free slots. */
  async dispatch(packer: RecordPacker): Promise<void> {
    while (packer.hasReady) {
      if (this.stopped) return;
      while (this.inFlight.size >= this.o.maxInFlight) {
        await Promise.race(this.inFlight);
        if (this.stopped) return;
      }
      const batch = packer.next()!;
      const earlier = [...this.inFlight];
      const call: Promise<void> = this.deliver(batch, earlier)
        .catch((err: unknown) => {
          this.fail(new ProducerError((err as Error)?.message ?? String(err), this.o.stream, errorCode(err)));
        })
        .finally(() => this.inFlight.delete(call));
      this.inFlight.add(call);
    }
  }

  private fail(error: ProducerError): void {
    this.fatal ??= error;
    this.o.wake();
  }

  /**
   * One call and its retries of failed records only. The slot is held until the
   * checkpoint covering the acknowledged records is on disk, so after a crash the
   * records sent twice are at most what the in-flight slots held. `earlier` are the
   * calls in flight when this one started: they hold the records before its own.
   */
  private async deliver(records: OutRecord[], earlier: readonly Promise<void>[]): Promise<void> {
    try {
      await this.sendUntilAcknowledged(records);
      // Answered before an earlier call: the checkpoint cannot pass this call's records until that
      // one's are acknowledged too. Releasing the slot now would let further calls go out while the
      // checkpoint stays behind all of them, and a crash would send them all again.
      if (earlier.length > 0 && !this.stopped) await Promise.allSettled(earlier);
      await this.o.persistCheckpoint();
    } finally {
      for (const r of records) if (r.pooled) this.pool.give(r.pooled);
    }
  }

  private async sendUntilAcknowledged(records: OutRecord[]): Promise<void> {
    const { stream, counters } = this.o;
    let pending = records;
    let attempt = 0;
    while (pending.length > 0) {
      if (this.stopped) return;
      counters.calls++;
      const outcomes = await this.put(pending, attempt > 0);
      const failed: OutRecord[] = [];
      let firstFailure: Extract<PutOutcome, { ok: false }> | undefined;
      for (let i = 0; i < pending.length; i++) {
        const outcome = outcomes[i]!;
        const record = pending[i]!;
        if (outcome.ok) {
          record.tracker.ack(record.range);
          counters.recordsSent += record.lines;
          counters.bytesSent += record.data.length;
          counters.firehoseRecordsSent++;
        } else {
          failed.push(record);
          counters.failedRecords++;
          firstFailure ??= outcome;
        }
      }
      if (failed.length < pending.length) {
        this.failingSince = undefined;
        this.o.report.succeeded(stream);
      }
      if (!firstFailure) return;
      if (this.o.signal().aborted) return; // abandoned mid-call: not a delivery failure
      const kind = classifyFailure(firstFailure.code, firstFailure.message);
      if (kind === 'configuration' || kind === 'refused') {
        this.fail(
          new ProducerError(
            `Delivery stream ${JSON.stringify(stream)} refused records: ${firstFailure.code}: ${firstFailure.message}`,
            stream,
            firstFailure.code,
          ),
        );
        return;
      }
      attempt++;
      counters.retries += failed.length;
      const waiting = failed.reduce((n, r) => n + r.lines, 0);
      this.o.report.failed(stream, firstFailure.code, firstFailure.message, failed.length, waiting);
      this.o.onEvent({ type: 'retry', stream, records: failed.length, code: firstFailure.code, message: firstFailure.message });
      const now = Date.now();
      this.failingSince ??= now;
      const budget = this.o.retryBudgetMillis();
      const left = this.failingSince + budget - now;
      if (left <= 0) {
        this.fail(
          new ProducerError(
            `Gave up delivering to ${JSON.stringify(stream)}: deliveries kept failing for ${(budget / 1000).toLocaleString('en-US', { maximumFractionDigits: 1 })} s ` +
              `(the retry budget); last error ${firstFailure.code}: ${firstFailure.message}`,
            stream,
            'RetryBudgetExhausted',
            { permanent: false, exitCode: 1 },
          ),
        );
        return;
      }
      const backoff = Math.random() * Math.min(this.o.retryMaxMillis, this.o.retryBaseMillis * 2 ** Math.min(attempt, 30));
      await pause(Math.min(backoff, left), this.o.signal());
      pending = failed;
    }
  }

  private async put(records: OutRecord[], resend: boolean): Promise<PutOutcome[]> {
    const { sink, stream } = this.o;
    try {
      const put = Promise.resolve(
        sink.putRecordBatch(
          stream,
          records.map((r) => r.data),
          { signal: this.o.signal() },
        ),
      );
      if (resend && sink.flush) {
        // A sink that settles calls by size would hold a resend until later calls fill its buffer,
        // and the later calls already answered wait for this one: push the resend out now.
        void put.catch(() => undefined); // rejections are taken by the await below
        await this.o.flushSink();
      }
      const outcomes = await put;
      if (!Array.isArray(outcomes) || outcomes.length !== records.length) {
        throw new Error(`The sink returned ${Array.isArray(outcomes) ? outcomes.length : 'no'} outcomes for ${records.length} records`);
      }
      return outcomes;
    } catch (err) {
      const code = errorCode(err);
      const message = (err as Error)?.message ?? String(err);
      return records.map(() => ({ ok: false as const, code, message }));
    }
  }
}

/**
 * A backoff pause. Its timer keeps the process alive on purpose: records waiting for
 * their resend are work pending (an unref'd timer let the process end with them unsent).
 * Abandoning the calls ends it at once.
 */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
