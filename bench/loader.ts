// Bench: the loader's load + transform on DuckDB vs a bare DuckDB script doing the same COPY + INSERT SELECT.
//
//   npm run build && npx tsx bench/loader.ts            (scale 1: 1.5M orders, 150k customers)
//   BENCH_SCALE=0.1 BENCH_ROUNDS=3 npx tsx bench/loader.ts
//
// Data: the project's generator through @batchline/pipeline's demoDataset (two batches: the second brings
// late customers, the rest of the orders and re-sent lines), written once as headerless Firehose-sized
// objects under bench/.data/ (git-ignored). Both sides read the same files, create the same tables
// (sql/duckdb/setup.sql) and run the same transform text (sql/common/transform.sql), each in a fresh
// database file. The bare side reads all of a batch's files in one read_csv and does nothing else;
// the loader adds reject capture, per-file record numbers, checks, per-file reconciliation, transactions and
// audit rows, and loads orders and customers concurrently as the pipeline does (the bare script: one after the
// other). Rounds alternate loader and bare; the machine's other load moves single rounds, so the median
// per-round ratio is the figure to quote.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance } from '@duckdb/node-api';
import { demoBatchIds, demoDataset } from '@batchline/pipeline/demo';
import { openWarehouse, type BatchFile, type Entity } from '@batchline/snowflake-loader';

const SCALE = Number(process.env.BENCH_SCALE ?? '1');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '2');
const RECORDS_PER_OBJECT = 250_000; // ~25 MB objects, the size a 5-minute Firehose buffer flushes
const ROOT = path.resolve(import.meta.dirname, '.data', `loader-scale-${SCALE}`);
const SQL = path.resolve(import.meta.dirname, '..', 'sql');

type Row = Record<string, string | number>;
interface BatchFiles {
  batchId: string;
  files: Record<Entity, BatchFile[]>;
}

function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

async function writeObjects(entity: Entity, batchId: string, rows: readonly Row[]): Promise<BatchFile[]> {
  const files: BatchFile[] = [];
  for (let part = 0; part * RECORDS_PER_OBJECT < rows.length || (part === 0 && rows.length === 0); part++) {
    const slice = rows.slice(part * RECORDS_PER_OBJECT, (part + 1) * RECORDS_PER_OBJECT);
    const relPath = `2026/01/01/00/${entity}-stream-1-2026-01-01-00-00-${String(part).padStart(2, '0')}`;
    const key = `${entity}/processing/${batchId}/${relPath}`;
    const file = path.join(ROOT, key);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, slice.map((r) => `${Object.values(r).map(csvField).join(',')}\n`).join(''));
    files.push({ path: relPath, key, size: (await stat(file)).size });
    if (slice.length === 0) break;
  }
  return files;
}

async function prepare(): Promise<BatchFiles[]> {
  const manifest = path.join(ROOT, 'manifest.json');
  if (existsSync(manifest)) return JSON.parse(await readFile(manifest, 'utf8')) as BatchFiles[];
  console.log(`generating scale ${SCALE} with the project's generator ...`);
  const data = demoDataset(SCALE);
  const ids = demoBatchIds();
  const batches: BatchFiles[] = [];
  for (const [i, part] of [data.batch1, data.batch2].entries()) {
    const batchId = ids[i]!;
    batches.push({
      batchId,
      files: {
        orders: await writeObjects('orders', batchId, part.orders as unknown as Row[]),
        customers: await writeObjects('customers', batchId, part.customers as unknown as Row[]),
      },
    });
  }
  await writeFile(manifest, JSON.stringify(batches));
  return batches;
}

const local = (key: string) => path.join(ROOT, key);

async function runLoader(batches: BatchFiles[], dbFile: string) {
  const wh = await openWarehouse(`duckdb://${dbFile}`, { files: { get: () => Promise.reject(new Error('in place only')), localPath: local } });
  await wh.setup();
  const started = performance.now();
  let curated = 0;
  let loadMs = 0;
  for (const { batchId, files } of batches) {
    const id = batchId as Parameters<typeof wh.transform>[0];
    const t = performance.now();
    await Promise.all((['orders', 'customers'] as const).map((entity) => wh.load({ entity, batchId: id, files: files[entity] })));
    loadMs += performance.now() - t;
    curated += (await wh.transform(id)).curatedRows;
  }
  const ms = performance.now() - started;
  await wh.close();
  return { ms, loadMs, curated };
}

function statements(file: string, batchId?: string): string[] {
  return file
    .replace(/\{\{BATCH_ID\}\}/g, batchId ?? '')
    .split('\n')
    .filter((l) => !l.trim().startsWith('--'))
    .join('\n')
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}

const COLUMNS: Record<Entity, string> = {
  orders:
    "{'O_ORDERKEY': 'BIGINT', 'O_CUSTKEY': 'BIGINT', 'O_ORDERSTATUS': 'VARCHAR', 'O_TOTALPRICE': 'DECIMAL(12,2)', 'O_ORDERDATE': 'DATE', 'O_ORDERPRIORITY': 'VARCHAR', 'O_CLERK': 'VARCHAR', 'O_SHIPPRIORITY': 'INTEGER', 'O_COMMENT': 'VARCHAR'}",
  customers:
    "{'C_CUSTKEY': 'BIGINT', 'C_NAME': 'VARCHAR', 'C_ADDRESS': 'VARCHAR', 'C_NATIONKEY': 'BIGINT', 'C_PHONE': 'VARCHAR', 'C_ACCTBAL': 'DECIMAL(12,2)', 'C_MKTSEGMENT': 'VARCHAR', 'C_COMMENT': 'VARCHAR'}",
};
const TABLE: Record<Entity, string> = { orders: 'ORDERS_RAW', customers: 'CUSTOMERS_RAW' };

/** What one would write by hand: one read_csv per batch and entity, then the same transform text. */
async function runBare(batches: BatchFiles[], dbFile: string) {
  const instance = await DuckDBInstance.create(dbFile);
  const connection = await instance.connect();
  for (const s of statements(await readFile(path.join(SQL, 'duckdb', 'setup.sql'), 'utf8'))) await connection.run(s);
  const transform = await readFile(path.join(SQL, 'common', 'transform.sql'), 'utf8');
  const started = performance.now();
  let curated = 0;
  let loadMs = 0;
  for (const { batchId, files } of batches) {
    const t = performance.now();
    for (const entity of ['orders', 'customers'] as const) {
      const list = files[entity].map((f) => `'${local(f.key)}'`).join(', ');
      await connection.run(
        `INSERT INTO ${TABLE[entity]} SELECT * EXCLUDE (filename), '${batchId}', filename, ROW_NUMBER() OVER (), CURRENT_TIMESTAMP FROM read_csv([${list}], columns = ${COLUMNS[entity]}, header = false, auto_detect = false, delim = ',', quote = '"', escape = '"', dateformat = '%Y-%m-%d', filename = true)`,
      );
    }
    loadMs += performance.now() - t;
    for (const s of statements(transform, batchId)) await connection.run(s);
    const reader = await connection.runAndReadAll(`SELECT COUNT(*) AS N FROM ORDER_CUSTOMER_DATE_PRICE WHERE BATCH_ID = '${batchId}'`);
    curated += Number(reader.getRowObjectsJson()[0]!.N);
  }
  const ms = performance.now() - started;
  connection.closeSync();
  instance.closeSync();
  return { ms, loadMs, curated };
}

async function fresh(name: string): Promise<string> {
  const file = path.join(ROOT, name);
  await rm(file, { force: true });
  await rm(`${file}.wal`, { force: true });
  return file;
}

const batches = await prepare();
const orders = batches.reduce((n, b) => n + b.files.orders.length, 0);
console.log(`scale ${SCALE}: ${batches.length} batches, ${orders} order objects, ${cpus().length} cores`);
const loaderTimes: number[] = [];
const bareTimes: number[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  const l = await runLoader(batches, await fresh('loader.duckdb'));
  const b = await runBare(batches, await fresh('bare.duckdb'));
  if (l.curated !== b.curated) throw new Error(`curated rows differ: loader ${l.curated}, bare ${b.curated}`);
  loaderTimes.push(l.ms);
  bareTimes.push(b.ms);
  const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(
    `round ${round}: loader ${sec(l.ms)} (load ${sec(l.loadMs)}, transform ${sec(l.ms - l.loadMs)}), ` +
      `bare DuckDB ${sec(b.ms)} (load ${sec(b.loadMs)}, transform ${sec(b.ms - b.loadMs)}), ratio ${(l.ms / b.ms).toFixed(2)}x (${l.curated} curated rows)`,
  );
}
const best = (xs: number[]) => Math.min(...xs);
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const ratios = loaderTimes.map((l, i) => l / bareTimes[i]!);
console.log(
  `best of ${ROUNDS}: loader ${(best(loaderTimes) / 1000).toFixed(2)} s, bare DuckDB ${(best(bareTimes) / 1000).toFixed(2)} s, ratio ${(best(loaderTimes) / best(bareTimes)).toFixed(2)}x`,
);
console.log(
  `median of ${ROUNDS}: loader ${(median(loaderTimes) / 1000).toFixed(2)} s, bare DuckDB ${(median(bareTimes) / 1000).toFixed(2)} s, ` +
    `median per-round ratio ${median(ratios).toFixed(2)}x (target <= 1.25x)`,
);
