import { describe, expect, it } from 'vitest';
import { InvalidCronError, batchIdForSchedule, slotsBetween } from '../src/index.js';

// Expected ids are written out by hand from the calendar, not computed with the library.
describe('batchIdForSchedule', () => {
  it('names the slot a run belongs to, not the wall clock', () => {
    expect(batchIdForSchedule('*/15 * * * *', new Date('2026-11-26T03:17:42Z'))).toBe('20261126T0315');
  });

  it('includes a slot that starts exactly now', () => {
    expect(batchIdForSchedule('*/15 * * * *', new Date('2026-11-26T03:15:00.000Z'))).toBe('20261126T0315');
    expect(batchIdForSchedule('*/15 * * * *', new Date('2026-11-26T03:14:59.999Z'))).toBe('20261126T0300');
  });

  it('gives a late run and its replay the same id', () => {
    const cron = '0 */6 * * *';
    const onTime = batchIdForSchedule(cron, new Date('2026-11-26T06:00:05Z'));
    const late = batchIdForSchedule(cron, new Date('2026-11-26T08:47:00Z'));
    const replayNextDay = batchIdForSchedule(cron, new Date('2026-11-26T11:59:59Z'));
    expect(onTime).toBe('20261126T0600');
    expect(late).toBe(onTime);
    expect(replayNextDay).toBe(onTime);
  });

  it.each([
    ['month', '0 0 * * *', '2026-03-01T00:30:00Z', '20260301T0000'],
    ['month, late', '0 12 * * *', '2026-03-01T05:00:00Z', '20260228T1200'],
    ['leap month', '0 12 * * *', '2028-03-01T05:00:00Z', '20280229T1200'],
    ['year', '30 23 * * *', '2027-01-01T00:10:00Z', '20261231T2330'],
    ['monthly on the 31st', '0 0 31 * *', '2026-05-15T00:00:00Z', '20260331T0000'],
    ['EU DST night stays in UTC', '0 * * * *', '2026-03-29T02:30:00Z', '20260329T0200'],
    ['US DST night stays in UTC', '*/30 * * * *', '2026-11-01T06:59:00Z', '20261101T0630'],
    ['@hourly alias', '@hourly', '2026-11-26T03:59:00Z', '20261126T0300'],
  ])('crosses a %s boundary', (_name, cron, now, expected) => {
    expect(batchIdForSchedule(cron, new Date(now))).toBe(expected);
  });

  it.each([
    ['empty', ''],
    ['garbage', 'every quarter hour'],
    ['out of range', '61 * * * *'],
    ['seconds field', '0 */15 * * * *'],
    ['four fields', '* * * *'],
  ])('rejects %s cron with a message naming it', (_name, cron) => {
    expect(() => batchIdForSchedule(cron, new Date('2026-11-26T00:00:00Z'))).toThrow(InvalidCronError);
    expect(() => batchIdForSchedule(cron, new Date('2026-11-26T00:00:00Z'))).toThrow(
      `Invalid cron expression ${JSON.stringify(cron)}`,
    );
  });

  it('rejects an invalid now', () => {
    expect(() => batchIdForSchedule('* * * * *', new Date(Number.NaN))).toThrow(/valid Date/);
  });
});

describe('slotsBetween', () => {
  it('lists slots inclusive at both ends', () => {
    expect(slotsBetween('*/15 * * * *', '20261126T0300', '20261126T0400')).toEqual([
      '20261126T0300',
      '20261126T0315',
      '20261126T0330',
      '20261126T0345',
      '20261126T0400',
    ]);
  });

  it('excludes bounds that are not slots', () => {
    expect(slotsBetween('0 * * * *', '20261231T2201', '20270101T0100')).toEqual([
      '20261231T2300',
      '20270101T0000',
      '20270101T0100',
    ]);
  });

  it('counts a full day of 5-minute slots', () => {
    expect(slotsBetween('*/5 * * * *', '20260301T0000', '20260301T2355')).toHaveLength(24 * 12);
  });

  it('returns nothing when no slot falls in range', () => {
    expect(slotsBetween('0 0 1 1 *', '20260301T0000', '20260302T0000')).toEqual([]);
  });

  it('rejects reversed ranges and bad ids', () => {
    expect(() => slotsBetween('* * * * *', '20260302T0000', '20260301T0000')).toThrow(/is after/);
    expect(() => slotsBetween('* * * * *', '../x', '20260301T0000')).toThrow(/Invalid batch id "..\/x"/);
  });

  it('refuses unbounded ranges', () => {
    expect(() => slotsBetween('* * * * *', '20200101T0000', '20260101T0000')).toThrow(/more than 100000 slots/);
  });
});
