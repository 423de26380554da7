/** A piece of a file waiting for acknowledgement, in file order. */
export interface PendingRange {
  /** Grows while an aggregate still takes records; the checkpoint uses the largest end it has passed. */
  end: number;
  acked: boolean;
}

/**
 * Acknowledgements arrive out of order (several calls in flight, retries); the
 * checkpoint may only pass a byte once everything before it is acknowledged.
 * Ranges are registered in file order; `committed` is the end of the longest
 * fully acknowledged prefix.
 */
export class AckTracker {
  private readonly queue: PendingRange[] = [];
  private head = 0;
  private committedOffset: number;

  constructor(startOffset: number) {
    this.committedOffset = startOffset;
  }

  get committed(): number {
    return this.committedOffset;
  }

  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Register the next range of the file (ending at `end`), not yet acknowledged. */
  add(end: number): PendingRange {
    const range: PendingRange = { end, acked: false };
    this.queue.push(range);
    return range;
  }

  /** A range that needs no delivery (header, blank line): acknowledged at once, in order. */
  skip(end: number): void {
    if (this.pending === 0) {
      this.committedOffset = Math.max(this.committedOffset, end);
      return;
    }
    this.queue.push({ end, acked: true });
  }

  ack(range: PendingRange): void {
    range.acked = true;
    while (this.head < this.queue.length && this.queue[this.head]!.acked) {
      this.committedOffset = Math.max(this.committedOffset, this.queue[this.head]!.end);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Start over at `offset` (the file was truncated); pending ranges are dropped. */
  resetTo(offset: number): void {
    for (let i = this.head; i < this.queue.length; i++) this.queue[i]!.acked = true;
    this.queue.length = 0;
    this.head = 0;
    this.committedOffset = offset;
  }
}
