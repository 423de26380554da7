import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

/** Where one file of one flow was acknowledged up to. */
export interface FileCheckpoint {
  /** Last path the file was seen at (informational: identity is dev + ino + fingerprint). */
  readonly path: string;
  /** Device and inode numbers as decimal strings (inodes can pass 2^53). */
  readonly dev: string;
  readonly ino: string;
  /** sha256 (hex) of the first `fingerprintBytes` bytes of the file. */
  readonly fingerprint: string;
  readonly fingerprintBytes: number;
  /** Byte offset just past the last acknowledged record. */
  readonly offset: number;
  /**
   * sha256 (hex) of the `boundaryBytes` bytes just before `offset`, as they were sent: on resume the
   * file must hold the same bytes there, or it is read again from its start (duplicates, never loss).
   * Absent in checkpoints of earlier versions: then the byte before `offset` must be a newline.
   */
  readonly boundaryHash?: string;
  readonly boundaryBytes?: number;
  readonly updatedAt: string;
}

const fileCheckpointSchema = z.object({
  path: z.string(),
  dev: z.string().regex(/^\d+$/),
  ino: z.string().regex(/^\d+$/),
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  fingerprintBytes: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  boundaryHash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  boundaryBytes: z.number().int().nonnegative().optional(),
  updatedAt: z.string(),
});

const checkpointFileSchema = z.object({
  version: z.literal(1),
  flows: z.record(z.string(), z.record(z.string(), fileCheckpointSchema)),
});

export type CheckpointState = Map<string, Map<string, FileCheckpoint>>;

/**
 * Checkpoints in one JSON file, replaced atomically (temporary file, fsync, rename,
 * fsync of the directory), so a crash leaves either the old or the new state.
 */
export class CheckpointStore {
  private writing: Promise<void> | undefined;
  private dirty = false;
  private snapshot: () => CheckpointState = () => new Map();

  constructor(readonly file: string) {}

  async load(): Promise<CheckpointState> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw err;
    }
    if (bytes.subarray(0, 16).toString('latin1') === 'SQLite format 3\0') {
      throw new ConfigError(
        `Checkpoint file ${JSON.stringify(this.file)} is a Kinesis Agent SQLite database; this producer keeps JSON checkpoints: point checkpointFile at a new path`,
      );
    }
    const text = bytes.toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      // A configuration problem (exit 2), not a delivery failure: nothing was read or sent.
      throw new ConfigError(`Checkpoint file ${JSON.stringify(this.file)} is not valid JSON (${(err as Error).message}); move it away to start over`);
    }
    const parsed = checkpointFileSchema.safeParse(json);
    if (!parsed.success) {
      throw new ConfigError(`Checkpoint file ${JSON.stringify(this.file)} has an unexpected shape: ${z.prettifyError(parsed.error)}; move it away to start over`);
    }
    const state: CheckpointState = new Map();
    for (const [flow, files] of Object.entries(parsed.data.flows)) {
      state.set(flow, new Map(Object.entries(files)));
    }
    return state;
  }

  /** The function persist() calls to get the state to write. */
  source(snapshot: () => CheckpointState): void {
    this.snapshot = snapshot;
  }

  /**
   * Persist the current state. Calls coalesce: while a write runs, later callers
   * wait for one more write that includes their changes.
   */
  async persist(): Promise<void> {
    this.dirty = true;
    while (this.dirty) {
      if (this.writing) {
        await this.writing;
        continue;
      }
      this.dirty = false;
      this.writing = this.write(this.snapshot()).finally(() => {
        this.writing = undefined;
      });
      await this.writing;
    }
  }

  private async write(state: CheckpointState): Promise<void> {
    const flows: Record<string, Record<string, FileCheckpoint>> = {};
    for (const [flow, files] of state) flows[flow] = Object.fromEntries(files);
    const body = `${JSON.stringify({ version: 1, flows }, null, 1)}\n`;
    const dir = path.dirname(this.file);
    await mkdir(dir, { recursive: true });
    const tmp = path.join(dir, `.${path.basename(this.file)}.${randomUUID()}.tmp`);
    try {
      const handle = await open(tmp, 'w', 0o600);
      try {
        await handle.writeFile(body);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    // No directory fsync: the file's own fsync keeps it whole, and a rename lost to a
    // power cut only brings back the previous checkpoint (records sent again, never lost).
  }
}

/** Make a rename durable; some platforms refuse to open directories, which is fine to skip. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // not supported here
  } finally {
    await handle?.close();
  }
}
