const LF = 0x0a;
const QUOTE = 0x22;
const COMMA = 0x2c;
const TAB = 0x09;
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
 * A record ends at a LF outside double quotes. A quote opens a quoted field only at
 * the start of a field (after `,`, a tab, or at the start of a record) or right after
 * the quote that closed one (`""` is an escaped quote); any other quote is a literal
 * character (`5" screen`), as relaxed CSV parsers read it. A record over
 * `maxRecordBytes` is streamed out whole, as oversized pieces up to its real end
 * (quotes respected), so memory stays bounded and the records after it are read as
 * records again.
 */
export class CsvRecordSplitter {
  /** Bytes of the record in progress, from earlier input. */
  private carry: Buffer[] = [];
  private carryBytes = 0;
  /** Inside a quoted field of the record in progress. */
  private quoted = false;
  /** Streaming an over-limit record out up to its end. */
  private discarding = false;
  /** Bytes of the record in progress streamed out so far (while discarding). */
  private discardedBytes = 0;
  /** The byte before the next input (LF at a record boundary). */
  private prevByte = LF;
  /** The last input ended right after a closing quote: a quote first in the next input escapes it. */
  private closedAtEnd = false;
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

  /** File offset where the last complete record ended (undefined while an oversized record streams out). */
  get boundary(): number | undefined {
    return this.discarding ? undefined : this.offset - this.carryBytes;
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
    if (chunk.length > 0) this.scan(chunk, handler);
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
    this.quoted = false;
    this.closedAtEnd = false;
    this.prevByte = LF;
    if (this.discarding) {
      // An over-limit record was being streamed out: end it (with the newline it lacked).
      this.discarding = false;
      this.discardedBytes = 0;
      handler.oversized(NEWLINE, this.offset, true);
      return;
    }
    if (this.carryBytes === 0) return;
    const data = Buffer.concat([...this.carry, NEWLINE]);
    const end = this.offset;
    this.carry = [];
    this.carryBytes = 0;
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
    let closedAt = this.closedAtEnd ? 0 : -1; // index just after the last closing quote
    this.closedAtEnd = false;
    while (i < n) {
      if (this.quoted) {
        const close = chunk.indexOf(QUOTE, i);
        if (close < 0) break;
        this.quoted = false;
        i = closedAt = close + 1;
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
      const q = nextQuote;
      const prev = q > 0 ? chunk[q - 1] : this.prevByte;
      // Opens a quoted field at a field start, or escapes the quote that just closed one.
      if (prev === COMMA || prev === LF || prev === TAB || q === closedAt) this.quoted = true;
      i = q + 1;
    }
    this.prevByte = chunk[n - 1]!;
    this.closedAtEnd = !this.quoted && closedAt === n;
    if (pos >= n) return;
    if (this.discarding) {
      out.oversized(chunk.subarray(pos), base + n, false);
      this.discardedBytes += n - pos;
      return;
    }
    // Copied: the caller reuses its read buffer once the pieces are handled.
    this.carry.push(Buffer.from(chunk.subarray(pos)));
    this.carryBytes += n - pos;
    if (this.carryBytes > this.maxRecordBytes) {
      // Over the limit before its end: stream it out from here on, whole.
      const data = Buffer.concat(this.carry);
      this.carry = [];
      this.carryBytes = 0;
      this.discarding = true;
      this.discardedBytes = data.length;
      out.oversized(data, base + n, false);
    }
  }

  /** A record ends at chunk[end - 1]; returns where scanning of chunk continues. */
  private endRecord(chunk: Buffer, pos: number, end: number, base: number, out: SplitHandler): number {
    const fileEnd = base + end;
    if (this.discarding) {
      this.discarding = false;
      this.discardedBytes = 0;
      out.oversized(chunk.subarray(pos, end), fileEnd, true);
      return end;
    }
    if (this.carryBytes === 0 && end - pos <= this.maxRecordBytes) {
      out.record(chunk, pos, end, fileEnd);
      return end;
    }
    const data = this.carryBytes === 0 ? chunk.subarray(pos, end) : Buffer.concat([...this.carry, chunk.subarray(pos, end)]);
    this.carry = [];
    this.carryBytes = 0;
    if (data.length <= this.maxRecordBytes) out.record(data, 0, data.length, fileEnd);
    else out.oversized(data, fileEnd, true);
    return end;
  }
}

/** A handler that collects pieces (copying nothing: records point into the input). */
function collect(out: SplitPiece[]): SplitHandler {
  return {
    record: (bytes, start, end, fileEnd) => out.push({ kind: 'record', data: bytes.subarray(start, end), end: fileEnd }),
    oversized: (data, fileEnd, final) => out.push({ kind: 'oversized', data, end: fileEnd, final }),
  };
}
