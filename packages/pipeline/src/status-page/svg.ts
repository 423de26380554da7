/** Small hand-drawn SVG charts for the status page: stacked bars over batches, and a run's Gantt chart. */

export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Round to 2 decimals, so the SVG stays small. */
const r = (n: number) => Math.round(n * 100) / 100;

/** The smallest round number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 x 10^k) at or above `max`. */
export function niceCeil(max: number): number {
  if (!(max > 0)) return 1;
  const exp = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * exp >= max) return m * exp;
  return 10 * exp;
}

export interface BarSeries {
  readonly name: string;
  /** CSS class giving the fill (colours live in the page's stylesheet). */
  readonly className: string;
  /** One value per label; undefined draws nothing. */
  readonly values: readonly (number | undefined)[];
}

export interface BarChartInput {
  readonly id: string;
  readonly title: string;
  /** One per bar, oldest first (batch ids). */
  readonly labels: readonly string[];
  readonly series: readonly BarSeries[];
  readonly format: (n: number) => string;
  /** The word after a value in a bar's tooltip, e.g. "orphans waiting". */
  readonly unit: string;
}

// Bar charts are drawn about the size they are shown (three side by side), so their text stays readable.
const W = 420;
const H = 210;
const M = { left: 52, right: 10, top: 16, bottom: 28 };
const GANTT_W = 720;

/** `20260101T0015` -> `01-01 00:15`: short enough for an axis. */
export function shortBatch(id: string): string {
  const m = /^\d{4}(\d{2})(\d{2})T(\d{2})(\d{2})$/.exec(id);
  return m ? `${m[1]}-${m[2]} ${m[3]}:${m[4]}` : id;
}

/** Stacked bars, one per label; every bar carries its batch, total and a tooltip. */
export function barChart(input: BarChartInput): string {
  const n = input.labels.length;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const totals = input.labels.map((_, i) => input.series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const known = input.labels.map((_, i) => input.series.some((s) => s.values[i] !== undefined));
  // Quarters of the top are the grid lines: make each quarter a round number.
  const top = 4 * niceCeil(Math.max(0, ...totals) / 4);
  const y = (v: number) => M.top + ph - (v / top) * ph;
  const band = n > 0 ? pw / n : pw;
  const barW = Math.max(0.6, Math.min(48, band * (n > 60 ? 0.9 : 0.7)));
  const out: string[] = [];
  out.push(`<svg class="chart" id="${esc(input.id)}" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${esc(input.id)}-t">`);
  out.push(`<title id="${esc(input.id)}-t">${esc(input.title)}</title>`);
  // Grid lines and y labels at quarters of the (rounded-up) maximum.
  for (let q = 0; q <= 4; q++) {
    const v = (top * q) / 4;
    const yy = r(y(v));
    out.push(`<line class="gridline" x1="${M.left}" x2="${W - M.right}" y1="${yy}" y2="${yy}"/>`);
    out.push(`<text class="axis" x="${M.left - 6}" y="${r(yy + 4)}" text-anchor="end">${esc(input.format(v))}</text>`);
  }
  const showValues = n <= 24;
  for (let i = 0; i < n; i++) {
    const label = input.labels[i]!;
    const x = M.left + i * band + (band - barW) / 2;
    const parts = input.series
      .filter((s) => s.values[i] !== undefined && s.values[i]! > 0)
      .map((s) => `${s.name} ${input.format(s.values[i]!)}`);
    const tip = known[i] ? `${label}: ${input.format(totals[i]!)} ${input.unit}${parts.length > 1 ? ` (${parts.join(', ')})` : ''}` : `${label}: no figure yet`;
    out.push(`<g class="bar" data-batch="${esc(label)}" data-value="${known[i] ? totals[i] : ''}"><title>${esc(tip)}</title>`);
    let base = 0;
    for (const s of input.series) {
      const v = s.values[i];
      if (v === undefined || v <= 0) continue;
      const y0 = y(base + v);
      const h = y(base) - y0;
      out.push(`<rect class="${esc(s.className)}" x="${r(x)}" y="${r(y0)}" width="${r(barW)}" height="${r(Math.max(h, 0.5))}"/>`);
      base += v;
    }
    // Hit area over the whole column, so thin bars still show their tooltip.
    out.push(`<rect class="hit" x="${r(M.left + i * band)}" y="${M.top}" width="${r(band)}" height="${ph}"/>`);
    if (showValues && known[i]) {
      out.push(`<text class="value" x="${r(x + barW / 2)}" y="${r(y(totals[i]!) - 4)}" text-anchor="middle">${esc(input.format(totals[i]!))}</text>`);
    }
    out.push('</g>');
  }
  // X labels: every bar when few, else the first, middle and last.
  const ticks = n <= 8 ? input.labels.map((_, i) => i) : [...new Set([0, Math.floor((n - 1) / 2), n - 1])];
  for (const i of ticks) {
    const anchor = n > 8 && i === 0 ? 'start' : n > 8 && i === n - 1 ? 'end' : 'middle';
    const x = anchor === 'start' ? M.left : anchor === 'end' ? W - M.right : M.left + i * band + band / 2;
    out.push(`<text class="axis" x="${r(x)}" y="${H - M.bottom + 16}" text-anchor="${anchor}">${esc(shortBatch(input.labels[i]!))}</text>`);
  }
  if (n === 0) out.push(`<text class="axis" x="${W / 2}" y="${H / 2}" text-anchor="middle">no batches yet</text>`);
  out.push('</svg>');
  return out.join('');
}

export interface GanttBar {
  readonly task: string;
  readonly state: string;
  readonly attempt: number;
  readonly start: number;
  /** Undefined: still running (or its process died): drawn up to `now`, open-ended. */
  readonly end?: number;
  readonly retry: boolean;
  readonly tip: string;
}

/** Milliseconds as a short axis label. */
function axisTime(ms: number): string {
  if (ms === 0) return '0';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${r(ms / 1000)} s`;
  if (ms < 3_600_000) return `${r(ms / 60_000)} min`;
  return `${r(ms / 3_600_000)} h`;
}

/** One row per task, bars from start to end (earlier attempts hatched), time relative to the first start. */
export function ganttChart(input: {
  readonly id: string;
  readonly title: string;
  readonly tasks: readonly string[];
  readonly bars: readonly GanttBar[];
  readonly now: number;
  readonly label: (bar: GanttBar) => string;
}): string {
  const rowH = 26;
  const labelW = 128;
  const right = 70;
  const top = 8;
  const h = top + input.tasks.length * rowH + 26;
  const pw = GANTT_W - labelW - right;
  const t0 = Math.min(...input.bars.map((b) => b.start));
  const t1 = Math.max(...input.bars.map((b) => b.end ?? input.now));
  const span = 4 * niceCeil(Math.max(1, t1 - t0) / 4);
  const x = (t: number) => labelW + ((t - t0) / span) * pw;
  const out: string[] = [];
  out.push(`<svg class="gantt-chart" id="${esc(input.id)}" viewBox="0 0 ${GANTT_W} ${h}" role="img" aria-labelledby="${esc(input.id)}-t">`);
  out.push(`<title id="${esc(input.id)}-t">${esc(input.title)}</title>`);
  for (let q = 0; q <= 4; q++) {
    const xx = r(labelW + (pw * q) / 4);
    out.push(`<line class="gridline" x1="${xx}" x2="${xx}" y1="${top}" y2="${h - 22}"/>`);
    out.push(`<text class="axis" x="${xx}" y="${h - 8}" text-anchor="middle">${esc(axisTime((span * q) / 4))}</text>`);
  }
  input.tasks.forEach((task, row) => {
    const yy = top + row * rowH;
    out.push(`<text class="task-label" x="${labelW - 8}" y="${yy + rowH / 2 + 4}" text-anchor="end">${esc(task)}</text>`);
    const bars = input.bars.filter((b) => b.task === task);
    if (bars.length === 0) out.push(`<text class="axis" x="${labelW + 4}" y="${yy + rowH / 2 + 4}">waiting: not started</text>`);
    for (const b of bars) {
      const x0 = x(b.start);
      const w = Math.max(2, x(b.end ?? input.now) - x0);
      const cls = b.retry ? `gbar retry s-${b.state}` : `gbar s-${b.state}`;
      out.push(
        `<g class="${esc(cls)}" data-task="${esc(task)}" data-attempt="${b.attempt}"${b.retry ? ' data-retry="true"' : ''}><title>${esc(b.tip)}</title>` +
          `<rect x="${r(x0)}" y="${yy + 5}" width="${r(w)}" height="${rowH - 10}" rx="3"/>` +
          (b.end === undefined ? `<path class="open-end" d="M${r(x0 + w)} ${yy + 5}l6 ${(rowH - 10) / 2}l-6 ${(rowH - 10) / 2}z"/>` : '') +
          (b.retry ? '' : `<text class="bar-label" x="${r(x0 + w + 5)}" y="${yy + rowH / 2 + 4}">${esc(input.label(b))}</text>`) +
          '</g>',
      );
    }
  });
  out.push('</svg>');
  return out.join('');
}
