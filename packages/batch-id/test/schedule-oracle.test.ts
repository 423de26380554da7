import { describe, expect, it } from 'vitest';
import { batchIdForSchedule, formatBatchId, slotsBetween } from '../src/index.js';

// An independent oracle: a minute-by-minute scan with a small matcher of five-field cron (lists, ranges, steps,
// Vixie-cron day rule: when both day fields are restricted, either one matches). The library uses croner.

function field(spec: string, min: number, max: number): Set<number> | undefined {
  if (spec === '*') return undefined;
  const out = new Set<number>();
  for (const part of spec.split(',')) {
    const [range, step = '1'] = part.split('/');
    const [lo, hi] = range === '*' ? [min, max] : range!.includes('-') ? range!.split('-').map(Number) : [Number(range), part.includes('/') ? max : Number(range)];
    for (let v = lo!; v <= hi!; v += Number(step)) out.add(v);
  }
  return out;
}

function matcher(cron: string): (d: Date) => boolean {
  const [mi, ho, dom, mon, dow] = cron.split(' ');
  const minutes = field(mi!, 0, 59);
  const hours = field(ho!, 0, 23);
  const days = field(dom!, 1, 31);
  const months = field(mon!, 1, 12);
  const weekdays = field(dow!, 0, 7);
  if (weekdays?.has(7)) weekdays.add(0);
  return (d) => {
    const inSet = (set: Set<number> | undefined, v: number) => set === undefined || set.has(v);
    const dayOk =
      days && weekdays ? days.has(d.getUTCDate()) || weekdays.has(d.getUTCDay()) : inSet(days, d.getUTCDate()) && inSet(weekdays, d.getUTCDay());
    return inSet(minutes, d.getUTCMinutes()) && inSet(hours, d.getUTCHours()) && inSet(months, d.getUTCMonth() + 1) && dayOk;
  };
}

function oracleSlots(cron: string, from: Date, to: Date): string[] {
  const matches = matcher(cron);
  const out: string[] = [];
  for (let t = from.getTime(); t <= to.getTime(); t += 60_000) if (matches(new Date(t))) out.push(formatBatchId(new Date(t)));
  return out;
}

const CRONS = ['*/15 * * * *', '5 * * * *', '10,40 * * * *', '30 2 * * *', '0 6 * * 1', '0 0 1 * 1', '7-9 */5 * * *', '0 12 29 2 *', '45 23 31 * 5', '*/7 1-3 * 1,3 0'];

describe('slots agree with an independent minute-by-minute oracle', () => {
  // Across a month end, a leap day (2028-02-29) and a year end.
  const windows: Array<[string, string]> = [
    ['2028-02-27T00:00:00Z', '2028-03-02T06:00:00Z'],
    ['2026-12-30T20:00:00Z', '2027-01-02T04:00:00Z'],
  ];
  it.each(CRONS)('%s', (cron) => {
    for (const [a, b] of windows) {
      const from = new Date(a);
      const to = new Date(b);
      const expected = oracleSlots(cron, from, to);
      expect(slotsBetween(cron, formatBatchId(from), formatBatchId(to))).toEqual(expected);
      // batchIdForSchedule: the latest slot at or before any instant, including exactly on a slot and within its minute.
      const all = oracleSlots(cron, new Date(from.getTime() - 40 * 86_400_000), to);
      for (const offsetMs of [0, 1, 59_999, 3_600_000 * 7 + 12_345, 86_400_000 + 1]) {
        const at = new Date(from.getTime() + offsetMs);
        const want = all.filter((id) => id <= formatBatchId(at)).at(-1);
        if (want !== undefined) expect(batchIdForSchedule(cron, at)).toBe(want);
      }
      for (const id of expected.slice(0, 3)) {
        const [, y, mo, d, h, mi] = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})$/.exec(id)!;
        expect(batchIdForSchedule(cron, new Date(Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!)))).toBe(id);
      }
    }
  });
});
