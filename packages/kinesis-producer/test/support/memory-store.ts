import type { Readable } from 'node:stream';

/** An in-memory LandingStore: what a test needs from an object store, nothing more. */
export class MemoryLandingStore {
  readonly objects = new Map<string, Buffer>();
  /** Make the next `n` puts fail (a flaky store). */
  failNext = 0;
  /** Resolved puts wait on this gate when set (to observe acknowledgement timing). */
  gate: Promise<void> | undefined;

  async put(key: string, body: string | Uint8Array | Readable): Promise<{ key: string }> {
    if (this.gate) await this.gate;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('injected store failure');
    }
    let bytes: Buffer;
    if (typeof body === 'string') bytes = Buffer.from(body);
    else if (body instanceof Uint8Array) bytes = Buffer.from(body);
    else {
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(Buffer.from(c as Uint8Array));
      bytes = Buffer.concat(chunks);
    }
    this.objects.set(key, bytes);
    return { key };
  }

  /** Keys in the order the objects were written (keys of one second sort by their uuid, not by time). */
  keys(prefix = ''): string[] {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix));
  }
}
