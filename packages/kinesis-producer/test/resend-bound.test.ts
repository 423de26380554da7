import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProducer, type RecordSink } from '../src/index.js';
import { FirehoseEndpoint } from './support/firehose-endpoint.js';
import { firehoseSinkFor, sortedRecords } from './support/harness.js';

let dir: string;
let endpoint: FirehoseEndpoint;
let sink: RecordSink;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kp-resend-'));
  endpoint = await new FirehoseEndpoint().start();
  sink = firehoseSinkFor(endpoint.url);
});
afterEach(async () => {
  await sink.close();
  await endpoint.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The offset the checkpoint on disk holds for the one file it tracks (0 before the first write). */
function checkpointedOffset(checkpointFile: string): number {
  let json: { flows: Record<string, Record<string, { offset: number }>> };
  try {
    json = JSON.parse(readFileSync(checkpointFile, 'utf8'));
  } catch {
    return 0;
  }
  const offsets = Object.values(json.flows).flatMap((files) => Object.values(files).map((f) => f.offset));
  return offsets.length === 0 ? 0 : Math.max(...offsets);
}

describe('what a crash can send again', () => {
  it('stays within the calls in flight when a later call is answered before an earlier one', async () => {
    const file = path.join(dir, 'orders.csv');
    const checkpointFile = path.join(dir, 'cp.json');
    const record = (i: number) => `${String(i).padStart(6, '0')},${'x'.repeat(92)}\n`; // 100 bytes
    const content = Array.from({ length: 80 }, (_, i) => record(i)).join('');
    await writeFile(file, content);
    const CALL_BYTES = 1000; // ten records per call: eight calls in all
    const MAX_IN_FLIGHT = 2;

    // Call 1 is held; call 2 is answered at once. Call 1 is let go when call 3 arrives (the producer
    // went on while call 1 was still out) or, if call 3 does not come, a while after call 2.
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    let fallback: NodeJS.Timeout | undefined;
    let received = 0;
    const exposure: Array<{ call: number; received: number; checkpointed: number }> = [];
    endpoint.holdCall = (call, records) => {
      received += records.reduce((n, r) => n + r.length, 0);
      // Bytes Firehose has (or is taking now) that the checkpoint on disk does not cover: what a SIGKILL now would send again.
      exposure.push({ call, received, checkpointed: checkpointedOffset(checkpointFile) });
      if (call === 1) return firstHeld;
      if (call === 2) fallback = setTimeout(releaseFirst, 500);
      if (call === 3) releaseFirst();
      return undefined;
    };

    const producer = createProducer({
      flows: [{ filePattern: file, deliveryStream: 'orders', initialPosition: 'START_OF_FILE', maxBufferSizeBytes: CALL_BYTES }],
      sink,
      checkpointFile,
      maxInFlightCalls: MAX_IN_FLIGHT,
    });
    const m = await producer.drain();
    clearTimeout(fallback);

    // The promise: a slot is let go only once the checkpoint covers its call, so at any moment
    // at most MAX_IN_FLIGHT calls' worth of records is sent and not yet checkpointed.
    const over = exposure.filter((e) => e.received - e.checkpointed > MAX_IN_FLIGHT * CALL_BYTES);
    expect(over).toEqual([]);
    expect(exposure).toHaveLength(8);
    expect(m.calls).toBe(8);
    expect(sortedRecords(endpoint.data('orders'))).toEqual(sortedRecords(content)); // each record once
    expect(checkpointedOffset(checkpointFile)).toBe(content.length);
  });
});
