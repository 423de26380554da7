/** How many bytes before a checkpoint offset are kept (and hashed) to recognise the same content on resume. */
export const BOUNDARY_TAIL_BYTES = 1024;

const EMPTY: Buffer = Buffer.alloc(0);

/** The last `BOUNDARY_TAIL_BYTES` of `a` followed by `b` (file-contiguous bytes). */
export function joinTail(a: Buffer, b: Buffer): Buffer {
  if (b.length >= BOUNDARY_TAIL_BYTES) return Buffer.from(b.subarray(b.length - BOUNDARY_TAIL_BYTES));
  const keep = Math.min(a.length, BOUNDARY_TAIL_BYTES - b.length);
  return Buffer.concat([a.subarray(a.length - keep), b]);
}

/** A piece of a file waiting for acknowledgement, in file order. */
export interface PendingRange {
  /** Grows while an aggregate still takes records; the checkpoint uses the largest end it has passed. */
  end: number;
  acked: boolean;
  /**
   * File bytes just before `end` (up to BOUNDARY_TAIL_BYTES), set before the range can be
   * acknowledged; `appendTail` means they continue the bytes before the range's start.
   */
  tail: Buffer | undefined;
  appendTail: boolean;
}

/**
 * Acknowledgements arrive out of order (several calls in flight, retries); the
 * checkpoint may only pass a byte once everything before it is acknowledged.
 * Ranges are registered in file order; `committed` is the end of the longest
 * fully acknowledged prefix, and `committedTail` the file bytes just before it.
 */
export class AckTracker {
  private readonly queue: PendingRange[] = [];
  private head = 0;
  private committedOffset: number;
  private tailBytes: Buffer;

  constructor(startOffset: number, tail: Buffer = EMPTY) {
    this.committedOffset = startOffset;
    this.tailBytes = tail;
  }

  get committed(): number {
    return this.committedOffset;
  }

  /** The file's bytes just before `committed` (empty at 0), as read when they were sent. */
  get committedTail(): Buffer {
    return this.tailBytes;
  }

  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Register the next range of the file (ending at `end`), not yet acknowledged. */
  add(end: number): PendingRange {
    const range: PendingRange = { end, acked: false, tail: undefined, appendTail: false };
    this.queue.push(range);
    return range;
  }

  /** A range that needs no delivery (header, blank line: `bytes`): acknowledged at once, in order. */
  skip(end: number, bytes: Buffer): void {
    if (this.pending === 0) {
      this.passed({ end, acked: true, tail: bytes, appendTail: true });
      return;
    }
    this.queue.push({ end, acked: true, tail: Buffer.from(bytes.subarray(Math.max(0, bytes.length - BOUNDARY_TAIL_BYTES))), appendTail: true });
  }

  ack(range: PendingRange): void {
    range.acked = true;
    while (this.head < this.queue.length && this.queue[this.head]!.acked) {
      this.passed(this.queue[this.head]!);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private passed(range: PendingRange): void {
    if (range.end < this.committedOffset) return;
    if (range.end > this.committedOffset && range.tail) {
      this.tailBytes = range.appendTail ? joinTail(this.tailBytes, range.tail) : range.tail;
    }
    this.committedOffset = range.end;
  }
}
