import { text } from 'node:stream/consumers';
import { ObjectNotFoundError, type ObjectStore } from './object-store.js';
import { CorruptObjectError } from './errors.js';

export { CorruptObjectError };

/** A JSON object with the ETag it was read at (for a later compare-and-swap), or undefined when absent. */
export async function readJson<T>(store: ObjectStore, key: string): Promise<{ value: T; etag: string } | undefined> {
  const head = await store.head(key);
  if (head === undefined) return undefined;
  let body: string;
  try {
    body = await text(await store.get(key));
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    throw new CorruptObjectError(key, `not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CorruptObjectError(key, 'not a JSON object');
  // If the object changed between HEAD and GET, a compare-and-swap with this ETag fails safely.
  return { value: value as T, etag: head.etag };
}
