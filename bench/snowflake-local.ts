// Bench: the loader's Snowflake adapter through snowflake-sdk against @batchline/snowflake-local, vs the
// same loader on its DuckDB engine, on the same files. The ratio is what the protocol, the driver and the
// server's Snowflake emulation (CSV parsing in JS, COPY's per-row error handling) cost over embedded DuckDB,
// so a test or a demo can size its data.
//
//   npm run build && npx tsx bench/snowflake-local.ts          (scale 0.02: 30k orders, 3k customers)
//   BENCH_SCALE=0.1 BENCH_ROUNDS=3 npx tsx bench/snowflake-local.ts
import { mkdir, rm } from 'node:fs/promises';
import { cpus } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { demoBatchIds, demoDataset } from '@batchline/pipeline/demo';
import { FileObjectStore } from '@batchline/s3-lifecycle';
import { startSnowflakeLocal } from '@batchline/snowflake-local';
import { openWarehouse, snowflakeAdminSql, type BatchFile, type CuratedRow, type Entity, type Warehouse } from '@batchline/snowflake-loader';

const SCALE = Number(process.env.BENCH_SCALE ?? '0.02');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '2');
const RECORDS_PER_OBJECT = 50_000;
const ROOT = path.resolve(import.meta.dirname, '.data', `snowflake-local-scale-${SCALE}`);
const STAGE_URL = 's3://bench-bucket/firehose/';

type Row = Record<string, string | number>;
interface BatchFiles {
  batchId: string;
  files: Record<Entity, BatchFile[]>;
}

function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

async function prepare(store: FileObjectStore): Promise<BatchFiles[]> {
  const data = demoDataset(SCALE);
  const ids = demoBatchIds();
  const batches: BatchFiles[] = [];
  for (const [i, part] of [data.batch1, data.batch2].entries()) {
    const batchId = ids[i]!;
    const files: Record<Entity, BatchFile[]> = { orders: [], customers: [] };
    for (const entity of ['orders', 'customers'] as const) {
      const rows = part[entity] as unknown as Row[];
      for (let n = 0; n * RECORDS_PER_OBJECT < rows.length; n++) {
        const relPath = `2026/01/01/00/${entity}-stream-1-${String(n).padStart(2, '0')}`;
        const key = `firehose/${entity}/processing/${batchId}/${relPath}`;
        const text = rows
          .slice(n * RECORDS_PER_OBJECT, (n + 1) * RECORDS_PER_OBJECT)
          .map((r) => `${Object.values(r).map(csvField).join(',')}\n`)
          .join('');
        await store.put(key, text);
        files[entity].push({ path: relPath, key, size: Buffer.byteLength(text) });
      }
    }
    batches.push({ batchId, files });
  }
  return batches;
}

/** Loads each batch's two entities one after the other, or at the same time (as the pipeline does). */
async function run(wh: Warehouse, batches: BatchFiles[], parallel = false): Promise<{ ms: number; curated: CuratedRow[] }> {
  await wh.setup();
  const started = performance.now();
  for (const { batchId, files } of batches) {
    const id = batchId as Parameters<Warehouse['transform']>[0];
    const load = (entity: Entity) => wh.load({ entity, batchId: id, files: files[entity] });
    if (parallel) await Promise.all([load('orders'), load('customers')]);
    else for (const entity of ['orders', 'customers'] as const) await load(entity);
    await wh.transform(id);
  }
  const ms = performance.now() - started;
  return { ms, curated: await wh.curatedRows() };
}

await rm(ROOT, { recursive: true, force: true });
await mkdir(ROOT, { recursive: true });
const store = new FileObjectStore(path.join(ROOT, 'store'));
const batches = await prepare(store);
const orders = batches.reduce((n, b) => n + b.files.orders.length, 0);
console.log(`scale ${SCALE}: ${batches.length} batches, ${orders} order objects, ${cpus().length} cores`);
const localTimes: number[] = [];
const parallelTimes: number[] = [];
const duckTimes: number[] = [];
const password = `bench-${process.pid}`; // the server accepts any login when no users are configured
for (let round = 1; round <= ROUNDS; round++) {
  const server = await startSnowflakeLocal({ objectStore: store, stageUrls: { [STAGE_URL]: 'firehose/' } });
  const parallelServer = await startSnowflakeLocal({ objectStore: store, stageUrls: { [STAGE_URL]: 'firehose/' } });
  try {
    const admin = snowflakeAdminSql({ database: 'RETAIL_DB', schema: 'RETAIL_SCHEMA', stageUrl: STAGE_URL, storageAwsRoleArn: 'arn:aws:iam::123456789012:role/bench' });
    await server.runAdmin(admin);
    await parallelServer.runAdmin(admin);
    const env = { SNOWFLAKE_USER: 'bench', SNOWFLAKE_AUTHENTICATOR: 'SNOWFLAKE', SNOWFLAKE_PASSWORD: password };
    const sf = await openWarehouse(server.warehouseUrl(), { snowflake: { stageUrl: STAGE_URL }, env });
    const viaSnowflake = await run(sf, batches);
    await sf.close();
    // The same, with each batch's two loads at the same time (they no longer wait for each other's locks).
    const sfParallel = await openWarehouse(parallelServer.warehouseUrl(), { snowflake: { stageUrl: STAGE_URL }, env });
    const viaParallel = await run(sfParallel, batches, true);
    await sfParallel.close();
    if (JSON.stringify(viaParallel.curated) !== JSON.stringify(viaSnowflake.curated)) throw new Error('curated rows differ between sequential and parallel loads');
    parallelTimes.push(viaParallel.ms);
    const dbFile = path.join(ROOT, 'peer.duckdb');
    await rm(dbFile, { force: true });
    const duck = await openWarehouse(`duckdb://${dbFile}`, { files: store });
    const viaDuckDb = await run(duck, batches);
    await duck.close();
    if (JSON.stringify(viaSnowflake.curated) !== JSON.stringify(viaDuckDb.curated)) {
      throw new Error(`curated rows differ: ${viaSnowflake.curated.length} via snowflake-local, ${viaDuckDb.curated.length} via DuckDB`);
    }
    localTimes.push(viaSnowflake.ms);
    duckTimes.push(viaDuckDb.ms);
    const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    console.log(
      `round ${round}: snowflake-sdk + snowflake-local ${sec(viaSnowflake.ms)}, DuckDB engine ${sec(viaDuckDb.ms)}, ` +
        `ratio ${(viaSnowflake.ms / viaDuckDb.ms).toFixed(2)}x (${viaSnowflake.curated.length} curated rows, identical); ` +
        `entity loads in parallel ${sec(viaParallel.ms)}, parallel/sequential ${(viaParallel.ms / viaSnowflake.ms).toFixed(2)}x`,
    );
  } finally {
    await server.stop();
    await parallelServer.stop();
  }
}
const best = (xs: number[]) => Math.min(...xs);
console.log(
  `best of ${ROUNDS}: snowflake-local ${(best(localTimes) / 1000).toFixed(2)} s, DuckDB engine ${(best(duckTimes) / 1000).toFixed(2)} s, ` +
    `ratio ${(best(localTimes) / best(duckTimes)).toFixed(2)}x; entity loads in parallel ${(best(parallelTimes) / 1000).toFixed(2)} s, ` +
    `parallel/sequential ${(best(parallelTimes) / best(localTimes)).toFixed(2)}x`,
);
await rm(ROOT, { recursive: true, force: true });
