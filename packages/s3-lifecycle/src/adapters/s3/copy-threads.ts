import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { CopyObjectCommandInput, S3ClientConfig } from '@aws-sdk/client-s3';

/**
 * The SDK spends most of a small CopyObject in CPU (signing, serialization, parsing: about 0.5 ms), so past
 * ~1,000 copies a second one thread is the bottleneck, not S3. These worker threads each run their own
 * S3Client (credentials from the default chain in each) and take CopyObject requests from the main thread.
 * Copies run in the calling thread until a worker reports ready, so small batches never wait for start-up.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { S3Client, CopyObjectCommand } = require(workerData.sdkPath);
const client = new S3Client(workerData.config);
parentPort.on('message', (message) => {
  client.send(new CopyObjectCommand(message.input)).then(
    (out) => parentPort.postMessage({ id: message.id, etag: out.CopyObjectResult && out.CopyObjectResult.ETag }),
    (error) => parentPort.postMessage({
      id: message.id,
      error: { name: error && error.name, message: error && error.message, status: error && error.$metadata && error.$metadata.httpStatusCode },
    }),
  );
});
parentPort.postMessage({ ready: true });
`;

export interface CopyFailure {
  readonly name?: string;
  readonly message?: string;
  readonly status?: number;
}

/** An error from a worker, shaped like the SDK's (name, message, $metadata.httpStatusCode). */
export class RemoteS3Error extends Error {
  readonly $metadata: { httpStatusCode?: number };
  constructor(failure: CopyFailure) {
    super(failure.message ?? 'CopyObject failed in a copy thread');
    this.name = failure.name ?? 'Error';
    this.$metadata = failure.status === undefined ? {} : { httpStatusCode: failure.status };
  }
}

interface Slot {
  readonly worker: Worker;
  ready: boolean;
  inFlight: number;
  readonly pending: Map<number, { resolve: (etag: string | undefined) => void; reject: (error: Error) => void }>;
}

function sdkPath(): string {
  // ESM: this module's URL; the CommonJS build has no import.meta (it is emptied), but has __filename.
  const here = (import.meta as { url?: string }).url ?? __filename;
  return createRequire(here).resolve('@aws-sdk/client-s3');
}

export class CopyThreads {
  private slots: Slot[] = [];
  private nextId = 0;
  private started = false;
  private readyWaiters: (() => void)[] = [];
  /** Copies the workers carried (for diagnostics and tests). */
  copies = 0;

  constructor(
    private readonly size: number,
    private readonly config: S3ClientConfig,
  ) {}

  /** A ready worker with the fewest requests in flight, or undefined (then the caller copies in-thread). */
  private pick(): Slot | undefined {
    if (!this.started) this.start();
    let best: Slot | undefined;
    for (const slot of this.slots) if (slot.ready && (best === undefined || slot.inFlight < best.inFlight)) best = slot;
    return best;
  }

  private start(): void {
    this.started = true;
    const path = sdkPath();
    for (let i = 0; i < this.size; i++) this.spawn(path);
  }

  private spawn(path: string): void {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sdkPath: path, config: this.config } });
    const slot: Slot = { worker, ready: false, inFlight: 0, pending: new Map() };
    worker.on('message', (message: { ready?: boolean; id?: number; etag?: string; error?: CopyFailure }) => {
      if (message.ready) {
        slot.ready = true;
        if (this.slots.every((s) => s.ready)) for (const wake of this.readyWaiters.splice(0)) wake();
        return;
      }
      const waiter = slot.pending.get(message.id!);
      if (!waiter) return;
      slot.pending.delete(message.id!);
      if (--slot.inFlight === 0) worker.unref();
      if (message.error) waiter.reject(new RemoteS3Error(message.error));
      else waiter.resolve(message.etag);
    });
    const fail = (error: Error) => {
      this.slots = this.slots.filter((s) => s !== slot);
      if (this.slots.every((s) => s.ready)) for (const wake of this.readyWaiters.splice(0)) wake();
      for (const waiter of slot.pending.values()) waiter.reject(error);
      slot.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`S3 copy thread exited with code ${code}`)));
    // After the listeners: the first 'message' listener refs the worker's port again, and a port that
    // stays ref'd keeps a finished process alive. Idle threads never do; copy() refs while one is in flight.
    worker.unref();
    this.slots.push(slot);
  }

  /** Run CopyObject on a worker; undefined when none is ready yet (copy in the calling thread instead). */
  copy(input: CopyObjectCommandInput): Promise<string | undefined> | undefined {
    const slot = this.pick();
    if (!slot) return undefined;
    const id = this.nextId++;
    this.copies++;
    if (slot.inFlight++ === 0) slot.worker.ref();
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, input });
    });
  }

  /** Start the workers now and resolve once all of them are ready. */
  async warmUp(): Promise<void> {
    if (!this.started) this.start();
    if (this.slots.every((s) => s.ready)) return;
    await new Promise<void>((resolve) => this.readyWaiters.push(resolve));
  }

  get ready(): number {
    return this.slots.filter((s) => s.ready).length;
  }

  async close(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }
}
