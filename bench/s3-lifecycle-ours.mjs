// One claim or archive of bench/s3-lifecycle.ts's "ours", in a process of its own, like the peers (aws,
// rclone): what it costs is what a runner calling @batchline/s3-lifecycle pays, without the bench's set-up
// (the objects it generated and PUT) in the same heap. Plain Node on the built package (npm run build).
//   node bench/s3-lifecycle-ours.mjs claim|archive <endpoint> <bucket> <root> <batch> <concurrency> [copyThreads]
// Credentials come from the environment. Prints {"maxRssKiB": ...} on stdout (getrusage: the true peak).
import { S3ObjectStore, createBatchLifecycle } from '@batchline/s3-lifecycle';

const [operation, endpoint, bucket, root, batch, concurrency, copyThreads] = process.argv.slice(2);
if (operation !== 'claim' && operation !== 'archive') throw new Error(`operation must be claim or archive, got ${operation}`);
const store = new S3ObjectStore({
  bucket,
  endpoint,
  maxSockets: Math.max(128, Number(concurrency)),
  ...(copyThreads !== undefined && copyThreads !== '' ? { copyThreads: Number(copyThreads) } : {}),
});
const lifecycle = createBatchLifecycle(store, { root, concurrency: Number(concurrency) });
try {
  await lifecycle[operation]('orders', batch);
} finally {
  await store.close();
}
process.stdout.write(`${JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS })}\n`);
