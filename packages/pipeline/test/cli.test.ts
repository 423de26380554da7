import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatchLifecycle, openObjectStore } from '@batchline/s3-lifecycle';
import type { RunReport } from '../src/report.js';
import { toCsv } from '../src/sample-data.js';
import { demoDataset } from '../src/demo.js';
import { runCli, startCli } from './cli-helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'batchline-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fresh store and warehouse with one landing file per entity (headerless CSV, as Firehose delivers). */
async function workspace(name: string) {
  const root = path.join(dir, name);
  const bucket = path.join(root, 'bucket');
  const store = pathToFileURL(bucket).href;
  const warehouse = `duckdb://${path.join(root, 'w.duckdb')}`;
  const data = demoDataset(0.001);
  const lifecycle = createBatchLifecycle(openObjectStore(store));
  await lifecycle.store.put(`${lifecycle.landingPrefix('orders')}2026/01/01/00/orders-1`, toCsv('orders', data.batch1.orders));
  await lifecycle.store.put(`${lifecycle.landingPrefix('customers')}2026/01/01/00/customers-1`, toCsv('customers', data.batch1.customers));
  return { root, bucket, store, warehouse, data, flags: ['--store', store, '--warehouse', warehouse] };
}

describe('batchline CLI', () => {
  it.each([[[]], [['run']], [['replay']], [['status']], [['setup']], [['plan']], [['demo']], [['produce']]])('%j --help prints usage', async (args) => {
    const r = await runCli([...args, '--help'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: batchline/);
  });

  describe.concurrent('bad --batch values are rejected before any I/O', () => {
    const values = ["2026'; DROP TABLE x; --", '../x', '', '20261126T0315 ', '20261301T0000', '20261126T0315/../../etc'];
    // Every value on `run`; the other commands share the same parser, checked with two values each.
    const cases = [...values.map((v) => ['run', v] as const), ...['replay', 'status', 'plan'].flatMap((cmd) => [[cmd, values[0]!] as const, [cmd, values[1]!] as const])];
    it.each(cases)('%s --batch %j', async (cmd, value) => {
      const root = path.join(dir, 'untouched');
      const bucket = path.join(root, 'bucket');
      const duck = path.join(root, 'w.duckdb');
      const r = await runCli([cmd, '--batch', value, '--store', pathToFileURL(bucket).href, '--warehouse', `duckdb://${duck}`], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`Invalid batch id ${JSON.stringify(value)}`);
      expect(r.stderr).toContain('expected YYYYMMDDTHHMM in UTC');
      expect(existsSync(bucket)).toBe(false);
      expect(existsSync(duck)).toBe(false);
      expect(existsSync(root)).toBe(false);
    });
  });

  it('names the bad config key and the expected shape', async () => {
    const r = await runCli(['run', '--batch', '20260101T0000', '--store', 'ftp://nope'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('store (--store): expected a store URL: file://<dir> or s3://<bucket>[/prefix]; got "ftp://nope"');
    const cfg = path.join(dir, 'bad.config.json');
    await writeFile(cfg, JSON.stringify({ tasks: { transform: { retries: 'many' } } }));
    const r2 = await runCli(['status', '--config', cfg], { cwd: dir });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/tasks\.transform\.retries: Invalid input: expected (int|number), received string/);
  });

  it('refuses the test hooks unless explicitly armed', async () => {
    const r = await runCli(['plan'], { cwd: dir, env: { BATCHLINE_CRASH_AT: 'transform:during' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('test hooks and need BATCHLINE_TEST_HOOKS=1');
    const r2 = await runCli(['plan'], { cwd: dir, env: { BATCHLINE_TEST_HOOKS: '1', BATCHLINE_CRASH_AT: 'transform:sometime' } });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('expected <task>:<before|during|after>');
  });

  it('status shows files waiting in landing and, per batch, the task states', async () => {
    const ws = await workspace('status');
    const fresh = await runCli(['status', '--batch', '20260101T0000', ...ws.flags], { cwd: ws.root });
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stdout).toMatch(/orders\s+│ 1\s+│/);
    expect(fresh.stdout).toMatch(/20260101T0000 │ unknown batch/);
    const again = await runCli(['run', '--batch', '20260101T0000', ...ws.flags], { cwd: ws.root });
    expect(again.code, again.stderr + again.stdout).toBe(0);
    const after = await runCli(['status', '--json', ...ws.flags], { cwd: ws.root });
    const status = JSON.parse(after.stdout) as { landing: Record<string, { files: number }>; batches: { batchId: string; state: string; tasks: Record<string, string> }[] };
    expect(status.landing['orders']!.files).toBe(0);
    expect(status.batches).toHaveLength(1);
    expect(status.batches[0]).toMatchObject({ batchId: '20260101T0000', state: 'done' });
    expect(Object.values(status.batches[0]!.tasks)).toEqual(Array(7).fill('succeeded'));
  });

  it('run --json prints one machine-readable report on stdout, progress on stderr', async () => {
    const ws = await workspace('json');
    const r = await runCli(['run', '--batch', '20260101T0000', '--json', ...ws.flags], { cwd: ws.root });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as RunReport;
    expect(report.batchId).toBe('20260101T0000');
    expect(report.status).toBe('succeeded');
    expect(report.entities.orders).toEqual({ files: 1, rowsLoaded: ws.data.batch1.orders.length, rowsRejected: 0 });
    expect(report.entities.customers.rowsLoaded).toBe(ws.data.batch1.customers.length);
    expect(r.stderr).toContain('✓ load:orders');
    expect(r.stderr).toMatch(/orders claim: 1\/1 files/);
    // The table is for humans and goes to stdout only without --json.
    const again = await runCli(['run', '--batch', '20260101T0000', ...ws.flags], { cwd: ws.root });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('batch 20260101T0000: succeeded');
    expect(again.stdout).toMatch(/claim:orders\s+│ skipped/);
  });

  it('replay refuses a batch that never ran, and reruns one that did', async () => {
    const ws = await workspace('replay');
    const never = await runCli(['replay', '--batch', '20260101T0000', ...ws.flags], { cwd: ws.root });
    expect(never.code).toBe(2);
    expect(never.stderr).toContain('batch 20260101T0000 was never claimed');
    expect(await runCli(['run', '--batch', '20260101T0000', ...ws.flags], { cwd: ws.root })).toMatchObject({ code: 0 });
    const replay = await runCli(['replay', '--batch', '20260101T0000', '--json', ...ws.flags], { cwd: ws.root });
    expect(replay.code).toBe(0);
    const report = JSON.parse(replay.stdout) as RunReport;
    expect(report.forced).toBe(true);
    expect(report.tasks.map((t) => `${t.state}#${t.attempt}`)).toEqual(Array(7).fill('succeeded#2'));
  });

  it('run without --batch names the cron slot; plan prints it and sets job outputs in GitHub Actions', async () => {
    const plan = await runCli(['plan', '--cron', '0 */6 * * *', '--at', '2026-11-26T13:59:00Z'], { cwd: dir });
    expect(plan).toMatchObject({ code: 0, stdout: '20261126T1200\n' });
    const output = path.join(dir, 'gh-output');
    await writeFile(output, '');
    const gh = await runCli(['plan', '--batch', '20261126T0315', '--mode', 'replay'], { cwd: dir, env: { GITHUB_ACTIONS: 'true', GITHUB_OUTPUT: output } });
    expect(gh.code).toBe(0);
    const written = await readFile(output, 'utf8');
    expect(written).toMatch(/batch-id<<.*\n20261126T0315\n/);
    expect(written).toMatch(/mode<<.*\nreplay\n/);
    const noBatch = await runCli(['plan', '--mode', 'replay'], { cwd: dir });
    expect(noBatch.code).toBe(2);
    expect(noBatch.stderr).toContain('--mode replay needs --batch');
  });

  it('writes the job summary in GitHub Actions', async () => {
    const ws = await workspace('gha');
    const summary = path.join(ws.root, 'summary.md');
    const output = path.join(ws.root, 'output');
    await writeFile(summary, '');
    await writeFile(output, '');
    const r = await runCli(['run', '--batch', '20260101T0000', ...ws.flags], {
      cwd: ws.root,
      env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, GITHUB_OUTPUT: output },
    });
    expect(r.code).toBe(0);
    const md = await readFile(summary, 'utf8');
    expect(md).toContain('batchline batch 20260101T0000: succeeded');
    expect(md).toContain(`<td>orders</td><td>1</td><td>${ws.data.batch1.orders.length.toLocaleString('en-US')}</td><td>0</td>`);
    expect(md).toMatch(/<td>transform<\/td><td>succeeded<\/td><td>1<\/td><td>[\d.]+ m?s<\/td>/);
    expect(await readFile(output, 'utf8')).toMatch(/status<<.*\nsucceeded\n/);
  });

  it('one run per batch: a second run of a batch in progress exits 75 and says so', async () => {
    const ws = await workspace('concurrent');
    const gate = path.join(ws.root, 'gate');
    const first = startCli(['run', '--batch', '20260101T0000', ...ws.flags], {
      cwd: ws.root,
      env: { BATCHLINE_TEST_HOOKS: '1', BATCHLINE_PAUSE_AT: 'load:orders:before', BATCHLINE_PAUSE_FILE: gate },
    });
    // Wait until the first run holds the batch and stands inside load:orders.
    while (!existsSync(`${gate}.paused`)) {
      if (first.child.exitCode !== null) throw new Error(`first run ended early: ${(await first.done).stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    const second = await runCli(['run', '--batch', '20260101T0000', ...ws.flags], { cwd: ws.root });
    expect(second.code).toBe(75);
    expect(second.stderr).toMatch(/^batchline: batch 20260101T0000 is in progress: held by .+:\d+:/m);
    // With --wait, a third run waits for the first instead of giving up.
    const waiting = startCli(['run', '--batch', '20260101T0000', '--wait', '--json', ...ws.flags], { cwd: ws.root });
    while (!waiting.stderrSoFar().includes('waiting for it to finish (--wait)')) {
      if (waiting.child.exitCode !== null) throw new Error(`waiting run ended early: ${(await waiting.done).stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    await writeFile(gate, 'go');
    const result = await first.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('batch 20260101T0000: succeeded');
    const waited = await waiting.done;
    expect(waited.code).toBe(0);
    expect((JSON.parse(waited.stdout) as RunReport).tasks.map((t) => t.state)).toEqual(Array(7).fill('skipped'));
    // Once it is done, the batch is free again.
    const again = await runCli(['run', '--batch', '20260101T0000', ...ws.flags], { cwd: ws.root });
    expect(again.code, again.stderr + again.stdout).toBe(0);
  });
});
