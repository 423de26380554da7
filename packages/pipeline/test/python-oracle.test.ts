import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoResult, demo } from '../src/demo.js';

// The curated table against an oracle in another language (Python's csv and decimal), reading the store's
// manifests and pinned files on its own: a shared misreading of the CSV or of the rules cannot hide here.
const ORACLE = fileURLToPath(new URL('./oracle/curated.py', import.meta.url));

let base: string;
let result: DemoResult;

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'batchline-oracle-'));
  result = await demo({ scale: 0.002, dir: base });
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

async function warehouseRows(file: string): Promise<string[]> {
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  try {
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll(
      `SELECT BATCH_ID, CUSTOMER_KEY::VARCHAR, to_json(CUSTOMER_NAME)::VARCHAR, strftime(ORDER_DATE, '%Y-%m-%d'),
              ORDER_TOTAL_PRICE::VARCHAR
         FROM ORDER_CUSTOMER_DATE_PRICE`,
    );
    connection.closeSync();
    return reader.getRows().map((row) => row.map(String).join('|'));
  } finally {
    instance.closeSync();
  }
}

describe('the curated table equals an independent Python oracle over the pinned files', () => {
  it('matches row for row after the demo batches', async () => {
    expect(result.batches.map((b) => b.report.status)).toEqual(['succeeded', 'succeeded']);
    const oracle = execFileSync('python3', [ORACLE, result.paths.bucket], { encoding: 'utf8' }).trim().split('\n');
    const actual = (await warehouseRows(result.paths.warehouseFile)).sort();
    expect(oracle.length).toBeGreaterThan(100);
    expect(actual).toEqual([...oracle].sort());
  });
});
