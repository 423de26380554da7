import type { Readable } from 'node:stream';
import type { CopyOptions, DeleteOutcome, GetOptions, ListOptions, ObjectBody, ObjectStore, StoredObject } from '../../src/index.js';

export type Method = 'list' | 'head' | 'get' | 'put' | 'putIfAbsent' | 'putIfMatch' | 'copy' | 'move' | 'deleteMany';

export interface Hooks {
  /** Runs before each request; throwing here fails it before it reaches the store. */
  before?(method: Method, args: readonly unknown[], ordinal: number): void | Promise<void>;
  /** Runs after each request succeeded; throwing here fails it after the store applied it. */
  after?(method: Method, args: readonly unknown[], result: unknown, ordinal: number): void | Promise<void>;
}

/**
 * An ObjectStore in front of another: counts every request (one list() call is one request) and
 * lets a test run code before or after any of them, e.g. to fail the Nth request.
 */
export class InstrumentedStore implements ObjectStore {
  readonly counts: Record<Method, number> = { list: 0, head: 0, get: 0, put: 0, putIfAbsent: 0, putIfMatch: 0, copy: 0, move: 0, deleteMany: 0 };
  requests = 0;

  /** Present exactly when the inner store has it, so the lifecycle takes the same path as without the wrapper. */
  readonly move?: (sourceKey: string, targetKey: string, options?: CopyOptions) => Promise<StoredObject>;

  constructor(
    readonly inner: ObjectStore,
    public hooks: Hooks = {},
  ) {
    const move = inner.move?.bind(inner);
    if (move) this.move = (s, t, o) => this.call('move', [s, t, o], () => move(s, t, o));
  }

  get location(): string {
    return this.inner.location;
  }

  get defaultSettleSeconds(): number | undefined {
    return this.inner.defaultSettleSeconds;
  }

  private async call<T>(method: Method, args: readonly unknown[], run: () => Promise<T>): Promise<T> {
    const ordinal = ++this.requests;
    this.counts[method]++;
    await this.hooks.before?.(method, args, ordinal);
    const result = await run();
    await this.hooks.after?.(method, args, result, ordinal);
    return result;
  }

  async *list(prefix: string, options?: ListOptions): AsyncGenerator<StoredObject> {
    const items: StoredObject[] = [];
    await this.call('list', [prefix], async () => {
      for await (const o of this.inner.list(prefix, options)) items.push(o);
      return items;
    });
    yield* items;
  }

  head(key: string): Promise<StoredObject | undefined> {
    return this.call('head', [key], () => this.inner.head(key));
  }

  get(key: string, options?: GetOptions): Promise<Readable> {
    return this.call('get', [key, options], () => this.inner.get(key, options));
  }

  put(key: string, body: ObjectBody): Promise<StoredObject> {
    return this.call('put', [key, body], () => this.inner.put(key, body));
  }

  putIfAbsent(key: string, body: ObjectBody): Promise<boolean> {
    return this.call('putIfAbsent', [key, body], () => this.inner.putIfAbsent(key, body));
  }

  putIfMatch(key: string, body: ObjectBody, etag: string): Promise<boolean> {
    return this.call('putIfMatch', [key, body, etag], () => this.inner.putIfMatch(key, body, etag));
  }

  copy(sourceKey: string, targetKey: string, options?: CopyOptions): Promise<StoredObject> {
    return this.call('copy', [sourceKey, targetKey, options], () => this.inner.copy(sourceKey, targetKey, options));
  }

  deleteMany(keys: readonly string[]): Promise<DeleteOutcome[]> {
    return this.call('deleteMany', [keys], () => this.inner.deleteMany(keys));
  }
}

export class InjectedFailure extends Error {
  override readonly name = 'InjectedFailure';
}
