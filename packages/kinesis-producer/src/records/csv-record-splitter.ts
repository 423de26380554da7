const LF = 0x0a;
const QUOTE = 0x22;
const NEWLINE = Buffer.from('\n');

/** One piece of output from the splitter, with the file offset just past it. */
export type SplitPiece =
  /** A complete CSV record, trailing newline included. */
  | { readonly kind: 'record'; readonly data: Buffer; readonly end: number }
  /**
   * Bytes of a record over the record limit, streamed in pieces so memory stays
   * bounded; `final` marks the piece that ends the record.
   */
  | { readonly kind: 'oversized'; readonly data: Buffer; readonly end: number; readonly final: boolean };

/** Receives the splitter's output without an allocation per record. */
export interface SplitHandler {
  /** A complete CSV record: `bytes[start, end)`, ending at file offset `fileEnd`. Valid only during the call. */
  record(bytes: Buffer, start: number, end: number, fileEnd: number): void;
  oversized(data: Buffer, fileEnd: number, final: boolean): void;
}

/**
 * Finds CSV record boundaries in a byte stream without parsing fields.
 *
 * A record ends at a LF outside double quotes; quote parity is enough because an
 * escaped quote (`""`) toggles twice. When a record grows past `maxRecordBytes`
 * while spanning several physical lines, its opening quote is taken to be a stray
 * one (`5" screen`): the first physical line becomes an oversized piece (it goes to
 * the dead-letter file) and the rest is scanned again with no quote open, so one
 * bad quote costs one line instead of the rest of the file. A single physical line
 * over the limit is streamed out as oversized pieces up to its newline.
 */
export class CsvRecordSplitter {
  /** Bytes of the record in progress, from earlier input. */
  private carry: Buffer[] = [];
  private carryBytes = 0;
  /** Inside a quoted field of the record in progress. */
  private quoted = false;
  /** Streaming an over-limit single line up to its newline. */
  private discarding = false;
  /** File offset of the next byte to be fed. */
  private offset: number;

  constructor(
    private readonly maxRecordBytes: number,
    startOffset = 0,
  ) {
    if (!Number.isInteger(maxRecordBytes) || maxRecordBytes < 1) {
      throw new RangeError(`maxRecordBytes must be a positive integer, got ${String(maxRecordBytes)}`);
    }
    this.offset = startOffset;
  }

  /** Bytes held for a record that has not ended yet. */
  get pendingBytes(): number {
    return this.carryBytes;
  }

  /**
   * Feed the next bytes of the file; returns the pieces they complete, in file order.
   * Pieces may point into `chunk`: use them before the chunk is overwritten.
   */
  push(chunk: Buffer): SplitPiece[] {
    const out: SplitPiece[] = [];
    this.pushTo(chunk, collect(out));
    return out;
  }

  /** push() without the pieces array: the handler sees each record in place (the hot path). */
  pushTo(chunk: Buffer, handler: SplitHandler): void {
    this.scan(chunk, handler);
  }

  /**
   * No more input will come (the file rotated away or was deleted): a final record
   * without its newline is returned with one added, because Firehose adds no
   * delimiter and the next record would otherwise be glued to it.
   */
  finish(): SplitPiece[] {
    const out: SplitPiece[] = [];
    this.finishTo(collect(out));
    return out;
  }

  finishTo(handler: SplitHandler): void {
    if (this.discarding) {
      // An over-limit line was being streamed out: end it (with the newline it lacked).
      this.discarding = false;
      handler.oversized(NEWLINE, this.offset, true);
      return;
    }
    if (this.carryBytes === 0) return;
    const data = Buffer.concat([...this.carry, NEWLINE]);
    const end = this.offset;
    this.carry = [];
    this.carryBytes = 0;
    this.quoted = false;
    if (data.length > this.maxRecordBytes) handler.oversized(data, end, true);
    else handler.record(data, 0, data.length, end);
  }

  private scan(chunk: Buffer, out: SplitHandler): void {
    const base = this.offset;
    const n = chunk.length;
    this.offset = base + n;
    let pos = 0; // first byte of chunk not yet handed out or carried
    let i = 0; // scan position
    let nextQuote = -1;
    let quoteKnownFrom = -1; // nextQuote is valid for scans starting at or after this index
    while (i < n) {
      if (this.discarding) {
        const lf = chunk.indexOf(LF, i);
        if (lf < 0) {
          out.oversized(chunk.subarray(pos), base + n, false);
          return;
        }
        out.oversized(chunk.subarray(pos, lf + 1), base + lf + 1, true);
        this.discarding = false;
        pos = i = lf + 1;
        continue;
      }
      if (this.quoted) {
        const close = chunk.indexOf(QUOTE, i);
        if (close < 0) break;
        this.quoted = false;
        i = close + 1;
        continue;
      }
      if (quoteKnownFrom < 0 || quoteKnownFrom > i || (nextQuote >= 0 && nextQuote < i)) {
        nextQuote = chunk.indexOf(QUOTE, i);
        quoteKnownFrom = i;
      }
      const lf = chunk.indexOf(LF, i);
      if (lf >= 0 && (nextQuote < 0 || lf < nextQuote)) {
        pos = i = this.endRecord(chunk, pos, lf + 1, base, out);
        continue;
      }
      if (nextQuote < 0) break; // neither a newline nor a quote left
      this.quoted = true;
      i = nextQuote + 1;
    }
    if (this.discarding) {
      if (pos < n) out.oversized(chunk.subarray(pos), base + n, false);
      return;
    }
    if (pos < n) {
      // Copied: the caller reuses its read buffer once the pieces are handled.
      this.carry.push(Buffer.from(chunk.subarray(pos)));
      this.carryBytes += n - pos;
      if (this.carryBytes > this.maxRecordBytes) this.overflow(out);
    }
  }

  /** A record ends at chunk[end - 1]; returns where scanning of chunk continues. */
  private endRecord(chunk: Buffer, pos: number, end: number, base: number, out: SplitHandler): number {
    const fileEnd = base + end;
    if (this.carryBytes === 0 && end - pos <= this.maxRecordBytes) {
      out.record(chunk, pos, end, fileEnd);
      return end;
    }
    const data = Buffer.concat([...this.carry, chunk.subarray(pos, end)]);
    this.carry = [];
    this.carryBytes = 0;
    if (data.length <= this.maxRecordBytes) {
      out.record(data, 0, data.length, fileEnd);
      return end;
    }
    const firstLf = data.indexOf(LF);
    if (firstLf === data.length - 1) {
      out.oversized(data, fileEnd, true);
      return end;
    }
    // Several lines held together by a quote that never closed in time: drop the first line, rescan the rest.
    this.deadLetterFirstLineAndRescan(data, fileEnd - data.length, out);
    return end;
  }

  /** The record in progress passed the limit before it ended. */
  private overflow(out: SplitHandler): void {
    const data = Buffer.concat(this.carry);
    const start = this.offset - data.length;
    this.carry = [];
    this.carryBytes = 0;
    if (data.indexOf(LF) >= 0) {
      this.deadLetterFirstLineAndRescan(data, start, out);
      return;
    }
    // One physical line without its newline yet: stream it out.
    this.quoted = false;
    this.discarding = true;
    out.oversized(data, start + data.length, false);
  }

  private deadLetterFirstLineAndRescan(data: Buffer, start: number, out: SplitHandler): void {
    const firstLf = data.indexOf(LF);
    out.oversized(data.subarray(0, firstLf + 1), start + firstLf + 1, true);
    const after = this.offset;
    this.quoted = false;
    this.offset = start + firstLf + 1;
    this.scan(data.subarray(firstLf + 1), out);
    this.offset = after;
  }
}

/** A handler that collects pieces (copying nothing: records point into the input). */
function collect(out: SplitPiece[]): SplitHandler {
  return {
    record: (bytes, start, end, fileEnd) => out.push({ kind: 'record', data: bytes.subarray(start, end), end: fileEnd }),
    oversized: (data, fileEnd, final) => out.push({ kind: 'oversized', data, end: fileEnd, final }),
  };
}
