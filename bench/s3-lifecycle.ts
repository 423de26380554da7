// Bench: @batchline/s3-lifecycle's claim + archive vs `aws s3 mv --recursive` (the old pipeline's exact
// command) and `rclone move`, on the same local S3 server, with the same objects.
//
//   npx tsx bench/s3-lifecycle.ts                    (10,000 objects)
//   npx tsx bench/s3-lifecycle.ts --objects 100000   (also reports our peak memory)
//   npx tsx bench/s3-lifecycle.ts --install-tools    (first runs: apt-get install -y awscli rclone)
//
// The server (fauxqs, see bench/s3-lifecycle-server.ts) runs in its own process on 127.0.0.1. For each
// tool the same N small Firehose-shaped objects are put under a root of its own (not timed), then two
// moves are timed: landing/ -> processing/<id>/ and processing/<id>/ -> processed/<id>/, and the result
// is checked (N objects at the target, none left behind). Each tool runs with its default parallelism
// (aws: 10 requests, rclone: 4 transfers + 8 checkers, ours: 64). Credentials are generated for the
// run and handed to every tool through the environment.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { toBatchId } from '@batchline/batch-id';
import pMap from 'p-map';
import { S3ObjectStore, createBatchLifecycle, createS3Client } from '@batchline/s3-lifecycle';

const { values: args } = parseArgs({
  options: {
    objects: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '64' },
    'install-tools': { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const N = Number(args.objects);
const CONCURRENCY = Number(args.concurrency);
const ROUNDS = Number(args.rounds);
if (!Number.isInteger(N) || N < 1) throw new Error(`--objects must be a positive integer, got ${args.objects}`);
const BATCH = toBatchId('20260102T0300');
const BUCKET = 'batchline-bench';

function which(command: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Debian's binaries first (the issue names Debian's awscli and rclone), then whatever PATH has. */
function tool(name: string): string | undefined {
  const debian = `/usr/bin/${name}`;
  return existsSync(debian) ? debian : which(name);
}

if (args['install-tools'] && (!existsSync('/usr/bin/aws') || !existsSync('/usr/bin/rclone'))) {
  console.log('--install-tools: running apt-get update && apt-get install -y awscli rclone');
  execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq awscli rclone'], { stdio: 'inherit' });
}
const AWS = tool('aws');
const RCLONE = tool('rclone');
for (const [name, bin] of [['aws', AWS], ['rclone', RCLONE]] as const) {
  if (!bin) console.log(`${name} not found: that peer is skipped. Run with --install-tools to apt-get install awscli rclone.`);
}

// Credentials for this run only, through the environment (the SDK's default chain, aws and rclone read it).
process.env.AWS_ACCESS_KEY_ID = `BENCH${randomBytes(8).toString('hex').toUpperCase()}`;
process.env.AWS_SECRET_ACCESS_KEY = randomBytes(24).toString('base64');
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_DEFAULT_REGION = 'us-east-1';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
delete process.env.AWS_PROFILE;
// The endpoint is plain http on loopback; a CA bundle from the environment only trips rclone up.
delete process.env.AWS_CA_BUNDLE;

async function startServer(): Promise<{ endpoint: string; child: ChildProcess }> {
  const script = path.join(import.meta.dirname, 's3-lifecycle-server.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`S3 server exited with ${code}`)));
  });
  return { endpoint: (JSON.parse(first) as { endpoint: string }).endpoint, child };
}

function firehosePath(i: number): string {
  const t = new Date(Date.UTC(2026, 0, 2, 2, 0, 0) + i * 360);
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${t.getUTCFullYear()}-${p(t.getUTCMonth() + 1)}-${p(t.getUTCDate())}-${p(t.getUTCHours())}-${p(t.getUTCMinutes())}-${p(t.getUTCSeconds())}`;
  return `${t.getUTCFullYear()}/${p(t.getUTCMonth() + 1)}/${p(t.getUTCDate())}/${p(t.getUTCHours())}/orders-stream-1-${stamp}-${randomUUID()}`;
}

const { endpoint, child } = await startServer();
const client = createS3Client({ endpoint, maxSockets: Math.max(128, CONCURRENCY) });
await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
const store = new S3ObjectStore({ bucket: BUCKET, client });
const objects = Array.from({ length: N }, (_, i) => ({ path: firehosePath(i), body: `${i},customer-${i % 997},2026-01-02T02:00:00Z,${(i % 500) + 0.99}\n` }));

async function count(prefix: string): Promise<number> {
  let n = 0;
  for await (const _ of store.list(prefix)) n++;
  return n;
}

async function landAll(root: string): Promise<void> {
  await pMap(objects, (o) => store.put(`${root}orders/landing/${o.path}`, o.body), { concurrency: 64 });
}

async function expectMoved(root: string, from: string, to: string): Promise<void> {
  const [left, arrived] = await Promise.all([count(`${root}orders/${from}`), count(`${root}orders/${to}`)]);
  if (left !== 0 || arrived !== N) throw new Error(`${root}: expected ${N} objects in ${to} and none in ${from}, found ${arrived} and ${left}`);
}

async function cleanUp(root: string): Promise<void> {
  const keys: string[] = [];
  for await (const o of store.list(root)) keys.push(o.key);
  await store.deleteMany(keys);
}

function run(command: string, argv: string[], env: NodeJS.ProcessEnv = process.env): void {
  execFileSync(command, argv, { stdio: ['ignore', 'ignore', 'inherit'], env });
}

interface Timing {
  readonly tool: string;
  readonly claim: number;
  readonly archive: number;
}
const timings: Timing[] = [];

/** Peak RSS of this process while a timed step ran (meaningful for ours: the peers run in other processes). */
let peakRss = 0;
let peakHeap = 0;

async function time(fn: () => unknown | Promise<unknown>): Promise<number> {
  const sampler = setInterval(() => {
    const { rss, heapUsed } = process.memoryUsage();
    peakRss = Math.max(peakRss, rss);
    peakHeap = Math.max(peakHeap, heapUsed);
  }, 20);
  const start = performance.now();
  await fn();
  const seconds = (performance.now() - start) / 1000;
  clearInterval(sampler);
  return seconds;
}

async function bench(tool: string, claim: (root: string) => unknown, archive: (root: string) => unknown): Promise<void> {
  if (args.only && !args.only.split(',').includes(tool)) return;
  // Best of ROUNDS for each step: the machine may be shared, and the least disturbed run is the fairest.
  let best: Timing | undefined;
  for (let round = 1; round <= ROUNDS; round++) {
    const root = `${tool.split(' ')[0]}-${round}/`;
    await landAll(root);
    const claimS = await time(() => claim(root));
    await expectMoved(root, 'landing/', `processing/${BATCH}/`);
    const archiveS = await time(() => archive(root));
    await expectMoved(root, `processing/${BATCH}/`, `processed/${BATCH}/`);
    console.log(`${tool.padEnd(24)} claim ${claimS.toFixed(2)} s   archive ${archiveS.toFixed(2)} s   total ${(claimS + archiveS).toFixed(2)} s`);
    best = { tool, claim: Math.min(claimS, best?.claim ?? Infinity), archive: Math.min(archiveS, best?.archive ?? Infinity) };
    await cleanUp(root);
  }
  timings.push(best!);
}

console.log(`${N} objects, ${cpus().length} cores, Node ${process.version}, server fauxqs on ${endpoint} (own process)`);

try {
const { rss: rssBefore, heapUsed: heapBefore } = process.memoryUsage();
await bench(
  'ours',
  (root) => createBatchLifecycle(store, { root, concurrency: CONCURRENCY }).claim('orders', BATCH),
  (root) => createBatchLifecycle(store, { root, concurrency: CONCURRENCY }).archive('orders', BATCH),
);
const oursPeak = peakRss;
const oursHeap = peakHeap;

if (AWS) {
  const version = execFileSync(AWS, ['--version'], { encoding: 'utf8' }).trim();
  console.log(`aws: ${AWS} (${version})`);
  const mv = (root: string, from: string, to: string) =>
    run(AWS, ['s3', 'mv', '--recursive', '--only-show-errors', '--endpoint-url', endpoint, `s3://${BUCKET}/${root}orders/${from}`, `s3://${BUCKET}/${root}orders/${to}`]);
  await bench(
    'aws s3 mv --recursive',
    (root) => mv(root, 'landing/', `processing/${BATCH}/`),
    (root) => mv(root, `processing/${BATCH}/`, `processed/${BATCH}/`),
  );
}

if (RCLONE) {
  const version = execFileSync(RCLONE, ['version'], { encoding: 'utf8' }).split('\n')[0];
  console.log(`rclone: ${RCLONE} (${version})`);
  const env = {
    ...process.env,
    RCLONE_CONFIG_BENCH_TYPE: 's3',
    RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
    RCLONE_CONFIG_BENCH_ENV_AUTH: 'true',
    RCLONE_CONFIG_BENCH_ENDPOINT: endpoint,
    RCLONE_CONFIG_BENCH_REGION: 'us-east-1',
    RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
  };
  const move = (root: string, from: string, to: string) =>
    run(RCLONE, ['move', '--config', '/dev/null', '-q', `bench:${BUCKET}/${root}orders/${from}`, `bench:${BUCKET}/${root}orders/${to}`], env);
  await bench(
    'rclone move',
    (root) => move(root, 'landing', `processing/${BATCH}`),
    (root) => move(root, `processing/${BATCH}`, `processed/${BATCH}`),
  );
}

const ours = timings.find((t) => t.tool === 'ours');
if (ours) {
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB`;
  console.log(
    `\nours: while claiming/archiving ${N} objects, peak heap ${mib(oursHeap)} (${mib(heapBefore)} before landing), ` +
      `peak RSS ${mib(oursPeak)} (${mib(rssBefore)}); concurrency ${CONCURRENCY}, ${store.copyThreadStats.threads} copy threads`,
  );
  for (const peer of timings.filter((t) => t !== ours)) {
    const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}x`;
    console.log(
      `${peer.tool} / ours: claim ${ratio(peer.claim, ours.claim)}, archive ${ratio(peer.archive, ours.archive)}, total ${ratio(peer.claim + peer.archive, ours.claim + ours.archive)}`,
    );
  }
}
} finally {
  client.destroy();
  child.kill('SIGTERM');
}
