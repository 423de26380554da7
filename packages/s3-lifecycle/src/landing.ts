// What a claim may take from landing/: every object S3 accepts and the store can move, once it has
// settled and no other open batch pinned it. Everything else stays in landing/ with a reason.
import { InvalidKeyError } from './errors.js';
import { assertKey } from './keys.js';
import type { ObjectStore, StoredObject } from './object-store.js';

/** A landing entry that a claim leaves where it is, and why. */
export interface SkippedKey {
  /** The full key (as well as the store can spell it). */
  readonly key: string;
  /** Relative to `landing/`. */
  readonly path: string;
  readonly reason: string;
}

export type LandingEntry =
  | { readonly kind: 'take'; readonly object: StoredObject; readonly path: string }
  | { readonly kind: 'skip'; readonly skipped: SkippedKey; readonly object?: StoredObject }
  | { readonly kind: 'settling'; readonly skipped: SkippedKey; readonly object: StoredObject }
  | { readonly kind: 'pinned'; readonly object: StoredObject; readonly batchId: string };

export interface LandingScan {
  readonly landingPrefix: string;
  /** The longest prefix a landing path is moved under (`<root><entity>/processing/<BATCH_ID>/`). */
  readonly longestTargetPrefix: string;
  /** Files are settled when they last changed at least this long ago. 0: every file is. */
  readonly settleMs: number;
  /** Paths pinned by another batch that is still claiming or releasing, with that batch. */
  readonly pinnedElsewhere: ReadonlyMap<string, string>;
  readonly now: number;
}

/** Why a landing path cannot become a batch file, or undefined when it can. */
export function unmovableReason(path: string, key: string, longestTargetPrefix: string): string | undefined {
  if (path.endsWith('/')) return 'a folder marker (the key ends in "/"), not a file';
  for (const candidate of [key, longestTargetPrefix + path]) {
    try {
      assertKey(candidate);
    } catch (error) {
      if (!(error instanceof InvalidKeyError)) throw error;
      if (candidate !== key && error.reason.startsWith('is longer than')) {
        // The target prefix ends in `<BATCH_ID>/` (13 + 1 characters): name the layout, not one batch.
        return `${error.reason.replace('is longer', 'would be longer')} once moved under ${longestTargetPrefix.slice(0, -14)}<BATCH_ID>/`;
      }
      return `the key ${error.reason}`;
    }
  }
  return undefined;
}

/** Classify one listed landing object. */
export function classify(object: StoredObject, scan: LandingScan): LandingEntry {
  const path = object.key.slice(scan.landingPrefix.length);
  const reason = unmovableReason(path, object.key, scan.longestTargetPrefix);
  if (reason !== undefined) return { kind: 'skip', object, skipped: { key: object.key, path, reason } };
  const owner = scan.pinnedElsewhere.get(path);
  if (owner !== undefined) return { kind: 'pinned', object, batchId: owner };
  if (scan.settleMs > 0 && object.lastModified !== undefined) {
    const age = scan.now - object.lastModified.getTime();
    if (age < scan.settleMs) {
      const ago = age < 0 ? 'in the future (clock skew?)' : `${(age / 1000).toFixed(1)} s ago`;
      return {
        kind: 'settling',
        object,
        skipped: { key: object.key, path, reason: `still settling: last changed ${ago}, settleSeconds is ${scan.settleMs / 1000}; the next batch takes it` },
      };
    }
  }
  return { kind: 'take', object, path };
}

/** Every landing entry, classified, as the listing finds them (entries that are not objects included). */
export async function* scanLanding(store: ObjectStore, scan: LandingScan): AsyncGenerator<LandingEntry> {
  const unlisted: SkippedKey[] = [];
  const objects = store.list(scan.landingPrefix, {
    onUnlisted: (entry) => unlisted.push({ key: entry.key, path: entry.key.slice(scan.landingPrefix.length), reason: entry.reason }),
  });
  for await (const object of objects) {
    while (unlisted.length > 0) yield { kind: 'skip', skipped: unlisted.shift()! };
    yield classify(object, scan);
  }
  while (unlisted.length > 0) yield { kind: 'skip', skipped: unlisted.shift()! };
}
