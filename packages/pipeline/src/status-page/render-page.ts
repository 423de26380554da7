import { createHash } from 'node:crypto';
import { ENTITIES, TASK_NAMES } from '../config.js';
import { formatDuration } from '../report.js';
import { PAGE_CSS, PAGE_SCRIPT, STATE_GLYPH } from './assets.js';
import type { CellState, PageBatch, PageTask, StatusPageData } from './page-data.js';
import { barChart, esc } from './svg.js';

export { STATE_GLYPH };

const STATE_WORD: Readonly<Record<CellState, string>> = {
  succeeded: 'succeeded',
  failed: 'failed',
  running: 'running (or interrupted)',
  skipped: 'skipped',
  waiting: 'waiting: not started',
};

const TASK_CLASS = TASK_NAMES.map((_, i) => `f-t${i + 1}`);

const n = (v: number | undefined) => (v === undefined ? '–' : v.toLocaleString('en-US'));
const time = (isoText: string | undefined) => (isoText ? `${isoText.slice(0, 10)} ${isoText.slice(11, 19)} UTC` : '–');

function bytes(b: number): string {
  if (b < 1024) return `${b} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = b / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** Attribute text with line breaks kept (the tooltip shows them). */
const attrLines = (lines: readonly string[]) => lines.map(esc).join('&#10;');

/** Milliseconds a task spent, earlier attempts included. */
function taskTime(t: PageTask): number | undefined {
  if (t.durationMs === undefined && t.retries.length === 0) return undefined;
  let total = t.durationMs ?? 0;
  for (const a of t.retries) if (a.finishedAt) total += Math.max(0, Date.parse(a.finishedAt) - Date.parse(a.startedAt));
  return total;
}

function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function cellTip(t: PageTask): string[] {
  const lines = [`${t.task}: ${STATE_WORD[t.state]}`];
  if (t.attempt > 0) lines.push(`attempt ${t.attempt}${t.retries.length > 0 ? ` (${t.retries.length} earlier in this run)` : ''}`);
  // Start and end are on the Gantt chart; the cell keeps what fits a glance.
  if (t.durationMs !== undefined) lines.push(`time ${formatDuration(t.durationMs)}`);
  if (t.error) lines.push(`error: ${oneLine(t.error)}`);
  else {
    const lastRetryError = [...t.retries].reverse().find((a) => a.error)?.error;
    if (lastRetryError) lines.push(`earlier error: ${oneLine(lastRetryError)}`);
  }
  return lines;
}

/**
 * One grid row. The grid is rows of CSS grid (not a <table>): each row can then skip style and layout while it
 * is scrolled out of view (content-visibility), which keeps 500 batches quick to draw. ARIA table roles keep
 * its meaning for screen readers.
 */
function gridRow(b: PageBatch, first: boolean): string {
  const cells = b.tasks
    .map((t) => {
      const d = t.durationMs !== undefined ? formatDuration(t.durationMs) : t.state === 'waiting' ? '' : '–';
      return (
        // The state's glyph comes from the stylesheet (.c[data-state]::before), the full text from aria-label.
        `<span class="c" role="cell" data-task="${esc(t.task)}" data-state="${t.state}" aria-label="${attrLines(cellTip(t))}">${esc(d)}` +
        `${t.retries.length > 0 ? `<b aria-hidden="true"> ×${t.attempt}</b>` : ''}</span>`
      );
    })
    .join('');
  const total = b.tasks.reduce((sum, t) => sum + (taskTime(t) ?? 0), 0);
  return (
    `<div class="gr" role="row" data-batch="${esc(b.batchId)}"><a role="rowheader" href="#run-${esc(b.batchId)}" tabindex="${first ? 0 : -1}">${esc(b.batchId)}</a>` +
    `<span role="cell" class="overall" title="${esc(b.state)}">${esc(b.state)}</span>${cells}<span role="cell" class="num">${total > 0 ? esc(formatDuration(total)) : '–'}</span></div>`
  );
}

function figuresRow(b: PageBatch): string {
  const rejected = ENTITIES.reduce<number | undefined>((sum, e) => {
    const v = b.entities[e].rejected;
    return v === undefined ? sum : (sum ?? 0) + v;
  }, undefined);
  const c = b.curated;
  const cells = [
    ...ENTITIES.flatMap((e) => [b.entities[e].files, b.entities[e].rows]),
    rejected,
    c.rows,
    c.duplicates,
    c.orphans,
    c.late,
    c.pendingOrphans,
  ];
  return `<tr><th scope="row"><a href="#run-${esc(b.batchId)}">${esc(b.batchId)}</a></th>${cells.map((v) => `<td class="num">${n(v)}</td>`).join('')}</tr>`;
}

/** Milliseconds after `t0`, or -1 for no time. */
const offset = (isoText: string | undefined, t0: number) => (isoText ? Date.parse(isoText) - t0 : -1);

/**
 * The Gantt chart's data for the page script: per attempt [task index, state, attempt, start, end or -1 (up to
 * now), 1 if an earlier attempt, error, 1 if no end was recorded], times in ms after the batch's first start.
 */
function ganttData(b: PageBatch): { state: string; t0: number; bars: (string | number)[][] } {
  const starts = b.tasks.flatMap((t) => [t.startedAt, ...t.retries.map((a) => a.startedAt)]).filter((x): x is string => x !== undefined);
  const t0 = starts.length > 0 ? Math.min(...starts.map((x) => Date.parse(x))) : 0;
  const bars: (string | number)[][] = [];
  b.tasks.forEach((t, i) => {
    t.retries.forEach((a, k) => {
      // An attempt whose process died recorded no end: it ended before the next attempt started, at the latest.
      const next = t.retries[k + 1]?.startedAt ?? t.startedAt;
      const end = a.finishedAt ? offset(a.finishedAt, t0) : next ? offset(next, t0) : -1;
      bars.push([i, a.state, a.attempt, offset(a.startedAt, t0), end, 1, a.error ? oneLine(a.error) : '', a.finishedAt ? 0 : 1]);
    });
    if (t.startedAt) bars.push([i, t.state, t.attempt, offset(t.startedAt, t0), offset(t.finishedAt, t0), 0, t.error ? oneLine(t.error, 2000) : '', t.finishedAt ? 0 : 1]);
  });
  return { state: b.state, t0, bars };
}

/** JSON inside <script type="application/json">: nothing in it can close the element or start markup. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function legendStates(): string {
  return `<ul class="legend" aria-label="task states">${(Object.keys(STATE_GLYPH) as CellState[])
    .map((s) => `<li><span class="sw s-${s}" aria-hidden="true">${STATE_GLYPH[s]}</span>${esc(s)}</li>`)
    .join('')}</ul>`;
}

function legendSeries(items: readonly { name: string; className: string }[]): string {
  return `<ul class="legend">${items.map((i) => `<li><span class="dot ${i.className}" aria-hidden="true"></span>${esc(i.name)}</li>`).join('')}</ul>`;
}

function charts(data: StatusPageData): string {
  const oldestFirst = [...data.batches].reverse();
  const labels = oldestFirst.map((b) => b.batchId);
  const seconds = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : formatDuration(Math.round(ms)));
  const taskSeries = TASK_NAMES.map((task, i) => ({
    name: task,
    className: TASK_CLASS[i]!,
    values: oldestFirst.map((b) => taskTime(b.tasks[i]!)),
  }));
  const rowSeries = ENTITIES.map((e) => ({ name: e, className: `f-${e}`, values: oldestFirst.map((b) => b.entities[e].rows) }));
  const runTime = barChart({ id: 'chart-run-time', title: 'Run time per batch, stacked by task', labels, series: taskSeries, format: seconds, unit: 'run time' });
  const rows = barChart({
    id: 'chart-rows',
    title: 'Rows loaded per batch, by entity',
    labels,
    series: rowSeries,
    format: (v) => Math.round(v).toLocaleString('en-US'),
    unit: 'rows loaded',
  });
  const orphans = barChart({
    id: 'chart-orphans',
    title: 'Orphan orders still waiting for their customer after each batch',
    labels,
    series: [{ name: 'orphans waiting', className: 'f-orphans', values: oldestFirst.map((b) => b.curated.pendingOrphans) }],
    format: (v) => Math.round(v).toLocaleString('en-US'),
    unit: 'orphans waiting',
  });
  return (
    '<div class="charts">' +
    `<figure><figcaption>Run time, stacked by task</figcaption>${legendSeries(taskSeries)}${runTime}</figure>` +
    `<figure><figcaption>Rows loaded</figcaption>${legendSeries(rowSeries)}${rows}</figure>` +
    `<figure><figcaption>Orphans waiting</figcaption><p class="hint">Fulfilled orders whose customer has not arrived yet, after each batch.</p>${orphans}</figure>` +
    '</div>'
  );
}

function nowSection(data: StatusPageData): string {
  const tiles: string[] = [];
  for (const [entity, l] of Object.entries(data.landing)) {
    tiles.push(`<div class="tile" data-landing="${esc(entity)}">${esc(entity)} waiting in landing<b>${n(l.files)} file${l.files === 1 ? '' : 's'}</b>${esc(bytes(l.bytes))}</div>`);
  }
  if (data.holdingBack) {
    const h = data.holdingBack;
    const waiting = h.waiting?.length ?? 0;
    tiles.push(
      `<div class="tile alert" id="holding-back">Sequence held back by<b><a href="#run-${esc(h.batchId)}"><code>${esc(h.batchId)}</code></a></b>` +
        `${h.reason ? `${esc(h.reason)}<br>` : ''}${waiting > 0 ? `${n(waiting)} later batch${waiting === 1 ? ' waits' : 'es wait'} for it<br>` : ''}` +
        `<code>${esc(h.wayOut ?? `batchline run --batch ${h.batchId}`)}</code></div>`,
    );
  } else {
    tiles.push('<div class="tile good" id="holding-back">Sequence<b>nothing held back</b>every claimed batch can go on</div>');
  }
  const latest = data.batches[0];
  if (latest) {
    const failed = data.batches.filter((b) => b.tasks.some((t) => t.state === 'failed')).length;
    tiles.push(`<div class="tile">Newest batch<b><code>${esc(latest.batchId)}</code></b>${esc(latest.state)}</div>`);
    tiles.push(`<div class="tile${failed > 0 ? ' alert' : ''}">Shown batches with a failed task<b>${n(failed)} of ${n(data.batches.length)}</b></div>`);
  }
  const skipped = Object.entries(data.skipped ?? {}).flatMap(([entity, keys]) => keys.map((k) => ({ entity, ...k })));
  const skippedList =
    skipped.length === 0
      ? ''
      : `<details class="skipped" id="skipped-keys"><summary>${n(skipped.length)} key${skipped.length === 1 ? '' : 's'} left in landing: the store cannot take ${skipped.length === 1 ? 'it' : 'them'}</summary><ul>` +
        skipped.slice(0, 200).map((k) => `<li>${esc(k.entity)}: <code>${esc(JSON.stringify(k.key))}</code> ${esc(k.reason)}</li>`).join('') +
        `${skipped.length > 200 ? `<li>and ${n(skipped.length - 200)} more (batchline status --json lists all)</li>` : ''}</ul></details>`;
  return `<div class="tiles">${tiles.join('')}</div>${skippedList}`;
}

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * The status page: one self-contained HTML file (inline CSS, inline script, SVG drawn here), which a
 * Content-Security-Policy keeps from loading anything at all, so it is safe to open from an artifact.
 */
export function renderStatusPage(data: StatusPageData): string {
  const now = Date.parse(data.generatedAt);
  // Task names break after the colon in the narrow task columns.
  const taskHeads = TASK_NAMES.map((t) => `<span role="columnheader">${esc(t).replace(':', ':<wbr>')}</span>`).join('');
  const figureHeads = [
    ...ENTITIES.flatMap((e) => [`${e} files`, `${e} rows`]),
    'rows rejected',
    'curated rows',
    'duplicate lines skipped',
    'new orphans',
    'late orders counted',
    'orphans still waiting',
  ]
    .map((h) => `<th scope="col">${esc(h)}</th>`)
    .join('');
  const empty = data.batches.length === 0;
  const csp = `default-src 'none'; style-src ${sha256(PAGE_CSS)}; script-src ${sha256(PAGE_SCRIPT)}; img-src data:; base-uri 'none'; form-action 'none'`;
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light">',
    `<title>batchline status · ${esc(data.batches[0]?.batchId ?? 'no batches')}</title>`,
    `<style>${PAGE_CSS}</style>`,
    '</head><body>',
    // The hatch pattern for earlier attempts, shared by every Gantt chart.
    '<svg width="0" height="0" aria-hidden="true" focusable="false" class="defs"><defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffebe9"/><rect width="2.5" height="6" fill="#cf222e"/></pattern></defs></svg>',
    `<header class="top"><h1>batchline status</h1><div class="meta">generated ${esc(time(data.generatedAt))} · store <code>${esc(data.store)}</code> · warehouse <code>${esc(data.warehouse)}</code></div>`,
    `${nowSection(data)}</header>`,
    '<main>',
    `<section aria-labelledby="h-grid"><h2 id="h-grid">Batches × tasks</h2>`,
    empty
      ? '<p>No batches yet: run <code>batchline run</code>.</p>'
      : `${legendStates()}<p class="hint">Newest first. Arrow keys move between cells; hover or focus a cell for its time, attempts and error; Enter (or a batch id) shows that batch's Gantt chart below.</p>` +
        `<div class="scroll box" id="grid-box"><div class="grid" id="grid" role="table" aria-label="batches by tasks, newest first">` +
        `<div class="gr head" role="row"><span role="columnheader">batch</span><span role="columnheader">state</span>${taskHeads}<span role="columnheader">task time</span></div>` +
        data.batches.map((b, i) => gridRow(b, i === 0)).join('') +
        '</div></div><div id="tip" role="tooltip" aria-hidden="true"></div>',
    '</section>',
    `<section aria-labelledby="h-run"><h2 id="h-run">Gantt chart of the selected batch</h2><div id="gantt" aria-live="polite">` +
      `${empty ? '<p>No batches yet.</p>' : '<noscript><p>The Gantt chart is drawn by the page\'s script: allow JavaScript to see it.</p></noscript>'}</div></section>`,
    // Below the fold: drawn when scrolled near (content-visibility), printed in full.
    `<section class="later" aria-labelledby="h-charts"><h2 id="h-charts">Over batches</h2>${charts(data)}</section>`,
    `<section class="later" aria-labelledby="h-figures"><h2 id="h-figures">Per batch</h2>`,
    empty
      ? '<p>No batches yet.</p>'
      : `<div class="scroll box"><table class="figures" id="figures"><thead><tr><th scope="col">batch</th>${figureHeads}</tr></thead><tbody>${data.batches.map(figuresRow).join('')}</tbody></table></div>`,
    '</section>',
    '</main>',
    `<script type="application/json" id="page-data">${scriptJson({
      now,
      newest: data.batches[0]?.batchId ?? null,
      tasks: TASK_NAMES,
      batches: Object.fromEntries(data.batches.map((b) => [b.batchId, ganttData(b)])),
    })}</script>`,
    `<script>${PAGE_SCRIPT}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
