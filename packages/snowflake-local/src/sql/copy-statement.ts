import { compilationError, unsupported } from '../errors.js';
import { Cursor, describe, isOp, isWord, type Token } from './lexer.js';
import { parseObjectName, parseStageReference, type ObjectName, type QualifiedName } from './names.js';
import { optionBoolean, optionStrings, optionText, parseOptions, type Options } from './options.js';
import { resolveName } from './plan.js';
import { splitTopLevel, Translator, type TranslateOptions } from './translate.js';

export type OnError =
  | { readonly kind: 'ABORT_STATEMENT' }
  | { readonly kind: 'CONTINUE' }
  /** SKIP_FILE is SKIP_FILE_1; `percent` when written as 'SKIP_FILE_n%'. */
  | { readonly kind: 'SKIP_FILE'; readonly limit: number; readonly percent: boolean };

/** Column names the staged file's fields get in the server's staging table. */
export const STAGED = {
  column: (n: number) => `"C${n}"`,
  filename: '"__FILENAME"',
  rowNumber: '"__ROW"',
  contentKey: '"__CONTENT_KEY"',
} as const;

export interface CopyPlan {
  readonly table: QualifiedName;
  /** Target columns as written; undefined = all of the table's columns in order. */
  readonly columns: readonly string[] | undefined;
  readonly stage: ObjectName;
  /** Path after the stage name, e.g. `processing/20240101T0000/` (may be empty). */
  readonly path: string;
  /** DuckDB select items over the staging table, one per target column; undefined = `$1..$n`. */
  readonly projection: readonly string[] | undefined;
  /** Highest `$n` the statement reads. */
  readonly maxColumn: number;
  readonly sourceAlias: string | undefined;
  readonly files: readonly string[] | undefined;
  readonly pattern: string | undefined;
  /** Inline FILE_FORMAT = (...) options, or FORMAT_NAME. */
  readonly fileFormat: Options | undefined;
  readonly onError: OnError;
  readonly force: boolean;
  readonly returnFailedOnly: boolean;
  /** Bind numbers the projection reads, as for a query. */
  readonly binds: readonly number[];
  /** VALIDATION_MODE: report the files' errors instead of loading. */
  readonly validationMode: 'RETURN_ERRORS' | 'RETURN_ALL_ERRORS' | undefined;
}

const IGNORED_AT_DEFAULT: Record<string, string> = {
  PURGE: 'FALSE',
  TRUNCATECOLUMNS: 'FALSE',
  ENFORCE_LENGTH: 'TRUE',
  LOAD_UNCERTAIN_FILES: 'FALSE',
  MATCH_BY_COLUMN_NAME: 'NONE',
};

export function parseCopy(c: Cursor, options: TranslateOptions): CopyPlan {
  c.expect('COPY', 'INTO');
  if (c.peek()?.kind === 'stage' || c.peek()?.kind === 'string') throw unsupported('COPY INTO <location> (unloading)');
  const table = resolveName(parseObjectName(c), options.session, 'COPY');
  let columns: string[] | undefined;
  if (c.acceptOp('(')) {
    columns = [];
    while (!c.acceptOp(')')) {
      if (c.acceptOp(',')) continue;
      columns.push(parseObjectName(c, 1).parts[0]!);
    }
  }
  c.expect('FROM');
  let stageToken: Token;
  let projectionTokens: Token[][] | undefined;
  let sourceAlias: string | undefined;
  const translator = new Translator({
    ...options,
    copy: {
      column: (n) => {
        if (n < 1) throw compilationError(`invalid staged column $${n}`);
        maxColumn = Math.max(maxColumn, n);
        return STAGED.column(n);
      },
      metadata: (name) => {
        switch (name) {
          case 'METADATA$FILENAME':
            return STAGED.filename;
          case 'METADATA$FILE_ROW_NUMBER':
            return STAGED.rowNumber;
          case 'METADATA$FILE_CONTENT_KEY':
            return STAGED.contentKey;
          case 'METADATA$START_SCAN_TIME':
            return 'CURRENT_TIMESTAMP';
          default:
            throw unsupported(name);
        }
      },
    },
  });
  let maxColumn = 0;
  if (c.acceptOp('(')) {
    c.expect('SELECT');
    const start = c.position;
    let depth = 0;
    while (!c.done) {
      const t = c.peek()!;
      if (isOp(t, '(')) depth++;
      if (isOp(t, ')')) depth--;
      if (depth === 0 && isWord(t, 'FROM')) break;
      c.next();
    }
    const items = c.tokens.slice(start, c.position);
    c.expect('FROM');
    stageToken = c.next();
    if (stageToken.kind !== 'stage') throw unsupported(`COPY from ${describe(stageToken)} (name a stage with @)`);
    if (c.accept('AS') || c.peek()?.kind === 'ident') sourceAlias = c.next().value;
    if (!c.acceptOp(')')) {
      throw unsupported(`${describe(c.peek())} in COPY's SELECT (only a projection FROM one stage is allowed)`);
    }
    projectionTokens = splitTopLevel(items).map((item) => {
      // drop a trailing alias: it has no effect, columns map by position
      const n = item.length;
      if (n >= 2 && isWord(item[n - 2], 'AS')) return item.slice(0, n - 2);
      if (n >= 2 && (item[n - 1]!.kind === 'ident' || item[n - 1]!.kind === 'qident') && !isOp(item[n - 2], '.') && !isOp(item[n - 2], '::')) {
        const last = item[n - 1]!;
        if (last.kind === 'qident' || !['END', 'NULL', 'TRUE', 'FALSE'].includes(last.value)) return item.slice(0, n - 1);
      }
      return item;
    });
  } else {
    stageToken = c.next();
    if (stageToken.kind === 'string') throw unsupported('COPY from an external location URL (create a stage)');
    if (stageToken.kind !== 'stage') throw compilationError(`syntax error: expected a stage after FROM but found ${describe(stageToken)}`);
  }
  const { name: stage, path } = parseStageReference(stageToken.value);
  const projection = projectionTokens?.map((item) => {
    if (item.length === 0) throw compilationError('syntax error: empty select item in COPY');
    return translator.tokens(item);
  });
  if (columns && projection && columns.length !== projection.length) {
    throw compilationError(`Insert value list does not match column list expecting ${columns.length} but got ${projection.length}`, '002020', '21S01');
  }
  if (c.tokens.slice(c.position).some((t) => t.kind === 'param')) throw unsupported('bind variables in COPY options');
  const opts = parseOptions(c);
  let files: string[] | undefined;
  let pattern: string | undefined;
  let fileFormat: Options | undefined;
  let onError: OnError = { kind: 'ABORT_STATEMENT' };
  let force = false;
  let returnFailedOnly = false;
  let validationMode: CopyPlan['validationMode'];
  for (const [name, value] of opts) {
    switch (name) {
      case 'FILES':
        files = optionStrings(value, name);
        if (files!.length > 1000) {
          throw compilationError(`Maximum number of files in FILES exceeded: ${files!.length} > 1000`, '001085', '22000');
        }
        break;
      case 'PATTERN':
        pattern = optionText(value, name);
        break;
      case 'FILE_FORMAT':
        if (value.kind === 'options') fileFormat = value.options;
        else fileFormat = new Map([['FORMAT_NAME', value]]);
        break;
      case 'ON_ERROR':
        onError = parseOnError(optionText(value, name)!);
        break;
      case 'FORCE':
        force = optionBoolean(value, name)!;
        break;
      case 'RETURN_FAILED_ONLY':
        returnFailedOnly = optionBoolean(value, name)!;
        break;
      case 'VALIDATION_MODE': {
        if (projection) throw compilationError('VALIDATION_MODE does not support COPY statements that transform data.', '001002', '42601');
        const mode = optionText(value, name)!.toUpperCase();
        if (mode !== 'RETURN_ERRORS' && mode !== 'RETURN_ALL_ERRORS') throw unsupported(`VALIDATION_MODE = ${mode}`);
        validationMode = mode;
        break;
      }
      default: {
        const expected = IGNORED_AT_DEFAULT[name];
        if (expected === undefined) throw unsupported(`COPY option ${name}`);
        if (optionText(value, name)!.toUpperCase() !== expected) throw unsupported(`COPY option ${name} = ${optionText(value, name)}`);
      }
    }
  }
  return {
    table,
    columns,
    stage,
    path,
    projection,
    maxColumn,
    sourceAlias,
    files,
    pattern,
    fileFormat,
    onError,
    force,
    returnFailedOnly,
    binds: translator.binds,
    validationMode,
  };
}

export function parseOnError(text: string): OnError {
  const upper = text.toUpperCase();
  if (upper === 'ABORT_STATEMENT') return { kind: 'ABORT_STATEMENT' };
  if (upper === 'CONTINUE') return { kind: 'CONTINUE' };
  if (upper === 'SKIP_FILE') return { kind: 'SKIP_FILE', limit: 1, percent: false };
  const m = upper.match(/^SKIP_FILE_(\d+)(%?)$/);
  if (m) {
    const limit = Number(m[1]);
    if (limit < 1 || (m[2] && limit > 100)) throw compilationError(`invalid value [${text}] for parameter 'ON_ERROR'`, '002023', '22023');
    return { kind: 'SKIP_FILE', limit, percent: m[2] === '%' };
  }
  throw compilationError(`invalid value [${text}] for parameter 'ON_ERROR'`, '002023', '22023');
}
