// What `status` and the sequence's view cost on a long history, against the reads they replaced, in one run.
//
//   npx tsx bench/history.ts --batches 100 --keep --dir D     # makes a store + warehouse with 100 batches
//   npx tsx bench/status-history.ts --dir D [--rounds 7]
//
// Only reads (the warehouse is opened read-only). Each round opens a fresh store object, as each `batchline`
// process does (a directory store hashes what it lists once per process).
// - ours: pipelineStatus(limit 20); peer: what it read before: both entities' full lifecycle status (every
//   manifest, the processed/ tally) and one readTasks query per shown batch.
// - ours: the sequence's view (lists manifests after settledThrough); peer: a listing of every manifest of
//   both entities, which each view and settle made before (3 to 4 times per run).
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Sequence, pipelineStatus } from '@batchline/pipeline';
import { createBatchLifecycle, openObjectStore } from '@batchline/s3-lifecycle';
import { openWarehouse } from '@batchline/snowflake-loader';

const { values: args } = parseArgs({ options: { dir: { type: 'string' }, rounds: { type: 'string', default: '7' } } });
if (!args.dir) throw new Error('--dir: a directory kept by `bench/history.ts --keep` (store/ and warehouse.duckdb)');
const DIR = path.resolve(args.dir);
const ROUNDS = Number(args.rounds);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`--rounds: expected a positive integer, got ${JSON.stringify(args.rounds)}`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

async function timed(run: (fresh: ReturnType<typeof createBatchLifecycle>) => Promise<unknown>): Promise<number> {
  const lifecycle = createBatchLifecycle(openObjectStore(`file://${DIR}/store`));
  const started = performance.now();
  await run(lifecycle);
  return performance.now() - started;
}

const warehouse = await openWarehouse(`duckdb://${DIR}/warehouse.duckdb`, { readOnly: true });
try {
  const first = createBatchLifecycle(openObjectStore(`file://${DIR}/store`));
  const batches = (await new Sequence(first, warehouse).batchIds()).length;
  console.log(`status on ${batches} batches (${DIR}), ${ROUNDS} rounds, ${cpus().length} cores, load ${load()}`);
  const figures = { status: [] as number[], statusBefore: [] as number[], view: [] as number[], listing: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    figures.status.push(await timed((life) => pipelineStatus(life, warehouse, { limit: 20 })));
    figures.statusBefore.push(
      await timed(async (life) => {
        const statuses = await Promise.all(['orders', 'customers'].map((e) => life.status(e)));
        const ids = [...new Set(statuses.flatMap((s) => s.batches.map((b) => b.batchId)))].sort().reverse().slice(0, 20);
        for (const id of ids) await warehouse.readTasks(id);
      }),
    );
    figures.view.push(await timed((life) => new Sequence(life, warehouse).view()));
    figures.listing.push(await timed((life) => new Sequence(life, warehouse).batchIds()));
  }
  const row = (what: string, ours: number[], peer: number[]) =>
    console.log(`  ${what.padEnd(28)} ours ${median(ours).toFixed(1).padStart(8)} ms   before ${median(peer).toFixed(1).padStart(8)} ms   x${(median(peer) / median(ours)).toFixed(1)} faster`);
  row('status (limit 20)', figures.status, figures.statusBefore);
  row('sequence view vs listing', figures.view, figures.listing);
  console.log(`load now ${load()}`);
} finally {
  await warehouse.close();
}
