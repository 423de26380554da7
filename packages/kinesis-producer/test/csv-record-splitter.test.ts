import { describe, expect, it } from 'vitest';
import { CsvRecordSplitter, type SplitPiece } from '../src/records/csv-record-splitter.js';
import { randomCsv, referenceRecords, seeded } from './support/csv-reference.js';

function feed(splitter: CsvRecordSplitter, input: Buffer, chunkSizes: () => number): SplitPiece[] {
  const out: SplitPiece[] = [];
  for (let i = 0; i < input.length; ) {
    const n = Math.max(1, Math.min(input.length - i, chunkSizes()));
    out.push(...splitter.push(input.subarray(i, i + n)));
    i += n;
  }
  return out;
}

const text = (pieces: SplitPiece[]) => pieces.map((p) => p.data.toString('utf8'));

describe('CsvRecordSplitter', () => {
  it('ends a record at each LF outside quotes and keeps the newline', () => {
    const s = new CsvRecordSplitter(1000);
    const pieces = s.push(Buffer.from('a,b\r\nc,"d\ne"\n"x""y",z\npartial'));
    expect(text(pieces)).toEqual(['a,b\r\n', 'c,"d\ne"\n', '"x""y",z\n']);
    expect(pieces.map((p) => p.end)).toEqual([5, 13, 22]);
    expect(s.pendingBytes).toBe('partial'.length);
  });

  it('waits for a partial last record, and finish() completes it with a newline', () => {
    const s = new CsvRecordSplitter(1000);
    expect(s.push(Buffer.from('1,"open\n'))).toEqual([]);
    expect(s.push(Buffer.from('still open'))).toEqual([]);
    const last = s.finish();
    expect(text(last)).toEqual(['1,"open\nstill open\n']);
    expect(last[0]!.end).toBe(18);
    expect(s.finish()).toEqual([]);
  });

  it('agrees with a byte-at-a-time reference on random CSV fed in random chunk sizes', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const rnd = seeded(seed);
      const input = Buffer.from(randomCsv(rnd, 200, seed % 2 ? '\n' : '\r\n').join('') + 'tail,"no end');
      const expected = referenceRecords(input);
      const maxChunk = seed % 3 === 0 ? 1 : 1 + Math.floor(rnd() * 300);
      const s = new CsvRecordSplitter(100_000);
      const pieces = feed(s, input, () => 1 + Math.floor(rnd() * maxChunk));
      expect(pieces.every((p) => p.kind === 'record')).toBe(true);
      expect(pieces.map((p) => p.data.toString('hex'))).toEqual(expected.records.map((r) => r.toString('hex')));
      let end = 0;
      pieces.forEach((p, i) => {
        end += expected.records[i]!.length;
        expect(p.end).toBe(end);
      });
      expect(s.pendingBytes).toBe(expected.rest.length);
    }
  });

  it('streams a single line over the limit out as oversized pieces up to its newline', () => {
    const s = new CsvRecordSplitter(10);
    const long = 'x'.repeat(35);
    const pieces = feed(s, Buffer.from(`ok\n${long}\nnext\n`), () => 7);
    const records = pieces.filter((p) => p.kind === 'record');
    const oversized = pieces.filter((p) => p.kind === 'oversized');
    expect(text(records)).toEqual(['ok\n', 'next\n']);
    expect(oversized.map((p) => p.data.toString()).join('')).toBe(`${long}\n`);
    expect(oversized.filter((p) => p.kind === 'oversized' && p.final)).toHaveLength(1);
    expect(oversized.at(-1)!.end).toBe(3 + 36);
    // Memory stays bounded: no piece is larger than the limit plus one chunk.
    expect(Math.max(...oversized.map((p) => p.data.length))).toBeLessThanOrEqual(10 + 7);
  });

  it('a quote inside an unquoted field is a literal character, not the start of a quoted field', () => {
    const s = new CsvRecordSplitter(40);
    const lines = ['id,desc\n', '1,5" screen\n', ...Array.from({ length: 10 }, (_, i) => `${i + 2},plain "row\n`), '"q""x\n",y\n'];
    const pieces = feed(s, Buffer.from(lines.join('')), () => 16);
    expect(pieces.every((p) => p.kind === 'record')).toBe(true);
    expect(text(pieces)).toEqual(lines);
    expect(pieces.at(-1)!.end).toBe(lines.join('').length);
  });

  it('a valid quoted record over the limit that spans lines is streamed out whole; the records after it flow on', () => {
    const s = new CsvRecordSplitter(50);
    const big = `7,"${Array.from({ length: 30 }, (_, i) => `inner line ${i}, "" quoted`).join('\n')}"\n`;
    const after = Array.from({ length: 20 }, (_, i) => `${i + 8},"a\nb"\n`);
    const input = `1,x\n${big}${after.join('')}`;
    const pieces = feed(s, Buffer.from(input), () => 13);
    const oversized = pieces.filter((p) => p.kind === 'oversized');
    expect(oversized.map((p) => p.data.toString()).join('')).toBe(big);
    expect(oversized.filter((p) => p.kind === 'oversized' && p.final)).toHaveLength(1);
    expect(oversized.at(-1)!.end).toBe(4 + Buffer.byteLength(big));
    expect(text(pieces.filter((p) => p.kind === 'record'))).toEqual(['1,x\n', ...after]);
    expect(Math.max(...oversized.map((p) => p.data.length))).toBeLessThanOrEqual(50 + 13);
  });

  it('rejects a nonsensical limit', () => {
    expect(() => new CsvRecordSplitter(0)).toThrow(/maxRecordBytes must be a positive integer, got 0/);
  });
});
