import { describe, expect, it } from 'vitest';
import {
  InvalidBatchIdError,
  assertBatchId,
  formatBatchId,
  fromAirflowTsNodash,
  isBatchId,
  parseBatchId,
  toBatchId,
  toLegacyBatchId,
} from '../src/index.js';

describe('formatBatchId / parseBatchId', () => {
  it('formats UTC minutes as YYYYMMDDTHHMM', () => {
    expect(formatBatchId(new Date('2026-11-26T03:17:42.999Z'))).toBe('20261126T0317');
    expect(formatBatchId(new Date('1970-01-01T00:00:00Z'))).toBe('19700101T0000');
  });

  it('ignores the local time zone', () => {
    // 23:59 UTC on Dec 31 is already the next day in UTC+1; the id must stay UTC.
    expect(formatBatchId(new Date('2026-12-31T23:59:00-01:00'))).toBe('20270101T0059');
  });

  it.each([
    ['month boundary', '2026-01-31T23:59:00Z', '20260131T2359', '2026-02-01T00:00:00Z', '20260201T0000'],
    ['year boundary', '2026-12-31T23:59:00Z', '20261231T2359', '2027-01-01T00:00:00Z', '20270101T0000'],
    ['leap day', '2028-02-29T12:00:00Z', '20280229T1200', '2028-03-01T00:00:00Z', '20280301T0000'],
    // Europe and the US change clocks on these days; UTC does not, so nothing repeats or is skipped.
    ['EU DST start', '2026-03-29T00:59:00Z', '20260329T0059', '2026-03-29T01:00:00Z', '20260329T0100'],
    ['US DST end', '2026-11-01T05:59:00Z', '20261101T0559', '2026-11-01T06:00:00Z', '20261101T0600'],
  ])('round-trips across a %s', (_name, beforeIso, beforeId, afterIso, afterId) => {
    expect(formatBatchId(new Date(beforeIso))).toBe(beforeId);
    expect(formatBatchId(new Date(afterIso))).toBe(afterId);
    expect(parseBatchId(beforeId).toISOString()).toBe(new Date(beforeIso).toISOString());
    expect(parseBatchId(afterId).getTime() - parseBatchId(beforeId).getTime()).toBe(
      Date.parse(afterIso) - Date.parse(beforeIso),
    );
  });

  it('sorts lexically in time order', () => {
    const instants = [0, 59_999, 60_000, 3_600_000, 86_400_000 * 400, 86_400_000 * 20_000].map((ms) => new Date(ms));
    const ids = instants.map(formatBatchId);
    const shuffled = [...ids].reverse().sort();
    expect(shuffled).toEqual(ids);
  });

  it('rejects invalid dates', () => {
    expect(() => formatBatchId(new Date('nope'))).toThrow(RangeError);
    expect(() => formatBatchId(new Date(-1))).toThrow(/before 1970/);
  });
});

describe('validation: a security boundary', () => {
  const rejected: Array<[string, unknown]> = [
    ['empty', ''],
    ['leading space', ' 20261126T0315'],
    ['trailing newline', '20261126T0315\n'],
    ['inner tab', '20261126T\t0315'],
    ['slash', '2026/11/26T0315'],
    ['path traversal', '../x'],
    ['dot-dot inside', '20261126T..15'],
    ['single quote', "20261126T0315'"],
    ['double quote', '"20261126T0315"'],
    ['semicolon', '20261126T0315;'],
    ['quote without spaces', "2026';DROP"],
    ['SQL comment', '20261126T03--'],
    ['SQL injection', "2026'; DROP TABLE x; --"],
    ['lower-case t', '20261126t0315'],
    ['seconds', '20261126T031500'],
    ['ISO with dashes', '2026-11-26T03:15'],
    ['legacy form without opt-in', '20261126T031'],
    ['month 13', '20261326T0315'],
    ['Feb 30', '20260230T0000'],
    ['Feb 29 in a common year', '20270229T0000'],
    ['hour 24', '20261126T2400'],
    ['minute 60', '20261126T0360'],
    ['before 1970', '19691231T2359'],
    ['unicode digits', '２０２６1126T0315'],
    ['number', 202611260315],
    ['null', null],
    ['undefined', undefined],
    ['object', { toString: () => '20261126T0315' }],
  ];

  it.each(rejected)('rejects %s', (_name, value) => {
    expect(isBatchId(value)).toBe(false);
    expect(() => assertBatchId(value)).toThrow(InvalidBatchIdError);
  });

  it('names the value and the expected form', () => {
    expect(() => assertBatchId("2026'; DROP TABLE x; --")).toThrow(
      `Invalid batch id "2026'; DROP TABLE x; --": contains whitespace; expected YYYYMMDDTHHMM`,
    );
    expect(() => parseBatchId('20260230T0000')).toThrow(/"20260230T0000": not a real UTC calendar minute/);
    expect(() => assertBatchId('')).toThrow(/"": empty/);
  });

  it('keeps error messages on one line whatever the input', () => {
    try {
      assertBatchId('x\nFAKE LOG LINE');
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('\n');
      expect((err as InvalidBatchIdError).value).toBe('x\nFAKE LOG LINE');
    }
  });

  it('accepts canonical ids and narrows the type', () => {
    const raw: unknown = '20261126T0315';
    assertBatchId(raw);
    const id: string = raw;
    expect(id).toBe('20261126T0315');
    expect(toBatchId('20280229T2359')).toBe('20280229T2359');
  });
});

describe('legacy Airflow ts_nodash[:12]', () => {
  it('truncates ts_nodash to 12 characters', () => {
    expect(fromAirflowTsNodash('20261126T031500')).toBe('20261126T031');
    expect(fromAirflowTsNodash('20261126T031959')).toBe('20261126T031');
  });

  it('shows the ten-minute collision the canonical form removes', () => {
    const a = fromAirflowTsNodash('20261126T031000');
    const b = fromAirflowTsNodash('20261126T031500');
    expect(a).toBe(b);
    expect(formatBatchId(new Date('2026-11-26T03:10:00Z'))).not.toBe(formatBatchId(new Date('2026-11-26T03:15:00Z')));
  });

  it('is accepted only when legacy mode is asked for', () => {
    expect(isBatchId('20261126T031')).toBe(false);
    expect(isBatchId('20261126T031', { legacy: true })).toBe(true);
    expect(parseBatchId('20261126T031', { legacy: true }).toISOString()).toBe('2026-11-26T03:10:00.000Z');
    expect(isBatchId('20261126T0315', { legacy: true })).toBe(true);
    expect(isBatchId('20261126T061', { legacy: true })).toBe(true);
    expect(isBatchId('20261126T06', { legacy: true })).toBe(false);
    expect(() => assertBatchId('20261126T2460', { legacy: true })).toThrow(/or legacy YYYYMMDDTHHM/);
  });

  it('maps a canonical id to the legacy id the old DAG would have written', () => {
    expect(toLegacyBatchId(toBatchId('20261126T0319'))).toBe('20261126T031');
  });

  it.each(['20261126T0315', '20261126 031500', '2026-11-26T03:15:00', "20261126T03150'"])(
    'rejects a non-ts_nodash value %j',
    (value) => {
      expect(() => fromAirflowTsNodash(value)).toThrow(InvalidBatchIdError);
    },
  );
});
