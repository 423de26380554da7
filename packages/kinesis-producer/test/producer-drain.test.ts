import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLandingSink, createProducer } from '../src/index.js';
import { referenceRecords } from './support/csv-reference.js';
import { MemoryLandingStore } from './support/memory-store.js';
import { waitFor } from './support/wait.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kp-drain-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Records a landing object should hold for a file: complete CSV records minus the header and blank lines. */
function expectedRecords(content: string, header: number): string[] {
  const { records } = referenceRecords(Buffer.from(content));
  return records
    .slice(header)
    .map((r) => r.toString('utf8'))
    .filter((r) => r !== '\n' && r !== '\r\n');
}

function landed(store: MemoryLandingStore, prefix: string): string {
  return store.keys(prefix).map((k) => store.objects.get(k)!.toString('utf8')).join('');
}

describe('drain() into the landing sink', () => {
  it('delivers every complete record once, headerless, into Firehose-shaped keys', async () => {
    const orders =
      'o_orderkey,o_custkey,o_comment\n' +
      '1,10,"plain"\n' +
      '2,20,"two\nlines"\r\n' +
      '\n' +
      '3,30,"with ""quotes"", and commas"\n' +
      '4,40,partial-without-newline';
    const customers = 'c_custkey,c_name\n10,Alice\n20,Bob\n';
    await writeFile(path.join(dir, 'orders.csv'), orders);
    await writeFile(path.join(dir, 'customers.csv'), customers);
    const store = new MemoryLandingStore();
    const sink = createLandingSink({
      store,
      prefixes: { orders: 'orders/landing/', customers: 'customers/landing/' },
      now: () => new Date(Date.UTC(2026, 10, 26, 3, 7, 9)),
    });
    const producer = createProducer({
      flows: [
        { filePattern: path.join(dir, 'orders.csv'), deliveryStream: 'orders', initialPosition: 'START_OF_FILE', skipHeaderLines: 1 },
        { filePattern: path.join(dir, 'customers.csv'), deliveryStream: 'customers', initialPosition: 'START_OF_FILE', skipHeaderLines: 1 },
      ],
      sink,
      checkpointFile: path.join(dir, 'checkpoints.json'),
    });
    const metrics = await producer.drain();

    const ordersKeys = store.keys('orders/landing/');
    expect(ordersKeys).toHaveLength(1);
    expect(ordersKeys[0]).toMatch(
      /^orders\/landing\/2026\/11\/26\/03\/orders-1-2026-11-26-03-07-09-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    expect(landed(store, 'orders/landing/')).toBe(expectedRecords(orders, 1).join(''));
    expect(landed(store, 'customers/landing/')).toBe('10,Alice\n20,Bob\n');
    // header x2, 3 order records, 1 blank line, 2 customers; the partial record is not read as a record yet
    expect(metrics.linesRead).toBe(8);
    expect(metrics.recordsSent).toBe(5);
    expect(metrics.recordsSkipped).toBe(3);
    // What the next run still has to read: the partial record, after the checkpoint.
    expect(metrics.lagBytes).toBe('4,40,partial-without-newline'.length);
    expect(metrics.recordsPending).toBe(0);

    // The checkpoint stops before the partial record.
    const checkpoint = JSON.parse(await readFile(path.join(dir, 'checkpoints.json'), 'utf8'));
    const orderFiles = Object.values(checkpoint.flows[`orders|${path.join(dir, 'orders.csv')}`]) as Array<{ offset: number }>;
    expect(orderFiles.map((f) => f.offset)).toEqual([Buffer.byteLength(orders) - '4,40,partial-without-newline'.length]);
  });

  it('resumes from the checkpoint: a second drain and a new producer send only what was appended', async () => {
    const file = path.join(dir, 'orders.csv');
    await writeFile(file, 'h\n1\n2\n3-part');
    const store = new MemoryLandingStore();
    const make = () =>
      createProducer({
        flows: [{ filePattern: file, deliveryStream: 'orders', initialPosition: 'START_OF_FILE', skipHeaderLines: 1 }],
        sink: createLandingSink({ store, prefixes: { orders: 'o/' } }),
        checkpointFile: path.join(dir, 'cp.json'),
      });
    const first = make();
    await first.drain();
    expect(landed(store, 'o/')).toBe('1\n2\n');
    await appendFile(file, 'a\n4\n');
    await first.drain();
    expect(landed(store, 'o/')).toBe('1\n2\n3-parta\n4\n');
    await appendFile(file, '5\n');
    const second = make();
    const m = await second.drain();
    expect(landed(store, 'o/')).toBe('1\n2\n3-parta\n4\n5\n');
    expect(m.recordsSent).toBe(1);
    // Nothing new: nothing sent, no empty objects.
    const before = store.objects.size;
    await make().drain();
    expect(store.objects.size).toBe(before);
  });

  it('includePartialLastRecord sends the unfinished last record with a newline added', async () => {
    const file = path.join(dir, 'x.csv');
    await writeFile(file, '1\n2');
    const store = new MemoryLandingStore();
    const producer = createProducer({
      flows: [{ filePattern: file, deliveryStream: 's', initialPosition: 'START_OF_FILE' }],
      sink: createLandingSink({ store, prefixes: { s: 's/' } }),
      checkpointFile: path.join(dir, 'cp.json'),
    });
    await producer.drain({ includePartialLastRecord: true });
    expect(landed(store, 's/')).toBe('1\n2\n');
  });

  it('a landing store that fails is retried: nothing lost, the checkpoint waits', async () => {
    const file = path.join(dir, 'x.csv');
    const lines = Array.from({ length: 50 }, (_, i) => `${i},row\n`);
    await writeFile(file, lines.join(''));
    const store = new MemoryLandingStore();
    store.failNext = 3;
    const producer = createProducer({
      flows: [{ filePattern: file, deliveryStream: 's', initialPosition: 'START_OF_FILE' }],
      sink: createLandingSink({ store, prefixes: { s: 's/' } }),
      checkpointFile: path.join(dir, 'cp.json'),
      retryBaseDelayMillis: 1,
      retryMaxDelayMillis: 5,
    });
    const m = await producer.drain();
    expect(landed(store, 's/')).toBe(lines.join(''));
    expect(m.retries).toBeGreaterThanOrEqual(3);
    expect(m.recordsSent).toBe(50);
  });

  it('an unknown delivery stream is a clear error and the checkpoint does not move', async () => {
    const file = path.join(dir, 'x.csv');
    await writeFile(file, '1\n2\n');
    const producer = createProducer({
      flows: [{ filePattern: file, deliveryStream: 'nope', initialPosition: 'START_OF_FILE' }],
      sink: createLandingSink({ store: new MemoryLandingStore(), prefixes: { s: 's/' } }),
      checkpointFile: path.join(dir, 'cp.json'),
    });
    await expect(producer.drain()).rejects.toThrow(/ResourceNotFoundException.*"nope"/);
    const checkpoint = JSON.parse(await readFile(path.join(dir, 'cp.json'), 'utf8'));
    const offsets = Object.values(checkpoint.flows[`nope|${file}`]).map((f) => (f as { offset: number }).offset);
    expect(offsets).toEqual([0]);
  });

  it('reads a new file from its start by default; END_OF_FILE starts after the last complete line', async () => {
    const a = path.join(dir, 'a.csv');
    const b = path.join(dir, 'b.csv');
    await writeFile(a, '1\n');
    await writeFile(b, '1\n2-half');
    const store = new MemoryLandingStore();
    const producer = createProducer({
      flows: [
        { filePattern: a, deliveryStream: 'a' },
        { filePattern: b, deliveryStream: 'b', initialPosition: 'END_OF_FILE' },
      ],
      sink: createLandingSink({ store, prefixes: { a: 'a/', b: 'b/' } }),
      checkpointFile: path.join(dir, 'cp.json'),
    });
    await producer.drain();
    expect(landed(store, 'a/')).toBe('1\n');
    expect(landed(store, 'b/')).toBe('');
    await appendFile(b, '-done\n3\n');
    await producer.drain();
    // The half-written line at start is read whole once complete, not sent as a fragment.
    expect(landed(store, 'b/')).toBe('2-half-done\n3\n');
  });

  it('following into the landing sink fills objects by size, without waiting for its interval', async () => {
    const file = path.join(dir, 'big.csv');
    const line = `${'q'.repeat(99)}\n`;
    await writeFile(file, line.repeat(230_000)); // 23 MB
    const store = new MemoryLandingStore();
    const producer = createProducer({
      flows: [{ filePattern: file, deliveryStream: 's' }],
      // Firehose's defaults: 5 MiB or 300 s. One call (4 MiB) alone could never fill an object.
      sink: createLandingSink({ store, prefixes: { s: 's/' } }),
      checkpointFile: path.join(dir, 'cp.json'),
    });
    const running = producer.start();
    const landedBytes = () => [...store.objects.values()].reduce((n, b) => n + b.length, 0);
    await waitFor(() => landedBytes() >= 15 * 1024 * 1024, 'objects written by size');
    await producer.stop();
    await running;
    expect(landedBytes()).toBe(line.length * 230_000);
    for (const body of store.objects.values()) expect(body.length).toBeLessThanOrEqual(5 * 1024 * 1024);
  });

  it('following into the landing sink, the records of a failed object are resent at once, not after its interval', async () => {
    // Objects of 2,500 bytes and calls of 2,000: one call per object, three calls in flight. The first
    // object fails; calls 2 and 3 land while call 1 waits to resend. Its resend must be written without
    // waiting for more calls to fill its object: calls 2 and 3 keep their slots until call 1 is
    // acknowledged (the checkpoint cannot pass them before), so no further call can come to fill it.
    const file = path.join(dir, 'x.csv');
    const lines = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(5, '0')},${'r'.repeat(93)}\n`); // 100 bytes each
    await writeFile(file, lines.join(''));
    const store = new MemoryLandingStore();
    store.failNext = 1;
    const producer = createProducer({
      flows: [{ filePattern: file, deliveryStream: 's', maxBufferSizeBytes: 2000, maxBufferAgeMillis: 50 }],
      // Ten minutes: within the test, objects are written by size or by a flush only.
      sink: createLandingSink({ store, prefixes: { s: 's/' }, bufferSizeBytes: 2500, bufferIntervalMillis: 600_000 }),
      checkpointFile: path.join(dir, 'cp.json'),
      retryBaseDelayMillis: 1,
      retryMaxDelayMillis: 5,
    });
    const running = producer.start();
    const landedBytes = () => [...store.objects.values()].reduce((n, b) => n + b.length, 0);
    // All but the last call (its object waits for a next call, or the interval, or stop()).
    await waitFor(() => landedBytes() >= 8000, 'every object but the last to land', 15_000);
    await producer.stop();
    await running;
    expect(store.failNext).toBe(0);
    const landedRecords = [...store.objects.values()].flatMap((b) => referenceRecords(b).records.map((r) => r.toString('utf8')));
    expect(landedRecords.sort()).toEqual(lines); // each once: the failed object was never written
    const checkpoint = JSON.parse(await readFile(path.join(dir, 'cp.json'), 'utf8'));
    expect(Object.values(checkpoint.flows[`s|${file}`]).map((f) => (f as { offset: number }).offset)).toEqual([10_000]);
  });
});
