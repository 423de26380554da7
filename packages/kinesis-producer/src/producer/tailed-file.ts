import type { FileHandle } from 'node:fs/promises';
import { CsvRecordSplitter, type SplitHandler } from '../records/csv-record-splitter.js';
import { FIREHOSE_LIMITS } from '../records/limits.js';
import { AckTracker, type PendingRange } from '../tail/ack-tracker.js';
import { fingerprint, FINGERPRINT_BYTES, type Fingerprint } from '../tail/file-identity.js';

const EMPTY: Buffer = Buffer.alloc(0);
/** Bytes compared at the end of what was read, to recognise a copy or content replaced in place. */
export const TAIL_BYTES = 1024;

export interface FileEnding {
  readonly since: number;
  readonly reason: 'rotated' | 'deleted';
}

/** What a file's records and dead letters go to (its flow). */
export interface RecordHandler {
  record(file: TailedFile, bytes: Buffer, start: number, stop: number, end: number): void;
  oversized(file: TailedFile, data: Buffer, end: number, final: boolean): void;
}

/**
 * One followed file: its open descriptor, where it is read up to, the record splitter
 * over it and the acknowledgement tracker of what was sent from it. Reading always
 * starts at a record boundary (0, or an offset checked against the file's content), so
 * no record is ever cut.
 */
export class TailedFile {
  /** Next byte to read. */
  readOffset: number;
  /** Size at the last stat. */
  size: number;
  splitter: CsvRecordSplitter;
  tracker: AckTracker;
  headerRemaining: number;
  /** The dead-letter record in progress (an oversized record streamed in pieces), and its last bytes. */
  deadRange: PendingRange | undefined;
  deadStart = 0;
  deadTail: Buffer = EMPTY;
  /** The last bytes (up to 1 KiB) before `tailEnd`, the end of the last complete record read: to recognise a copy of this file. */
  tail: Buffer = EMPTY;
  tailEnd: number;
  /** The last bytes (up to 1 KiB) read, ending at `readOffset`. */
  recent: Buffer = EMPTY;
  /** Set once the path no longer leads to this file. */
  ending: FileEnding | undefined;
  closed = false;
  readonly handler: SplitHandler;

  constructor(
    public path: string,
    readonly key: string,
    readonly dev: string,
    readonly ino: string,
    readonly handle: FileHandle,
    public fp: Fingerprint,
    offset: number,
    boundaryTail: Buffer,
    size: number,
    private readonly skipHeaderLines: number,
    sink: RecordHandler,
  ) {
    this.readOffset = offset;
    this.size = size;
    this.splitter = new CsvRecordSplitter(FIREHOSE_LIMITS.maxRecordBytes, offset);
    this.tracker = new AckTracker(offset, boundaryTail);
    this.headerRemaining = offset === 0 ? skipHeaderLines : 0;
    this.tailEnd = offset;
    this.tail = boundaryTail;
    this.recent = boundaryTail;
    this.handler = {
      record: (bytes, start, end, fileEnd) => sink.record(this, bytes, start, end, fileEnd),
      oversized: (data, fileEnd, final) => sink.oversized(this, data, fileEnd, final),
    };
  }

  /** Read again from the start (truncated, or replaced in place): records before are not trusted to be the same. */
  restart(): void {
    this.readOffset = 0;
    this.splitter = new CsvRecordSplitter(FIREHOSE_LIMITS.maxRecordBytes, 0);
    this.tracker = new AckTracker(0);
    this.deadRange = undefined;
    this.deadTail = EMPTY;
    this.headerRemaining = this.skipHeaderLines;
    this.tail = this.recent = EMPTY;
    this.tailEnd = 0;
  }

  /**
   * Look at the file again: returns true when its content no longer continues what was
   * read (shrunk below the read offset, first KiB changed, or the bytes just before the
   * read offset changed: truncated and rewritten, copytruncate, replaced in place).
   * Refreshes size and fingerprint.
   */
  async changed(): Promise<boolean> {
    const size = Number((await this.handle.stat()).size);
    let changed = size < this.readOffset;
    if (!changed && size !== this.size) {
      if (this.fp.bytes > 0) {
        const now = await fingerprint(this.handle, this.fp.bytes);
        changed = now.hash !== this.fp.hash || now.bytes !== this.fp.bytes;
      }
      if (!changed && this.recent.length > 0) changed = !(await this.holdsAt(this.recent, this.readOffset));
    }
    this.size = size;
    if (!changed && this.fp.bytes < FINGERPRINT_BYTES && size > this.fp.bytes) this.fp = await fingerprint(this.handle);
    return changed;
  }

  /** Whether the file holds `bytes` just before `end`. */
  async holdsAt(bytes: Buffer, end: number): Promise<boolean> {
    if (bytes.length === 0) return true;
    if (end < bytes.length) return false;
    const here = Buffer.alloc(bytes.length);
    const { bytesRead } = await this.handle.read(here, 0, here.length, end - here.length);
    return bytesRead === here.length && here.equals(bytes);
  }

  /**
   * Read what the file has now (up to `limit` bytes, or up to `end`) into the splitter;
   * after each chunk `afterChunk` runs (it dispatches calls: its wait is the backpressure)
   * and returns false to stop. Returns whether anything was read.
   */
  async read(buffer: Buffer, limit: number, end: number | undefined, afterChunk: () => Promise<boolean>): Promise<boolean> {
    let readTotal = 0;
    for (;;) {
      const target = end ?? this.size;
      let want = Math.min(buffer.length, target - this.readOffset, limit - readTotal);
      if (want <= 0) {
        if (end !== undefined || readTotal >= limit) break;
        // Caught up with the last stat: look once more, the writer may have appended meanwhile.
        const size = Number((await this.handle.stat()).size);
        if (size <= this.size) break;
        this.size = size;
        want = Math.min(buffer.length, size - this.readOffset, limit - readTotal);
        if (want <= 0) break;
      }
      const { bytesRead } = await this.handle.read(buffer, 0, want, this.readOffset);
      if (bytesRead === 0) break;
      const chunk = bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
      this.readOffset += bytesRead;
      readTotal += bytesRead;
      if (this.readOffset > this.size) this.size = this.readOffset;
      this.splitter.pushTo(chunk, this.handler);
      this.rememberTail(chunk);
      if (!(await afterChunk())) break;
    }
    return readTotal > 0;
  }

  /** The file will not grow again: its last record goes out even without a newline. */
  finishRecords(): void {
    this.splitter.finishTo(this.handler);
    this.rememberBoundary(this.readOffset);
  }

  /** Keep the bytes just before the last complete record's end (to recognise a copy) and the last bytes read. */
  private rememberTail(chunk: Buffer): void {
    const bytesRead = chunk.length;
    const chunkStart = this.readOffset - bytesRead;
    const boundary = this.splitter.boundary;
    if (boundary !== undefined && boundary > this.tailEnd && boundary > chunkStart) {
      const inChunk = boundary - chunkStart;
      this.tail =
        inChunk >= TAIL_BYTES
          ? Buffer.from(chunk.subarray(inChunk - TAIL_BYTES, inChunk))
          : Buffer.concat([this.recent.subarray(Math.max(0, this.recent.length - (TAIL_BYTES - inChunk))), chunk.subarray(0, inChunk)]);
      this.tailEnd = boundary;
    }
    this.recent =
      bytesRead >= TAIL_BYTES
        ? Buffer.from(chunk.subarray(bytesRead - TAIL_BYTES))
        : Buffer.concat([this.recent, chunk]).subarray(-TAIL_BYTES);
  }

  private rememberBoundary(offset: number): void {
    if (offset > this.tailEnd) {
      this.tail = this.recent;
      this.tailEnd = offset;
    }
  }
}
