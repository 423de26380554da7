import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { ObjectStore } from '../../src/index.js';
import { AWKWARD_KEYS, md5Etag, readAll } from './store-contract.js';

export interface LandedFile {
  /** Path relative to landing/. */
  readonly path: string;
  readonly bytes: Buffer;
}

/** Firehose's default key shape: YYYY/MM/DD/HH/<stream>-1-YYYY-MM-DD-HH-MM-SS-<uuid>[.gz]. */
export function firehosePath(stream: string, when: Date, gz = false): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const [y, mo, d, h, mi, s] = [when.getUTCFullYear(), p(when.getUTCMonth() + 1), p(when.getUTCDate()), p(when.getUTCHours()), p(when.getUTCMinutes()), p(when.getUTCSeconds())];
  return `${y}/${mo}/${d}/${h}/${stream}-1-${y}-${mo}-${d}-${h}-${mi}-${s}-${randomUUID()}${gz ? '.gz' : ''}`;
}

/** `count` landing files: Firehose-shaped (some gzipped) plus the awkward keys, with random CSV bodies. */
export function makeLandingFiles(count: number, options: { awkward?: boolean } = {}): LandedFile[] {
  const files: LandedFile[] = [];
  const start = Date.UTC(2026, 0, 2, 3, 0, 0);
  for (let i = 0; i < count; i++) {
    const csv = Array.from({ length: 1 + (i % 4) }, (_, line) => `${i},${line},${randomBytes(6).toString('hex')},19.99`).join('\n') + '\n';
    const gz = i % 5 === 4;
    files.push({ path: firehosePath('orders-stream', new Date(start + i * 97_000), gz), bytes: gz ? gzipSync(csv) : Buffer.from(csv) });
  }
  if (options.awkward) {
    for (const key of AWKWARD_KEYS) files.push({ path: key, bytes: Buffer.from(`1,${key},x\n`) });
  }
  return files;
}

export async function land(store: ObjectStore, landingPrefix: string, files: readonly LandedFile[]): Promise<void> {
  for (let i = 0; i < files.length; i += 32) {
    await Promise.all(files.slice(i, i + 32).map((f) => store.put(landingPrefix + f.path, f.bytes)));
  }
}

/** Every object under `prefix` as key -> bytes (the ground truth a test compares). */
export async function snapshot(store: ObjectStore, prefix: string, exclude: (key: string) => boolean = () => false): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for await (const o of store.list(prefix)) {
    if (!exclude(o.key)) out.set(o.key, await readAll(store, o.key));
  }
  return out;
}

/** The manifest entries a claim should pin, computed from the test's own data. */
export function expectedManifestFiles(files: readonly LandedFile[]): { path: string; size: number; etag: string }[] {
  return [...files]
    .sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)))
    .map((f) => ({ path: f.path, size: f.bytes.length, etag: md5Etag(f.bytes) }));
}
