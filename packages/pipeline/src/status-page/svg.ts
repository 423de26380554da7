/** Small hand-drawn SVG charts for the status page: stacked bars over batches, and a run's Gantt chart. */

export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Round to 1 decimal, so the SVG stays small (a viewBox unit is about a pixel). */
const r = (n: number) => Math.round(n * 10) / 10;

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
/** Up to this many batches, each bar is its own group with a tooltip; above, each series is one path. */
const PER_BAR_LIMIT = 120;

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
  if (n > PER_BAR_LIMIT) {
    // Many batches: one path per series (bars a pixel or two wide have no useful tooltip; the grid has the figures).
    const paths = input.series.map(() => [] as string[]);
    for (let i = 0; i < n; i++) {
      const x = r(M.left + i * band + (band - barW) / 2);
      let base = 0;
      input.series.forEach((s, k) => {
        const v = s.values[i];
        if (v === undefined || v <= 0) return;
        const y0 = r(y(base + v));
        paths[k]!.push(`M${x} ${y0}h${r(barW)}V${r(y(base))}H${x}z`);
        base += v;
      });
    }
    input.series.forEach((s, k) => {
      if (paths[k]!.length > 0) out.push(`<path class="${esc(s.className)}" d="${paths[k]!.join('')}"><title>${esc(s.name)}</title></path>`);
    });
  }
  for (let i = 0; i < (n > PER_BAR_LIMIT ? 0 : n); i++) {
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
