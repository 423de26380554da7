// Bench: @batchline/s3-lifecycle's claim + archive vs `aws s3 mv --recursive` (the old pipeline's exact
// command) and `rclone move`, on the same local S3 server, with the same objects.
//
//   npx tsx bench/s3-lifecycle.ts                    (10,000 objects)
//   npx tsx bench/s3-lifecycle.ts --objects 100000   (also reports our peak memory)
//   npx tsx bench/s3-lifecycle.ts --install-tools    (first runs: apt-get install -y awscli rclone)
//
// The server (fauxqs, see bench/s3-lifecycle-server.ts) runs in its own process on 127.0.0.1. For each
// tool the same N small Firehose-shaped objects are put under a root of its own (not timed), then two
// moves are timed: landing/ -> processing/<id>/ and processing/<id>/ -> processed/<id>/, and the result is
// checked (N objects at the target, none left behind). Every tool, ours included
// (bench/s3-lifecycle-ours.mjs), runs each move as a process of its own, so all pay their start-up and
// are measured alike: wall time, CPU time (getrusage of the waited-for child) and peak RSS (VmHWM from
// /proc, sampled every 20 ms; ours also reports its getrusage maxRSS). Each tool runs with its default
// parallelism (aws: 10 requests, rclone: 4 transfers + 8 checkers, ours: 64). Credentials are generated
// for the run and handed to every tool through the environment.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { toBatchId } from '@batchline/batch-id';
import { S3ObjectStore, createS3Client } from '@batchline/s3-lifecycle';
import { startS3ServerProcess } from './s3-server-process.js';

const { values: args } = parseArgs({
  options: {
    objects: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '64' },
    'install-tools': { type: 'boolean', default: false },
    only: { type: 'string' },
    'copy-threads': { type: 'string' },
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


function firehosePath(i: number): string {
  const t = new Date(Date.UTC(2026, 0, 2, 2, 0, 0) + i * 360);
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${t.getUTCFullYear()}-${p(t.getUTCMonth() + 1)}-${p(t.getUTCDate())}-${p(t.getUTCHours())}-${p(t.getUTCMinutes())}-${p(t.getUTCSeconds())}`;
  return `${t.getUTCFullYear()}/${p(t.getUTCMonth() + 1)}/${p(t.getUTCDate())}/${p(t.getUTCHours())}/orders-stream-1-${stamp}-${randomUUID()}`;
}

const { endpoint, child } = await startS3ServerProcess();
const client = createS3Client({ endpoint });
await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
client.destroy();
// The bench's own client, for set-up and checks only (not timed).
const store = new S3ObjectStore({ bucket: BUCKET, endpoint, maxSockets: 128 });
const objects = Array.from({ length: N }, (_, i) => ({ path: firehosePath(i), body: `${i},customer-${i % 997},2026-01-02T02:00:00Z,${(i % 500) + 0.99}\n` }));

/** Run `fn` over `items`, `limit` at a time (setup only, not timed). */
async function inParallel<T>(items: readonly T[], fn: (item: T) => Promise<unknown>, limit: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

async function count(prefix: string): Promise<number> {
  let n = 0;
  for await (const _ of store.list(prefix)) n++;
  return n;
}

async function landAll(root: string): Promise<void> {
  await inParallel(objects, (o) => store.put(`${root}orders/landing/${o.path}`, o.body), 64);
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

/** What one timed move cost, measured the same way for every tool (each runs as a child process). */
interface Step {
  readonly wall: number;
  readonly cpu: number;
  /** Peak resident memory of the tool's process, bytes. */
  readonly rss: number;
}

/** CPU seconds of waited-for child processes, from /proc (Linux), or NaN elsewhere. */
function childCpuSeconds(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    // After "pid (comm) ": field 16 cutime and 17 cstime are at offsets 13 and 14, in clock ticks (100/s).
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** The process's peak RSS so far (VmHWM), bytes; 0 once it is gone. */
function peakRssOf(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
    return line ? Number(line.split(/\s+/)[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Run one move as a child process: wall, CPU and peak RSS; its stdout is returned (ours prints its maxRSS). */
async function step(command: string, argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<Step & { stdout: string }> {
  const cpu0 = childCpuSeconds();
  const start = performance.now();
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'inherit'], env });
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  let rss = 0;
  const sampler = setInterval(() => (rss = Math.max(rss, peakRssOf(child.pid!))), 20);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  clearInterval(sampler);
  const wall = (performance.now() - start) / 1000;
  if (code !== 0) throw new Error(`${command} ${argv.join(' ')} exited with ${code}`);
  return { wall, cpu: childCpuSeconds() - cpu0, rss, stdout };
}

interface Tool {
  readonly name: string;
  claim(root: string): Promise<Step>;
  archive(root: string): Promise<Step>;
}

interface Result {
  readonly tool: string;
  readonly round: number;
  readonly claim: Step;
  readonly archive: Step;
}

const OURS = path.join(import.meta.dirname, 's3-lifecycle-ours.mjs');
const ours = async (operation: string, root: string): Promise<Step> => {
  const result = await step(process.execPath, [OURS, operation, endpoint, BUCKET, root, BATCH, String(CONCURRENCY), args['copy-threads'] ?? '']);
  // getrusage's maxRSS is exact; the /proc sample can miss a peak between two samples.
  const reported = (JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { maxRssKiB: number }).maxRssKiB * 1024;
  return { wall: result.wall, cpu: result.cpu, rss: Math.max(result.rss, reported) };
};
const tools: Tool[] = [{ name: 'ours', claim: (root) => ours('claim', root), archive: (root) => ours('archive', root) }];
if (AWS) {
  console.log(`aws: ${AWS} (${execFileSync(AWS, ['--version'], { encoding: 'utf8' }).trim()})`);
  const mv = (root: string, from: string, to: string) =>
    step(AWS, ['s3', 'mv', '--recursive', '--only-show-errors', '--endpoint-url', endpoint, `s3://${BUCKET}/${root}orders/${from}`, `s3://${BUCKET}/${root}orders/${to}`]);
  tools.push({
    name: 'aws',
    claim: (root) => mv(root, 'landing/', `processing/${BATCH}/`),
    archive: (root) => mv(root, `processing/${BATCH}/`, `processed/${BATCH}/`),
  });
}
if (RCLONE) {
  console.log(`rclone: ${RCLONE} (${execFileSync(RCLONE, ['version'], { encoding: 'utf8' }).split('\n')[0]})`);
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
    step(RCLONE, ['move', '--config', '/dev/null', '-q', `bench:${BUCKET}/${root}orders/${from}`, `bench:${BUCKET}/${root}orders/${to}`], env);
  tools.push({
    name: 'rclone',
    claim: (root) => move(root, 'landing', `processing/${BATCH}`),
    archive: (root) => move(root, `processing/${BATCH}`, `processed/${BATCH}`),
  });
}
const selected = tools.filter((t) => !args.only || args.only.split(',').includes(t.name));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

console.log(`${N} objects, ${cpus().length} cores, Node ${process.version}, server fauxqs on ${endpoint} (own process), ${ROUNDS} round(s)`);
console.log('Tools take turns within each round, so a busy moment of a shared machine hits them alike; each move is a process of its own.\n');
const results: Result[] = [];
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB`;
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const tool of selected) {
      const root = `${tool.name}-${round}/`;
      await landAll(root);
      const claim = await tool.claim(root);
      await expectMoved(root, 'landing/', `processing/${BATCH}/`);
      const archive = await tool.archive(root);
      await expectMoved(root, `processing/${BATCH}/`, `processed/${BATCH}/`);
      results.push({ tool: tool.name, round, claim, archive });
      const f = (x: Step) => `${x.wall.toFixed(2)} s (cpu ${x.cpu.toFixed(1)} s, peak ${mib(x.rss)})`;
      console.log(`round ${round}  ${tool.name.padEnd(7)} claim ${f(claim)}   archive ${f(archive)}   total ${(claim.wall + archive.wall).toFixed(2)} s`);
      await cleanUp(root);
    }
  }
} finally {
  await store.close();
  child.kill('SIGTERM');
}

const summary = new Map(
  selected.map((t) => {
    const mine = results.filter((r) => r.tool === t.name);
    return [
      t.name,
      {
        claim: median(mine.map((r) => r.claim.wall)),
        archive: median(mine.map((r) => r.archive.wall)),
        total: median(mine.map((r) => r.claim.wall + r.archive.wall)),
        cpu: median(mine.map((r) => r.claim.cpu + r.archive.cpu)),
        rss: Math.max(...mine.flatMap((r) => [r.claim.rss, r.archive.rss])),
      },
    ] as const;
  }),
);
console.log('\nmedian over rounds (wall seconds; cpu = CPU seconds the tool\'s processes used, not the server; peak = highest RSS of any one move):');
for (const [name, m] of summary) {
  console.log(`${name.padEnd(7)} claim ${m.claim.toFixed(2)}   archive ${m.archive.toFixed(2)}   total ${m.total.toFixed(2)}   cpu ${m.cpu.toFixed(1)}   peak RSS ${mib(m.rss)}`);
}
const mine = summary.get('ours');
if (mine) {
  for (const [name, m] of summary) {
    if (name === 'ours') continue;
    const perRound = results
      .filter((r) => r.tool === name)
      .map((r) => {
        const o = results.find((x) => x.tool === 'ours' && x.round === r.round)!;
        return ((r.claim.wall + r.archive.wall) / (o.claim.wall + o.archive.wall)).toFixed(1);
      });
    const x = (a: number, b: number) => `${(a / b).toFixed(1)}x`;
    console.log(
      `${name} / ours (medians): claim ${x(m.claim, mine.claim)}, archive ${x(m.archive, mine.archive)}, total ${x(m.total, mine.total)}; ` +
        `per round total ${perRound.join('x, ')}x; cpu ${x(m.cpu, mine.cpu)}`,
    );
  }
  console.log(`ours: concurrency ${CONCURRENCY}, copy threads ${args['copy-threads'] ?? 'default'}; peak RSS ${mib(mine.rss)} for ${N} objects`);
}
