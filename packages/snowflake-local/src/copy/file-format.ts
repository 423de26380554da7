import { compilationError, unsupported } from '../errors.js';
import { optionBoolean, optionInteger, optionStrings, optionText, type Options } from '../sql/options.js';

/** A CSV file format with Snowflake's option names and defaults. */
export interface CsvFormat {
  readonly fieldDelimiter: string;
  /** undefined = any newline (\n or \r\n), Snowflake's default. */
  readonly recordDelimiter: string | undefined;
  readonly skipHeader: number;
  readonly enclosedBy: string | undefined;
  readonly escape: string | undefined;
  readonly escapeUnenclosedField: string | undefined;
  readonly trimSpace: boolean;
  readonly nullIf: readonly string[];
  readonly emptyFieldAsNull: boolean;
  readonly errorOnColumnCountMismatch: boolean;
  readonly skipBlankLines: boolean;
  readonly replaceInvalidCharacters: boolean;
  readonly skipByteOrderMark: boolean;
  readonly compression: 'AUTO' | 'GZIP' | 'NONE';
}

export const DEFAULT_CSV_FORMAT: CsvFormat = {
  fieldDelimiter: ',',
  recordDelimiter: undefined,
  skipHeader: 0,
  enclosedBy: undefined,
  escape: undefined,
  escapeUnenclosedField: '\\',
  trimSpace: false,
  nullIf: ['\\N'],
  emptyFieldAsNull: true,
  errorOnColumnCountMismatch: true,
  skipBlankLines: false,
  replaceInvalidCharacters: false,
  skipByteOrderMark: true,
  compression: 'AUTO',
};

/** Options accepted only at their default value, because nothing else is emulated. */
const ONLY_DEFAULT: Record<string, string[]> = {
  ENCODING: ['UTF8', 'UTF-8'],
  // ISO forms are what DuckDB's casts read; any other format model is not emulated.
  DATE_FORMAT: ['AUTO', 'YYYY-MM-DD'],
  TIME_FORMAT: ['AUTO', 'HH24:MI:SS'],
  TIMESTAMP_FORMAT: ['AUTO', 'YYYY-MM-DD HH24:MI:SS'],
  BINARY_FORMAT: ['HEX'],
  PARSE_HEADER: ['FALSE'],
  MULTI_LINE: ['TRUE'],
  VALIDATE_UTF8: ['TRUE'],
};

function singleCharacter(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.toUpperCase() === 'NONE') return undefined;
  if ([...value].length !== 1) {
    throw compilationError(`invalid value [${value}] for parameter '${name}': a single character is expected`, '002023', '22023');
  }
  return value;
}

/**
 * Builds a CSV format from `CREATE FILE FORMAT` / inline `FILE_FORMAT = (...)`
 * options, layered over `base` (the named format an inline format refines).
 */
export function csvFormatFromOptions(options: Options, base: CsvFormat = DEFAULT_CSV_FORMAT): CsvFormat {
  const type = optionText(options.get('TYPE'), 'TYPE');
  if (type !== undefined && type.toUpperCase() !== 'CSV') throw unsupported(`file format TYPE = ${type}`);
  const format: { -readonly [K in keyof CsvFormat]: CsvFormat[K] } = { ...base };
  for (const [name, value] of options) {
    switch (name) {
      case 'TYPE':
      case 'COMMENT':
      case 'FORMAT_NAME':
      case 'FILE_EXTENSION': // unloading only
        break;
      case 'FIELD_DELIMITER': {
        const v = optionText(value, name)!;
        if (v.toUpperCase() === 'NONE') throw unsupported('FIELD_DELIMITER = NONE');
        format.fieldDelimiter = v;
        break;
      }
      case 'RECORD_DELIMITER': {
        const v = optionText(value, name)!;
        if (v.toUpperCase() === 'NONE') throw unsupported('RECORD_DELIMITER = NONE');
        format.recordDelimiter = v === '\n' ? undefined : v;
        break;
      }
      case 'SKIP_HEADER':
        format.skipHeader = optionInteger(value, name)!;
        break;
      case 'FIELD_OPTIONALLY_ENCLOSED_BY':
        format.enclosedBy = singleCharacter(optionText(value, name), name);
        break;
      case 'ESCAPE':
        format.escape = singleCharacter(optionText(value, name), name);
        break;
      case 'ESCAPE_UNENCLOSED_FIELD':
        format.escapeUnenclosedField = singleCharacter(optionText(value, name), name);
        break;
      case 'TRIM_SPACE':
        format.trimSpace = optionBoolean(value, name)!;
        break;
      case 'NULL_IF':
        format.nullIf = optionStrings(value, name)!;
        break;
      case 'EMPTY_FIELD_AS_NULL':
        format.emptyFieldAsNull = optionBoolean(value, name)!;
        break;
      case 'ERROR_ON_COLUMN_COUNT_MISMATCH':
        format.errorOnColumnCountMismatch = optionBoolean(value, name)!;
        break;
      case 'SKIP_BLANK_LINES':
        format.skipBlankLines = optionBoolean(value, name)!;
        break;
      case 'REPLACE_INVALID_CHARACTERS':
        format.replaceInvalidCharacters = optionBoolean(value, name)!;
        break;
      case 'SKIP_BYTE_ORDER_MARK':
        format.skipByteOrderMark = optionBoolean(value, name)!;
        break;
      case 'COMPRESSION': {
        const v = optionText(value, name)!.toUpperCase();
        if (v !== 'AUTO' && v !== 'GZIP' && v !== 'NONE') throw unsupported(`COMPRESSION = ${v}`);
        format.compression = v;
        break;
      }
      default: {
        const allowed = ONLY_DEFAULT[name];
        if (!allowed) throw unsupported(`file format option ${name}`);
        const v = optionText(value, name)!.toUpperCase();
        if (!allowed.includes(v)) throw unsupported(`file format option ${name} = ${v}`);
      }
    }
  }
  if (format.escape !== undefined && format.escape !== '\\' && format.escape !== format.enclosedBy) {
    throw unsupported(`ESCAPE = '${format.escape}'`);
  }
  return format;
}
