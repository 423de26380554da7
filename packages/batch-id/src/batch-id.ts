/**
 * A batch id names one scheduled slot: `YYYYMMDDTHHMM`, UTC, minute resolution.
 * It is used verbatim in S3 keys and in SQL, so the accepted shape is strict:
 * exactly 13 characters, digits and one `T`, and a real calendar minute.
 */
import { InvalidBatchIdError } from './errors.js';

export { InvalidBatchIdError };

declare const batchIdBrand: unique symbol;
export type BatchId = string & { readonly [batchIdBrand]: 'BatchId' };

/** The 12-character `ts_nodash[:12]` form of the Airflow DAG this replaces: `YYYYMMDDTHHM`. */
declare const legacyBrand: unique symbol;
export type LegacyBatchId = string & { readonly [legacyBrand]: 'LegacyBatchId' };

export interface BatchIdOptions {
  /**
   * Also accept the legacy `YYYYMMDDTHHM` form. It names a ten-minute window,
   * so it parses to the window's first minute.
   */
  readonly legacy?: boolean;
}

export const BATCH_ID_FORMAT = 'YYYYMMDDTHHMM';
export const LEGACY_BATCH_ID_FORMAT = 'YYYYMMDDTHHM';

const CANONICAL = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})$/;
const LEGACY = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d)$/;

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function checkCalendar(value: string, parts: RegExpExecArray, minute: number, legacy: boolean): Date {
  const [, y, mo, d, h] = parts;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute));
  if (
    year < 1970 ||
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day ||
    date.getUTCHours() !== hour ||
    date.getUTCMinutes() !== minute
  ) {
    throw new InvalidBatchIdError(value, 'not a real UTC calendar minute from 1970 on', legacy);
  }
  return date;
}

function parseAny(value: unknown, options: BatchIdOptions): Date {
  const legacy = options.legacy === true;
  if (typeof value !== 'string') throw new InvalidBatchIdError(value, 'not a string', legacy);
  if (value.length === 0) throw new InvalidBatchIdError(value, 'empty', legacy);
  const canonical = CANONICAL.exec(value);
  if (canonical) return checkCalendar(value, canonical, Number(canonical[5]), legacy);
  if (legacy) {
    const old = LEGACY.exec(value);
    if (old) return checkCalendar(value, old, Number(old[5]) * 10, legacy);
  }
  const reason = /\s/.test(value)
    ? 'contains whitespace'
    : /[^0-9T]/.test(value)
      ? 'contains characters other than digits and "T"'
      : `has the wrong shape (${value.length} characters)`;
  throw new InvalidBatchIdError(value, reason, legacy);
}

/** Format an instant as the batch id of the minute it falls in (UTC). */
export function formatBatchId(date: Date): BatchId {
  const t = date.getTime();
  if (!Number.isFinite(t)) throw new RangeError(`Cannot format a batch id from an invalid Date`);
  if (t < 0) throw new RangeError(`Cannot format a batch id before 1970: ${date.toISOString()}`);
  const y = date.getUTCFullYear();
  if (y > 9999) throw new RangeError(`Cannot format a batch id after year 9999: ${date.toISOString()}`);
  return `${pad(y, 4)}${pad(date.getUTCMonth() + 1, 2)}${pad(date.getUTCDate(), 2)}T${pad(date.getUTCHours(), 2)}${pad(
    date.getUTCMinutes(),
    2,
  )}` as BatchId;
}

/** Parse a batch id to the first instant of the minute (or legacy ten minutes) it names. */
export function parseBatchId(value: string, options: BatchIdOptions = {}): Date {
  return parseAny(value, options);
}

export function isBatchId(value: unknown, options: BatchIdOptions = {}): value is BatchId {
  try {
    parseAny(value, options);
    return true;
  } catch {
    return false;
  }
}

/** Narrow an untrusted value to a BatchId, or throw an error naming the value and the expected form. */
export function assertBatchId(value: unknown, options: BatchIdOptions = {}): asserts value is BatchId {
  parseAny(value, options);
}

/** Validate and return: `toBatchId(input)` is `assertBatchId` as an expression. */
export function toBatchId(value: unknown, options: BatchIdOptions = {}): BatchId {
  parseAny(value, options);
  return value as BatchId;
}

/**
 * The id the old Airflow DAG stamped: `ts_nodash[:12]`, e.g. `20261126T031` for
 * `20261126T031500`. It drops the last minute digit, so every run within the same
 * ten minutes (03:10 to 03:19) gets the same id: two 5-minute slots collide.
 */
export function fromAirflowTsNodash(tsNodash: string): LegacyBatchId {
  if (typeof tsNodash !== 'string' || !/^\d{8}T\d{6}$/.test(tsNodash)) {
    throw new InvalidBatchIdError(tsNodash, 'not an Airflow ts_nodash value (YYYYMMDDTHHMMSS)', true);
  }
  const id = tsNodash.slice(0, 12);
  parseAny(id, { legacy: true });
  return id as LegacyBatchId;
}

/** The legacy id a canonical id would have had under the old DAG, for comparing old and new tables. */
export function toLegacyBatchId(id: BatchId): LegacyBatchId {
  assertBatchId(id);
  return id.slice(0, 12) as LegacyBatchId;
}
