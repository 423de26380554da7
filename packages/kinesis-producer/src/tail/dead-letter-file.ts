import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** Why a record went to the dead-letter file, one JSON line per record in the sidecar `<file>.reasons.jsonl`. */
export interface DeadLetterReason {
  readonly stream: string;
  /** The file the record came from, and its byte range there. */
  readonly file: string;
  readonly offset: number;
  readonly bytes: number;
  readonly reason: string;
}

/**
 * Records that cannot be sent (over the record limit) are appended whole and verbatim,
 * so the file is itself CSV that can be fixed and fed again; why each one is there goes
 * to a sidecar (`<file>.reasons.jsonl`, with the record's byte range in the dead-letter
 * file). Writes are serialized; commit() resolves once the record and its reason are on
 * disk, and only then may the checkpoint pass it. A record cut by a crash is trimmed
 * away when the file is next opened (the sidecar says where the last whole one ends),
 * and sent here again whole from the checkpoint.
 */
export class DeadLetterFile {
  private handle: Promise<{ data: FileHandle; reasons: FileHandle; size: number }> | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  /** Where the record being written started, in the dead-letter file. */
  private recordStart: number | undefined;

  constructor(readonly file: string) {}

  get reasonsFile(): string {
    return `${this.file}.reasons.jsonl`;
  }

  /** Append the next piece of the record being dead-lettered. */
  write(data: Uint8Array): void {
    this.enqueue(async (h) => {
      this.recordStart ??= h.size;
      await h.data.write(data, 0, data.length, h.size);
      h.size += data.length;
    });
  }

  /** The record written since the last commit is whole: make it and its reason durable. */
  async commit(reason: DeadLetterReason): Promise<void> {
    this.enqueue(async (h) => {
      await h.data.sync();
      const start = this.recordStart ?? h.size;
      this.recordStart = undefined;
      const line = { at: new Date().toISOString(), ...reason, deadLetterOffset: start, deadLetterEnd: h.size };
      await h.reasons.appendFile(`${JSON.stringify(line)}\n`);
      await h.reasons.sync();
    });
    const done = this.chain.then(() => {
      if (this.failure) throw this.failure;
    });
    this.chain = done.catch(() => undefined);
    await done;
  }

  async close(): Promise<void> {
    await this.chain;
    if (this.handle) {
      const h = await this.handle.catch(() => undefined);
      this.handle = undefined;
      await h?.data.close();
      await h?.reasons.close();
    }
  }

  private enqueue(step: (h: { data: FileHandle; reasons: FileHandle; size: number }) => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.failure) return;
      try {
        await step(await this.open());
      } catch (err) {
        this.failure = new Error(`Cannot write the dead-letter file ${JSON.stringify(this.file)}: ${(err as Error).message}`);
      }
    });
  }

  private open(): Promise<{ data: FileHandle; reasons: FileHandle; size: number }> {
    this.handle ??= (async () => {
      await mkdir(path.dirname(this.file), { recursive: true });
      const data = await open(this.file, 'a+', 0o600);
      const reasons = await open(this.reasonsFile, 'a', 0o600);
      let size = (await data.stat()).size;
      const whole = await lastWholeEnd(this.reasonsFile);
      if (whole !== undefined && size > whole) {
        // A record cut by a crash: its reason was never written, and the checkpoint never passed it.
        await data.truncate(whole);
        size = whole;
      }
      if (whole === undefined) {
        // A new sidecar: what the file holds now is whole (an earlier version's records, or nothing).
        await reasons.appendFile(`${JSON.stringify({ at: new Date().toISOString(), opened: true, deadLetterEnd: size })}\n`);
        await reasons.sync();
      }
      // Positional writes: 'a+' would append anyway on Linux, which is what we want.
      return { data, reasons, size };
    })();
    return this.handle;
  }
}

async function lastWholeEnd(reasonsFile: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(reasonsFile, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const end = (JSON.parse(lines[i]!) as { deadLetterEnd?: unknown }).deadLetterEnd;
      if (typeof end === 'number') return end;
    } catch {
      // a line cut by a crash: look at the one before
    }
  }
  return undefined;
}
