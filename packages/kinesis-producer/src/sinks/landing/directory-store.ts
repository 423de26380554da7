import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { LandingStore } from '../../producer-contract.js';
import { syncDirectory } from '../../tail/checkpoint-store.js';

/**
 * A local directory as a LandingStore, for the CLI's `--landing-dir`. Objects are
 * written to a temporary file, fsynced and renamed into place, so a reader never
 * sees half an object. Keys are untrusted: anything that could leave the root is refused.
 */
export function createDirectoryLandingStore(root: string): LandingStore {
  const base = path.resolve(root);
  return {
    async put(key: string, body: string | Uint8Array | Readable) {
      if (
        typeof key !== 'string' ||
        key === '' ||
        key.startsWith('/') ||
        key.includes('\\') ||
        key.includes('\0') ||
        key.split('/').some((part) => part === '' || part === '.' || part === '..')
      ) {
        throw new Error(`Invalid object key ${JSON.stringify(key)}: expected a relative "/"-separated key without "." or ".." parts`);
      }
      const target = path.join(base, ...key.split('/'));
      await mkdir(path.dirname(target), { recursive: true });
      const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${randomUUID()}.tmp`);
      try {
        const handle = await open(tmp, 'wx', 0o644);
        try {
          if (typeof body === 'string' || body instanceof Uint8Array) await handle.writeFile(body);
          else for await (const chunk of body) await handle.write(chunk as Uint8Array);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(tmp, target);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      await syncDirectory(path.dirname(target));
      return { key };
    },
  };
}
