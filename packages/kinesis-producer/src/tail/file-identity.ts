import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/** How many leading bytes identify a file's content (besides device and inode). */
export const FINGERPRINT_BYTES = 1024;

export interface Fingerprint {
  readonly hash: string;
  readonly bytes: number;
}

/** sha256 of the first `bytes` bytes (fewer if the file is shorter: `bytes` says how many were hashed). */
export async function fingerprint(handle: FileHandle, bytes = FINGERPRINT_BYTES): Promise<Fingerprint> {
  const buf = Buffer.alloc(bytes);
  let got = 0;
  while (got < bytes) {
    const { bytesRead } = await handle.read(buf, got, bytes - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return { hash: createHash('sha256').update(buf.subarray(0, got)).digest('hex'), bytes: got };
}

/** Key of a file within a flow: device and inode (the fingerprint is checked separately). */
export function identityKey(dev: number | bigint, ino: number | bigint): string {
  return `${String(dev)}:${String(ino)}`;
}
