import { existsSync } from 'node:fs';
import Table from 'cli-table3';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BatchId, batchIdForSchedule, slotsBetween } from '@batchline/batch-id';
import { createLandingSink, createProducer, type ProducerMetrics } from '@batchline/kinesis-producer';
import { createBatchLifecycle, openObjectStore } from '@batchline/s3-lifecycle';
import type { CliIo, DemoCliOptions } from './cli-program.js';
import { EXIT } from './cli-program.js';
import { type CustomerRow, type OrderRow, generateSampleData, toCsv } from './sample-data.js';
import { progressPrinter } from './progress.js';
import { type RunReport, formatDuration, renderReport } from './report.js';
import { runBatch } from './run-batch.js';
import type { Warehouse } from '@batchline/snowflake-loader';

/**
 * The demo's clock is pinned: its two batches are the two cron slots after this
 * instant, so a second `npm start` names the same batches and finds them done
 * instead of creating new ones (which would re-send the same sample data).
 */
export const DEMO_CRON = '*/15 * * * *';
export const DEMO_CLOCK = new Date('2026-01-01T00:07:00Z');

export function demoBatchIds(): [BatchId, BatchId] {
  const first = batchIdForSchedule(DEMO_CRON, DEMO_CLOCK);
  const [, second] = slotsBetween(DEMO_CRON, first, batchIdForSchedule(DEMO_CRON, new Date(DEMO_CLOCK.getTime() + 15 * 60_000)));
  return [first, second!];
}

export interface DemoPart {
  readonly orders: OrderRow[];
  readonly customers: CustomerRow[];
}

export interface DemoDataset {
  /** Batch 1: every customer but the late ones, 90% of the orders (some belong to late customers). */
  readonly batch1: DemoPart;
  /** Batch 2: the late customers, the remaining orders, and some batch-1 order lines sent again. */
  readonly batch2: DemoPart;
  readonly lateCustomerKeys: readonly number[];
  readonly resentOrderKeys: readonly number[];
}

/**
 * Split the deterministic sample into the demo's two batches. Late customers are
 * the first few customers with a fulfilled order in batch 1, so that order is an
 * orphan until batch 2 brings its customer.
 */
export function demoDataset(scale: number, seed = 1): DemoDataset {
  const { orders, customers } = generateSampleData({ scale, seed });
  const cut = Math.max(1, Math.floor(orders.length * 0.9));
  const firstOrders = orders.slice(0, cut);
  const laterOrders = orders.slice(cut);
  const lateWanted = Math.max(1, Math.min(3, Math.floor(customers.length / 100)));
  const late: number[] = [];
  for (const o of firstOrders) {
    if (late.length === lateWanted) break;
    if (o.O_ORDERSTATUS === 'F' && !late.includes(o.O_CUSTKEY)) late.push(o.O_CUSTKEY);
  }
  const lateSet = new Set(late);
  // Re-sent lines: every 250th order of batch 1 (at least two), as a producer retry would re-send them.
  const step = Math.max(1, Math.min(250, Math.floor(firstOrders.length / 2)));
  const resent = firstOrders.filter((_, i) => i % step === step - 1);
  return {
    batch1: { orders: firstOrders, customers: customers.filter((c) => !lateSet.has(c.C_CUSTKEY)) },
    batch2: { orders: [...laterOrders, ...resent], customers: customers.filter((c) => lateSet.has(c.C_CUSTKEY)) },
    lateCustomerKeys: late,
    resentOrderKeys: resent.map((o) => o.O_ORDERKEY),
  };
}

export interface DemoPaths {
  readonly dir: string;
  readonly input: string;
  readonly bucket: string;
  readonly warehouseFile: string;
  readonly producerState: string;
}

export function demoPaths(baseDir: string, scale: number): DemoPaths {
  // One directory per scale: a second run at another scale must not mix its data into the first.
  const dir = path.resolve(baseDir, `scale-${scale}`);
  return {
    dir,
    input: path.join(dir, 'input'),
    bucket: path.join(dir, 'bucket'),
    warehouseFile: path.join(dir, 'warehouse.duckdb'),
    producerState: path.join(dir, 'producer'),
  };
}

/** Write a file once: an existing input is left alone, since the producer's checkpoint points into it. */
async function writeOnce(file: string, text: string): Promise<boolean> {
  if (existsSync(file)) return false;
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
  return true;
}

export interface DemoResult {
  readonly batches: readonly { readonly batchId: BatchId; readonly produced: ProducerMetrics; readonly report: RunReport }[];
  readonly paths: DemoPaths;
  readonly store: string;
  readonly warehouse: string;
  readonly dataset: DemoDataset;
}

export interface DemoOptions {
  readonly scale?: number;
  /** Base directory; the demo uses `<dir>/scale-<scale>/`. Default `.batchline/demo`. */
  readonly dir?: string;
  /** A URL or an open Warehouse (the caller sets it up and closes it). Default: a DuckDB file in the demo directory. */
  readonly warehouse?: string | Warehouse;
  /** How to name an open Warehouse in the summary. */
  readonly warehouseLabel?: string;
  /** Size at which the landing sink writes an object (Firehose's buffering hint). Default 1 MiB, Firehose's minimum. */
  readonly landingObjectBytes?: number;
  readonly onLine?: (line: string) => void;
}

/** Generate, produce, and run the demo's two batches. Safe to repeat: a second call finds both batches done. */
export async function demo(options: DemoOptions = {}): Promise<DemoResult> {
  const scale = options.scale ?? 0.01;
  const paths = demoPaths(options.dir ?? '.batchline/demo', scale);
  const say = options.onLine ?? (() => undefined);
  const dataset = demoDataset(scale);
  const store = openObjectStore(pathToFileURL(paths.bucket).href);
  const warehouse = options.warehouse ?? `duckdb://${paths.warehouseFile}`;
  const warehouseLabel = typeof warehouse === 'string' ? warehouse : (options.warehouseLabel ?? warehouse.engine);
  const batchIds = demoBatchIds();
  const parts = [dataset.batch1, dataset.batch2];
  const batches: DemoResult['batches'][number][] = [];

  for (const [i, batchId] of batchIds.entries()) {
    const produced = await produceDemoPart({ paths, part: parts[i]!, index: i + 1, landingObjectBytes: options.landingObjectBytes, say });
    say(`running batch ${batchId}`);
    // The demo wrote every landing file itself and they are complete: nothing to let settle.
    const report = await runBatch({ store, warehouse, batchId, settleSeconds: 0, onEvent: progressPrinter((line) => say(`  ${line}`)) });
    batches.push({ batchId, produced, report });
    if (report.status !== 'succeeded') break;
  }
  return { batches, paths, store: store.location, warehouse: warehouseLabel, dataset };
}

/**
 * Write one demo part as CSV files (once) and stream them with the producer (drain mode) into
 * Firehose-shaped objects under each entity's landing/ prefix. The checkpoint makes a repeat send nothing.
 */
export async function produceDemoPart(input: {
  paths: DemoPaths;
  part: DemoPart;
  index: number;
  landingObjectBytes?: number | undefined;
  say?: (line: string) => void;
}): Promise<ProducerMetrics> {
  const { paths, part, index } = input;
  const say = input.say ?? (() => undefined);
  const store = openObjectStore(pathToFileURL(paths.bucket).href);
  const lifecycle = createBatchLifecycle(store);
  const partDir = path.join(paths.input, `batch-${index}`);
  const files = { orders: path.join(partDir, 'orders.csv'), customers: path.join(partDir, 'customers.csv') };
  const wroteOrders = await writeOnce(files.orders, toCsv('orders', part.orders, { header: true }));
  const wroteCustomers = await writeOnce(files.customers, toCsv('customers', part.customers, { header: true }));
  if (wroteOrders || wroteCustomers) {
    say(`wrote ${part.orders.length.toLocaleString('en-US')} orders and ${part.customers.length.toLocaleString('en-US')} customers to ${partDir}`);
  }
  const sink = createLandingSink({
    store,
    prefixes: { orders: lifecycle.landingPrefix('orders'), customers: lifecycle.landingPrefix('customers') },
    bufferSizeBytes: input.landingObjectBytes ?? 1024 * 1024,
  });
  const producer = createProducer({
    flows: (['orders', 'customers'] as const).map((entity) => ({
      filePattern: files[entity],
      deliveryStream: entity,
      skipHeaderLines: 1,
      initialPosition: 'START_OF_FILE' as const,
      // Small landing objects need small Firehose records too (a record never spans objects).
      ...(input.landingObjectBytes ? { aggregatedRecordSizeBytes: Math.min(1_000_000, Math.max(1024, Math.floor(input.landingObjectBytes / 4))) } : {}),
    })),
    sink,
    checkpointFile: path.join(paths.producerState, `batch-${index}.checkpoint.json`),
  });
  let produced: ProducerMetrics;
  try {
    produced = await producer.drain();
  } finally {
    await sink.close();
  }
  say(
    produced.recordsSent > 0
      ? `produced ${produced.recordsSent.toLocaleString('en-US')} records into ${store.location} (landing/)`
      : `producer: batch ${index} input already sent (checkpoint), nothing new`,
  );
  return produced;
}

/** A word a POSIX shell reads back unchanged: quoted only when it has to be. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The demo summary for humans: one line per batch, the story of the second batch, where the data lives. */
export function renderDemo(result: DemoResult): string {
  const n = (v: number | undefined) => (v === undefined ? '-' : v.toLocaleString('en-US'));
  const table = new Table({
    head: ['batch', 'status', 'orders files/rows', 'customers files/rows', 'rejected', 'curated rows', 'duplicates', 'new orphans', 'late counted', 'waiting', 'time'],
    style: { head: [], border: [] },
  });
  for (const { report: r } of result.batches) {
    const allSkipped = r.tasks.every((t) => t.state === 'skipped');
    table.push([
      r.batchId,
      allSkipped ? 'done before' : r.status,
      `${n(r.entities.orders.files)} / ${n(r.entities.orders.rowsLoaded)}`,
      `${n(r.entities.customers.files)} / ${n(r.entities.customers.rowsLoaded)}`,
      n((r.entities.orders.rowsRejected ?? 0) + (r.entities.customers.rowsRejected ?? 0)),
      n(r.curated.rows),
      n(r.curated.duplicates),
      n(r.curated.orphans),
      n(r.curated.late),
      n(r.curated.pendingOrphans),
      formatDuration(r.durationMs),
    ]);
  }
  const lines: string[] = [table.toString()];
  for (const { report } of result.batches) if (report.status !== 'succeeded') lines.push('', renderReport(report));
  const late = result.dataset.lateCustomerKeys.length;
  const resent = result.dataset.resentOrderKeys.length;
  lines.push(
    '',
    `Batch 2 carries ${late} late customer${late === 1 ? '' : 's'}: their fulfilled orders arrived in batch 1 without a customer`,
    `(new orphans), wait, and are counted in batch 2 (late counted). It also re-sends ${resent} order lines of batch 1;`,
    'the fulfilled ones among them are skipped as duplicates: every fulfilled order is counted exactly once.',
    '',
    'Where the data lives:',
    `  sample CSV input   ${result.paths.input}`,
    `  object store       ${result.store}  (<entity>/landing, processing/<BATCH_ID>, processed/<BATCH_ID>, _batchline/)`,
    `  warehouse          ${result.warehouse}  (ORDERS_RAW, CUSTOMERS_RAW, ORDER_CUSTOMER_DATE_PRICE, BATCH_AUDIT)`,
    `  producer state     ${result.paths.producerState}`,
    '',
    ...(result.warehouse.startsWith('duckdb://')
      ? [
          `Look around: npx batchline status --store ${result.store} --warehouse ${result.warehouse}`,
          `Status page (grid, charts, Gantt chart; one HTML file): npx batchline status --html ${shellWord(path.join(result.paths.dir, 'status.html'))} --store ${shellWord(result.store)} --warehouse ${shellWord(result.warehouse)}`,
          'Running the demo again is safe: both batches are found done and nothing is sent twice.',
        ]
      : []),
  );
  return lines.join('\n');
}

/** `batchline demo`, wired by the CLI entry. */
export async function runDemo(options: DemoCliOptions, io: CliIo): Promise<number> {
  const started = Date.now();
  const result = await demo({
    scale: options.scale,
    dir: path.resolve(io.cwd, options.dir),
    ...(options.warehouse ? { warehouse: options.warehouse } : {}),
    onLine: (line) => io.stderr(`${line}\n`),
  });
  const ok = result.batches.length === 2 && result.batches.every((b) => b.report.status === 'succeeded');
  if (options.json) io.stdout(`${JSON.stringify({ batches: result.batches.map((b) => b.report), store: result.store, warehouse: result.warehouse })}\n`);
  else io.stdout(`${renderDemo(result)}\ndemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return ok ? EXIT.ok : EXIT.failed;
}
