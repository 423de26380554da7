import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { toBatchId } from '@batchline/batch-id';
import { TASK_NAMES, type TaskName } from '../src/config.js';
import { publishToGitHubActions } from '../src/github-actions.js';
import { buildReport, renderReport } from '../src/report.js';
import type { TaskOutcome } from '../src/task-graph.js';

const batchId = toBatchId('20261126T0315');
const t0 = new Date('2026-11-26T03:17:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

function outcomes(overrides: Partial<Record<TaskName, Partial<TaskOutcome<TaskName>>>> = {}): TaskOutcome<TaskName>[] {
  const figures: Record<TaskName, TaskOutcome<TaskName>['figures']> = {
    'claim:orders': { files: 3 },
    'claim:customers': { files: 1 },
    'load:orders': { files: 3, rows: 13_500, rejected: 2 },
    'load:customers': { files: 1, rows: 1_497, rejected: 0 },
    transform: { rows: 6_400, duplicates: 60, orphans: 4 },
    'archive:orders': { files: 3 },
    'archive:customers': { files: 1 },
  };
  return TASK_NAMES.map((name, i) => ({
    name,
    state: 'succeeded' as const,
    attempt: 1,
    startedAt: at(i * 1000),
    finishedAt: at(i * 1000 + 250),
    durationMs: 250,
    figures: figures[name],
    ...overrides[name],
  }));
}

describe('run report', () => {
  it('sums up entities, curated figures and task timings', () => {
    const report = buildReport({ batchId, startedAt: t0, finishedAt: at(7_000), outcomes: outcomes(), store: 'file:///data/bucket', warehouse: 'duckdb://./w.duckdb', forced: false });
    expect(report).toMatchObject({
      batchId,
      status: 'succeeded',
      empty: false,
      durationMs: 7_000,
      entities: { orders: { files: 3, rowsLoaded: 13_500, rowsRejected: 2 }, customers: { files: 1, rowsLoaded: 1_497, rowsRejected: 0 } },
      curated: { rows: 6_400, duplicates: 60, orphans: 4 },
    });
    expect(report.error).toBeUndefined();
    const text = renderReport(report);
    expect(text).toContain('batch 20261126T0315: succeeded in 7.0 s');
    expect(text).toMatch(/load:orders\s+│ succeeded │ 1\s+│ 250 ms │ 3\s+│ 13,500/);
    expect(text).toMatch(/6,400\s+│ 60\s+│ 4/);
    expect(text).toContain('store:     file:///data/bucket');
  });

  it('a run that lost its lease failed, even when every task it ran succeeded (issue 11)', () => {
    const report = buildReport({
      batchId,
      startedAt: t0,
      finishedAt: at(7_000),
      outcomes: outcomes(),
      store: 'file:///data/bucket',
      warehouse: 'duckdb://./w.duckdb',
      forced: false,
      lostLease: 'Lease "_batchline/leases/runs/20261126T0315.json" was lost',
    });
    expect(report.status).toBe('failed');
    expect(report.exitCode).toBe(1);
    expect(report.error).toMatch(/^lost lease: Lease "_batchline\/leases\/runs\/20261126T0315.json" was lost/);
    expect(renderReport(report)).toContain('lost lease');
  });

  it('names the failed task and marks what did not run', () => {
    const failed = outcomes({
      transform: { state: 'failed', attempt: 3, figures: undefined, error: new Error('Binder Error: <b>column</b> missing') },
      'archive:orders': { state: 'not-run', figures: undefined, durationMs: undefined },
      'archive:customers': { state: 'not-run', figures: undefined, durationMs: undefined },
    });
    const report = buildReport({ batchId, startedAt: t0, finishedAt: at(9_000), outcomes: failed, store: 's', warehouse: 'w', forced: true });
    expect(report.status).toBe('failed');
    expect(report.failedTask).toBe('transform');
    expect(report.error).toBe('Binder Error: <b>column</b> missing');
    expect(report.curated).toEqual({});
    expect(renderReport(report)).toContain('error: transform: Binder Error');
    expect(renderReport(report)).toContain('(forced rerun)');
  });

  it('calls a batch with no files an empty batch', () => {
    const empty = outcomes({
      'claim:orders': { figures: { files: 0, note: 'nothing in landing' } },
      'claim:customers': { figures: { files: 0, note: 'nothing in landing' } },
    });
    const report = buildReport({ batchId, startedAt: t0, finishedAt: at(100), outcomes: empty, store: 's', warehouse: 'w', forced: false });
    expect(report.empty).toBe(true);
    expect(renderReport(report)).toContain('succeeded (empty batch: nothing in landing)');
  });
});

describe('GitHub Actions output', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('writes the job summary, outputs and failure annotations', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'batchline-gha-'));
    try {
      const summary = path.join(dir, 'summary.md');
      const output = path.join(dir, 'output.txt');
      await writeFile(summary, '');
      await writeFile(output, '');
      process.env['GITHUB_STEP_SUMMARY'] = summary;
      process.env['GITHUB_OUTPUT'] = output;
      const failed = outcomes({ transform: { state: 'failed', attempt: 2, figures: undefined, error: new Error('boom <script>') } });
      const report = buildReport({ batchId, startedAt: t0, finishedAt: at(5_000), outcomes: failed, store: 's3://b/p', warehouse: 'snowflake://a/d/s', forced: false });
      const lines: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((chunk: string) => {
        lines.push(String(chunk));
        return true;
      }) as typeof process.stdout.write;
      try {
        await publishToGitHubActions(report);
      } finally {
        process.stdout.write = write;
      }
      const md = await readFile(summary, 'utf8');
      expect(md).toContain('batchline batch 20261126T0315: failed');
      expect(md).toContain('<td>load:orders</td><td>succeeded</td><td>1</td><td>250 ms</td><td>3</td><td>13,500</td>');
      expect(md).toContain('boom &lt;script&gt;');
      expect(md).not.toContain('<script>');
      expect(md).toContain('<td>customers</td><td>1</td><td>1,497</td><td>0</td>');
      const out = await readFile(output, 'utf8');
      expect(out).toMatch(/batch-id<<.*\n20261126T0315\n/);
      expect(out).toMatch(/status<<.*\nfailed\n/);
      expect(lines.join('')).toContain('::error title=batch 20261126T0315%3A transform::transform failed (attempt 2): boom <script>');
      expect(lines.join('')).toContain('::warning title=batch 20261126T0315%3A rejected rows::load:orders: 2 rows rejected');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
