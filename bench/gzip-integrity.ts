// Bench: what the DuckDB engine's gzip integrity check (issue 11: a truncated or corrupt gzip object is refused
// whole) adds to a load. The check decompresses each gzip batch file to its end before the load; the peer is
// DuckDB reading the same file (read_csv of the gzip object, COUNT(*)), which every load does anyway.
//
//   npx tsx bench/gzip-integrity.ts                 (4 objects of 250,000 order records, 3 rounds)
//   BENCH_OBJECTS=8 BENCH_ROUNDS=5 npx tsx bench/gzip-integrity.ts
//
// Prints per round: check time, DuckDB scan time and their ratio; then the median ratio (the figure to quote,
// since other load on the machine moves single rounds).
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';

const OBJECTS = Number(process.env.BENCH_OBJECTS ?? '4');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '3');
const RECORDS = 250_000;
const ROOT = path.resolve(import.meta.dirname, '.data', 'gzip-integrity');

async function files(): Promise<string[]> {
  await mkdir(ROOT, { recursive: true });
  const out: string[] = [];
  for (let i = 0; i < OBJECTS; i++) {
    const file = path.join(ROOT, `orders-${i}.gz`);
    if (!existsSync(file)) {
      const lines: string[] = [];
      for (let r = 0; r < RECORDS; r++) {
        const key = i * RECORDS + r;
        lines.push(`${key},${key % 150_000},F,${(key % 50_000) + 0.25},2024-01-${String((key % 28) + 1).padStart(2, '0')},1-URGENT,Clerk#${key % 1000},0,comment ${key}\n`);
      }
      await writeFile(file, gzipSync(lines.join('')));
    }
    out.push(file);
  }
  return out;
}

/** The check the loader runs (adapters/duckdb/batch-files.ts): stream through gunzip to the end. */
async function check(file: string): Promise<void> {
  await pipeline(createReadStream(file), createGunzip(), async function discard(chunks: AsyncIterable<Buffer>) {
    for await (const chunk of chunks) void chunk;
  });
}

const objects = await files();
const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
const ratios: number[] = [];
console.log(`${OBJECTS} gzip objects of ${RECORDS.toLocaleString('en-US')} records; ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
for (let round = 1; round <= ROUNDS; round++) {
  let t = performance.now();
  // Four at a time, as the loader prepares files.
  for (let i = 0; i < objects.length; i += 4) await Promise.all(objects.slice(i, i + 4).map(check));
  const checkMs = performance.now() - t;
  t = performance.now();
  const list = objects.map((f) => `'${f}'`).join(', ');
  await conn.runAndReadAll(`SELECT COUNT(*) FROM read_csv([${list}], header = false, compression = 'gzip', all_varchar = true)`);
  const scanMs = performance.now() - t;
  ratios.push(checkMs / scanMs);
  console.log(`round ${round}: check ${checkMs.toFixed(0)} ms, DuckDB scan ${scanMs.toFixed(0)} ms, check/scan ${(checkMs / scanMs).toFixed(2)}`);
}
ratios.sort((a, b) => a - b);
console.log(`median check/scan: ${ratios[Math.floor(ratios.length / 2)]!.toFixed(2)}`);
conn.closeSync();
db.closeSync();
