// The producer's public shapes. Other packages (the pipeline's demo and `produce` command) code against
// these names: add members, never rename or remove one.
import type { Readable } from 'node:stream';

export type PutOutcome = { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string };

/**
 * The record-sink port: one outcome per record, in request order. The record
 * buffers belong to the caller again once the returned promise settles (the
 * producer reuses them): a sink that keeps data longer copies it.
 */
export interface RecordSink {
  /** `options.signal` aborts the call (the producer abandoned it at its shutdown deadline). */
  putRecordBatch(stream: string, records: readonly Uint8Array[], options?: { readonly signal?: AbortSignal }): Promise<PutOutcome[]>;
  close(): Promise<void>;
  /**
   * Check, before anything is read, configuration that can be checked without sending
   * (e.g. that a region is set): throws a permanent error (exit code 2) if it is wrong. Optional.
   */
  check?(): Promise<void>;
  /**
   * Push out anything the sink buffers, so pending putRecordBatch calls settle
   * (the landing sink acknowledges only once an object is written). Optional.
   */
  flush?(): Promise<void>;
  /**
   * Bytes that must be pending before this sink settles calls by size (the landing
   * sink holds a call until its object fills). The producer keeps enough calls in
   * flight to reach it, or every call would wait for the sink's interval. Optional.
   */
  readonly minPendingBytes?: number;
}

/** What the landing sink needs from an object store (any @batchline/s3-lifecycle ObjectStore fits). */
export interface LandingStore {
  put(key: string, body: string | Uint8Array | Readable): Promise<unknown>;
}

export interface LandingSinkOptions {
  readonly store: LandingStore;
  /** Landing prefix per delivery stream, e.g. { orders: 'orders/landing/' }. */
  readonly prefixes: Readonly<Record<string, string>>;
  /** Object size that triggers a write, like Firehose's buffering hint (default 5 MiB). */
  readonly bufferSizeBytes?: number;
  /** Oldest record age that triggers a write (default 300,000 ms, Firehose's default). */
  readonly bufferIntervalMillis?: number;
  /** GZIP each object and add `.gz` to its key. */
  readonly gzip?: boolean;
  /** The `<version>` in object keys (default 1, a new delivery stream's version). */
  readonly streamVersion?: number;
  /** Clock for object keys (tests). */
  readonly now?: () => Date;
}

export interface Flow {
  /** A file path or glob (tinyglobby syntax); every matching file is followed. */
  readonly filePattern: string;
  readonly deliveryStream: string;
  /**
   * Where to start in a file never seen before, for files present when the flow first
   * starts (default START_OF_FILE); files appearing later are always read from their start.
   */
  readonly initialPosition?: 'START_OF_FILE' | 'END_OF_FILE';
  /** Records dropped at the start of each file (its CSV header). */
  readonly skipHeaderLines?: number;
  readonly maxBufferAgeMillis?: number;
  readonly maxBufferSizeBytes?: number;
  /** Firehose records per call (an aggregated record counts once), at most 500. */
  readonly maxBufferSizeRecords?: number;
  /** Pack CSV records into Firehose records up to this size; 0 sends one CSV record per Firehose record. */
  readonly aggregatedRecordSizeBytes?: number;
  /** How often files are polled for appends, rotation and new matches. */
  readonly minTimeBetweenFilePollsMillis?: number;
}

export interface ProducerMetrics {
  /** CSV records read, headers and blank lines included. */
  readonly linesRead: number;
  /** CSV records acknowledged by the sink. */
  readonly recordsSent: number;
  /** Bytes acknowledged by the sink. */
  readonly bytesSent: number;
  /** putRecordBatch calls made, retries included. */
  readonly calls: number;
  /** Firehose records resent after a failure. */
  readonly retries: number;
  /** Firehose records the sink reported as failed (each failure counts). */
  readonly failedRecords: number;
  /** Records written to the dead-letter file (over the record limit). */
  readonly deadLetters: number;
  /** Bytes behind the end of the followed files: file size minus the acknowledged offset. */
  readonly lagBytes: number;
  /** Firehose records acknowledged (after aggregation). */
  readonly firehoseRecordsSent?: number;
  /** Header records and blank lines dropped. */
  readonly recordsSkipped?: number;
  /** Files currently followed. */
  readonly filesTracked?: number;
  /** CSV records read and not yet acknowledged (nor skipped or dead-lettered): what a stop now leaves for the next run. */
  readonly recordsPending?: number;
}

export interface ProducerEvent {
  readonly type:
    | 'file-opened'
    | 'file-rotated'
    | 'file-deleted'
    | 'file-truncated'
    | 'file-finished'
    | 'dead-letter'
    | 'retry'
    | 'checkpoint-error'
    /** Deliveries are failing and being retried (network, throttling, 5xx): at most one per failureReportMillis. */
    | 'delivery-failing'
    | 'delivery-recovered'
    /** Something the operator should know: a pattern matching nothing, a drain that will send nothing. */
    | 'warning';
  readonly stream: string;
  readonly path?: string;
  readonly offset?: number;
  readonly bytes?: number;
  readonly records?: number;
  readonly code?: string;
  readonly message?: string;
}

export interface ProducerOptions {
  readonly flows: readonly Flow[];
  readonly sink: RecordSink;
  readonly checkpointFile: string;
  /** Where records over the record limit go (default `<checkpointFile>.dead-letter.csv`). */
  readonly deadLetterFile?: string;
  /** Concurrent putRecordBatch calls per flow (default 1: one 4 MiB call at a time already outruns a delivery stream's quota); reading pauses when all are busy. */
  readonly maxInFlightCalls?: number;
  /** Backoff after failed records: full jitter between 0 and min(max, base * 2^attempt). */
  readonly retryBaseDelayMillis?: number;
  readonly retryMaxDelayMillis?: number;
  /** How long stop() waits for in-flight calls before it gives up on them (default 30,000 ms). */
  readonly shutdownTimeoutMillis?: number;
  /** How long a rotated or deleted file is still read for late appends (default 2,000 ms; drain() does not wait). */
  readonly rotationGraceMillis?: number;
  /**
   * How long deliveries may keep failing, with nothing acknowledged, before the producer gives up
   * (ProducerError `RetryBudgetExhausted`, exit code 1; the checkpoint keeps what was not acknowledged).
   * 0 = never give up. Default: never while following (start()), 300,000 ms in drain().
   */
  readonly retryBudgetMillis?: number;
  /** How often failing deliveries are reported (a `delivery-failing` event), default 10,000 ms. */
  readonly failureReportMillis?: number;
  /** Progress and problems, for logs. */
  readonly onEvent?: (event: ProducerEvent) => void;
}

export interface DrainOptions {
  /** Also send a final record that lacks its newline (default false: it waits, as in follow mode). */
  readonly includePartialLastRecord?: boolean;
}

export interface Producer {
  /** Follow files until stop(); resolves once stopped, rejects on a fatal sink error (nothing unacknowledged is checkpointed). */
  start(): Promise<void>;
  /** Read every matched file to its current end, send, checkpoint, and resolve (used by the demo). */
  drain(options?: DrainOptions): Promise<ProducerMetrics>;
  /**
   * Stop reading, flush, wait for in-flight calls (up to shutdownTimeoutMillis, then abandon them:
   * their records stay after the checkpoint), checkpoint. Stops a drain() the same way.
   */
  stop(): Promise<void>;
  metrics(): ProducerMetrics;
}

export { createProducer } from './producer/producer.js';
export { createLandingSink } from './sinks/landing/landing-sink.js';
