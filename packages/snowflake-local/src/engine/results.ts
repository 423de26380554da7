import {
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimeValue,
  DuckDBTypeId,
  DuckDBBlobValue,
  type DuckDBResultReader,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import { unsupported } from '../errors.js';

/** One column of a result, in the driver's `rowtype` shape. */
export interface RowType {
  readonly name: string;
  readonly type: string;
  readonly precision: number | null;
  readonly scale: number | null;
  readonly length: number | null;
  readonly byteLength: number | null;
  readonly nullable: boolean;
  readonly database: string;
  readonly schema: string;
  readonly table: string;
}

/** A statement's outcome, protocol-neutral: the server wraps it in Snowflake's JSON. */
export interface StatementResult {
  readonly statementTypeId: number;
  readonly rowtype: readonly RowType[];
  /** Values as Snowflake's JSON result format writes them: strings or null. */
  readonly rowset: readonly (readonly (string | null)[])[];
}

const MAX_VARCHAR = 16777216;

export function column(name: string, type: 'text' | 'fixed' | 'real' | 'boolean' | 'date' | 'timestamp_ntz' | 'timestamp_ltz' | 'time' | 'binary' | 'variant', opts: { precision?: number; scale?: number } = {}): RowType {
  const textLike = type === 'text' || type === 'binary' || type === 'variant';
  return {
    name,
    type,
    precision: type === 'fixed' ? (opts.precision ?? 38) : null,
    scale: type === 'fixed' || type.startsWith('timestamp') || type === 'time' ? (opts.scale ?? (type === 'fixed' ? 0 : 9)) : null,
    length: textLike ? MAX_VARCHAR : null,
    byteLength: textLike ? MAX_VARCHAR : null,
    nullable: true,
    database: '',
    schema: '',
    table: '',
  };
}

/** A one-row status result, as DDL and session statements return. */
export function statusResult(message: string, statementTypeId: number): StatementResult {
  return { statementTypeId, rowtype: [column('status', 'text')], rowset: [[message]] };
}

export function countResult(names: readonly string[], counts: readonly number[], statementTypeId: number): StatementResult {
  return {
    statementTypeId,
    rowtype: names.map((n) => column(n, 'fixed', { precision: 19 })),
    rowset: [counts.map((n) => String(n))],
  };
}

function rowTypeFor(name: string, type: DuckDBType): RowType {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return column(name, 'boolean');
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
      return column(name, 'fixed', { precision: 10 });
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
      return column(name, 'fixed', { precision: 19 });
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return column(name, 'fixed', { precision: 38 });
    case DuckDBTypeId.DECIMAL: {
      const d = type as unknown as { width: number; scale: number };
      return column(name, 'fixed', { precision: d.width, scale: d.scale });
    }
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return column(name, 'real');
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.UUID:
    case DuckDBTypeId.ENUM:
    case DuckDBTypeId.SQLNULL:
      return column(name, 'text');
    case DuckDBTypeId.DATE:
      return column(name, 'date');
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return column(name, 'timestamp_ntz');
    case DuckDBTypeId.TIMESTAMP_TZ:
      return column(name, 'timestamp_ltz');
    case DuckDBTypeId.TIME:
      return column(name, 'time');
    case DuckDBTypeId.BLOB:
      return column(name, 'binary');
    default:
      throw unsupported(`a result column of DuckDB type ${type.toString()} (${name})`);
  }
}

/** Epoch seconds with 9 fractional digits, from microseconds. */
function secondsFromMicros(micros: bigint): string {
  const million = 1_000_000n;
  let seconds = micros / million;
  let rest = micros % million;
  if (rest < 0n) {
    rest += million;
    seconds -= 1n;
  }
  return `${seconds}.${rest.toString().padStart(6, '0')}000`;
}

function decimalText(v: DuckDBDecimalValue): string {
  const negative = v.value < 0n;
  const digits = (negative ? -v.value : v.value).toString().padStart(v.scale + 1, '0');
  const text = v.scale === 0 ? digits : `${digits.slice(0, -v.scale)}.${digits.slice(-v.scale)}`;
  return negative ? `-${text}` : text;
}

function valueText(v: DuckDBValue, typeId: DuckDBTypeId): string | null {
  if (v === null) return null;
  switch (typeId) {
    case DuckDBTypeId.BOOLEAN:
      return v ? '1' : '0';
    case DuckDBTypeId.DECIMAL:
      return decimalText(v as DuckDBDecimalValue);
    case DuckDBTypeId.DATE:
      return String((v as DuckDBDateValue).days);
    case DuckDBTypeId.TIMESTAMP:
      return secondsFromMicros((v as DuckDBTimestampValue).micros);
    case DuckDBTypeId.TIMESTAMP_TZ:
      return secondsFromMicros((v as DuckDBTimestampTZValue).micros);
    case DuckDBTypeId.TIMESTAMP_S:
      return `${(v as unknown as { seconds: bigint }).seconds}.000000000`;
    case DuckDBTypeId.TIMESTAMP_MS:
      return secondsFromMicros((v as unknown as { millis: bigint }).millis * 1000n);
    case DuckDBTypeId.TIMESTAMP_NS: {
      const nanos = (v as unknown as { nanos: bigint }).nanos;
      const billion = 1_000_000_000n;
      let s = nanos / billion;
      let r = nanos % billion;
      if (r < 0n) {
        r += billion;
        s -= 1n;
      }
      return `${s}.${r.toString().padStart(9, '0')}`;
    }
    case DuckDBTypeId.TIME:
      return secondsFromMicros((v as DuckDBTimeValue).micros);
    case DuckDBTypeId.BLOB:
      return Buffer.from((v as DuckDBBlobValue).bytes).toString('hex').toUpperCase();
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE: {
      const n = v as number;
      if (Number.isNaN(n)) return 'NaN';
      if (n === Infinity) return 'inf';
      if (n === -Infinity) return '-inf';
      return String(n);
    }
    default:
      return typeof v === 'string' ? v : String(v);
  }
}

/** Converts a DuckDB result (all rows read) to Snowflake's JSON rowtype/rowset. */
export function fromDuckDb(reader: DuckDBResultReader, statementTypeId: number): StatementResult {
  const names = reader.columnNames();
  const types = reader.columnTypes();
  const rowtype = names.map((name, i) => rowTypeFor(name, types[i]!));
  const typeIds = types.map((t) => t.typeId);
  const rowset = reader.getRows().map((row) => row.map((v, i) => valueText(v, typeIds[i]!)));
  return { statementTypeId, rowtype, rowset };
}
