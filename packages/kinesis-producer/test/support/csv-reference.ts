/**
 * A deliberately naive, byte-at-a-time reference for CSV record boundaries, used
 * to check the fast splitter: a record ends at a LF outside quotes; a quote opens a
 * quoted field only at a field start (after `,`, a tab or a LF) or right after a
 * closing quote (an escaped `""`); elsewhere it is a literal character.
 */
export function referenceRecords(text: Buffer): { records: Buffer[]; rest: Buffer } {
  const records: Buffer[] = [];
  let start = 0;
  let quoted = false;
  let closedAt = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === 0x22) {
        quoted = false;
        closedAt = i + 1;
      }
    } else if (c === 0x22) {
      const prev = i === 0 ? 0x0a : text[i - 1];
      if (prev === 0x2c || prev === 0x0a || prev === 0x09 || closedAt === i) quoted = true;
    } else if (c === 0x0a) {
      records.push(text.subarray(start, i + 1));
      start = i + 1;
    }
  }
  return { records, rest: text.subarray(start) };
}

/** Deterministic pseudo-random numbers (mulberry32), so a failing case can be replayed from its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A CSV field that sometimes needs quoting (comma, quote, CR/LF inside). */
export function randomField(rnd: () => number): string {
  const kinds = rnd();
  if (kinds < 0.05) return `${Math.floor(rnd() * 90)}" screen`; // a literal quote inside an unquoted field
  if (kinds < 0.6) return Math.floor(rnd() * 1e6).toString(36);
  const pieces = ['a', 'b c', ',', '""', '\n', '\r\n', 'x'];
  let s = '';
  const n = 1 + Math.floor(rnd() * 5);
  for (let i = 0; i < n; i++) s += pieces[Math.floor(rnd() * pieces.length)];
  return `"${s}"`;
}

export function randomCsv(rnd: () => number, rows: number, eol: '\n' | '\r\n' = '\n'): string[] {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const fields = 1 + Math.floor(rnd() * 5);
    const row: string[] = [];
    for (let f = 0; f < fields; f++) row.push(randomField(rnd));
    out.push(row.join(',') + eol);
  }
  return out;
}
