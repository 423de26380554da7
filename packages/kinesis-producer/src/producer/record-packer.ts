import { BOUNDARY_TAIL_BYTES, joinTail, type AckTracker, type PendingRange } from '../tail/ack-tracker.js';
import type { FlowSettings } from './flow-settings.js';

/** A Firehose record ready to send, and what its acknowledgement unlocks. */
export interface OutRecord {
  readonly data: Buffer;
  /** The pooled buffer under `data`, returned once the record's call settled. */
  readonly pooled: Buffer | undefined;
  /** CSV records inside. */
  readonly lines: number;
  readonly tracker: AckTracker;
  readonly range: PendingRange;
}

/** CSV records being packed into one Firehose record, copied into a pooled buffer. */
interface Aggregate {
  readonly tracker: AckTracker;
  readonly range: PendingRange;
  readonly cap: number;
  readonly buffer: Buffer;
  bytes: number;
  lines: number;
  /** From here to `bytes` the buffer holds bytes that are contiguous in the file. */
  contiguousFrom: number;
  /** Bytes skipped (header, blank lines) after the last record, for the range's tail. */
  skippedTail: Buffer | undefined;
}

/**
 * Reuses the aggregate buffers (up to 1,000 KiB each) once their call settled, so a
 * long run does not leave a trail of large garbage buffers behind (RSS stays flat).
 */
export class BufferPool {
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

/**
 * Packs the CSV records of one flow into Firehose records (up to aggregatedRecordSizeBytes)
 * and those into calls (up to the record and byte limits); hands out full calls with next().
 * A partial call goes out when its oldest record is maxBufferAgeMillis old (`onAge`), or on flush().
 */
export class RecordPacker {
  readonly pool: BufferPool;
  private aggregate: Aggregate | undefined;
  private batch: OutRecord[] = [];
  private batchBytes = 0;
  private readonly ready: OutRecord[][] = [];
  private ageTimer: NodeJS.Timeout | undefined;
  /** The age of the oldest buffered record passed maxBufferAgeMillis. */
  ageDue = false;
  /** Arm the age timer (following only: drain flushes at its end). */
  timed = false;

  constructor(
    private readonly settings: FlowSettings,
    private readonly onAge: () => void,
  ) {
    this.pool = new BufferPool(Math.max(1, settings.aggregatedRecordSizeBytes), 12);
  }

  get hasReady(): boolean {
    return this.ready.length > 0;
  }

  /** A full call, in file order. */
  next(): OutRecord[] | undefined {
    return this.ready.shift();
  }

  /** An aggregate of this file's tracker is still open (its records are not in a call yet). */
  holds(tracker: AckTracker): boolean {
    return this.aggregate?.tracker === tracker;
  }

  /** Records buffered, not yet handed out in a call. */
  bufferedLines(): number {
    let n = this.aggregate?.lines ?? 0;
    for (const r of this.batch) n += r.lines;
    for (const call of this.ready) for (const r of call) n += r.lines;
    return n;
  }

  /** One complete CSV record, `bytes[start, stop)`, ending at file offset `end`: copied out at once (the read buffer is reused). */
  add(tracker: AckTracker, bytes: Buffer, start: number, stop: number, end: number): void {
    const s = this.settings;
    const length = stop - start;
    let agg = this.aggregate;
    if (agg && (agg.tracker !== tracker || agg.bytes + length > agg.cap)) {
      this.seal();
      agg = undefined;
    }
    if (!agg) {
      if (this.batch.length > 0 && (this.batch.length >= s.callRecords || this.batchBytes + length > s.callBytes)) this.batchReady();
      const room = s.callBytes - this.batchBytes;
      const cap = Math.max(length, Math.min(s.aggregatedRecordSizeBytes, room));
      // A record bigger than the aggregate size (or no aggregation) gets a buffer of its own.
      const buffer = s.aggregatedRecordSizeBytes > 0 && cap <= this.pool.size ? this.pool.take() : Buffer.allocUnsafe(cap);
      agg = { tracker, range: tracker.add(end), cap, buffer, bytes: 0, lines: 0, contiguousFrom: 0, skippedTail: undefined };
      this.aggregate = agg;
      this.armAgeTimer();
    }
    if (agg.skippedTail) {
      agg.skippedTail = undefined;
      agg.contiguousFrom = agg.bytes;
    }
    bytes.copy(agg.buffer, agg.bytes, start, stop);
    agg.bytes += length;
    agg.lines++;
    agg.range.end = end;
    if (agg.bytes >= agg.cap) this.seal();
  }

  /** A header or blank line, `bytes[start, stop)`: not sent, but the checkpoint passes it in file order. */
  skip(tracker: AckTracker, bytes: Buffer, start: number, stop: number, end: number): void {
    const agg = this.aggregate;
    const skipped = bytes.subarray(Math.max(start, stop - BOUNDARY_TAIL_BYTES), stop);
    // Inside an open aggregate of this file, the skipped bytes ride on its range; else they are done now.
    if (agg && agg.tracker === tracker) {
      agg.range.end = end;
      agg.skippedTail = joinTail(agg.skippedTail ?? this.aggregateTail(agg), skipped);
    } else {
      tracker.skip(end, skipped);
    }
  }

  /** Seal the open aggregate of this tracker: an oversized record comes next in its file. */
  sealFor(tracker: AckTracker): void {
    if (this.aggregate?.tracker === tracker) this.seal();
  }

  /** Everything buffered goes into ready calls, however small. */
  flush(): void {
    this.ageDue = false;
    this.clearAgeTimer();
    this.seal();
    this.batchReady();
  }

  /** Drop what is buffered (shutdown: it was never sent, the checkpoint stays before it). */
  clear(): void {
    this.clearAgeTimer();
    if (this.aggregate && this.aggregate.buffer.length === this.pool.size) this.pool.give(this.aggregate.buffer);
    this.aggregate = undefined;
    this.batch = [];
    this.batchBytes = 0;
    this.ready.length = 0;
  }

  private aggregateTail(agg: Aggregate): Buffer {
    return agg.buffer.subarray(Math.max(agg.contiguousFrom, agg.bytes - BOUNDARY_TAIL_BYTES), agg.bytes);
  }

  private seal(): void {
    const agg = this.aggregate;
    if (!agg) return;
    this.aggregate = undefined;
    const data = agg.buffer.subarray(0, agg.bytes);
    const pooled = this.settings.aggregatedRecordSizeBytes > 0 && agg.buffer.length === this.pool.size ? agg.buffer : undefined;
    // The range's tail outlives a pooled buffer: copy it; an unpooled buffer is never reused.
    agg.range.tail = agg.skippedTail ?? (pooled ? Buffer.from(this.aggregateTail(agg)) : this.aggregateTail(agg));
    // Contiguous from the range's start: a short tail continues the bytes before it.
    agg.range.appendTail = agg.contiguousFrom === 0;
    const s = this.settings;
    if (this.batch.length > 0 && (this.batch.length >= s.callRecords || this.batchBytes + data.length > s.callBytes)) this.batchReady();
    this.batch.push({ data, pooled, lines: agg.lines, tracker: agg.tracker, range: agg.range });
    this.batchBytes += data.length;
    if (this.batch.length >= s.callRecords || this.batchBytes >= s.callBytes) this.batchReady();
  }

  private batchReady(): void {
    if (this.batch.length === 0) return;
    this.ready.push(this.batch);
    this.batch = [];
    this.batchBytes = 0;
    if (!this.aggregate) this.clearAgeTimer();
  }

  private armAgeTimer(): void {
    if (this.ageTimer || !this.timed) return;
    this.ageTimer = setTimeout(() => {
      this.ageTimer = undefined;
      this.ageDue = true;
      this.onAge();
    }, this.settings.maxBufferAgeMillis);
    this.ageTimer.unref();
  }

  private clearAgeTimer(): void {
    if (this.ageTimer) clearTimeout(this.ageTimer);
    this.ageTimer = undefined;
  }
}
