// CONTRACT STUB written by the foundation; the kinesis-producer issue replaces this file
// with the real implementation, keeping these exported names and shapes (it may add more).
import type { Readable } from 'node:stream';

export type PutOutcome = { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string };

/** The record-sink port: one outcome per record, in request order. */
export interface RecordSink {
  putRecordBatch(stream: string, records: readonly Uint8Array[]): Promise<PutOutcome[]>;
  close(): Promise<void>;
}

/** What the landing sink needs from an object store (any @batchline/s3-lifecycle ObjectStore fits). */
export interface LandingStore {
  put(key: string, body: string | Uint8Array | Readable): Promise<unknown>;
}

export interface LandingSinkOptions {
  readonly store: LandingStore;
  /** Landing prefix per delivery stream, e.g. { orders: 'orders/landing/' }. */
  readonly prefixes: Readonly<Record<string, string>>;
  readonly bufferSizeBytes?: number;
  readonly bufferIntervalMillis?: number;
  readonly gzip?: boolean;
}

export interface Flow {
  readonly filePattern: string;
  readonly deliveryStream: string;
  readonly initialPosition?: 'START_OF_FILE' | 'END_OF_FILE';
  readonly skipHeaderLines?: number;
  readonly maxBufferAgeMillis?: number;
  readonly maxBufferSizeBytes?: number;
  readonly maxBufferSizeRecords?: number;
}

export interface ProducerMetrics {
  readonly linesRead: number;
  readonly recordsSent: number;
  readonly bytesSent: number;
  readonly calls: number;
  readonly retries: number;
  readonly failedRecords: number;
  readonly deadLetters: number;
  readonly lagBytes: number;
}

export interface ProducerOptions {
  readonly flows: readonly Flow[];
  readonly sink: RecordSink;
  readonly checkpointFile: string;
  readonly deadLetterFile?: string;
}

export interface Producer {
  /** Follow files until stop(). */
  start(): Promise<void>;
  /** Read every matched file to its current end, send, checkpoint, and resolve (used by the demo). */
  drain(): Promise<ProducerMetrics>;
  stop(): Promise<void>;
  metrics(): ProducerMetrics;
}

export declare function createProducer(options: ProducerOptions): Producer;
export declare function createLandingSink(options: LandingSinkOptions): RecordSink;
