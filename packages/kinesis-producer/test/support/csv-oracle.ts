import { parse } from 'csv-parse/sync';

/**
 * An independent CSV parse (csv-parse, relaxed quotes as the producer reads them): the
 * rows of a text, each as a JSON string of its fields, to compare what was written with
 * what arrived without trusting the producer's own splitter.
 */
export function csvRows(text: string): string[] {
  if (text === '') return [];
  const rows = parse(text, { relax_quotes: true, relax_column_count: true, skip_empty_lines: true }) as string[][];
  return rows.map((r) => JSON.stringify(r));
}

export interface Comparison {
  /** Written rows that never arrived. */
  readonly lost: string[];
  /** Arrived rows that were never written (a fragment of a record, or garbage). */
  readonly foreign: string[];
  /** Arrivals beyond the first of each row. */
  readonly duplicates: number;
}

export function compareRows(written: readonly string[], arrived: readonly string[]): Comparison {
  const want = new Map<string, number>();
  for (const r of written) want.set(r, (want.get(r) ?? 0) + 1);
  const got = new Map<string, number>();
  for (const r of arrived) got.set(r, (got.get(r) ?? 0) + 1);
  const lost: string[] = [];
  for (const [r, n] of want) if ((got.get(r) ?? 0) < n) lost.push(r);
  const foreign: string[] = [];
  let duplicates = 0;
  for (const [r, n] of got) {
    const w = want.get(r);
    if (w === undefined) foreign.push(r);
    else duplicates += Math.max(0, n - w);
  }
  return { lost, foreign, duplicates };
}

/** `n` CSV rows with unique ids; every 7th has a quoted comma, every 5th a quoted newline. */
export function csvLines(from: number, n: number, tag = 'r'): string[] {
  const out: string[] = [];
  for (let i = from; i < from + n; i++) {
    const note = i % 5 === 0 ? `"line one\nline two ${i}"` : i % 7 === 0 ? `"a, b ${i}"` : `plain ${i}`;
    out.push(`${tag}${i},${note},${(i * 37) % 1000}\n`);
  }
  return out;
}
