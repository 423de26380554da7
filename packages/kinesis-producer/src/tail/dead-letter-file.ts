import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/**
 * Records that cannot be sent (over the record limit) are appended verbatim, so the
 * file is itself CSV that can be fixed and fed again. Writes are serialized; sync()
 * resolves once everything written so far is on disk, and only then may the
 * checkpoint pass those records.
 */
export class DeadLetterFile {
  private handle: Promise<FileHandle> | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | undefined;

  constructor(readonly file: string) {}

  write(data: Uint8Array): void {
    this.chain = this.chain.then(async () => {
      if (this.failure) return;
      try {
        const handle = await this.open();
        await handle.write(data);
      } catch (err) {
        this.failure = new Error(`Cannot write the dead-letter file ${this.file}: ${(err as Error).message}`);
      }
    });
  }

  /** Resolves when all writes so far are durable; rejects if any failed (the checkpoint must then stay put). */
  async sync(): Promise<void> {
    const done = this.chain.then(async () => {
      if (this.failure) throw this.failure;
      if (this.handle) await (await this.handle).sync();
    });
    this.chain = done.catch(() => undefined);
    await done;
  }

  async close(): Promise<void> {
    await this.chain;
    if (this.handle) {
      const handle = await this.handle;
      this.handle = undefined;
      await handle.close();
    }
  }

  private open(): Promise<FileHandle> {
    this.handle ??= (async () => {
      await mkdir(path.dirname(this.file), { recursive: true });
      return open(this.file, 'a', 0o600);
    })();
    return this.handle;
  }
}
