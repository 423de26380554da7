import { InvalidInstantError } from './errors.js';

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * A strict ISO-8601 instant with an explicit zone (`Z` or `±HH:MM`). Unlike `new Date(text)`, an
 * impossible calendar date (`2026-02-30T00:00Z`) is refused instead of rolled over into March, and
 * a bare date or a time without a zone (which would silently use local time) is refused too.
 */
export function parseIsoInstant(text: unknown): Date {
  if (typeof text !== 'string') throw new InvalidInstantError(text, 'not a string');
  const m = ISO_INSTANT.exec(text);
  if (!m) throw new InvalidInstantError(text, 'not of the form YYYY-MM-DDTHH:MM[:SS[.fff]] followed by Z or ±HH:MM');
  const [, y, mo, d, h, mi, s = '0', , zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (month < 1 || month > 12 || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) {
    throw new InvalidInstantError(text, `${y}-${mo}-${d} is not a date on the calendar`);
  }
  if (hour > 23 || minute > 59 || second > 59) throw new InvalidInstantError(text, `${h}:${mi}:${s.padStart(2, '0')} is not a time of day`);
  if (zone !== 'Z') {
    const zh = Number(zone!.slice(1, 3));
    const zm = Number(zone!.slice(-2));
    if (zh > 23 || zm > 59) throw new InvalidInstantError(text, `${zone} is not a UTC offset`);
  }
  const date = new Date(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  if (!Number.isFinite(date.getTime())) throw new InvalidInstantError(text, 'out of range');
  return date;
}
