// One producer run for bench/producer.ts, in its own process so its peak RSS is its own.
// Follows the file from its start until every record is acknowledged, then stops.
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createFirehoseSink, createProducer } from '../packages/kinesis-producer/src/index.ts';

const [file, url, stream, aggregate, expectedRecords] = process.argv.slice(2) as [string, string, string, string, string];
const checkpointFile = `${file}.${stream}.checkpoint.json`;
await rm(checkpointFile, { force: true });
const sink = createFirehoseSink({
  region: 'us-east-1',
  endpoint: url,
  credentials: async () => ({ accessKeyId: `bench-${randomUUID()}`, secretAccessKey: randomUUID() }),
});
const producer = createProducer({
  flows: [
    {
      filePattern: file,
      deliveryStream: stream,
      initialPosition: 'START_OF_FILE',
      skipHeaderLines: 1,
      aggregatedRecordSizeBytes: Number(aggregate),
      maxBufferAgeMillis: 1000,
    },
  ],
  sink,
  checkpointFile,
});
const started = process.hrtime.bigint();
const running = producer.start();
const target = Number(expectedRecords);
while (producer.metrics().recordsSent < target) await new Promise((r) => setTimeout(r, 20));
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await producer.stop();
await running;
await sink.close();
await rm(checkpointFile, { force: true });
const cpu = process.cpuUsage();
process.stdout.write(
  `${JSON.stringify({ ...producer.metrics(), seconds, maxRssKiB: process.resourceUsage().maxRSS, cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`,
);
