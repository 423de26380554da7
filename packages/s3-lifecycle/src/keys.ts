import { InvalidKeyError } from './object-store.js';
import { InvalidEntityError, InvalidRootError } from './errors.js';

export { InvalidEntityError, InvalidRootError };

/** S3's limit; the filesystem adapter also caps each segment at 255 bytes (a file name). */
const MAX_KEY_BYTES = 1024;
/** C0, DEL and C1: S3 allows them in keys, but no CSV line, log line or terminal shows them safely. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkSegments(key: string, segments: readonly string[]): void {
  for (const segment of segments) {
    if (segment === '') throw new InvalidKeyError(key, 'contains an empty path segment (leading "/" or "//")');
    if (segment === '.' || segment === '..') throw new InvalidKeyError(key, `contains a ${JSON.stringify(segment)} segment`);
  }
}

function checkCharacters(key: string): void {
  if (key.includes('\0')) throw new InvalidKeyError(key, 'contains NUL');
  if (key.includes('\\')) throw new InvalidKeyError(key, 'contains a backslash');
  if (CONTROL.test(key)) throw new InvalidKeyError(key, 'contains a control character');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw new InvalidKeyError(key, `is longer than ${MAX_KEY_BYTES} bytes`);
  if (LONE_SURROGATE.test(key)) throw new InvalidKeyError(key, 'is not well-formed Unicode');
}

/** An object key: relative, '/'-separated, no empty, '.' or '..' segments. Untrusted input stops here. */
export function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new InvalidKeyError(key, 'not a string');
  if (key === '') throw new InvalidKeyError(key, 'empty');
  checkCharacters(key);
  checkSegments(key, key.split('/'));
}

/** A listing prefix: '' or a key-like string that may end with '/' or a partial segment. */
export function assertPrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== 'string') throw new InvalidKeyError(prefix, 'not a string');
  if (prefix === '') return;
  checkCharacters(prefix);
  const segments = prefix.split('/');
  // A trailing '/' leaves one empty last segment; a partial last segment may be '.' (e.g. '.g').
  const last = segments.pop()!;
  checkSegments(prefix, segments);
  if (last === '..') throw new InvalidKeyError(prefix, 'ends with a ".." segment');
}

const ENTITY = /^[a-z][a-z0-9_-]{0,62}$/;

export function assertEntity(entity: unknown): asserts entity is string {
  if (typeof entity !== 'string' || !ENTITY.test(entity)) throw new InvalidEntityError(entity);
}

/** The configurable root prefix: '' or a valid key ending in '/'. */
export function normalizeRoot(root: string | undefined): string {
  if (root === undefined || root === '') return '';
  if (!root.endsWith('/')) throw new InvalidRootError(root, 'does not end with "/"');
  try {
    assertKey(root.slice(0, -1));
  } catch (error) {
    throw new InvalidRootError(root, (error as Error).message);
  }
  return root;
}

/** `ListOptions.startAfter`, checked like a prefix (it need not name an object); '' or absent lists from the start. */
export function startAfterOf(options: { readonly startAfter?: unknown }): string | undefined {
  const after = options.startAfter;
  if (after === undefined || after === '') return undefined;
  assertPrefix(after);
  return after;
}
