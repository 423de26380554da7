import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ConfigError, createLandingSink } from '../src/index.js';
import { MemoryLandingStore } from './support/memory-store.js';

const enc = (s: string) => Buffer.from(s);
const KEY = /^orders\/landing\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/orders-1-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-[0-9a-f-]{36}(\.gz)?$/;

describe('landing sink', () => {
  it('names objects the way Firehose does, from the oldest record time in UTC', async () => {
    const store = new MemoryLandingStore();
    const at = new Date(Date.UTC(2026, 0, 2, 23, 59, 58));
    const sink = createLandingSink({ store, prefixes: { orders: 'orders/landing/' }, now: () => at });
    const outcomes = sink.putRecordBatch('orders', [enc('1,a\n'), enc('2,b\n')]);
    await sink.flush!();
    expect(await outcomes).toEqual([{ ok: true }, { ok: true }]);
    const [key] = store.keys();
    const m = KEY.exec(key!)!;
    expect(m.slice(1, 11)).toEqual(['2026', '01', '02', '23', '2026', '01', '02', '23', '59', '58']);
    expect(store.objects.get(key!)!.toString()).toBe('1,a\n2,b\n');
  });

  it('acknowledges a call only once the object holding its records is written', async () => {
    const store = new MemoryLandingStore();
    let open!: () => void;
    store.gate = new Promise((r) => (open = r));
    const sink = createLandingSink({ store, prefixes: { orders: 'orders/landing/' }, bufferSizeBytes: 8 });
    let settled = false;
    const put = sink.putRecordBatch('orders', [enc('12345\n'), enc('67890\n')]).then((o) => {
      settled = true;
      return o;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false); // the first object is being written, the second still buffered
    expect(store.objects.size).toBe(0);
    open();
    store.gate = undefined;
    await sink.flush!();
    expect(await put).toEqual([{ ok: true }, { ok: true }]);
    expect(store.objects.size).toBe(2);
  });

  it('breaks objects only between records, at the size hint', async () => {
    const store = new MemoryLandingStore();
    const sink = createLandingSink({ store, prefixes: { orders: 'orders/landing/' }, bufferSizeBytes: 10 });
    const records = ['aaaa\n', 'bbbb\n', 'cc\n', 'dddddddddddddd\n', 'e\n'];
    await Promise.all([sink.putRecordBatch('orders', records.map(enc)), sink.flush!()]);
    await sink.flush!();
    const bodies = store.keys().map((k) => store.objects.get(k)!.toString());
    expect(bodies.join('')).toBe(records.join(''));
    for (const b of bodies) {
      expect(records.some((r) => b.startsWith(r))).toBe(true);
      expect(b.endsWith('\n')).toBe(true);
      // Over the hint only when a single record is bigger than it.
      if (b.length > 10) expect(records).toContain(b);
    }
  });

  it('flushes on the interval, gzips when asked', async () => {
    const store = new MemoryLandingStore();
    const sink = createLandingSink({ store, prefixes: { orders: 'orders/landing/' }, bufferIntervalMillis: 10, gzip: true });
    const outcomes = await sink.putRecordBatch('orders', [enc('x,1\n')]);
    expect(outcomes).toEqual([{ ok: true }]);
    const [key] = store.keys();
    expect(key).toMatch(KEY);
    expect(key!.endsWith('.gz')).toBe(true);
    expect(gunzipSync(store.objects.get(key!)!).toString()).toBe('x,1\n');
  });

  it('reports a failed write per record and rejects what Firehose would reject', async () => {
    const store = new MemoryLandingStore();
    store.failNext = 1;
    const sink = createLandingSink({ store, prefixes: { orders: 'orders/landing/' } });
    const failed = sink.putRecordBatch('orders', [enc('1\n')]);
    await sink.flush!();
    expect(await failed).toEqual([{ ok: false, code: 'LandingWriteFailed', message: expect.stringMatching(/injected store failure/) }]);
    const unknown = await sink.putRecordBatch('payments', [enc('1\n')]);
    expect(unknown[0]).toMatchObject({ ok: false, code: 'ResourceNotFoundException' });
    const tooMany = await sink.putRecordBatch('orders', Array.from({ length: 501 }, () => enc('1\n')));
    expect(tooMany[0]).toMatchObject({ ok: false, code: 'InvalidArgumentException' });
    const pending = sink.putRecordBatch('orders', [Buffer.alloc(1000 * 1024 + 1, 0x61), enc('ok\n')]);
    await sink.close();
    const big = await pending;
    expect(big[0]).toMatchObject({ ok: false, code: 'InvalidArgumentException' });
    expect(big[1]).toEqual({ ok: true });
    await expect(sink.putRecordBatch('orders', [enc('late\n')])).rejects.toThrow(/closed/);
  });

  it('refuses prefixes that are not relative key prefixes', () => {
    const store = new MemoryLandingStore();
    expect(() => createLandingSink({ store, prefixes: { orders: 'orders/landing' } })).toThrow(/must end with "\/", got "orders\/landing"/);
    expect(() => createLandingSink({ store, prefixes: { orders: '../x/' } })).toThrow(/relative key prefix/);
    // A bad prefix is configuration: exit 2 in every bin (QA 18:40), never a failed run (1).
    for (const prefix of ['../x/', '/abs/', 'orders/landing']) {
      const error = (() => {
        try {
          createLandingSink({ store, prefixes: { orders: prefix } });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).exitCode).toBe(2);
      expect((error as Error).message).toContain(JSON.stringify(prefix));
    }
  });
});
