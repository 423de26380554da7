import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { SnowflakeError, unsupported } from '../errors.js';
import type { CsvFormat } from './file-format.js';

/** One record of a staged file, fields already mapped to NULL per the file format. */
export interface StagedRecord {
  /** 1-based record number in the file (after the skipped header lines): METADATA$FILE_ROW_NUMBER. */
  readonly rowNumber: number;
  /** 1-based line where the record starts. */
  readonly line: number;
  readonly fields: readonly (string | null)[];
  readonly raw: string;
  /** Byte offset of the record's start in the (decompressed) file. */
  readonly byteOffset: number;
}

/** A record the parser could not read (bad quoting, invalid UTF-8, wrong field count). */
export interface RecordError {
  readonly rowNumber: number;
  readonly line: number;
  readonly character: number;
  readonly code: string;
  readonly sqlState: string;
  readonly message: string;
  /** Field number (1-based) the error points at, when known. */
  readonly field?: number;
  /** The record's text, as far as it could be read. */
  readonly record?: string;
  readonly byteOffset?: number;
}

export interface ParsedFile {
  readonly records: StagedRecord[];
  readonly errors: RecordError[];
  readonly rowsParsed: number;
}

const GZIP_MAGIC = [0x1f, 0x8b];

export function decompress(bytes: Buffer, format: CsvFormat, name: string): Buffer {
  const gzipped = bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
  if (format.compression === 'NONE') return bytes;
  if (format.compression === 'GZIP' || gzipped) {
    try {
      return gunzipSync(bytes);
    } catch (error) {
      // A truncated or damaged file fails the statement by name, in every ON_ERROR mode (message after Snowflake's).
      throw new SnowflakeError(
        '100069',
        '22000',
        `Invalid data encountered during decompression for file: '${name}', compression type used: 'GZIP', cause: '${(error as Error).message}' (truncated or corrupt gzip)`,
      );
    }
  }
  if (/\.(bz2|zst|br|deflate|raw_deflate)$/i.test(name)) throw unsupported(`compressed file ${name} (only GZIP is read)`);
  return bytes;
}

/** Lines (1-based) that hold bytes that are not valid UTF-8. */
function invalidUtf8Lines(bytes: Buffer): Map<number, string> {
  const lines = new Map<number, string>();
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return lines;
  } catch {
    // find the offending bytes below
  }
  let line = 1;
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b === 0x0a) line++;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    let ok = need >= 0 && i + need < bytes.length;
    if (ok && need > 0) {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(i, i + need + 1));
      } catch {
        ok = false;
      }
    }
    if (!ok) {
      if (!lines.has(line)) lines.set(line, `0x${b.toString(16).toUpperCase()}`);
      i++;
    } else {
      i += need + 1;
    }
  }
  return lines;
}

interface ParsedCell {
  readonly value: string;
  readonly quoted: boolean;
}

/**
 * Reads a CSV file the way Snowflake's CSV parser does for the options it
 * supports. `expectedFields` is checked when the format says
 * ERROR_ON_COLUMN_COUNT_MISMATCH (plain COPY only; a COPY with a SELECT reads
 * the fields it names).
 */
export function readCsv(bytes: Buffer, format: CsvFormat, expectedFields: number | undefined): ParsedFile {
  const badLines = format.replaceInvalidCharacters ? new Map<number, string>() : invalidUtf8Lines(bytes);
  const errors: RecordError[] = [];
  const records: StagedRecord[] = [];
  let rowNumber = 0;
  const skipped: { line: number; raw: string; message: string }[] = [];
  const rows = parse(bytes, {
    delimiter: format.fieldDelimiter,
    record_delimiter: format.recordDelimiter === undefined ? ['\r\n', '\n'] : [format.recordDelimiter],
    quote: format.enclosedBy ?? false,
    escape: format.escape ?? format.enclosedBy ?? null,
    from_line: format.skipHeader + 1,
    bom: format.skipByteOrderMark,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: format.skipBlankLines,
    trim: format.trimSpace,
    info: true,
    raw: true,
    skip_records_with_error: true,
    on_skip: (err, raw) => {
      skipped.push({ line: Number((err as { lines?: number } | undefined)?.lines ?? 0), raw: raw ?? '', message: err?.message ?? 'unparseable record' });
      return undefined;
    },
  }) as unknown as { info: { lines: number; bytes: number }; raw: string; record: string[] }[];

  // Records and unparseable records, in file order, so row numbers count both.
  const events = [
    ...skipped.map((skip) => ({ endLine: skip.line, skip, row: undefined })),
    ...rows.map((row) => ({ endLine: row.info.lines, skip: undefined, row })),
  ].sort((a, b) => a.endLine - b.endLine);
  let previousEnd = 0;
  for (const event of events) {
    rowNumber++;
    if (event.skip) {
      errors.push({
        rowNumber,
        line: event.skip.line,
        character: 1,
        code: '100066',
        sqlState: '22000',
        message: `Found unparseable record: ${event.skip.message.replace(/, value is .*$/, '')}`,
        record: event.skip.raw,
      });
      continue;
    }
    const row = event.row!;
    const byteOffset = previousEnd;
    previousEnd = row.info.bytes;
    const raw = row.raw.replace(/[\r\n]+$/, '');
    const line = row.info.lines - (raw.match(/\n/g)?.length ?? 0);
    let bad: string | undefined;
    for (let l = line; l <= row.info.lines; l++) {
      if (badLines.has(l)) bad = badLines.get(l);
    }
    if (bad !== undefined) {
      errors.push({ rowNumber, line, character: 1, code: '100069', sqlState: '22P02', message: `Invalid UTF8 detected in string '${bad}'`, record: raw, byteOffset });
      continue;
    }
    // Whether a field was enclosed matters only for an empty value or a NULL_IF string, so the raw record
    // is scanned only then (csv-parse's per-field cast context is an order of magnitude slower).
    const values = row.record;
    const needsQuoting = format.enclosedBy !== undefined && values.some((v) => v === '' || format.nullIf.includes(v) || (format.escapeUnenclosedField !== undefined && v.includes(format.escapeUnenclosedField)));
    const enclosed = needsQuoting ? enclosedFields(raw, format) : undefined;
    const cells: ParsedCell[] = values.map((value, k) => ({ value, quoted: enclosed?.[k] ?? false }));
    // A blank line is one empty field; Snowflake reads it as a record unless SKIP_BLANK_LINES.
    if (expectedFields !== undefined && format.errorOnColumnCountMismatch && cells.length !== expectedFields) {
      errors.push({
        rowNumber,
        line,
        character: 1,
        code: '100080',
        sqlState: '22000',
        message: `Number of columns in file (${cells.length}) does not match that of the corresponding table (${expectedFields}), use file format option error_on_column_count_mismatch=false to ignore this error`,
        field: Math.min(cells.length, expectedFields) + 1,
        record: raw,
        byteOffset,
      });
      continue;
    }
    const fields: (string | null)[] = [];
    let escapeError: RecordError | undefined;
    cells.forEach((cell, k) => {
      if (!cell.quoted && format.escapeUnenclosedField !== undefined && cell.value.includes(format.escapeUnenclosedField) && !format.nullIf.includes(cell.value)) {
        escapeError ??= {
          rowNumber,
          line,
          character: fieldStart(raw, k, format),
          code: '000002',
          sqlState: '0A000',
          message: `Unsupported feature 'ESCAPE_UNENCLOSED_FIELD = '${format.escapeUnenclosedField}' with that character inside an unenclosed field'; set ESCAPE_UNENCLOSED_FIELD = NONE or enclose the field`,
          field: k + 1,
          record: raw,
          byteOffset,
        };
      }
      if (!cell.quoted && cell.value === '' && format.emptyFieldAsNull) fields.push(null);
      else if (!cell.quoted && format.nullIf.includes(cell.value)) fields.push(null);
      else fields.push(cell.value);
    });
    if (escapeError) {
      errors.push(escapeError);
      continue;
    }
    records.push({ rowNumber, line, fields, raw, byteOffset });
  }
  errors.sort((a, b) => a.rowNumber - b.rowNumber);
  return { records, errors, rowsParsed: rowNumber };
}

/** For each field of a raw record: was it enclosed in the quote character? */
export function enclosedFields(raw: string, format: Pick<CsvFormat, 'fieldDelimiter' | 'enclosedBy' | 'trimSpace'>): boolean[] {
  const result: boolean[] = [];
  let atFieldStart = true;
  let quoted = false;
  for (let i = 0; i <= raw.length; i++) {
    const ch = raw[i];
    if (atFieldStart) {
      if (format.trimSpace && (ch === ' ' || ch === '\t')) continue;
      result.push(ch !== undefined && ch === format.enclosedBy);
      atFieldStart = false;
    }
    if (ch === undefined) break;
    if (format.enclosedBy !== undefined && ch === format.enclosedBy) quoted = !quoted;
    else if (!quoted && raw.startsWith(format.fieldDelimiter, i)) {
      atFieldStart = true;
      i += format.fieldDelimiter.length - 1;
    }
  }
  return result;
}

/** 1-based character position where field `index` (0-based) starts in a raw record. */
export function fieldStart(raw: string, index: number, format: Pick<CsvFormat, 'fieldDelimiter' | 'enclosedBy'>): number {
  let field = 0;
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    if (field === index) return i + 1;
    const ch = raw[i];
    if (format.enclosedBy !== undefined && ch === format.enclosedBy) quoted = !quoted;
    else if (!quoted && raw.startsWith(format.fieldDelimiter, i)) {
      field++;
      i += format.fieldDelimiter.length - 1;
    }
  }
  return field === index ? raw.length + 1 : 1;
}
