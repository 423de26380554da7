// A record is never cut and never lost: copytruncate right after half a record was read, a file rewritten in
// place behind the checkpoint, and a valid quoted record over the record limit. Compared with an independent CSV parse.
import { appendFile, copyFile, mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createProducer, type Flow } from '../src/index.js';
import { compareRows, csvLines, csvRows } from './support/csv-oracle.js';
import { FirehoseEndpoint } from './support/firehose-endpoint.js';
import { firehoseSinkFor } from './support/harness.js';
import { waitFor } from './support/wait.js';

let root: string;
let dir: string;
let endpoint: FirehoseEndpoint;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'kp-integrity-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
beforeEach(async (ctx) => {
  dir = await mkdtemp(path.join(root, 'case-'));
  endpoint = await new FirehoseEndpoint().start();
  ctx.onTestFinished(() => endpoint.stop());
});

const rowsArrived = () => csvRows(endpoint.data('orders'));

function producerFor(filePattern: string, flow: Partial<Flow> = {}) {
  const sink = firehoseSinkFor(endpoint.url);
  const producer = createProducer({
    flows: [{ filePattern, deliveryStream: 'orders', maxBufferAgeMillis: 20, aggregatedRecordSizeBytes: 2048, ...flow }],
    sink,
    checkpointFile: path.join(dir, 'checkpoint.json'),
    rotationGraceMillis: 50,
  });
  return { producer, sink };
}

describe('a record is never cut', () => {
  it('copytruncate right after half a record was read: the copy is read on from a record boundary, no fragment', async () => {
    const log = path.join(dir, 'app.log');
    const before = csvLines(1, 100);
    const split = 'r9999,"half one\nhalf two, and the end",5\n';
    const cut = split.indexOf('one') + 2;
    await writeFile(log, before.join('') + split.slice(0, cut));
    const { producer, sink } = producerFor(path.join(dir, 'app.log*'), { minTimeBetweenFilePollsMillis: 500 });
    const running = producer.start();
    // Delivered: the chunk holding the first half of the record was read.
    await waitFor(() => rowsArrived().length === 100, 'the first 100 records');
    const more = csvLines(101, 50);
    await appendFile(log, split.slice(cut) + more.join(''));
    await copyFile(log, `${log}.1`);
    await truncate(log, 0);
    const after = csvLines(151, 20);
    await appendFile(log, after.join(''));
    const written = csvRows([...before, split, ...more, ...after].join(''));
    await waitFor(() => compareRows(written, rowsArrived()).lost.length === 0, 'every record');
    await producer.stop();
    await running;
    await sink.close();
    expect(compareRows(written, rowsArrived())).toEqual({ lost: [], foreign: [], duplicates: 0 });
  });

  it('copytruncate while the producer was down: the copy is read on from its original\'s checkpoint, nothing lost or sent twice', async () => {
    const log = path.join(dir, 'app.log');
    const first = csvLines(1, 300);
    await writeFile(log, first.join(''));
    const one = producerFor(path.join(dir, 'app.log*'));
    await one.producer.drain();
    await one.sink.close();
    // While down: more records, then logrotate's copytruncate, then the writer goes on in the truncated file.
    const more = csvLines(301, 200);
    await appendFile(log, more.join(''));
    await copyFile(log, `${log}.1`);
    await truncate(log, 0);
    const after = csvLines(501, 100);
    await appendFile(log, after.join(''));
    const two = producerFor(path.join(dir, 'app.log*'));
    await two.producer.drain();
    await two.sink.close();
    expect(compareRows(csvRows([...first, ...more, ...after].join('')), rowsArrived())).toEqual({ lost: [], foreign: [], duplicates: 0 });
  });

  it('a file rewritten in place with the same first KiB while the producer was down is read again from its start: nothing lost, no fragment', async () => {
    const file = path.join(dir, 'orders.csv');
    const head = csvLines(1, 120).join(''); // well over the 1 KiB fingerprint
    const first = head + csvLines(1000, 3000, 'a').join('');
    await writeFile(file, first);
    const one = producerFor(file);
    await one.producer.drain();
    await one.sink.close();
    expect(compareRows(csvRows(first), rowsArrived()).lost).toEqual([]);

    // Same inode, same first KiB, different (longer) records after it: the old offset falls inside one of them.
    const second = head + csvLines(5000, 3400, 'b').map((l) => l.replace(',', ',x')).join('');
    const handle = await open(file, 'r+');
    await handle.write(second, 0);
    await handle.close();
    endpoint.accepted.clear();
    const two = producerFor(file);
    await two.producer.drain();
    await two.sink.close();
    const c = compareRows(csvRows(second), rowsArrived());
    expect(c.lost).toEqual([]);
    expect(c.foreign).toEqual([]);
  });

  it('a file rewritten in place while followed is noticed and read again from its start', async () => {
    const file = path.join(dir, 'orders.csv');
    const head = csvLines(1, 120).join(''); // well over the 1 KiB fingerprint
    await writeFile(file, head + csvLines(1000, 500, 'a').join(''));
    const { producer, sink } = producerFor(file, { minTimeBetweenFilePollsMillis: 20 });
    const running = producer.start();
    await waitFor(() => rowsArrived().length === 620, 'the first content');
    const second = head + csvLines(5000, 700, 'b').map((l) => l.replace(',', ',x')).join('');
    const handle = await open(file, 'r+');
    await handle.write(second, 0);
    await handle.close();
    await waitFor(() => compareRows(csvRows(second), rowsArrived()).lost.length === 0, 'the rewritten content');
    await producer.stop();
    await running;
    await sink.close();
    expect(compareRows(csvRows(head + csvLines(1000, 500, 'a').join('') + second), rowsArrived()).foreign).toEqual([]);
  });
});

describe('END_OF_FILE', () => {
  it('starts after the last complete record, not after a newline inside a quoted field being written', async () => {
    const file = path.join(dir, 'app.csv');
    const old = csvLines(1, 50).join('');
    const open = 'r100,"started before the producer\nline two of it';
    await writeFile(file, old + open);
    const { producer, sink } = producerFor(file, { initialPosition: 'END_OF_FILE', minTimeBetweenFilePollsMillis: 20 });
    const running = producer.start();
    await waitFor(() => producer.metrics().filesTracked === 1, 'the file to be followed');
    const rest = '\nline three",7\n';
    const later = csvLines(101, 20);
    await appendFile(file, rest + later.join(''));
    await waitFor(() => rowsArrived().length >= 21, 'the records written after the start');
    await producer.stop();
    await running;
    await sink.close();
    // The record that was being written when the flow started is whole (or not sent); nothing else from before.
    expect(compareRows(csvRows(open + rest + later.join('')), rowsArrived())).toEqual({ lost: [], foreign: [], duplicates: 0 });
  });
});

describe('an oversize record', () => {
  it('a valid quoted record over 1,000 KiB spanning 1,200 lines goes whole to the dead-letter file (valid CSV, reason in a sidecar); the records after it flow on', async () => {
    const file = path.join(dir, 'orders.csv');
    const before = csvLines(1, 10);
    const inner = Array.from({ length: 1200 }, (_, i) => `inner line ${i} ${'x'.repeat(850)}, with "" a quote`).join('\n');
    const big = `big1,"${inner}",1\n`;
    expect(Buffer.byteLength(big)).toBeGreaterThan(1000 * 1024);
    const after = csvLines(11, 5000);
    await writeFile(file, before.join('') + big + after.join(''));
    const { producer, sink } = producerFor(file);
    const metrics = await producer.drain();
    await sink.close();
    expect(metrics.deadLetters).toBe(1);
    expect(metrics.recordsPending).toBe(0);
    const deadLetterFile = path.join(dir, 'checkpoint.json.dead-letter.csv');
    const dead = await readFile(deadLetterFile, 'utf8');
    expect(csvRows(dead)).toEqual(csvRows(big));
    expect(dead).toBe(big);
    const reasons = (await readFile(`${deadLetterFile}.reasons.jsonl`, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const entry = reasons.find((r) => r.reason)!;
    expect(entry).toMatchObject({
      stream: 'orders',
      file,
      offset: Buffer.byteLength(before.join('')),
      bytes: Buffer.byteLength(big),
      deadLetterOffset: 0,
      deadLetterEnd: Buffer.byteLength(big),
    });
    expect(entry.reason).toMatch(/over Firehose's 1024000-byte record limit/);
    expect(compareRows(csvRows([...before, ...after].join('')), rowsArrived())).toEqual({ lost: [], foreign: [], duplicates: 0 });
    expect(endpoint.violations).toEqual([]);
  });

  it('a dead letter cut by a crash is trimmed when the file is next opened, so the file stays valid CSV', async () => {
    const file = path.join(dir, 'orders.csv');
    const big = `big1,"${'y'.repeat(1100 * 1024)}",1\n`;
    await writeFile(file, `a,1\n${big}b,2\n`);
    const deadLetterFile = path.join(dir, 'checkpoint.json.dead-letter.csv');
    // What a crash mid-write leaves: the sidecar knows the file was empty, then half a record.
    await writeFile(`${deadLetterFile}.reasons.jsonl`, `${JSON.stringify({ opened: true, deadLetterEnd: 0 })}\n`);
    await writeFile(deadLetterFile, big.slice(0, 5000));
    const { producer, sink } = producerFor(file);
    await producer.drain();
    await sink.close();
    expect(await readFile(deadLetterFile, 'utf8')).toBe(big);
    expect(csvRows(endpoint.data('orders'))).toEqual(csvRows('a,1\nb,2\n'));
  });
});
