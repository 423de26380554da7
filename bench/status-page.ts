// Bench: the status page for 500 batches (and 100, 2,000) — rendering it in Node and drawing it in Chromium —
// against peers measured in the same run.
//
//   npm run bench:status-page          (needs Debian's chromium: apt-get install chromium, or BATCHLINE_CHROMIUM)
//
// Data: synthetic page data built from BATCH_AUDIT-shaped rows through the page's own statusPageData() (every
// task with start/end times, some failed, retried, running or waiting), so the figures are the page's, not
// the warehouse's. Peers: in Node, `batchline status`'s table (renderStatus) for the same batches; in Chromium,
// a bare HTML page with the same batches x tasks as a plain table (no style, no SVG, no script). "Drawn" is
// the time from navigation start to the first animation frame after the load event (layout and paint done).
// Each figure is the median of ROUNDS; the ratio is page / peer.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { toBatchId, type BatchId } from '@batchline/batch-id';
import type { TaskAudit } from '@batchline/snowflake-loader';
import { TASK_NAMES, type PipelineStatus, renderStatus, renderStatusPage, statusPageData } from '@batchline/pipeline';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '5');
const SIZES = (process.env.BENCH_BATCHES ?? '100,500,2000').split(',').map(Number);
const DIR = path.resolve(import.meta.dirname, '.data', 'status-page');
const CHROMIUM = process.env.BATCHLINE_CHROMIUM ?? '/usr/bin/chromium';

/** Deterministic pseudo-random numbers (mulberry32), so every run draws the same batches. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function batchIdAt(ms: number): BatchId {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return toBatchId(`${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}T${p(d.getUTCHours())}${p(d.getUTCMinutes())}`);
}

function synthetic(n: number): { status: PipelineStatus; audits: Map<string, TaskAudit[]> } {
  const rand = prng(n);
  const first = Date.UTC(2026, 10, 1);
  const audits = new Map<string, TaskAudit[]>();
  const batches: PipelineStatus['batches'][number][] = [];
  let pending = 0;
  for (let i = n - 1; i >= 0; i--) {
    const batchId = batchIdAt(first + i * 15 * 60_000);
    const start = first + i * 15 * 60_000 + 60_000;
    const fail = rand() < 0.04 ? 1 + Math.floor(rand() * 6) : -1; // the task index that failed, if any
    const rows: TaskAudit[] = [];
    let clock = start;
    TASK_NAMES.forEach((task, t) => {
      if (fail >= 0 && t > fail) return; // after a failure nothing starts: waiting
      const retried = rand() < 0.05;
      const attempts = retried ? [{ attempt: 1, state: 'failed' as const, startedAt: new Date(clock), finishedAt: new Date(clock + 800), error: 'Snowflake statement failed: 503' }] : [];
      if (retried) clock += 2_000;
      const took = 200 + Math.floor(rand() * 8_000);
      const orphans = Math.floor(rand() * 30);
      const late = Math.min(pending, Math.floor(rand() * 30));
      if (task === 'transform' && t !== fail) pending += orphans - late;
      rows.push({
        batchId,
        task,
        state: t === fail ? 'failed' : 'succeeded',
        attempt: retried ? 2 : 1,
        startedAt: new Date(clock),
        finishedAt: new Date(clock + took),
        ...(task.startsWith('claim') || task.startsWith('archive') ? { files: 1 + Math.floor(rand() * 20) } : {}),
        ...(task.startsWith('load') ? { files: 1 + Math.floor(rand() * 20), rows: Math.floor(rand() * 200_000), rejected: rand() < 0.1 ? 3 : 0 } : {}),
        ...(task === 'transform' ? { rows: Math.floor(rand() * 50_000), duplicates: Math.floor(rand() * 40), orphans, late, pendingOrphans: pending } : {}),
        ...(t === fail ? { error: 'Conversion Error: could not convert "12,5" to DECIMAL(12,2) in orders/landing/2026/11/01/00/orders-1-...' } : {}),
        ...(attempts.length > 0 ? { attempts } : {}),
      });
      clock += took;
    });
    audits.set(batchId, rows);
    const tasks = Object.fromEntries(rows.map((r) => [r.task, r.state]));
    batches.unshift({
      batchId,
      entities: { orders: 'archived (3 files)', customers: 'archived (1 files)' },
      tasks,
      state: fail >= 0 ? `failed at ${TASK_NAMES[fail]}` : 'done',
    });
  }
  return { status: { landing: { orders: { files: 4, bytes: 9_000_000 }, customers: { files: 1, bytes: 20_000 } }, batches }, audits };
}

/** The browser peer: the same grid as a bare table. */
function barePage(status: PipelineStatus): string {
  const rows = status.batches.map((b) => `<tr><th>${b.batchId}</th>${TASK_NAMES.map((t) => `<td>${b.tasks?.[t] ?? 'waiting'}</td>`).join('')}</tr>`);
  return `<!doctype html><html><head><meta charset="utf-8"><title>bare</title></head><body><table>${rows.join('')}</table></body></html>`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => unknown): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

const fmt = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;

async function main(): Promise<void> {
  await mkdir(DIR, { recursive: true });
  console.log(`status page bench: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${ROUNDS} rounds, medians`);
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  try {
    for (const n of SIZES) {
      const { status, audits } = synthetic(n);
      const now = new Date(Date.UTC(2026, 11, 1));
      const build = () => renderStatusPage(statusPageData({ status, audits, store: 's3://bucket/firehose/', warehouse: 'snowflake://org-acct/DB/SCHEMA', now }));
      const html = build();
      const pageFile = path.join(DIR, `page-${n}.html`);
      const bareFile = path.join(DIR, `bare-${n}.html`);
      await writeFile(pageFile, html);
      await writeFile(bareFile, barePage(status));
      const node: number[] = [];
      const table: number[] = [];
      const drawn: number[] = [];
      const bare: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        node.push(time(build));
        table.push(time(() => renderStatus(status, false)));
        for (const [file, into] of [
          [pageFile, drawn],
          [bareFile, bare],
        ] as const) {
          const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
          await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
          into.push(await page.evaluate(() => new Promise<number>((resolve) => requestAnimationFrame(() => resolve(performance.now())))));
          await page.close();
        }
      }
      const ratio = (a: number[], b: number[]) => (median(a) / median(b)).toFixed(1);
      console.log(
        `${String(n).padStart(5)} batches: page ${(html.length / 1024).toFixed(0)} KiB | ` +
          `Node render ${fmt(median(node))} vs status table ${fmt(median(table))} (x${ratio(node, table)}) | ` +
          `Chromium drawn ${fmt(median(drawn))} vs bare table ${fmt(median(bare))} (x${ratio(drawn, bare)})`,
      );
    }
  } finally {
    await browser.close();
    await rm(DIR, { recursive: true, force: true });
  }
}

await main();
