import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { stringify } from 'csv-stringify/sync';

/**
 * Deterministic TPC-H-shaped sample data. DuckDB's tpch extension cannot be
 * downloaded everywhere, so batchline carries its own generator. At scale 1 it
 * yields TPC-H's cardinalities: 150,000 customers and 1,500,000 orders.
 */

export const ORDER_COLUMNS = [
  'O_ORDERKEY',
  'O_CUSTKEY',
  'O_ORDERSTATUS',
  'O_TOTALPRICE',
  'O_ORDERDATE',
  'O_ORDERPRIORITY',
  'O_CLERK',
  'O_SHIPPRIORITY',
  'O_COMMENT',
] as const;

export const CUSTOMER_COLUMNS = [
  'C_CUSTKEY',
  'C_NAME',
  'C_ADDRESS',
  'C_NATIONKEY',
  'C_PHONE',
  'C_ACCTBAL',
  'C_MKTSEGMENT',
  'C_COMMENT',
] as const;

export interface OrderRow {
  O_ORDERKEY: number;
  O_CUSTKEY: number;
  O_ORDERSTATUS: 'F' | 'O' | 'P';
  /** Two decimals, as text, so no float rounding creeps into expected figures. */
  O_TOTALPRICE: string;
  /** YYYY-MM-DD */
  O_ORDERDATE: string;
  O_ORDERPRIORITY: string;
  O_CLERK: string;
  O_SHIPPRIORITY: number;
  O_COMMENT: string;
}

export interface CustomerRow {
  C_CUSTKEY: number;
  C_NAME: string;
  C_ADDRESS: string;
  C_NATIONKEY: number;
  C_PHONE: string;
  C_ACCTBAL: string;
  C_MKTSEGMENT: string;
  C_COMMENT: string;
}

export interface SampleDataOptions {
  /** TPC-H scale factor; 1 = 150k customers, 1.5M orders. Default 0.01. */
  readonly scale?: number;
  /** PRNG seed; the same seed and scale always give the same rows. Default 1. */
  readonly seed?: number;
  /** Comments sometimes carry commas, quotes and (rarely) a newline, as real free text does. Default true. */
  readonly awkwardText?: boolean;
}

export interface SampleData {
  readonly orders: OrderRow[];
  readonly customers: CustomerRow[];
}

const SEGMENTS = ['AUTOMOBILE', 'BUILDING', 'FURNITURE', 'MACHINERY', 'HOUSEHOLD'];
const PRIORITIES = ['1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW'];
const WORDS = [
  'furiously', 'quickly', 'carefully', 'blithely', 'slyly', 'regular', 'express', 'final', 'pending', 'ironic',
  'deposits', 'accounts', 'packages', 'requests', 'theodolites', 'pinto beans', 'instructions', 'foxes', 'ideas', 'dependencies',
];
const ADDRESS_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ';
const START_DATE = Date.UTC(1992, 0, 1);
// TPC-H order dates run from 1992-01-01 to 1998-08-02: 2405 days.
const ORDER_DATE_SPAN_DAYS = 2405;
const DAY_MS = 86_400_000;

/** mulberry32: small, fast, and fully determined by its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function checkOptions(options: SampleDataOptions): Required<SampleDataOptions> {
  const scale = options.scale ?? 0.01;
  const seed = options.seed ?? 1;
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0 || scale > 100) {
    throw new RangeError(`Invalid scale ${JSON.stringify(scale)}: expected a number > 0 and <= 100 (1 = 1.5M orders)`);
  }
  if (!Number.isSafeInteger(seed)) throw new RangeError(`Invalid seed ${JSON.stringify(seed)}: expected an integer`);
  return { scale, seed, awkwardText: options.awkwardText ?? true };
}

export function sampleSizes(options: SampleDataOptions = {}): { customers: number; orders: number } {
  const { scale } = checkOptions(options);
  return { customers: Math.max(1, Math.round(150_000 * scale)), orders: Math.max(1, Math.round(1_500_000 * scale)) };
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

function int(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

function cents(value: number): string {
  const negative = value < 0;
  const abs = Math.abs(value);
  const text = `${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
  return negative ? `-${text}` : text;
}

function comment(rand: () => number, awkward: boolean): string {
  const n = int(rand, 3, 9);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(pick(rand, WORDS));
  let text = words.join(' ');
  if (awkward) {
    const r = rand();
    if (r < 0.2) text = text.replace(' ', ', ');
    else if (r < 0.25) text = `${text} "sic"`;
    else if (r < 0.252) text = text.replace(' ', '\n');
  }
  return text;
}

/** Customers 1..N, in key order. */
export function* customerRows(options: SampleDataOptions = {}): Generator<CustomerRow> {
  const opts = checkOptions(options);
  const { customers } = sampleSizes(opts);
  const rand = prng(opts.seed * 2 + 1);
  for (let key = 1; key <= customers; key++) {
    const nation = int(rand, 0, 24);
    let address = '';
    const len = int(rand, 10, 40);
    for (let i = 0; i < len; i++) address += ADDRESS_CHARS[Math.floor(rand() * ADDRESS_CHARS.length)];
    yield {
      C_CUSTKEY: key,
      C_NAME: `Customer#${String(key).padStart(9, '0')}`,
      C_ADDRESS: address.trim() || 'x',
      C_NATIONKEY: nation,
      C_PHONE: `${nation + 10}-${int(rand, 100, 999)}-${int(rand, 100, 999)}-${int(rand, 1000, 9999)}`,
      C_ACCTBAL: cents(int(rand, -99_999, 999_999)),
      C_MKTSEGMENT: pick(rand, SEGMENTS),
      C_COMMENT: comment(rand, opts.awkwardText),
    };
  }
}

/**
 * Orders 1..N, in key order. As in TPC-H, a third of the customers (keys divisible
 * by 3) never order, and status is F ~49%, O ~49%, P ~2%.
 */
export function* orderRows(options: SampleDataOptions = {}): Generator<OrderRow> {
  const opts = checkOptions(options);
  const { customers, orders } = sampleSizes(opts);
  const rand = prng(opts.seed * 2 + 2);
  const clerks = Math.max(1, Math.round(1000 * opts.scale));
  for (let key = 1; key <= orders; key++) {
    let custkey = int(rand, 1, customers);
    if (custkey % 3 === 0 && customers > 2) custkey = custkey === customers ? custkey - 1 : custkey + 1;
    const s = rand();
    const status = s < 0.487 ? 'F' : s < 0.975 ? 'O' : 'P';
    const date = new Date(START_DATE + int(rand, 0, ORDER_DATE_SPAN_DAYS) * DAY_MS).toISOString().slice(0, 10);
    yield {
      O_ORDERKEY: key,
      O_CUSTKEY: custkey,
      O_ORDERSTATUS: status,
      O_TOTALPRICE: cents(int(rand, 85_000, 55_000_000)),
      O_ORDERDATE: date,
      O_ORDERPRIORITY: pick(rand, PRIORITIES),
      O_CLERK: `Clerk#${String(int(rand, 1, clerks)).padStart(9, '0')}`,
      O_SHIPPRIORITY: 0,
      O_COMMENT: comment(rand, opts.awkwardText),
    };
  }
}

/** All rows in memory: fine for demo scales; use the generators or writeSampleCsv at scale 1. */
export function generateSampleData(options: SampleDataOptions = {}): SampleData {
  return { orders: [...orderRows(options)], customers: [...customerRows(options)] };
}

export type SampleEntity = 'orders' | 'customers';

const COLUMNS: Record<SampleEntity, readonly string[]> = { orders: ORDER_COLUMNS, customers: CUSTOMER_COLUMNS };

/** Render rows as RFC 4180 CSV (LF line ends), with or without the header line. */
export function toCsv(entity: SampleEntity, rows: readonly (OrderRow | CustomerRow)[], options: { header?: boolean } = {}): string {
  return stringify(rows as unknown as Record<string, unknown>[], {
    header: options.header ?? false,
    columns: [...COLUMNS[entity]],
    record_delimiter: '\n',
  });
}

/**
 * Stream one entity's rows into a CSV file with a header, in chunks, so scale 1
 * never holds all rows at once. Returns the number of data rows written.
 */
export async function writeSampleCsv(file: string, entity: SampleEntity, options: SampleDataOptions = {}): Promise<number> {
  await mkdir(path.dirname(file), { recursive: true });
  const out = createWriteStream(file);
  const rows = entity === 'orders' ? orderRows(options) : customerRows(options);
  let count = 0;
  let chunk: (OrderRow | CustomerRow)[] = [];
  const flush = async (header: boolean) => {
    if (!out.write(toCsv(entity, chunk, { header }))) await once(out, 'drain');
    chunk = [];
  };
  let first = true;
  for (const row of rows) {
    chunk.push(row);
    count++;
    if (chunk.length === 10_000) {
      await flush(first);
      first = false;
    }
  }
  if (chunk.length > 0 || first) await flush(first);
  out.end();
  await once(out, 'finish');
  return count;
}
