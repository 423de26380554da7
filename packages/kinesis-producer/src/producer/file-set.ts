import { createHash } from 'node:crypto';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import type { ProducerEvent } from '../producer-contract.js';
import { CsvRecordSplitter } from '../records/csv-record-splitter.js';
import { FIREHOSE_LIMITS } from '../records/limits.js';
import type { FileCheckpoint } from '../tail/checkpoint-store.js';
import { fingerprint, FINGERPRINT_BYTES, identityKey, type Fingerprint } from '../tail/file-identity.js';
import type { FlowSettings } from './flow-settings.js';
import { TailedFile, TAIL_BYTES, type RecordHandler } from './tailed-file.js';

const EMPTY: Buffer = Buffer.alloc(0);

/** Content of a file truncated in place (copytruncate), so its copy is read from where we were, not from 0. */
interface TruncatedContent {
  readonly path: string;
  readonly hash: string;
  readonly tail: Buffer;
  readonly tailEnd: number;
  readonly at: number;
}

export interface FileSetOptions {
  readonly settings: FlowSettings;
  /** Checkpoints of this flow loaded from disk and not yet matched to an open file. */
  readonly saved: Map<string, FileCheckpoint>;
  readonly handler: RecordHandler;
  readonly onEvent: (event: ProducerEvent) => void;
  /** A file was opened: its start must be checkpointed before anything is read from it. */
  readonly opened: () => void;
}

/**
 * The files of one flow and their rotations: which files the pattern matches, which were
 * renamed away, deleted, truncated or copied (copytruncate), where each one is resumed,
 * and in which order they are read (a rotated file before the new file at its path).
 */
export class FileSet {
  readonly files = new Map<string, TailedFile>();
  /** First discovery done: END_OF_FILE applies only to files present then. */
  discovered = false;
  /** The pattern matched nothing at the last look (reported once per change). */
  private matchedNothing = false;
  private truncated: TruncatedContent[] = [];
  /** Checkpoints loaded at start: a copy made while the producer was down is read on from its original's checkpoint. */
  private checkpointed: FileCheckpoint[] = [];

  constructor(private readonly o: FileSetOptions) {}

  /** Checkpoints of this flow not yet matched to an open file (and, at the end of a run, of every file). */
  savedFor(): Map<string, FileCheckpoint> {
    return this.o.saved;
  }

  private get stream(): string {
    return this.o.settings.deliveryStream;
  }

  /**
   * Rotated and deleted files first. A new file at the path of a rotated one waits
   * until the old one is finished, so one path's records go out in file order.
   */
  readOrder(draining: boolean): TailedFile[] {
    const files = [...this.files.values()].filter((f) => !f.closed);
    const ending = files.filter((f) => f.ending);
    const pathsInRotation = new Set(ending.map((f) => f.path));
    return [...ending, ...files.filter((f) => !f.ending && (draining || !pathsInRotation.has(f.path)))];
  }

  /** Match the pattern: open new files, notice files renamed away or deleted. Returns the files opened. */
  async discover(draining: boolean): Promise<TailedFile[]> {
    const s = this.o.settings;
    // A plain path needs no directory walk on every poll.
    const paths = isDynamicPattern(s.filePattern)
      ? (await glob(s.filePattern, { absolute: true, onlyFiles: true, dot: true })).sort()
      : [path.resolve(s.filePattern)];
    const seen = new Set<string>();
    const opened: TailedFile[] = [];
    if (!this.discovered) {
      this.checkpointed = [...this.o.saved.values()].filter(
        (e) => e.fingerprintBytes === FINGERPRINT_BYTES && e.offset > 0 && e.boundaryHash !== undefined && e.boundaryBytes !== undefined,
      );
    }
    for (const p of paths) {
      let st;
      try {
        st = await stat(p, { bigint: true });
      } catch {
        continue; // gone between listing and stat, or a plain path that does not exist (yet)
      }
      if (!st.isFile()) continue;
      const key = identityKey(st.dev, st.ino);
      const tracked = this.files.get(key);
      if (tracked) {
        seen.add(key);
        tracked.path = p;
        continue;
      }
      const file = await this.open(p);
      if (file) {
        seen.add(file.key);
        opened.push(file);
      }
    }
    const nothing = seen.size === 0 && this.files.size === 0;
    if (nothing !== this.matchedNothing || (nothing && !this.discovered)) {
      this.matchedNothing = nothing;
      if (nothing) {
        this.o.onEvent({
          type: 'warning',
          stream: this.stream,
          message: `file pattern ${JSON.stringify(s.filePattern)} matches no file${draining ? ': nothing to send' : ' (yet): waiting for one'}`,
        });
      }
    }
    // Files the pattern no longer reaches: renamed away or deleted. Read them to their end, then let go.
    for (const file of this.files.values()) {
      if (seen.has(file.key) || file.ending || file.closed) continue;
      const st = await file.handle.stat();
      const reason = st.nlink === 0 ? 'deleted' : 'rotated';
      file.ending = { since: Date.now(), reason };
      this.o.onEvent({ type: reason === 'deleted' ? 'file-deleted' : 'file-rotated', stream: this.stream, path: file.path });
    }
    if (!this.discovered || draining) await this.recoverRotatedWhileDown();
    this.discovered = true;
    return opened;
  }

  /** The file's content changed under it (truncated, replaced): remember it for its copy, then read it from 0. */
  restart(file: TailedFile): void {
    this.o.onEvent({ type: 'file-truncated', stream: this.stream, path: file.path, offset: file.readOffset });
    if (file.fp.bytes === FINGERPRINT_BYTES && file.tail.length > 0) {
      const now = Date.now();
      this.truncated = this.truncated.filter((t) => now - t.at < 600_000).slice(-15);
      this.truncated.push({ path: file.path, hash: file.fp.hash, tail: file.tail, tailEnd: file.tailEnd, at: now });
    }
    file.restart();
  }

  /** Forget finished files once everything they held is acknowledged; returns how many. */
  retire(stillBuffered: (file: TailedFile) => boolean): number {
    let retired = 0;
    for (const file of [...this.files.values()]) {
      if (!file.closed || !file.ending) continue;
      if (file.tracker.pending > 0 || file.deadRange || stillBuffered(file)) continue;
      this.files.delete(file.key);
      retired++;
      this.o.onEvent({ type: 'file-finished', stream: this.stream, path: file.path, offset: file.tracker.committed });
    }
    return retired;
  }

  /**
   * Checkpointed files the pattern no longer finds were rotated (or deleted) while the
   * producer was down. Rotation keeps a file in its directory, so look there for the
   * same device, inode and content and read it from its checkpoint to its end.
   */
  private async recoverRotatedWhileDown(): Promise<void> {
    const saved = this.o.saved;
    for (const [key, entry] of [...saved]) {
      if (this.files.has(key)) continue;
      saved.delete(key);
      let found: string | undefined;
      try {
        const dir = path.dirname(entry.path);
        for (const name of await readdir(dir)) {
          const candidate = path.join(dir, name);
          const st = await stat(candidate, { bigint: true }).catch(() => undefined);
          if (st?.isFile() && identityKey(st.dev, st.ino) === key) {
            found = candidate;
            break;
          }
        }
      } catch {
        // directory gone
      }
      const file = found ? await this.open(found, entry) : undefined;
      if (file && file.key === key && file.readOffset === entry.offset) {
        file.ending = { since: 0, reason: 'rotated' };
        this.o.onEvent({ type: 'file-rotated', stream: this.stream, path: file.path, offset: entry.offset });
      } else if (file) {
        // Not the checkpointed content after all: never read it as if it were.
        this.files.delete(file.key);
        file.closed = true;
        await file.handle.close();
      } else {
        this.o.onEvent({
          type: 'file-finished',
          stream: this.stream,
          path: entry.path,
          offset: entry.offset,
          message: 'checkpointed file no longer exists; forgetting it',
        });
      }
    }
  }

  private async open(p: string, recovering?: FileCheckpoint): Promise<TailedFile | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(p, 'r');
    } catch {
      return undefined; // vanished or unreadable right now; the next poll tries again
    }
    try {
      const st = await handle.stat({ bigint: true });
      const key = identityKey(st.dev, st.ino);
      if (this.files.has(key) || !st.isFile()) {
        await handle.close();
        return undefined;
      }
      const size = Number(st.size);
      const fp = await fingerprint(handle);
      const saved = recovering ?? this.o.saved.get(key);
      this.o.saved.delete(key);
      let offset = 0;
      let boundaryTail: Buffer = EMPTY;
      let note: string | undefined;
      const resumable = saved ? await resumeAt(handle, saved, size) : undefined;
      if (saved && resumable) {
        offset = saved.offset;
        boundaryTail = resumable;
      } else if (recovering) {
        await handle.close();
        return undefined;
      } else if (saved) {
        note = 'the content before its checkpoint offset is not what was sent (rewritten or a reused inode): reading it from its start (records may be sent twice)';
      } else if ((offset = await this.copiedFrom(p, handle, fp, key, size)) > 0) {
        note = 'same first KiB as a followed file: a copy (copytruncate); reading on from where that file was read';
      } else if (!this.discovered && this.o.settings.initialPosition === 'END_OF_FILE') {
        offset = await lastRecordEnd(handle, size);
      }
      if (offset > 0 && boundaryTail.length === 0) boundaryTail = await bytesBefore(handle, offset);
      const file = new TailedFile(p, key, String(st.dev), String(st.ino), handle, fp, offset, boundaryTail, size, this.o.settings.skipHeaderLines, this.o.handler);
      this.files.set(key, file);
      this.o.opened();
      this.o.onEvent({ type: 'file-opened', stream: this.stream, path: p, offset, ...(note ? { message: note } : {}) });
      return file;
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }

  /**
   * copytruncate copies a followed file, then truncates it. A new file that starts with
   * the same KiB as a followed (or lately truncated) file and holds the same bytes just
   * before where that file was read up to (a record boundary) is such a copy: it is read
   * on from there, so lines written just before the truncation are not lost and the rest
   * is not sent twice. A copy never takes its original's path (a new file there after a
   * rename is a new generation, whatever it holds). A copy made while the producer was
   * down is recognised the same way against the checkpoints it started with (same first
   * KiB, same bytes before the checkpoint offset). Anything less certain is a new file,
   * read from 0 (duplicates, never loss). Returns the offset to start at, or 0.
   */
  private async copiedFrom(p: string, handle: FileHandle, fp: Fingerprint, key: string, size: number): Promise<number> {
    if (fp.bytes !== FINGERPRINT_BYTES) return 0;
    const candidates = [
      ...[...this.files.values()]
        .filter((f) => f.key !== key && !f.ending && f.fp.bytes === FINGERPRINT_BYTES)
        .map((f) => ({ path: f.path, hash: f.fp.hash, tail: f.tail, tailEnd: f.tailEnd, generation: undefined as TruncatedContent | undefined })),
      ...this.truncated.map((t) => ({ ...t, generation: t as TruncatedContent | undefined })),
    ];
    for (const c of candidates) {
      if (c.path === p || c.hash !== fp.hash || c.tail.length === 0 || c.tail.length !== Math.min(TAIL_BYTES, c.tailEnd) || size < c.tailEnd) continue;
      const here = Buffer.alloc(c.tail.length);
      const { bytesRead } = await handle.read(here, 0, here.length, c.tailEnd - here.length);
      if (bytesRead !== here.length || !here.equals(c.tail)) continue;
      if (c.generation) this.truncated = this.truncated.filter((t) => t !== c.generation);
      return c.tailEnd;
    }
    for (const e of this.checkpointed) {
      if (e.path === p || e.fingerprint !== fp.hash || size < e.offset) continue;
      if (!(await resumeAt(handle, e, size))) continue;
      this.checkpointed = this.checkpointed.filter((x) => x !== e);
      return e.offset;
    }
    return 0;
  }
}

/** sha256 (hex) of the bytes the checkpoint keeps before its offset. */
export function boundaryHash(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Whether a checkpoint can be resumed in this file: same first KiB, and the bytes just
 * before the offset are the ones that were sent (so the offset is still a record
 * boundary of the same content). Returns those bytes, or undefined to read from 0.
 */
async function resumeAt(handle: FileHandle, saved: FileCheckpoint, size: number): Promise<Buffer | undefined> {
  if (saved.offset > size) return undefined;
  const fp = await fingerprint(handle, saved.fingerprintBytes);
  if (fp.bytes !== saved.fingerprintBytes || fp.hash !== saved.fingerprint) return undefined;
  if (saved.offset === 0) return EMPTY;
  if (saved.boundaryHash !== undefined && saved.boundaryBytes !== undefined) {
    if (saved.boundaryBytes > saved.offset) return undefined;
    const before = await bytesBefore(handle, saved.offset, saved.boundaryBytes);
    return before.length === saved.boundaryBytes && boundaryHash(before) === saved.boundaryHash ? before : undefined;
  }
  // A checkpoint without its boundary bytes (an earlier version): at least a record must end there.
  const before = await bytesBefore(handle, saved.offset);
  return before.at(-1) === 0x0a ? before : undefined;
}

async function bytesBefore(handle: FileHandle, offset: number, bytes = TAIL_BYTES): Promise<Buffer> {
  const n = Math.min(offset, bytes);
  const buf = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    const { bytesRead } = await handle.read(buf, got, n - got, offset - n + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/**
 * END_OF_FILE starts after the last complete *record*: a newline near the end may be inside a quoted field
 * the writer is still writing, so the file is scanned from its start with the record splitter (once, when a
 * flow first meets the file; reading only, bounded memory), and a half-written record is never sent as a fragment.
 */
async function lastRecordEnd(handle: FileHandle, size: number): Promise<number> {
  const splitter = new CsvRecordSplitter(FIREHOSE_LIMITS.maxRecordBytes, 0);
  let end = 0;
  const handler = {
    record: (_bytes: Buffer, _start: number, _stop: number, fileEnd: number) => void (end = fileEnd),
    oversized: (_data: Buffer, fileEnd: number, final: boolean) => void (final && (end = fileEnd)),
  };
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  for (let offset = 0; offset < size; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - offset), offset);
    if (bytesRead === 0) break;
    splitter.pushTo(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead), handler);
    offset += bytesRead;
  }
  return end;
}
