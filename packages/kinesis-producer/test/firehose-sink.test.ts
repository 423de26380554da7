import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProducer } from '../src/index.js';
import { FirehoseEndpoint, LIMITS } from './support/firehose-endpoint.js';
import { firehoseSinkFor, sortedRecords } from './support/harness.js';
import { seeded } from './support/csv-reference.js';

let dir: string;
let endpoint: FirehoseEndpoint;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kp-firehose-'));
  endpoint = await new FirehoseEndpoint({ streams: ['orders'] }).start();
});
afterEach(async () => {
  await endpoint.stop();
  await rm(dir, { recursive: true, force: true });
});

async function drainFile(content: string, flow: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  const file = path.join(dir, 'orders.csv');
  await writeFile(file, content);
  const sink = firehoseSinkFor(endpoint.url);
  const producer = createProducer({
    flows: [{ filePattern: file, deliveryStream: 'orders', initialPosition: 'START_OF_FILE', ...flow }],
    sink,
    checkpointFile: path.join(dir, 'cp.json'),
    retryBaseDelayMillis: 1,
    retryMaxDelayMillis: 20,
    ...extra,
  });
  try {
    return await producer.drain();
  } finally {
    await sink.close();
  }
}

function lines(n: number, width: (i: number) => number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const head = `${i},`;
    return head + 'x'.repeat(Math.max(0, width(i) - head.length - 1)) + '\n';
  });
}

describe('Firehose sink against a local PutRecordBatch endpoint', () => {
  it('aggregates records into full calls: 4 MiB per call, records never split, each keeps its newline', async () => {
    const rows = lines(120_000, (i) => 60 + (i % 90));
    const total = rows.reduce((n, r) => n + r.length, 0);
    const m = await drainFile(rows.join(''), {}, { maxInFlightCalls: 1 });
    expect(endpoint.violations).toEqual([]);
    expect(endpoint.data('orders')).toBe(rows.join('')); // one call at a time: file order is kept exactly
    expect(m.recordsSent).toBe(rows.length);
    expect(m.bytesSent).toBe(total);
    // Every call but the last is (nearly) a full 4 MiB: calls are within a record of the minimum.
    const minimum = Math.ceil(total / LIMITS.callBytes);
    expect(endpoint.calls.length).toBeLessThanOrEqual(minimum + 1);
    for (const rec of endpoint.accepted.get('orders')!) {
      expect(rec.length).toBeLessThanOrEqual(LIMITS.recordBytes);
      expect(rec.at(-1)).toBe(0x0a);
    }
  });

  it('without aggregation, respects 500 records per call', async () => {
    const rows = lines(2_345, () => 20);
    await drainFile(rows.join(''), { aggregatedRecordSizeBytes: 0 });
    expect(endpoint.violations).toEqual([]);
    expect(endpoint.accepted.get('orders')).toHaveLength(rows.length);
    expect(endpoint.calls.map((c) => c.records)).toEqual([500, 500, 500, 500, 345]);
    expect(sortedRecords(endpoint.data('orders'))).toEqual([...rows].sort());
  });

  it('keeps calls under 4 MiB and records under 1,000 KiB with records near the limit', async () => {
    const rnd = seeded(7);
    const rows = lines(40, () => 1 + Math.floor(rnd() * LIMITS.recordBytes));
    await drainFile(rows.join(''));
    expect(endpoint.violations).toEqual([]);
    expect(sortedRecords(endpoint.data('orders'))).toEqual([...rows].sort());
    expect(Math.max(...endpoint.calls.map((c) => c.bytes))).toBeLessThanOrEqual(LIMITS.callBytes);
  });

  it('a record over 1,000 KiB goes to the dead-letter file, counted, and the rest flows', async () => {
    const big = `big,${'y'.repeat(LIMITS.recordBytes)}\n`;
    const content = `a\n${big}b\n`;
    const m = await drainFile(content, {}, { deadLetterFile: path.join(dir, 'dead.csv') });
    expect(endpoint.violations).toEqual([]);
    expect(endpoint.data('orders')).toBe('a\nb\n');
    expect(m.deadLetters).toBe(1);
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(path.join(dir, 'dead.csv'), 'utf8')).toBe(big);
  });

  it('resends only the failed records of a partial failure: no duplicates', async () => {
    const rows = lines(3_000, () => 30);
    let failures = 0;
    endpoint.failRecord = (_data, index, call) => {
      if (call <= 6 && index % 3 === 1) {
        failures++;
        return 'ServiceUnavailableException';
      }
      return undefined;
    };
    const m = await drainFile(rows.join(''), { aggregatedRecordSizeBytes: 0 });
    expect(endpoint.violations).toEqual([]);
    expect(failures).toBeGreaterThan(0);
    expect(m.failedRecords).toBe(failures);
    expect(m.retries).toBe(failures);
    // Exactly once each: a whole-batch resend would have duplicated the successful ones.
    expect(sortedRecords(endpoint.data('orders'))).toEqual([...rows].sort());
  });

  it('backs off on throttling and 500s, then delivers everything', async () => {
    const rows = lines(5_000, () => 40);
    endpoint.throttleNext = 3;
    endpoint.fail500Next = 2;
    const m = await drainFile(rows.join(''), { maxBufferSizeRecords: 100, aggregatedRecordSizeBytes: 0 });
    expect(endpoint.violations).toEqual([]);
    expect(endpoint.calls.filter((c) => c.status === 503)).toHaveLength(3);
    expect(endpoint.calls.filter((c) => c.status === 500)).toHaveLength(2);
    expect(m.retries).toBeGreaterThanOrEqual(500);
    expect(sortedRecords(endpoint.data('orders'))).toEqual([...rows].sort());
  });

  it('stops with a clear error on a stream that does not exist, and checkpoints nothing it did not deliver', async () => {
    const file = path.join(dir, 'x.csv');
    await writeFile(file, '1\n2\n');
    const sink = firehoseSinkFor(endpoint.url);
    const producer = createProducer({
      flows: [{ filePattern: file, deliveryStream: 'missing', initialPosition: 'START_OF_FILE' }],
      sink,
      checkpointFile: path.join(dir, 'cp.json'),
    });
    await expect(producer.drain()).rejects.toThrow(/"missing".*ResourceNotFoundException/);
    expect(producer.metrics().recordsSent).toBe(0);
    await sink.close();
  });
});
