import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { toBatchId } from '@batchline/batch-id';
import type { TaskAudit } from '@batchline/snowflake-loader';
import { TASK_NAMES, type TaskName } from '../src/config.js';
import { publishToGitHubActions } from '../src/github-actions.js';
import { buildReport } from '../src/report.js';
import { mermaidGantt, pageBatch, renderStatusPage, type StatusPageData, statusPageData } from '../src/status-page/index.js';
import type { TaskOutcome } from '../src/task-graph.js';

const b1 = toBatchId('20261126T0300');
const b2 = toBatchId('20261126T0315');
const t0 = Date.UTC(2026, 10, 26, 3, 17);
const at = (ms: number) => new Date(t0 + ms);

function audit(task: TaskName, fields: Partial<TaskAudit> = {}): TaskAudit {
  return { batchId: b2, task, state: 'succeeded', attempt: 1, startedAt: at(0), finishedAt: at(1000), ...fields };
}

/** The earliest start of any attempt of the batch, in ms. */
function t0Of(b: StatusPageData['batches'][number]): number {
  return Math.min(...b.tasks.flatMap((t) => [t.startedAt, ...t.retries.map((a) => a.startedAt)]).filter((x) => x !== undefined).map((x) => Date.parse(x!)));
}

function page(batches: StatusPageData['batches'], extra: Partial<StatusPageData> = {}): string {
  return renderStatusPage({
    generatedAt: at(60_000).toISOString(),
    store: 'file:///data/bucket',
    warehouse: 'duckdb:///data/w.duckdb',
    landing: { orders: { files: 3, bytes: 4096 }, customers: { files: 0, bytes: 0 } },
    batches,
    ...extra,
  });
}

/** The grid cells of one batch, from the HTML: [task, state]. */
function cells(html: string, batchId: string): [string, string][] {
  const row = new RegExp(`<div class="gr" role="row" data-batch="${batchId}">(.*?)</div>`).exec(html)?.[1] ?? '';
  return [...row.matchAll(/<span class="c" role="cell" data-task="([^"]+)" data-state="(\w+)"/g)].map((m) => [m[1]!, m[2]!]);
}

describe('status page data', () => {
  it('maps BATCH_AUDIT rows to the seven cells (missing = waiting) and to per-batch figures', () => {
    const batch = pageBatch(b2, 'failed at transform', [
      audit('claim:orders', { files: 2 }),
      audit('claim:customers', { files: 1 }),
      audit('load:orders', { files: 2, rows: 900, rejected: 3 }),
      audit('load:customers', { files: 1, rows: 40, rejected: 0 }),
      audit('transform', { state: 'failed', attempt: 2, error: 'boom', attempts: [{ attempt: 1, state: 'failed', startedAt: at(0), finishedAt: at(400), error: 'first' }] }),
    ]);
    expect(batch.tasks.map((t) => t.state)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'failed', 'waiting', 'waiting']);
    expect(batch.entities).toEqual({ orders: { files: 2, rows: 900, rejected: 3 }, customers: { files: 1, rows: 40, rejected: 0 } });
    expect(batch.tasks[4]).toMatchObject({ attempt: 2, durationMs: 1000, error: 'boom', retries: [{ attempt: 1, error: 'first', finishedAt: at(400).toISOString() }] });
  });
});

describe('status page HTML', () => {
  const failedBatch = pageBatch(b2, 'failed at transform', [
    ...(['claim:orders', 'claim:customers', 'load:orders', 'load:customers'] as const).map((t) => audit(t)),
    audit('transform', {
      state: 'failed',
      attempt: 3,
      startedAt: at(5000),
      finishedAt: at(6000),
      error: '<img src=x onerror=alert(1)> "quoted"',
      attempts: [
        { attempt: 1, state: 'failed', startedAt: at(1000), finishedAt: at(2000), error: 'first' },
        { attempt: 2, state: 'running', startedAt: at(3000) },
      ],
    }),
  ]);
  const doneBatch = pageBatch(b1, 'done', TASK_NAMES.map((t) => audit(t, { batchId: b1, ...(t === 'transform' ? { pendingOrphans: 7, orphans: 7, late: 0, rows: 12 } : {}) })));

  it('shows every task state with its own class and glyph, newest batch first', () => {
    const html = page([failedBatch, doneBatch]);
    expect(cells(html, b2)).toEqual(TASK_NAMES.map((t, i) => [t, i < 4 ? 'succeeded' : i === 4 ? 'failed' : 'waiting']));
    expect(cells(html, b1)).toEqual(TASK_NAMES.map((t) => [t, 'succeeded']));
    expect(html.indexOf(`data-batch="${b2}"`)).toBeLessThan(html.indexOf(`data-batch="${b1}"`));
    expect(html).toContain('.c[data-state=failed]::before{content:"✕"}');
    expect(html).toContain('.c[data-state=waiting]::before{content:"○"}');
  });

  it('escapes error texts, and allows no script or style but its own (CSP hashes)', () => {
    const html = page([failedBatch]);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; &quot;quoted&quot;');
    expect(html.match(/<script>/g)).toHaveLength(1);
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
  });

  it('gives the page script every attempt of every task for the Gantt chart, retries marked, no end = -1', () => {
    const html = page([failedBatch]);
    const json = /<script type="application\/json" id="page-data">(.*?)<\/script>/.exec(html)?.[1] ?? '';
    expect(json).not.toContain('<');
    const data = JSON.parse(json) as { newest: string; tasks: string[]; batches: Record<string, { t0: number; bars: unknown[][] }> };
    expect(data.newest).toBe(b2);
    expect(data.tasks).toEqual([...TASK_NAMES]);
    const { t0, bars } = data.batches[b2]!;
    expect(t0).toBe(t0Of(failedBatch));
    const transform = TASK_NAMES.indexOf('transform');
    expect(bars.filter((x) => x[0] === transform)).toEqual([
      [transform, 'failed', 1, 1000, 2000, 1, 'first', 0],
      [transform, 'running', 2, 3000, 5000, 1, '', 1], // no end recorded: drawn up to attempt 3's start
      [transform, 'failed', 3, 5000, 6000, 0, '<img src=x onerror=alert(1)> "quoted"', 0],
    ]);
    expect(bars.filter((x) => x[5] === 0)).toHaveLength(5); // the two archives never started
    expect(bars.filter((x) => x[4] === -1).map((x) => data.tasks[x[0] as number])).toEqual([]); // nothing runs in this batch
  });

  it('names the batch that holds the sequence back, the way out and who waits, files waiting in landing and skipped keys', () => {
    const data = statusPageData({
      status: {
        landing: { orders: { files: 3, bytes: 4096 }, customers: { files: 0, bytes: 0 } },
        batches: [],
        sequence: { holdingBack: { batchId: b1, reason: 'transform failed', wayOut: `batchline run --batch ${b1}` }, waiting: [b2] },
        skipped: { orders: [{ key: 'orders/landing/bad\u001b[31m<b>.csv', reason: 'not valid UTF-8' }], customers: [] },
      },
      audits: new Map(),
      store: 's',
      warehouse: 'w',
      now: at(0),
    });
    expect(data.holdingBack).toEqual({ batchId: b1, reason: 'transform failed', wayOut: `batchline run --batch ${b1}`, waiting: [b2] });
    const html = renderStatusPage({ ...data, batches: [failedBatch, doneBatch] });
    expect(html).toMatch(/id="holding-back">Sequence held back by.*20261126T0300.*transform failed<br>1 later batch waits for it<br><code>batchline run --batch 20261126T0300<\/code>/);
    expect(html).toMatch(/data-landing="orders">orders waiting in landing<b>3 files<\/b>4\.0 KiB/);
    expect(html).toContain('1 key left in landing');
    expect(html).toContain('<code>&quot;orders/landing/bad\\u001b[31m&lt;b&gt;.csv&quot;</code> not valid UTF-8');
    expect(page([doneBatch])).toContain('nothing held back');
    expect(page([doneBatch])).not.toContain('left in landing');
  });

  it('has a page for no batches at all', () => {
    const html = page([]);
    expect(html).toContain('No batches yet');
    expect(html).not.toContain('id="grid"');
  });
});

describe('the job summary Gantt chart', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  function outcomes(): TaskOutcome<TaskName>[] {
    return TASK_NAMES.map((name, i) => ({
      name,
      state: name === 'archive:customers' ? ('skipped' as const) : name === 'archive:orders' ? ('failed' as const) : ('succeeded' as const),
      attempt: name === 'archive:orders' ? 2 : 1,
      ...(name === 'archive:customers' ? {} : { startedAt: at(i * 1000), finishedAt: at(i * 1000 + 250), durationMs: 250 }),
      ...(name === 'archive:orders' ? { error: new Error('gone') } : {}),
    }));
  }

  it('is a Mermaid gantt block with one bar per task that ran, failed ones marked crit', async () => {
    const report = buildReport({ batchId: b2, startedAt: at(0), finishedAt: at(9000), outcomes: outcomes(), store: 's', warehouse: 'w', forced: false });
    const gantt = mermaidGantt(report)!;
    const bars = gantt.split('\n').filter((l) => /:(done|crit), t\d+/.test(l));
    expect(bars).toHaveLength(6);
    expect(bars[0]).toBe(`  claim orders (succeeded) :done, t1, ${t0}, ${t0 + 250}`);
    expect(bars[5]).toBe(`  archive orders (failed, attempt 2) :crit, t6, ${t0 + 5000}, ${t0 + 5250}`);
    expect(gantt).toMatch(/^gantt\n {2}title batch 20261126T0315\n {2}dateFormat x/);

    const dir = await mkdtemp(path.join(tmpdir(), 'batchline-gantt-'));
    try {
      const summary = path.join(dir, 'summary.md');
      await writeFile(summary, '');
      process.env['GITHUB_STEP_SUMMARY'] = summary;
      process.env['GITHUB_OUTPUT'] = path.join(dir, 'out');
      await writeFile(process.env['GITHUB_OUTPUT'], '');
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = (() => true) as typeof process.stdout.write;
      try {
        await publishToGitHubActions(report);
      } finally {
        process.stdout.write = write;
      }
      expect(await readFile(summary, 'utf8')).toContain(`\n\`\`\`mermaid\n${gantt}\n\`\`\`\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is left out when no task ran in this run', () => {
    const skipped = TASK_NAMES.map((name) => ({ name, state: 'skipped' as const, attempt: 1 }));
    const report = buildReport({ batchId: b2, startedAt: at(0), finishedAt: at(10), outcomes: skipped, store: 's', warehouse: 'w', forced: false });
    expect(mermaidGantt(report)).toBeUndefined();
  });
});

describe('pipeline.yml', () => {
  it('writes the status page on every run that was not cancelled and uploads exactly that file with a SHA-pinned action', async () => {
    const { parse } = await import('yaml');
    const file = new URL('../../../.github/workflows/pipeline.yml', import.meta.url);
    const text = await readFile(file, 'utf8');
    const steps = (parse(text) as { jobs: { run: { steps: { name?: string; if?: string; run?: string; uses?: string; with?: Record<string, unknown> }[] } } }).jobs.run.steps;
    const write = steps.find((s) => s.run?.includes('status --html'));
    const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(write?.if).toBe('${{ !cancelled() }}');
    expect(upload?.if).toBe('${{ !cancelled() }}');
    expect(steps.indexOf(upload!)).toBeGreaterThan(steps.indexOf(write!));
    expect(upload!.uses).toMatch(/^actions\/upload-artifact@[0-9a-f]{40}$/);
    expect(text).toMatch(new RegExp(`${upload!.uses!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} # v\\d+\\.\\d+\\.\\d+`));
    // The same file: $RUNNER_TEMP/batchline-status-$BATCH_ID.html in the shell, runner.temp and the plan's id in the upload.
    expect(write!.run).toContain('--html "$RUNNER_TEMP/batchline-status-$BATCH_ID.html"');
    expect(upload!.with).toMatchObject({ path: '${{ runner.temp }}/batchline-status-${{ needs.plan.outputs.batch-id }}.html', archive: false });
  });
});

describe('batchline status --html', () => {
  it('prints the page on stdout with -, keeps --limit, and writes a file atomically with its directory', async () => {
    const { demo, demoBatchIds } = await import('../src/demo.js');
    const { runCli } = await import('../src/cli-program.js');
    const base = await mkdtemp(path.join(tmpdir(), 'batchline-status-html-'));
    try {
      const result = await demo({ dir: base, scale: 0.002 });
      const cli = async (...args: string[]) => {
        const out: string[] = [];
        const err: string[] = [];
        const code = await runCli(['status', ...args, '--store', result.store, '--warehouse', result.warehouse], {
          stdout: (t) => out.push(t),
          stderr: (t) => err.push(t),
          env: {},
          cwd: base,
        });
        return { code, stdout: out.join(''), stderr: err.join('') };
      };
      const rows = (html: string) => [...html.matchAll(/<div class="gr" role="row" data-batch="(\d{8}T\d{4})">/g)].map((m) => m[1]);
      const all = await cli('--html', '-');
      expect(all.code).toBe(0);
      expect(all.stdout.startsWith('<!doctype html>')).toBe(true);
      expect(rows(all.stdout)).toEqual([...demoBatchIds()].reverse());
      const one = await cli('--html', '-', '--limit', '1');
      expect(rows(one.stdout)).toEqual([demoBatchIds()[1]]);
      const written = await cli('--html', 'pages/today/status.html');
      expect(written.code).toBe(0);
      expect(written.stdout).toBe('');
      expect(written.stderr).toContain(`status page with 2 batches written to ${path.join(base, 'pages/today/status.html')}`);
      expect(rows(await readFile(path.join(base, 'pages/today/status.html'), 'utf8'))).toEqual([...demoBatchIds()].reverse());
      expect(await readdir(path.join(base, 'pages/today'))).toEqual(['status.html']); // no temporary file left

      // --watch: the table again and again (the warehouse reopened each time) until the signal stops it.
      const stop = new AbortController();
      const refreshes: string[] = [];
      const code = await runCli(['status', '--watch', '0.2', '--store', result.store, '--warehouse', result.warehouse], {
        stdout: (t) => {
          refreshes.push(t);
          if (refreshes.length === 2) stop.abort();
        },
        stderr: () => undefined,
        env: {},
        cwd: base,
        signal: stop.signal,
      });
      expect(code).toBe(0);
      expect(refreshes).toHaveLength(2);
      for (const text of refreshes) {
        for (const id of demoBatchIds()) expect(text).toContain(id);
        expect(text).toMatch(/refreshing every 0\.2 s · Ctrl-C stops\n$/);
        expect(text).not.toContain('\x1b[2J'); // not a terminal: no screen clearing
      }
      expect((await cli('--watch', '--json')).code).toBe(2);
      expect((await cli('--watch', '0')).code).toBe(2);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('status --watch loop', () => {
  it('shows a failed refresh and tries again; clears a terminal between refreshes', async () => {
    const { watchStatus } = await import('../src/status-watch.js');
    let calls = 0;
    const out: string[] = [];
    const shown = await watchStatus({
      render: async () => {
        calls += 1;
        if (calls === 1) throw new Error('warehouse busy');
        return `table ${calls}\n`;
      },
      everySeconds: 0.01,
      write: (t) => out.push(t),
      clear: true,
      times: 2,
    });
    expect(shown).toBe(2);
    expect(out[0]).toMatch(/^\x1b\[H\x1b\[2Jstatus failed: warehouse busy\n/);
    expect(out[1]).toMatch(/^\x1b\[H\x1b\[2Jtable 2\n/);
  });
});
