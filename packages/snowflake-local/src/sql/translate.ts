import { compilationError, unsupported } from '../errors.js';
import { Cursor, describe, isOp, isWord, type Token } from './lexer.js';

/** A Snowflake column type and the DuckDB type that stores it without changing its values. */
export interface ColumnType {
  readonly duck: string;
  /** Canonical Snowflake spelling, for messages. */
  readonly snowflake: string;
  /** VARCHAR(n) / CHAR(n): Snowflake rejects longer strings, so the server checks it. */
  readonly maxLength?: number;
}

/** Session facts a statement may read (CURRENT_DATABASE() and friends). */
export interface SessionFacts {
  readonly database: string | undefined;
  readonly schema: string | undefined;
  readonly user: string;
  readonly role: string;
  readonly warehouse: string | undefined;
  readonly account: string;
  readonly sessionId: string;
}

export interface TranslateOptions {
  readonly session: SessionFacts;
  /** Inside COPY INTO's SELECT: `$n` and METADATA$ columns name the staged file's fields. */
  readonly copy?: {
    column(n: number): string;
    metadata(name: string): string;
  };
  /** Number of `?` placeholders used by earlier statements of a multi-statement request. */
  readonly bindOffset?: number;
}

const SNOWFLAKE_VERSION = '9.0.0';

/** Words that can be followed by `(` without being a function call. */
const NOT_A_FUNCTION = new Set([
  'ALL', 'AND', 'ANY', 'AS', 'BETWEEN', 'BY', 'CASE', 'CHECK', 'CONSTRAINT', 'DEFAULT', 'DISTINCT', 'ELSE', 'EXCEPT',
  'EXCLUDE', 'EXISTS', 'FETCH', 'FILTER', 'FROM', 'GROUP', 'HAVING', 'ILIKE', 'IN', 'INSERT', 'INTERSECT', 'INTO', 'IS',
  'JOIN', 'KEY', 'LIKE', 'LIMIT', 'MINUS', 'NOT', 'OFFSET', 'ON', 'OR', 'ORDER', 'OVER', 'PARTITION', 'QUALIFY',
  'RANGE', 'REFERENCES', 'RENAME', 'RETURNING', 'ROWS', 'SELECT', 'SET', 'SOME', 'THEN', 'UNION', 'UNIQUE', 'USING',
  'VALUES', 'WHEN', 'WHERE', 'WITH', 'WITHIN',
]);

/** Words whose Snowflake meaning DuckDB would silently change: rejected wherever they appear. */
const UNSUPPORTED_WORDS: Record<string, string> = {
  LATERAL: 'LATERAL',
  PIVOT: 'PIVOT',
  UNPIVOT: 'UNPIVOT',
  SAMPLE: 'SAMPLE',
  TABLESAMPLE: 'TABLESAMPLE',
  MATCH_RECOGNIZE: 'MATCH_RECOGNIZE',
  CONNECT: 'CONNECT BY',
  RLIKE: 'RLIKE',
  REGEXP: 'REGEXP',
  CHANGES: 'CHANGES',
  RESULT_SCAN: 'RESULT_SCAN',
};

/** Functions whose DuckDB namesake has the same arguments, result and NULL handling. */
// Left out on purpose, because DuckDB's namesake answers differently: LEFT/RIGHT (negative lengths),
// SPLIT_PART (part 0), FIRST_VALUE/LAST_VALUE (Snowflake's default frame is the whole partition),
// GREATEST/LEAST and CONCAT (NULL handling), AVG (result type).
const SAME_FUNCTIONS = new Set([
  'ABS', 'ANY_VALUE', 'CEIL', 'COALESCE', 'COUNT', 'COUNT_IF', 'DENSE_RANK', 'EXTRACT', 'FLOOR', 'LAG', 'LEAD',
  'LENGTH', 'LOWER', 'LPAD', 'LTRIM', 'MAX', 'MD5', 'MIN', 'NULLIF', 'RANK', 'REPLACE', 'ROUND', 'ROW_NUMBER',
  'RPAD', 'RTRIM', 'SUM', 'TRIM', 'UPPER', 'CONTAINS', 'YEAR', 'MONTH', 'DAY', 'DATE_TRUNC',
]);

const RENAMED_FUNCTIONS: Record<string, string> = {
  NVL: 'COALESCE',
  IFNULL: 'COALESCE',
  LEN: 'LENGTH',
  STARTSWITH: 'STARTS_WITH',
  ENDSWITH: 'ENDS_WITH',
};

export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export function sqlIdent(value: string): string {
  return `"${value.replaceAll('"', '""')}"`;
}

/** Index of the `)` matching the `(` at `open`. */
export function matchingParen(tokens: readonly Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (isOp(t, '(')) depth++;
    else if (isOp(t, ')')) {
      depth--;
      if (depth === 0) return i;
    }
  }
  throw compilationError(`syntax error: unbalanced parenthesis at ${describe(tokens[open])}`);
}

/** Splits tokens at top-level commas. */
export function splitTopLevel(tokens: readonly Token[], separator = ','): Token[][] {
  const parts: Token[][] = [];
  let current: Token[] = [];
  let depth = 0;
  for (const t of tokens) {
    if (isOp(t, '(')) depth++;
    if (isOp(t, ')')) depth--;
    if (depth === 0 && isOp(t, separator)) {
      parts.push(current);
      current = [];
    } else {
      current.push(t);
    }
  }
  if (current.length > 0 || parts.length > 0) parts.push(current);
  return parts;
}

function intArg(t: Token | undefined, what: string): number {
  if (!t || t.kind !== 'number' || !/^\d+$/.test(t.text)) {
    throw compilationError(`syntax error: ${what} must be an integer, found ${describe(t)}`);
  }
  return Number(t.text);
}

/** Reads a Snowflake data type at the cursor. */
export function parseType(c: Cursor): ColumnType {
  const first = c.next();
  if (first.kind !== 'ident') throw compilationError(`syntax error: data type expected, found ${describe(first)}`);
  const name = first.value;
  const args: number[] = [];
  const readArgs = (max: number, what: string) => {
    if (!c.acceptOp('(')) return;
    args.push(intArg(c.next(), what));
    while (c.acceptOp(',')) args.push(intArg(c.next(), what));
    c.expectOp(')');
    if (args.length > max) throw compilationError(`syntax error: too many arguments for type ${name}`);
  };
  switch (name) {
    case 'NUMBER':
    case 'NUMERIC':
    case 'DECIMAL':
    case 'DEC': {
      readArgs(2, 'precision');
      const p = args[0] ?? 38;
      const s = args[1] ?? 0;
      if (p < 1 || p > 38) throw compilationError(`Unsupported data type 'NUMBER(${p}, ${s})': precision must be 1 to 38.`, '002040', '42601');
      if (s < 0 || s > p) throw compilationError(`Unsupported data type 'NUMBER(${p}, ${s})': scale must be 0 to precision.`, '002040', '42601');
      return { duck: `DECIMAL(${p},${s})`, snowflake: `NUMBER(${p},${s})` };
    }
    case 'INT':
    case 'INTEGER':
    case 'BIGINT':
    case 'SMALLINT':
    case 'TINYINT':
    case 'BYTEINT':
      return { duck: 'DECIMAL(38,0)', snowflake: 'NUMBER(38,0)' };
    case 'FLOAT':
    case 'FLOAT4':
    case 'FLOAT8':
    case 'REAL':
      readArgs(1, 'precision');
      return { duck: 'DOUBLE', snowflake: 'FLOAT' };
    case 'DOUBLE':
      c.accept('PRECISION');
      return { duck: 'DOUBLE', snowflake: 'FLOAT' };
    case 'VARCHAR':
    case 'STRING':
    case 'TEXT':
    case 'NVARCHAR':
    case 'NVARCHAR2':
    case 'CHAR':
    case 'CHARACTER':
    case 'NCHAR': {
      if (name === 'CHARACTER') c.accept('VARYING');
      readArgs(1, 'length');
      const isChar = name === 'CHAR' || name === 'CHARACTER' || name === 'NCHAR';
      const length = args[0] ?? (isChar ? 1 : undefined);
      if (length !== undefined && (length < 1 || length > 134217728)) {
        throw compilationError(`Unsupported data type 'VARCHAR(${length})'.`, '002040', '42601');
      }
      return length === undefined
        ? { duck: 'VARCHAR', snowflake: 'VARCHAR(16777216)' }
        : { duck: 'VARCHAR', snowflake: `VARCHAR(${length})`, maxLength: length };
    }
    case 'BOOLEAN':
      return { duck: 'BOOLEAN', snowflake: 'BOOLEAN' };
    case 'DATE':
      return { duck: 'DATE', snowflake: 'DATE' };
    case 'TIME':
      readArgs(1, 'precision');
      return { duck: 'TIME', snowflake: 'TIME(9)' };
    case 'DATETIME':
    case 'TIMESTAMP':
    case 'TIMESTAMP_NTZ':
    case 'TIMESTAMPNTZ':
      readArgs(1, 'precision');
      return { duck: 'TIMESTAMP', snowflake: 'TIMESTAMP_NTZ(9)' };
    case 'TIMESTAMP_LTZ':
    case 'TIMESTAMPLTZ':
      readArgs(1, 'precision');
      return { duck: 'TIMESTAMPTZ', snowflake: 'TIMESTAMP_LTZ(9)' };
    default:
      // TIMESTAMP_TZ keeps a per-value offset DuckDB cannot store; VARIANT and friends need FLATTEN/paths.
      throw unsupported(`data type ${name}`);
  }
}

/**
 * Translates a Snowflake expression or query (a token range) into DuckDB SQL.
 * Every construct is either translated to something with the same result or
 * rejected with an unsupported-feature error; nothing passes through on hope.
 */
export class Translator {
  /** For each DuckDB `$k` (k = index + 1), the Snowflake bind number it reads. */
  readonly binds: number[] = [];
  /** `?` placeholders seen so far, including earlier statements'. */
  questionMarks: number;

  constructor(readonly options: TranslateOptions) {
    this.questionMarks = options.bindOffset ?? 0;
  }

  private bind(t: Token): string {
    const n = t.text === '?' ? ++this.questionMarks : Number(t.text.slice(1));
    if (!Number.isInteger(n) || n < 1) throw compilationError(`syntax error: bad bind variable ${t.text}`);
    let k = this.binds.indexOf(n);
    if (k < 0) {
      this.binds.push(n);
      k = this.binds.length - 1;
    }
    return `$${k + 1}`;
  }

  /** Translates a whole token range. */
  tokens(tokens: readonly Token[]): string {
    const out: string[] = [];
    let i = 0;
    while (i < tokens.length) {
      const t = tokens[i]!;
      const prev = tokens[i - 1];
      const next = tokens[i + 1];
      switch (t.kind) {
        case 'string':
          out.push(sqlString(t.value));
          i++;
          break;
        case 'number':
        case 'qident':
          out.push(t.text);
          i++;
          break;
        case 'param':
          out.push(this.bind(t));
          i++;
          break;
        case 'column': {
          if (!this.options.copy) throw unsupported(`staged file column ${t.text} outside COPY INTO`);
          out.push(this.options.copy.column(Number(t.text.slice(1))));
          i++;
          break;
        }
        case 'stage':
          throw unsupported(`stage reference @${t.value} outside COPY INTO`);
        case 'op': {
          if (t.text === '::') {
            const c = new Cursor(tokens.slice(i + 1));
            const type = parseType(c);
            out.push('::', type.duck);
            i += 1 + c.position;
            break;
          }
          if (t.text === '/') throw unsupported('the / operator (Snowflake returns NUMBER and fails on division by zero; DuckDB returns DOUBLE or NULL)');
          if (t.text === '=>') throw unsupported('named arguments (=>)');
          out.push(t.text);
          i++;
          break;
        }
        case 'ident': {
          const word = t.value;
          if (UNSUPPORTED_WORDS[word] && !isOp(prev, '.')) throw unsupported(UNSUPPORTED_WORDS[word]!);
          if (word.startsWith('METADATA$')) {
            if (!this.options.copy) throw unsupported(`${word} outside COPY INTO`);
            out.push(this.options.copy.metadata(word));
            i++;
            break;
          }
          if (isOp(next, '(') && !isOp(prev, '.') && !NOT_A_FUNCTION.has(word) && !isWord(prev, 'INTO') && !isWord(prev, 'AS') && !isWord(prev, 'TABLE')) {
            const close = matchingParen(tokens, i + 1);
            out.push(this.call(word, tokens.slice(i + 2, close)));
            i = close + 1;
            break;
          }
          if (isOp(next, '.') || isOp(prev, '.')) {
            out.push(word.includes('$') ? sqlIdent(word) : word); // part of a qualified name
            i++;
            break;
          }
          // DuckDB does not allow `$` in an unquoted identifier; Snowflake does.
          const bare = word.includes('$') ? sqlIdent(word) : this.bareWord(word);
          out.push(bare);
          i++;
          break;
        }
        default:
          throw compilationError(`syntax error: unexpected ${describe(t)}`);
      }
    }
    return joinSql(out);
  }

  /** Niladic keywords that differ between the dialects. */
  private bareWord(word: string): string {
    switch (word) {
      case 'CURRENT_TIMESTAMP':
      case 'LOCALTIMESTAMP':
        return 'CURRENT_TIMESTAMP';
      case 'CURRENT_DATE':
        return 'CURRENT_DATE';
      case 'MINUS':
        return 'EXCEPT';
      case 'SYSDATE':
        throw unsupported('SYSDATE without parentheses');
      default:
        return word;
    }
  }

  private args(tokens: readonly Token[]): Token[][] {
    if (tokens.length === 0) return [];
    return splitTopLevel(tokens);
  }

  private call(name: string, argTokens: readonly Token[]): string {
    const args = this.args(argTokens);
    const arity = (...allowed: number[]) => {
      if (!allowed.includes(args.length)) {
        throw compilationError(`Invalid number of arguments for function ${name}: ${args.length}`, '000938', '42601');
      }
    };
    const a = (k: number) => this.tokens(args[k]!);
    const s = this.options.session;
    switch (name) {
      case 'CAST':
      case 'TRY_CAST': {
        arity(1);
        const inner = args[0]!;
        let asAt = -1;
        let depth = 0;
        inner.forEach((t, k) => {
          if (isOp(t, '(')) depth++;
          if (isOp(t, ')')) depth--;
          if (depth === 0 && isWord(t, 'AS')) asAt = k;
        });
        if (asAt < 0) throw compilationError(`syntax error: ${name} needs AS <type>`);
        const c = new Cursor(inner.slice(asAt + 1));
        const type = parseType(c);
        if (!c.done) throw compilationError(`syntax error: unexpected ${describe(c.peek())} in ${name}`);
        return `${name}(${this.tokens(inner.slice(0, asAt))} AS ${type.duck})`;
      }
      case 'SUBSTR':
      case 'SUBSTRING': {
        arity(2, 3);
        // Snowflake reads start position 0 as 1; DuckDB as "before the first character".
        const start = `(CASE WHEN (${a(1)}) = 0 THEN 1 ELSE (${a(1)}) END)`;
        return `SUBSTRING(${a(0)}, ${start}${args.length === 3 ? `, ${a(2)}` : ''})`;
      }
      case 'POSITION':
      case 'CHARINDEX': {
        // POSITION(needle IN haystack) or POSITION(needle, haystack[, start]): 1-based, 0 when absent, as in DuckDB.
        let needle: string;
        let haystack: string;
        let from: string | undefined;
        if (name === 'POSITION' && args.length === 1) {
          let depth = 0;
          const at = args[0]!.findIndex((t) => {
            if (isOp(t, '(')) depth++;
            if (isOp(t, ')')) depth--;
            return depth === 0 && isWord(t, 'IN');
          });
          if (at < 0) throw compilationError(`syntax error: ${name} needs <expr> IN <expr> or two arguments`);
          needle = this.tokens(args[0]!.slice(0, at));
          haystack = this.tokens(args[0]!.slice(at + 1));
        } else {
          arity(2, 3);
          needle = a(0);
          haystack = a(1);
          if (args.length === 3) from = a(2);
        }
        if (from === undefined) return `POSITION((${needle}) IN (${haystack}))`;
        // From a start position: search the rest, then shift back (0 stays 0).
        return `(CASE WHEN POSITION((${needle}) IN SUBSTRING((${haystack}), (${from}))) = 0 THEN 0 ELSE POSITION((${needle}) IN SUBSTRING((${haystack}), (${from}))) + (${from}) - 1 END)`;
      }
      case 'REGEXP_LIKE':
        // Snowflake anchors the pattern at both ends (the whole subject must match), as regexp_full_match does.
        // Only the two-argument form: parameters (i, m, ...) would change the meaning.
        arity(2);
        return `regexp_full_match(${a(0)}, ${a(1)})`;
      case 'IFF':
        arity(3);
        return `(CASE WHEN ${a(0)} THEN ${a(1)} ELSE ${a(2)} END)`;
      case 'ZEROIFNULL':
        arity(1);
        return `COALESCE(${a(0)}, 0)`;
      case 'NULLIFZERO':
        arity(1);
        return `NULLIF(${a(0)}, 0)`;
      case 'CURRENT_TIMESTAMP':
      case 'LOCALTIMESTAMP':
        arity(0, 1);
        return 'CURRENT_TIMESTAMP';
      case 'SYSDATE':
        arity(0);
        return "CAST(CURRENT_TIMESTAMP AT TIME ZONE 'UTC' AS TIMESTAMP)";
      case 'CURRENT_DATE':
        arity(0);
        return 'CURRENT_DATE';
      case 'CURRENT_DATABASE':
        arity(0);
        return s.database === undefined ? 'NULL' : sqlString(s.database);
      case 'CURRENT_SCHEMA':
        arity(0);
        return s.schema === undefined ? 'NULL' : sqlString(s.schema);
      case 'CURRENT_USER':
        arity(0);
        return sqlString(s.user);
      case 'CURRENT_ROLE':
        arity(0);
        return sqlString(s.role);
      case 'CURRENT_WAREHOUSE':
        arity(0);
        return s.warehouse === undefined ? 'NULL' : sqlString(s.warehouse);
      case 'CURRENT_ACCOUNT':
        arity(0);
        return sqlString(s.account.toUpperCase());
      case 'CURRENT_SESSION':
        arity(0);
        return sqlString(s.sessionId);
      case 'CURRENT_VERSION':
        arity(0);
        return sqlString(SNOWFLAKE_VERSION);
      case 'TO_DATE':
      case 'DATE':
      case 'TRY_TO_DATE':
        arity(1, 2);
        if (args.length === 2) this.isoFormat(name, args[1]!, ['YYYY-MM-DD', 'AUTO']);
        return `${name === 'TRY_TO_DATE' ? 'TRY_CAST' : 'CAST'}(${a(0)} AS DATE)`;
      case 'TO_TIMESTAMP':
      case 'TO_TIMESTAMP_NTZ':
      case 'TRY_TO_TIMESTAMP':
      case 'TRY_TO_TIMESTAMP_NTZ':
        arity(1, 2);
        if (args.length === 2) this.isoFormat(name, args[1]!, ['YYYY-MM-DD HH24:MI:SS', 'AUTO']);
        return `${name.startsWith('TRY_') ? 'TRY_CAST' : 'CAST'}(${a(0)} AS TIMESTAMP)`;
      case 'TO_NUMBER':
      case 'TO_DECIMAL':
      case 'TO_NUMERIC':
      case 'TRY_TO_NUMBER':
      case 'TRY_TO_DECIMAL':
      case 'TRY_TO_NUMERIC': {
        arity(1, 2, 3);
        // TO_NUMBER(expr [, precision [, scale]]); a format model is not translated.
        const p = args.length >= 2 ? this.integerLiteral(name, args[1]!) : 38;
        const sc = args.length === 3 ? this.integerLiteral(name, args[2]!) : 0;
        if (p < 1 || p > 38 || sc < 0 || sc > p) throw compilationError(`Invalid precision/scale for ${name}: (${p}, ${sc})`);
        return `${name.startsWith('TRY_') ? 'TRY_CAST' : 'CAST'}(${a(0)} AS DECIMAL(${p},${sc}))`;
      }
      default:
        break;
    }
    if (SAME_FUNCTIONS.has(name)) return `${name}(${args.map((x) => this.tokens(x)).join(', ')})`;
    const renamed = RENAMED_FUNCTIONS[name];
    if (renamed) return `${renamed}(${args.map((x) => this.tokens(x)).join(', ')})`;
    throw unsupported(`function ${name}`);
  }

  private integerLiteral(fn: string, tokens: readonly Token[]): number {
    if (tokens.length !== 1 || tokens[0]!.kind !== 'number' || !/^\d+$/.test(tokens[0]!.text)) {
      throw unsupported(`${fn} with a format model (only precision and scale are translated)`);
    }
    return Number(tokens[0]!.text);
  }

  private isoFormat(fn: string, tokens: readonly Token[], allowed: string[]): void {
    const t = tokens[0];
    if (tokens.length !== 1 || t?.kind !== 'string' || !allowed.includes(t.value.toUpperCase())) {
      throw unsupported(`${fn} with a format other than ${allowed.map((f) => `'${f}'`).join(' or ')}`);
    }
  }
}

/** Joins SQL pieces with single spaces, except around dots. */
export function joinSql(pieces: readonly string[]): string {
  let out = '';
  for (const p of pieces) {
    if (out === '' || p === '.' || out.endsWith('.') || p === ')' || p === ',' || out.endsWith('(') || (p === '(' && /[\w"]$/.test(out))) {
      out += p;
    } else {
      out += ` ${p}`;
    }
  }
  return out;
}
