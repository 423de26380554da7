// A local Firehose PutRecordBatch endpoint for bench/producer.ts, in its own process
// so the producer's RSS and CPU are measured apart from it. Prints its URL, then
// answers {"type":"stats"} lines on stdin with what it accepted.
import { createInterface } from 'node:readline';
import { FirehoseEndpoint } from '../packages/kinesis-producer/test/support/firehose-endpoint.ts';

const endpoint = await new FirehoseEndpoint({ keepData: false }).start();
process.stdout.write(`${JSON.stringify({ type: 'ready', url: endpoint.url })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === 'stats') {
    const counts = Object.fromEntries(endpoint.acceptedCounts);
    const maxCallBytes = endpoint.calls.reduce((m, c) => Math.max(m, c.bytes), 0);
    process.stdout.write(
      `${JSON.stringify({ type: 'stats', counts, calls: endpoint.calls.length, maxCallBytes, violations: endpoint.violations.slice(0, 5) })}\n`,
    );
  }
}
await endpoint.stop();
