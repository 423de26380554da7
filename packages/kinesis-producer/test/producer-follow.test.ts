import { appendFile, copyFile, mkdtemp, readFile, rename, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProducer, type Flow, type Producer, type ProducerEvent, type RecordSink } from '../src/index.js';
import { FirehoseEndpoint } from './support/firehose-endpoint.js';
import { firehoseSinkFor } from './support/harness.js';
import { waitFor } from './support/wait.js';

let dir: string;
let endpoint: FirehoseEndpoint;
let sinks: RecordSink[];
let running: Array<{ producer: Producer; done: Promise<void> }>;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kp-follow-'));
  endpoint = await new FirehoseEndpoint().start();
  sinks = [];
  running = [];
});
afterEach(async () => {
  for (const r of running) await r.producer.stop();
  for (const s of sinks) await s.close();
  await endpoint.stop();
  await rm(dir, { recursive: true, force: true });
});

function follow(flow: Partial<Flow> & { filePattern: string }, events: ProducerEvent[] = []) {
  const sink = firehoseSinkFor(endpoint.url);
  sinks.push(sink);
  const producer = createProducer({
    flows: [
      {
        deliveryStream: 'orders',
        initialPosition: 'START_OF_FILE',
        maxBufferAgeMillis: 30,
        minTimeBetweenFilePollsMillis: 10,
        ...flow,
      },
    ],
    sink,
    checkpointFile: path.join(dir, 'cp.json'),
    maxInFlightCalls: 1,
    rotationGraceMillis: 50,
    onEvent: (e) => events.push(e),
  });
  const done = producer.start();
  running.push({ producer, done });
  return { producer, done };
}

const delivered = () => endpoint.data('orders');

describe('following files', () => {
  it('sends appends as they come; a record split across writes waits until complete', async () => {
    const file = path.join(dir, 'orders.csv');
    await writeFile(file, 'id,comment\n1,a\n');
    follow({ filePattern: file, skipHeaderLines: 1 });
    await waitFor(() => delivered() === '1,a\n', 'first record');
    await appendFile(file, '2,"multi\n');
    await appendFile(file, 'line"');
    // A later complete record proves the half-written one was seen and held back, not lost.
    await appendFile(file, '\r\n3,c\n');
    await waitFor(() => delivered() === '1,a\n2,"multi\nline"\r\n3,c\n', 'the completed multi-line record');
    await appendFile(file, '\n\n4,d\n');
    await waitFor(() => delivered().endsWith('3,c\n4,d\n'), 'blank lines skipped');
  });

  it('rename rotation: the old file is read to its end (late appends and a partial last line included), then the new one', async () => {
    const file = path.join(dir, 'orders.csv');
    const events: ProducerEvent[] = [];
    await writeFile(file, 'h\nold-1\n');
    follow({ filePattern: file, skipHeaderLines: 1 }, events);
    await waitFor(() => delivered() === 'old-1\n', 'old-1');
    await rename(file, `${file}.1`);
    await appendFile(`${file}.1`, 'old-2\nold-partial'); // the writer still had it open
    await writeFile(file, 'h\nnew-1\n');
    await waitFor(() => delivered().includes('new-1\n') && delivered().includes('old-partial\n'), 'both generations');
    expect(delivered()).toBe('old-1\nold-2\nold-partial\nnew-1\n');
    expect(events.some((e) => e.type === 'file-rotated')).toBe(true);
    // Once drained and acknowledged, the rotated file leaves the checkpoint.
    await waitFor(async () => {
      const cp = JSON.parse(await readFile(path.join(dir, 'cp.json'), 'utf8'));
      return Object.keys(Object.values(cp.flows)[0] as object).length === 1;
    }, 'rotated file retired');
  });

  it('copytruncate: the size shrinks and reading restarts from 0 (header skipped again)', async () => {
    const file = path.join(dir, 'orders.csv');
    const events: ProducerEvent[] = [];
    await writeFile(file, 'h\nbefore-1\nbefore-2\n');
    follow({ filePattern: file, skipHeaderLines: 1 }, events);
    await waitFor(() => delivered() === 'before-1\nbefore-2\n', 'first generation');
    await copyFile(file, `${file}.1`);
    await truncate(file, 0);
    await appendFile(file, 'h\nafter-1\n');
    await waitFor(() => delivered().endsWith('after-1\n'), 'after truncation');
    expect(delivered()).toBe('before-1\nbefore-2\nafter-1\n');
    expect(events.some((e) => e.type === 'file-truncated')).toBe(true);
  });

  it('copytruncate with a pattern that matches the copy too: the copy is read on from where the original was, nothing sent twice', async () => {
    const file = path.join(dir, 'orders.csv');
    const events: ProducerEvent[] = [];
    const before = Array.from({ length: 60 }, (_, i) => `before-${String(i).padStart(3, '0')},${'x'.repeat(20)}\n`);
    await writeFile(file, `h\n${before.join('')}`);
    follow({ filePattern: `${file}*`, skipHeaderLines: 1 }, events);
    await waitFor(() => delivered() === before.join(''), 'first generation');
    await appendFile(file, 'tail-1\n');
    await copyFile(file, `${file}.1`);
    await truncate(file, 0);
    await appendFile(file, 'h\nafter-1\n');
    await waitFor(() => delivered().includes('tail-1\n') && delivered().includes('after-1\n'), 'tail and new generation');
    const counts = new Map<string, number>();
    for (const line of delivered().split(/(?<=\n)/)) counts.set(line, (counts.get(line) ?? 0) + 1);
    for (const line of before) expect(counts.get(line), line).toBe(1);
    expect(counts.get('after-1\n')).toBe(1);
    expect(counts.get('h\n')).toBeUndefined();
  });

  it('a copy that shows up after its original was truncated is recognised too', async () => {
    const file = path.join(dir, 'orders.csv');
    const events: ProducerEvent[] = [];
    const before = Array.from({ length: 60 }, (_, i) => `b-${String(i).padStart(3, '0')},${'y'.repeat(20)}\n`);
    await writeFile(file, before.join(''));
    follow({ filePattern: path.join(dir, 'orders.csv{,.1}') }, events);
    await waitFor(() => delivered() === before.join(''), 'first generation');
    await copyFile(file, path.join(dir, 'staging.tmp'));
    await truncate(file, 0);
    await waitFor(() => events.some((e) => e.type === 'file-truncated'), 'truncation noticed');
    await appendFile(path.join(dir, 'staging.tmp'), 'late-1\n'); // written to the copy only
    await rename(path.join(dir, 'staging.tmp'), `${file}.1`);
    await waitFor(() => delivered().includes('late-1\n'), 'the copy read on');
    expect(delivered()).toBe(`${before.join('')}late-1\n`);
  });

  it('a new file at a rotated path with the very same first lines is a new generation, read in full', async () => {
    const file = path.join(dir, 'orders.csv');
    const same = Array.from({ length: 60 }, (_, i) => `s-${String(i).padStart(3, '0')},${'z'.repeat(20)}\n`).join('');
    await writeFile(file, same);
    follow({ filePattern: file });
    await waitFor(() => delivered() === same, 'first generation');
    await rename(file, `${file}.1`);
    await writeFile(file, `${same}extra\n`);
    await waitFor(() => delivered().endsWith('extra\n'), 'second generation');
    expect(delivered()).toBe(`${same}${same}extra\n`);
  });

  it('deletion is noticed: what was written before is delivered, and the file is let go', async () => {
    const file = path.join(dir, 'orders.csv');
    const events: ProducerEvent[] = [];
    await writeFile(file, '1\n');
    follow({ filePattern: file }, events);
    await waitFor(() => delivered() === '1\n', 'first line');
    await appendFile(file, '2\n3');
    await unlink(file);
    await waitFor(() => events.some((e) => e.type === 'file-finished'), 'deleted file finished');
    expect(events.some((e) => e.type === 'file-deleted')).toBe(true);
    expect(delivered()).toBe('1\n2\n3\n');
  });

  it('END_OF_FILE skips what existed at start; files created later are read from their start', async () => {
    await writeFile(path.join(dir, 'a.csv'), 'old\n');
    follow({ filePattern: path.join(dir, '*.csv'), initialPosition: 'END_OF_FILE' });
    await new Promise((r) => setTimeout(r, 50));
    await appendFile(path.join(dir, 'a.csv'), 'new-a\n');
    await writeFile(path.join(dir, 'b.csv'), 'first-b\n');
    await waitFor(() => delivered().includes('new-a\n') && delivered().includes('first-b\n'), 'appends and new file');
    expect(delivered()).not.toContain('old');
  });

  it('stop() flushes a partial call at once, checkpoints, and a restart sends nothing twice', async () => {
    const file = path.join(dir, 'orders.csv');
    await writeFile(file, Array.from({ length: 100 }, (_, i) => `${i}\n`).join(''));
    const first = follow({ filePattern: file, maxBufferAgeMillis: 600_000 });
    await waitFor(() => first.producer.metrics().linesRead === 100, 'lines read');
    expect(delivered()).toBe(''); // still buffered: the age is ten minutes
    await first.producer.stop();
    await first.done;
    expect(delivered()).toBe(Array.from({ length: 100 }, (_, i) => `${i}\n`).join(''));
    await appendFile(file, '100\n');
    const second = follow({ filePattern: file });
    await waitFor(() => delivered().endsWith('99\n100\n'), 'appended line after restart');
    await second.producer.stop();
    expect(delivered().split('\n').filter(Boolean)).toHaveLength(101);
  });

  it('a file rotated while the producer was down is finished from its checkpoint, then the new one is read', async () => {
    const file = path.join(dir, 'orders.csv');
    await writeFile(file, '1\n2\n');
    const first = follow({ filePattern: file });
    await waitFor(() => delivered() === '1\n2\n', 'first lines');
    await first.producer.stop();
    await appendFile(file, '3\n');
    await rename(file, `${file}.2026-11-26`);
    await writeFile(file, '4\n');
    follow({ filePattern: file });
    await waitFor(() => delivered().includes('4\n') && delivered().includes('3\n'), 'rotated remainder and new file');
    expect(delivered()).toBe('1\n2\n3\n4\n');
  });

  it('while Firehose is slow, reading pauses: in-flight work stays bounded', async () => {
    const file = path.join(dir, 'orders.csv');
    const line = `${'z'.repeat(99)}\n`;
    await writeFile(file, line.repeat(200_000)); // 20 MB
    endpoint.delayMillis = 100;
    const { producer } = follow({ filePattern: file, aggregatedRecordSizeBytes: 100_000, maxBufferSizeBytes: 500_000 });
    await waitFor(() => endpoint.calls.length >= 3, 'a few slow calls');
    // One call in flight (maxInFlightCalls 1) of at most 500 KB, plus at most one read chunk (1 MiB) being split.
    const m = producer.metrics();
    const inFlightOrBuffered = m.linesRead * 100 - m.bytesSent;
    expect(inFlightOrBuffered).toBeLessThanOrEqual(500_000 + 1024 * 1024 + 500_000);
    endpoint.delayMillis = 0;
  });
});
