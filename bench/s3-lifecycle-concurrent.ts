// Bench: what the entity claim lock costs when two runs of different batches claim at once (issue 10,
// situation 1), against the peer of one run claiming the same files alone.
//
//   npx tsx bench/s3-lifecycle-concurrent.ts [--objects 5000] [--rounds 3] [--only fs,s3]
//
// For each store (a temporary directory, and the package's S3 test server in a process of its own on
// 127.0.0.1) and each round: N small objects are landed (not timed) and claimed by one batch (the peer);
// N more are landed and claimed by two batches at once (ours: both must finish, with disjoint manifests
// covering all N files, which is checked). It prints wall times per round, the medians and the ratio
// two-at-once / one-alone. Pinning (listing landing/ and writing the manifest) is serialized; the moves are not.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { type BatchId, toBatchId } from '@batchline/batch-id';
import { FileObjectStore, type ObjectStore, S3ObjectStore, createBatchLifecycle, createS3Client } from '@batchline/s3-lifecycle';
import { startS3ServerProcess } from './s3-server-process.js';

const { values: args } = parseArgs({
  options: {
    objects: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string', default: 'fs,s3' },
  },
});
const N = Number(args.objects);
const ROUNDS = Number(args.rounds);
if (!Number.isInteger(N) || N < 2) throw new Error(`--objects must be an integer >= 2, got ${args.objects}`);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`--rounds must be a positive integer, got ${args.rounds}`);
const only = new Set(args.only.split(','));

function landingPath(i: number): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const t = new Date(Date.UTC(2026, 0, 2, 2, 0, 0) + i * 360);
  return `${t.getUTCFullYear()}/${p(t.getUTCMonth() + 1)}/${p(t.getUTCDate())}/${p(t.getUTCHours())}/orders-stream-1-${randomUUID()}`;
}

async function land(store: ObjectStore, root: string, count: number): Promise<void> {
  const paths = Array.from({ length: count }, (_, i) => landingPath(i));
  for (let i = 0; i < paths.length; i += 64) {
    await Promise.all(paths.slice(i, i + 64).map((p, j) => store.put(`${root}orders/landing/${p}`, `${i + j},customer,19.99\n`)));
  }
}

let slot = 0;
function nextBatch(): BatchId {
  slot++;
  return toBatchId(`20260102T${String(Math.floor(slot / 60)).padStart(2, '0')}${String(slot % 60).padStart(2, '0')}`);
}

async function round(store: ObjectStore, tag: string, r: number): Promise<{ alone: number; together: number }> {
  const options = { settleSeconds: 0 };
  const rootAlone = `bench-${tag}-${r}-alone/`;
  await land(store, rootAlone, N);
  let started = performance.now();
  const single = await createBatchLifecycle(store, { ...options, root: rootAlone }).claim('orders', nextBatch());
  const alone = performance.now() - started;
  if (single.files.length !== N) throw new Error(`one claim pinned ${single.files.length} of ${N} files`);

  const rootTogether = `bench-${tag}-${r}-together/`;
  await land(store, rootTogether, N);
  const [a, b] = [nextBatch(), nextBatch()];
  started = performance.now();
  const [ma, mb] = await Promise.all([
    createBatchLifecycle(store, { ...options, root: rootTogether, lease: { pollMs: 50 } }).claim('orders', a),
    createBatchLifecycle(store, { ...options, root: rootTogether, lease: { pollMs: 50 } }).claim('orders', b),
  ]);
  const together = performance.now() - started;
  const paths = new Set(ma.files.map((f) => f.path));
  if (mb.files.some((f) => paths.has(f.path))) throw new Error('the two claims pinned the same file');
  if (ma.files.length + mb.files.length !== N) throw new Error(`the two claims pinned ${ma.files.length} + ${mb.files.length} of ${N} files`);
  return { alone, together };
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}


const load = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
console.log(`${N} objects per claim run, ${cpus().length} cores, Node ${process.version}, ${ROUNDS} round(s); ${load()}`);
const stores: { tag: string; open(): Promise<{ store: ObjectStore; close(): Promise<void> }> }[] = [];
if (only.has('fs')) {
  stores.push({
    tag: 'fs',
    async open() {
      const dir = await mkdtemp(path.join(tmpdir(), 'batchline-bench-concurrent-'));
      return { store: new FileObjectStore(dir), close: () => rm(dir, { recursive: true, force: true }) };
    },
  });
}
if (only.has('s3')) {
  stores.push({
    tag: 's3',
    async open() {
      delete process.env.AWS_CA_BUNDLE;
      process.env.AWS_ACCESS_KEY_ID ??= `BENCH${randomUUID().replaceAll('-', '').slice(0, 12).toUpperCase()}`;
      process.env.AWS_SECRET_ACCESS_KEY ??= randomUUID();
      process.env.AWS_REGION ??= 'us-east-1';
      const { endpoint, child } = await startS3ServerProcess();
      const client = createS3Client({ endpoint });
      await client.send(new CreateBucketCommand({ Bucket: 'batchline-bench' }));
      client.destroy();
      const store = new S3ObjectStore({ bucket: 'batchline-bench', endpoint });
      return {
        store,
        close: async () => {
          await store.close();
          child.kill('SIGTERM');
        },
      };
    },
  });
}
for (const { tag, open } of stores) {
  const { store, close } = await open();
  const alone: number[] = [];
  const together: number[] = [];
  try {
    for (let r = 1; r <= ROUNDS; r++) {
      const result = await round(store, tag, r);
      alone.push(result.alone);
      together.push(result.together);
      console.log(`${tag} round ${r}: one claim alone ${(result.alone / 1000).toFixed(2)} s, two claims at once ${(result.together / 1000).toFixed(2)} s`);
    }
  } finally {
    await close();
  }
  const ratio = median(together) / median(alone);
  console.log(`${tag} median: alone ${(median(alone) / 1000).toFixed(2)} s, two at once ${(median(together) / 1000).toFixed(2)} s, ratio ${ratio.toFixed(2)}x`);
}
console.log(`done; ${load()}`);
