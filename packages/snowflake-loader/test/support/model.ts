// An independent model of the documented transform semantics (sql/README.md), in plain TypeScript,
// to compute expected curated rows without the SQL under test.

export interface OrderLine {
  key: number;
  cust: number;
  status: 'F' | 'O' | 'P';
  cents: number;
  date: string;
  comment: string;
}
export interface CustomerLine {
  key: number;
  name: string;
  comment: string;
}
/** One batch: its files in load order, each a list of lines in file order. */
export interface ModelBatch {
  id: string;
  orders: { path: string; lines: OrderLine[] }[];
  customers: { path: string; lines: CustomerLine[] }[];
}

export interface ExpectedCurated {
  customerName: string;
  orderDate: string;
  orderTotalPrice: string;
  batchId: string;
  customerKey: string;
}

type Pos = { batch: string; file: string; row: number };
const before = (a: Pos, b: Pos) =>
  a.batch !== b.batch ? a.batch < b.batch : a.file !== b.file ? a.file < b.file : a.row < b.row;

export function expectedForBatch(batches: ModelBatch[], batchId: string) {
  const upTo = batches.filter((b) => b.id <= batchId);
  const firstF = new Map<number, { line: OrderLine; pos: Pos }>();
  let fulfilledLinesInBatch = 0;
  const arrival = new Map<number, string>();
  const latest = new Map<number, { line: CustomerLine; pos: Pos }>();
  for (const b of upTo) {
    for (const f of b.orders) {
      f.lines.forEach((line, i) => {
        const pos = { batch: b.id, file: `processing/${b.id}/${f.path}`, row: i + 1 };
        if (line.status !== 'F') return;
        if (b.id === batchId) fulfilledLinesInBatch++;
        const cur = firstF.get(line.key);
        if (!cur || before(pos, cur.pos)) firstF.set(line.key, { line, pos });
      });
    }
    for (const f of b.customers) {
      f.lines.forEach((line, i) => {
        const pos = { batch: b.id, file: `processing/${b.id}/${f.path}`, row: i + 1 };
        const a = arrival.get(line.key);
        if (!a || b.id < a) arrival.set(line.key, b.id);
        const cur = latest.get(line.key);
        if (!cur || before(cur.pos, pos)) latest.set(line.key, { line, pos });
      });
    }
  }
  let counted = 0;
  let late = 0;
  let orphans = 0;
  const sums = new Map<string, { cust: number; date: string; cents: number }>();
  for (const [, { line, pos }] of firstF) {
    const arrived = arrival.get(line.cust);
    let outcome: 'counted' | 'late' | 'orphan' | undefined;
    if (pos.batch === batchId) outcome = arrived === undefined ? 'orphan' : 'counted';
    else if (arrived === batchId) outcome = 'late';
    if (outcome === 'orphan') orphans++;
    if (outcome === 'counted' || outcome === 'late') {
      if (outcome === 'counted') counted++;
      else late++;
      const k = `${line.cust}|${line.date}`;
      const s = sums.get(k) ?? { cust: line.cust, date: line.date, cents: 0 };
      s.cents += line.cents;
      sums.set(k, s);
    }
  }
  const firstFulfilledHere = [...firstF.values()].filter((f) => f.pos.batch === batchId).length;
  // Orders up to this batch still waiting: their customer has no version up to this batch.
  const pending = [...firstF.values()].filter((f) => !arrival.has(f.line.cust)).length;
  const rows: ExpectedCurated[] = [...sums.values()]
    .map((s) => ({
      customerName: latest.get(s.cust)!.line.name,
      orderDate: s.date,
      orderTotalPrice: centsText(s.cents),
      batchId,
      customerKey: String(s.cust),
    }))
    .sort((a, b) => Number(a.customerKey) - Number(b.customerKey) || a.orderDate.localeCompare(b.orderDate));
  return { rows, counted, late, orphans, pending, duplicates: fulfilledLinesInBatch - firstFulfilledHere };
}

export function centsText(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** RFC 4180 quoting: only when needed. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function orderCsv(lines: OrderLine[]): string {
  return lines
    .map((l) =>
      [String(l.key), String(l.cust), l.status, centsText(l.cents), l.date, '1-URGENT', 'Clerk#000000001', '0', csvField(l.comment)].join(','),
    )
    .map((l) => `${l}\n`)
    .join('');
}

export function customerCsv(lines: CustomerLine[]): string {
  return lines
    .map((l) => [String(l.key), csvField(l.name), csvField('1 Main St, Springfield'), '7', '11-555-0100', '100.00', 'BUILDING', csvField(l.comment)].join(','))
    .map((l) => `${l}\n`)
    .join('');
}

/** Small deterministic PRNG (mulberry32) so fixtures are reproducible. */
export function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
