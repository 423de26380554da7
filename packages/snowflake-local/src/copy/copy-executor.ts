import { createHash, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance, DuckDBResultReader, DuckDBValue } from '@duckdb/node-api';
import { compilationError, fromDuckDbError, invalidIdentifier, objectNotFound, SnowflakeError } from '../errors.js';
import type { Catalog, LoadedFile } from '../engine/catalog.js';
import { column, type StatementResult } from '../engine/results.js';
import { STAGED, type CopyPlan, type OnError } from '../sql/copy-statement.js';
import { Cursor, tokenize, significant } from '../sql/lexer.js';
import { duckName, parseObjectName, type QualifiedName } from '../sql/names.js';
import { resolveName, STATEMENT_TYPE } from '../sql/plan.js';
import { sqlIdent, sqlString, type SessionFacts } from '../sql/translate.js';
import type { Options } from '../sql/options.js';
import { readCsv, decompress, fieldStart, type RecordError, type StagedRecord } from './csv-reader.js';
import { csvFormatFromOptions, DEFAULT_CSV_FORMAT, type CsvFormat } from './file-format.js';
import type { StageFiles } from './stage-files.js';

export interface CopyEnvironment {
  readonly instance: DuckDBInstance;
  readonly catalog: Catalog;
  readonly files: StageFiles;
  readonly tmpDir: string;
  readonly facts: SessionFacts;
  /**
   * What METADATA$FILENAME holds: the path relative to the stage URL (`stage-relative`, the default), or the
   * object's whole path in the bucket, the stage's prefix included (`bucket-path`). Snowflake's documentation
   * leaves it open which one an external stage gives, so tests run the loader against both.
   */
  readonly metadataFilename?: 'stage-relative' | 'bucket-path';
  /** Runs SQL in the session's own connection and transaction. */
  run(sql: string, values?: DuckDBValue[]): Promise<DuckDBResultReader>;
}

export interface CopyOutcome {
  readonly result: StatementResult;
  /** Load metadata to record once the statement's transaction commits. */
  readonly loads: LoadedFile[];
}

interface TargetColumn {
  readonly name: string;
  readonly duckType: string;
  readonly notNull: boolean;
  readonly maxLength: number | undefined;
  /** 1-based position in the table. */
  readonly position: number;
}

interface FileRowError {
  readonly rowNumber: number;
  readonly line: number;
  readonly character: number;
  readonly code: string;
  readonly sqlState: string;
  readonly message: string;
  readonly columnName: string | undefined;
  /** 'parsing' (the record could not be read) or 'conversion' (a value did not fit its column). */
  readonly category: 'parsing' | 'conversion';
  readonly record: string | undefined;
  readonly byteOffset: number | undefined;
}

interface StagedFile {
  readonly index: number;
  readonly url: string;
  /** Path relative to the stage URL (error messages). */
  readonly relative: string;
  /** METADATA$FILENAME, as `metadataFilename` says. */
  readonly metadataName: string;
  readonly contentKey: string;
  readonly missing: boolean;
  readonly rowsParsed: number;
  readonly records: StagedRecord[];
  readonly errors: FileRowError[];
}

const COPY_RESULT_COLUMNS = [
  column('file', 'text'),
  column('status', 'text'),
  column('rows_parsed', 'fixed', { precision: 19 }),
  column('rows_loaded', 'fixed', { precision: 19 }),
  column('error_limit', 'fixed', { precision: 19 }),
  column('errors_seen', 'fixed', { precision: 19 }),
  column('first_error', 'text'),
  column('first_error_line', 'fixed', { precision: 19 }),
  column('first_error_character', 'fixed', { precision: 19 }),
  column('first_error_column_name', 'text'),
];

const VALIDATION_COLUMNS = [
  column('ERROR', 'text'),
  column('FILE', 'text'),
  column('LINE', 'fixed', { precision: 19 }),
  column('CHARACTER', 'fixed', { precision: 19 }),
  column('BYTE_OFFSET', 'fixed', { precision: 19 }),
  column('CATEGORY', 'text'),
  column('CODE', 'fixed', { precision: 19 }),
  column('SQL_STATE', 'text'),
  column('COLUMN_NAME', 'text'),
  column('ROW_NUMBER', 'fixed', { precision: 19 }),
  column('ROW_START_LINE', 'fixed', { precision: 19 }),
  column('REJECTED_RECORD', 'text'),
];

const CONTINUE_HINT =
  "If you would like to continue loading when an error is encountered, use other values such as 'SKIP_FILE' or 'CONTINUE' for the ON_ERROR option. For more information on loading options, please run 'info loading_data' in a SQL client.";

function resolveFormat(options: Options | undefined, stageSchema: { database: string; schema: string }, env: CopyEnvironment): CsvFormat {
  if (!options) return DEFAULT_CSV_FORMAT;
  const formatName = options.get('FORMAT_NAME');
  if (formatName) {
    if (formatName.kind !== 'string' && formatName.kind !== 'word') throw compilationError('FORMAT_NAME must be a name');
    const c = new Cursor(significant(tokenize(formatName.value)));
    const parsed = parseObjectName(c);
    const name = resolveName(parsed, { ...env.facts, database: env.facts.database ?? stageSchema.database, schema: env.facts.schema ?? stageSchema.schema }, 'COPY');
    const named = env.catalog.fileFormat(name);
    if (!named) throw objectNotFound('File format', `${name.database}.${name.schema}.${name.name}`);
    if ([...options.keys()].some((k) => k !== 'FORMAT_NAME')) {
      throw compilationError('FORMAT_NAME and TYPE are mutually exclusive in FILE_FORMAT', '001008', '22023');
    }
    return csvFormatFromOptions(named.options);
  }
  return csvFormatFromOptions(options);
}

async function describeTable(env: CopyEnvironment, table: QualifiedName): Promise<TargetColumn[]> {
  const where = 'lower(database_name) = lower($1) AND lower(schema_name) = lower($2) AND lower(table_name) = lower($3)';
  const names = [table.database, table.schema, table.name];
  const cols = (await env.run(`SELECT column_name, data_type, is_nullable FROM duckdb_columns() WHERE ${where} ORDER BY column_index`, names)).getRows();
  if (cols.length === 0) throw objectNotFound('Table', `${table.database}.${table.schema}.${table.name}`);
  const checks = (await env.run(`SELECT expression FROM duckdb_constraints() WHERE ${where} AND constraint_type = 'CHECK'`, names)).getRows();
  const limits = new Map<string, number>();
  for (const [expression] of checks) {
    const m = String(expression).match(/^\(length\("?([^")]+)"?\) <= (\d+)\)$/);
    if (m) limits.set(m[1]!.toUpperCase(), Number(m[2]));
  }
  return cols.map(([name, type, nullable], i) => ({
    name: String(name),
    duckType: String(type),
    notNull: nullable === false,
    maxLength: limits.get(String(name).toUpperCase()),
    position: i + 1,
  }));
}

/**
 * The cast of a projected value to its column's type. DuckDB parses text into a DECIMAL wider than 18
 * digits (NUMBER(38,0), Snowflake's integer) some 40 times slower than into DECIMAL(18,s), so a plain
 * staged field that fits goes through the narrow type first; the result is the same value.
 */
export function castTo(expr: string, duckType: string): string {
  const m = duckType.match(/^DECIMAL\((\d+),\s*(\d+)\)$/);
  if (m && Number(m[1]) > 18 && /^(?:"[^"]+"\.|\w+\.)?"C\d+"$/.test(expr)) {
    const scale = Number(m[2]);
    if (scale < 18) {
      const pattern = scale > 0 ? `-?[0-9]{1,${18 - scale}}([.][0-9]{1,${scale}})?` : '-?[0-9]{1,18}';
      return `CASE WHEN regexp_full_match(${expr}, '${pattern}') THEN CAST(CAST(${expr} AS DECIMAL(18,${scale})) AS ${duckType}) ELSE CAST(${expr} AS ${duckType}) END`;
    }
  }
  return `CAST((${expr}) AS ${duckType})`;
}

/** VALIDATION_MODE's answer: one row per error, files in order. */
function validationResult(files: readonly StagedFile[]): StatementResult {
  const rowset: (string | null)[][] = [];
  for (const file of files) {
    for (const e of [...file.errors].sort((a, b) => a.rowNumber - b.rowNumber)) {
      rowset.push([
        e.message,
        file.url,
        String(e.line),
        String(e.character),
        e.byteOffset === undefined ? null : String(e.byteOffset),
        e.category,
        String(Number(e.code)),
        e.sqlState,
        e.columnName ?? null,
        String(e.rowNumber),
        String(e.line),
        e.record ?? null,
      ]);
    }
  }
  return { statementTypeId: STATEMENT_TYPE.COPY, rowtype: VALIDATION_COLUMNS, rowset };
}

function statusOf(loaded: number, errors: number, skipped: boolean): string {
  if (skipped || (errors > 0 && loaded === 0)) return 'LOAD_FAILED';
  return errors > 0 ? 'PARTIALLY_LOADED' : 'LOADED';
}

function errorLimit(onError: OnError, rowsParsed: number): number {
  switch (onError.kind) {
    case 'ABORT_STATEMENT':
      return 1;
    case 'CONTINUE':
      return rowsParsed;
    case 'SKIP_FILE':
      return onError.percent ? Math.ceil((rowsParsed * onError.limit) / 100) : onError.limit;
  }
}

function skipsFile(onError: OnError, errors: number, rowsParsed: number): boolean {
  if (onError.kind !== 'SKIP_FILE' || errors === 0) return false;
  if (onError.percent) return rowsParsed > 0 && (errors * 100) / rowsParsed > onError.limit;
  return errors >= onError.limit;
}

function columnLabel(table: QualifiedName, col: TargetColumn | undefined, fallbackPosition?: number): string | undefined {
  if (col) return `"${table.name}"["${col.name}":${col.position}]`;
  if (fallbackPosition !== undefined) return `"${table.name}"[${fallbackPosition}]`;
  return undefined;
}

function abortMessage(file: StagedFile, e: FileRowError): string {
  const where = e.columnName ? `Row ${e.rowNumber}, column ${e.columnName}` : `Row ${e.rowNumber} starts at line ${e.line}`;
  return `${e.message}\n  File '${file.relative}', line ${e.line}, character ${e.character}\n  ${where}\n  ${CONTINUE_HINT}`;
}

/**
 * COPY INTO <table> from a stage: reads the named files through the object
 * store, parses them per the file format, evaluates the SELECT in a scratch
 * DuckDB connection (so a bad row never disturbs the caller's transaction),
 * applies ON_ERROR per file, and inserts the surviving rows in the caller's
 * transaction.
 */
export async function executeCopy(plan: CopyPlan, env: CopyEnvironment, bindValues: DuckDBValue[]): Promise<CopyOutcome> {
  const stageName = resolveName(plan.stage, env.facts, 'COPY');
  const stage = env.catalog.stage(stageName);
  if (!stage) throw objectNotFound('Stage', `${stageName.database}.${stageName.schema}.${stageName.name}`);
  const format = resolveFormat(plan.fileFormat ?? stage.fileFormat, stageName, env);
  const table = await describeTable(env, plan.table);
  const targets = plan.columns
    ? plan.columns.map((name) => {
        const col = table.find((c) => c.name.toUpperCase() === name.toUpperCase());
        if (!col) throw invalidIdentifier(name);
        return col;
      })
    : table;
  if (!plan.columns && plan.projection && plan.projection.length !== table.length) {
    throw compilationError(`Insert value list does not match column list expecting ${table.length} but got ${plan.projection.length}`, '002020', '21S01');
  }
  const projection = plan.projection ?? targets.map((_, i) => STAGED.column(i + 1));
  const fieldCount = Math.max(plan.maxColumn, plan.projection ? 0 : targets.length, 1);

  // Which files: FILES = (...) relative to the stage path, or everything under it.
  const base = stage.url + plan.path;
  let urls = plan.files ? plan.files.map((f) => base + f) : await env.files.list(base);
  if (plan.pattern !== undefined) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${plan.pattern})$`);
    } catch {
      throw compilationError(`Invalid regular expression in PATTERN: ${plan.pattern}`, '001003', '42000');
    }
    urls = urls.filter((u) => re.test(u.slice(stage.url.length)));
  }
  urls = [...new Set(urls)];

  const files: StagedFile[] = [];
  const nameOf = (url: string) => (env.metadataFilename === 'bucket-path' ? url.replace(/^[a-z0-9]+:\/\/[^/]+\//, '') : url.slice(stage.url.length));
  for (const url of urls) {
    const relative = url.slice(stage.url.length);
    const metadataName = nameOf(url);
    const bytes = await env.files.read(url);
    if (!bytes) {
      files.push({
        index: files.length,
        url,
        relative,
        metadataName,
        contentKey: '',
        missing: true,
        rowsParsed: 0,
        records: [],
        errors: [{ rowNumber: 0, line: 0, character: 0, code: '091016', sqlState: '22000', message: `Remote file '${url}' was not found. There are several potential causes. The file might not exist. The required credentials may be missing or invalid.`, columnName: undefined, category: 'parsing', record: undefined, byteOffset: undefined }],
      });
      if (plan.validationMode) throw new SnowflakeError('091016', '22000', files.at(-1)!.errors[0]!.message);
      continue;
    }
    const contentKey = createHash('md5').update(bytes).digest('hex');
    const previous = env.catalog.loadedFile(plan.table, url);
    // Snowflake's load metadata: an unchanged file already loaded is skipped (validation reads every file).
    if (!plan.force && !plan.validationMode && previous && previous.contentKey === contentKey) continue;
    const parsed = readCsv(decompress(bytes, format, relative), format, plan.projection ? undefined : targets.length);
    files.push({
      index: files.length,
      url,
      relative,
      metadataName,
      contentKey,
      missing: false,
      rowsParsed: parsed.rowsParsed,
      records: parsed.records,
      errors: parsed.errors.map((e: RecordError) => ({
        rowNumber: e.rowNumber,
        line: e.line,
        character: e.character,
        code: e.code,
        sqlState: e.sqlState,
        message: e.message,
        columnName: columnLabel(plan.table, e.field !== undefined ? targets[e.field - 1] : undefined, e.field),
        category: 'parsing' as const,
        record: e.record,
        byteOffset: e.byteOffset,
      })),
    });
  }
  if (files.length === 0) {
    return {
      result: { statementTypeId: STATEMENT_TYPE.COPY, rowtype: [column('status', 'text')], rowset: [['Copy executed with 0 files processed.']] },
      loads: [],
    };
  }

  const scratch = await env.instance.connect();
  const parquet = path.join(env.tmpDir, `copy-${randomUUID()}.parquet`);
  try {
    const loadedPerFile = await evaluate(scratch, plan, format, files, targets, projection, fieldCount, bindValues, parquet);
    if (plan.validationMode) return { result: validationResult(files), loads: [] };
    if (plan.onError.kind === 'ABORT_STATEMENT') {
      for (const file of files) {
        const first = [...file.errors].sort((a, b) => a.rowNumber - b.rowNumber)[0];
        if (first) {
          throw new SnowflakeError(first.code, first.sqlState, file.missing ? first.message : abortMessage(file, first));
        }
      }
    }
    const total = [...loadedPerFile.values()].reduce((a, b) => a + b, 0);
    if (total > 0) {
      const cols = targets.map((t) => sqlIdent(t.name)).join(', ');
      const values = targets.map((_, j) => `"V${j + 1}"`).join(', ');
      await env.run(`INSERT INTO ${duckName(plan.table)} (${cols}) SELECT ${values} FROM read_parquet(${sqlString(parquet)})`);
    }
    const now = new Date();
    const loads: LoadedFile[] = [];
    const rowset: (string | null)[][] = [];
    for (const file of files) {
      const errors = [...file.errors].sort((a, b) => a.rowNumber - b.rowNumber);
      const loaded = loadedPerFile.get(file.index) ?? 0;
      const skipped = file.missing || skipsFile(plan.onError, errors.length, file.rowsParsed);
      const status = statusOf(loaded, errors.length, skipped);
      if (status !== 'LOAD_FAILED') loads.push({ url: file.url, contentKey: file.contentKey, loadedAt: now, rowsLoaded: loaded });
      if (plan.returnFailedOnly && errors.length === 0) continue;
      // Under ON_ERROR = CONTINUE Snowflake skips a listed file that does not exist without a result row.
      if (file.missing && plan.onError.kind === 'CONTINUE') continue;
      const first = errors[0];
      rowset.push([
        file.url,
        status,
        String(file.rowsParsed),
        String(loaded),
        String(errorLimit(plan.onError, file.rowsParsed)),
        String(errors.length),
        first?.message ?? null,
        first ? String(first.line) : null,
        first ? String(first.character) : null,
        first?.columnName ?? null,
      ]);
    }
    return { result: { statementTypeId: STATEMENT_TYPE.COPY, rowtype: COPY_RESULT_COLUMNS, rowset }, loads };
  } finally {
    scratch.closeSync();
    await rm(parquet, { force: true });
  }
}

/**
 * Stages the parsed records in a scratch connection, evaluates the COPY's
 * SELECT row by row where it fails, applies the table's NOT NULL and length
 * rules, and writes the rows to load to a Parquet file. Returns rows to load
 * per file (after ON_ERROR), and appends row errors to the files.
 */
async function evaluate(
  scratch: DuckDBConnection,
  plan: CopyPlan,
  format: CsvFormat,
  files: StagedFile[],
  targets: readonly TargetColumn[],
  projection: readonly string[],
  fieldCount: number,
  bindValues: DuckDBValue[],
  parquet: string,
): Promise<Map<number, number>> {
  await scratch.run("SET TimeZone = 'UTC'");
  const fieldCols = Array.from({ length: fieldCount }, (_, k) => `${STAGED.column(k + 1)} VARCHAR`).join(', ');
  await scratch.run(
    `CREATE TEMP TABLE "__STAGED" ("__ID" BIGINT, "__FILE_IDX" INTEGER, ${STAGED.filename} VARCHAR, ${STAGED.rowNumber} BIGINT, ${STAGED.contentKey} VARCHAR, ${fieldCols})`,
  );
  const byId: { file: StagedFile; record: StagedRecord }[] = [];
  const appender = await scratch.createAppender('__STAGED', 'main', 'temp');
  for (const file of files) {
    for (const record of file.records) {
      byId.push({ file, record });
      appender.appendBigInt(BigInt(byId.length));
      appender.appendInteger(file.index);
      appender.appendVarchar(file.metadataName);
      appender.appendBigInt(BigInt(record.rowNumber));
      appender.appendVarchar(file.contentKey);
      for (let k = 0; k < fieldCount; k++) {
        const v = record.fields[k];
        if (v === null || v === undefined) appender.appendNull();
        else appender.appendVarchar(v);
      }
      appender.endRow();
    }
  }
  appender.closeSync();

  const alias = plan.sourceAlias ? ` AS ${sqlIdent(plan.sourceAlias)}` : '';
  const exprs = projection.map((e, j) => castTo(e, targets[j]!.duckType));
  const select = (cols: readonly string[], where: string) =>
    `SELECT "__ID", "__FILE_IDX", ${cols.map((c, j) => `${c} AS "V${j + 1}"`).join(', ')} FROM "__STAGED"${alias}${where ? ` WHERE ${where}` : ''}`;
  const attempt = async (sql: string): Promise<unknown> => {
    try {
      await scratch.run(`CREATE OR REPLACE TEMP TABLE "__PROBE" AS ${sql}`, bindValues);
      return undefined;
    } catch (e) {
      return e;
    }
  };

  const rowErrors = new Map<number, FileRowError[]>();
  const recordRowError = (id: number, e: FileRowError) => {
    rowErrors.set(id, [...(rowErrors.get(id) ?? []), e]);
  };
  // Fast path: the whole SELECT at once, straight into the result. Only when it fails, find the bad rows by halving.
  const n = byId.length;
  let projected = false;
  try {
    await scratch.run(`CREATE TEMP TABLE "__PROJECTED" AS ${select(exprs, '')}`, bindValues);
    projected = true;
  } catch {
    // some row does not convert: find which below
  }
  if (n > 0 && !projected) {
    const bad: number[] = [];
    const search = async (lo: number, hi: number): Promise<void> => {
      if (lo > hi) return;
      if ((await attempt(select(exprs, `"__ID" BETWEEN ${lo} AND ${hi}`))) === undefined) return;
      if (lo === hi) {
        bad.push(lo);
        return;
      }
      const mid = Math.floor((lo + hi) / 2);
      await search(lo, mid);
      await search(mid + 1, hi);
    };
    await search(1, n);
    for (const id of bad) {
      const { record } = byId[id - 1]!;
      // Every column that fails (validation reports them all; a load names the first).
      for (let j = 0; j < exprs.length; j++) {
        const failure = await attempt(select([exprs[j]!], `"__ID" = ${id}`));
        if (failure === undefined) continue;
        const mapped = fromDuckDbError(failure);
        const refs = [...projection[j]!.matchAll(/"C(\d+)"/g)].map((m) => Number(m[1]));
        const character = refs.length === 1 ? fieldStart(record.raw, refs[0]! - 1, format) : 1;
        recordRowError(id, {
          rowNumber: record.rowNumber,
          line: record.line,
          character,
          code: mapped.code,
          sqlState: mapped.sqlState,
          message: mapped.message.replace(/^SQL execution internal error:\n/, ''),
          columnName: columnLabel(plan.table, targets[j]),
          category: 'conversion',
          record: record.raw,
          byteOffset: record.byteOffset,
        });
      }
      if (!rowErrors.has(id)) {
        // Fails as a whole but in no single column: report the row.
        recordRowError(id, { rowNumber: record.rowNumber, line: record.line, character: 1, code: '100038', sqlState: '22018', message: 'Row could not be converted', columnName: undefined, category: 'conversion', record: record.raw, byteOffset: record.byteOffset });
      }
    }
  }
  if (!projected) {
    const excluded = rowErrors.size > 0 ? `"__ID" NOT IN (${[...rowErrors.keys()].join(',')})` : '';
    await scratch.run(`CREATE OR REPLACE TEMP TABLE "__PROJECTED" AS ${select(exprs, excluded)}`, bindValues);
  }

  // The table's own rules: NOT NULL, and VARCHAR(n) lengths.
  const checks: { j: number; sql: string; kind: 'null' | 'length' }[] = [];
  targets.forEach((t, j) => {
    if (t.notNull) checks.push({ j, sql: `"V${j + 1}" IS NULL`, kind: 'null' });
    if (t.maxLength !== undefined) checks.push({ j, sql: `length("V${j + 1}") > ${t.maxLength}`, kind: 'length' });
  });
  if (checks.length > 0) {
    const violations = (
      await scratch.runAndReadAll(
        `SELECT "__ID", ${checks.map((c) => `(${c.sql})`).join(', ')}, ${checks.map((c) => `CAST("V${c.j + 1}" AS VARCHAR)`).join(', ')} FROM "__PROJECTED" WHERE ${checks.map((c) => `(${c.sql})`).join(' OR ')}`,
      )
    ).getRows();
    for (const row of violations) {
      const id = Number(row[0]);
      const k = checks.findIndex((_, i) => row[1 + i] === true);
      const check = checks[k]!;
      const { record } = byId[id - 1]!;
      const value = String(row[1 + checks.length + k] ?? '');
      recordRowError(id, {
        rowNumber: record.rowNumber,
        line: record.line,
        character: 1,
        code: check.kind === 'null' ? '100072' : '100074',
        sqlState: '22000',
        message: check.kind === 'null' ? 'NULL result in a non-nullable column' : `String '${value.length > 40 ? `${value.slice(0, 40)}...` : value}' is too long and would be truncated`,
        columnName: columnLabel(plan.table, targets[check.j]),
        category: 'conversion',
        record: record.raw,
        byteOffset: record.byteOffset,
      });
    }
    await scratch.run(`DELETE FROM "__PROJECTED" WHERE ${checks.map((c) => `(${c.sql})`).join(' OR ')}`);
  }

  for (const [id, errors] of rowErrors) byId[id - 1]!.file.errors.push(...errors);
  if (plan.validationMode) return new Map();
  // ON_ERROR per file: which files keep their good rows.
  const dropped = files.filter((f) => f.missing || skipsFile(plan.onError, f.errors.length, f.rowsParsed)).map((f) => f.index);
  if (dropped.length > 0) await scratch.run(`DELETE FROM "__PROJECTED" WHERE "__FILE_IDX" IN (${dropped.join(',')})`);
  const counts = new Map<number, number>();
  for (const [idx, count] of (await scratch.runAndReadAll('SELECT "__FILE_IDX", count(*) FROM "__PROJECTED" GROUP BY 1')).getRows()) {
    counts.set(Number(idx), Number(count));
  }
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const aborting = plan.onError.kind === 'ABORT_STATEMENT' && files.some((f) => f.errors.length > 0);
  if (total > 0 && !aborting) {
    const values = targets.map((_, j) => `"V${j + 1}"`).join(', ');
    await scratch.run(`COPY (SELECT ${values} FROM "__PROJECTED" ORDER BY "__ID") TO ${sqlString(parquet)} (FORMAT parquet)`);
  }
  return counts;
}
