import { compilationError, noCurrentDatabase, noCurrentSchema, unsupported } from '../errors.js';
import { parseCopy, type CopyPlan } from './copy-statement.js';
import { Cursor, describe, isOp, isWord, significant, type Token } from './lexer.js';
import { displayName, duckName, parseObjectName, type ObjectName, type QualifiedName } from './names.js';
import { parseOptions, type Options } from './options.js';
import { parseType, sqlIdent, splitTopLevel, Translator, type ColumnType, type TranslateOptions } from './translate.js';

/** What the engine should do with one Snowflake statement. */
export type Plan =
  | { kind: 'query'; verb: 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE' | 'MERGE'; sql: string; binds: number[]; target?: QualifiedName }
  | { kind: 'create-table'; sql: string; binds: number[]; table: QualifiedName; orReplace: boolean; ifNotExists: boolean; columns: TableColumn[] | undefined }
  | { kind: 'ddl'; sql: string; message: string; ifExistsMessage?: string }
  | { kind: 'truncate'; table: QualifiedName; ifExists: boolean }
  | { kind: 'begin' }
  | { kind: 'commit' }
  | { kind: 'rollback' }
  | { kind: 'use'; objectType: 'DATABASE' | 'SCHEMA' | 'ROLE' | 'WAREHOUSE' | 'SECONDARY ROLES'; name: ObjectName }
  | { kind: 'create-database'; name: string; orReplace: boolean; ifNotExists: boolean }
  | { kind: 'create-schema'; database: string; name: string; orReplace: boolean; ifNotExists: boolean }
  | { kind: 'drop'; objectType: DropType; name: ObjectName; ifExists: boolean }
  | { kind: 'create-object'; objectType: 'FILE FORMAT' | 'STAGE' | 'STORAGE INTEGRATION'; name: ObjectName; orReplace: boolean; ifNotExists: boolean; options: Options }
  | { kind: 'alter-session'; set: Options; unset: string[] }
  | { kind: 'grant'; text: string }
  | { kind: 'abort-transaction'; transaction: string }
  | { kind: 'copy'; copy: CopyPlan };

export type DropType = 'DATABASE' | 'SCHEMA' | 'TABLE' | 'VIEW' | 'FILE FORMAT' | 'STAGE' | 'STORAGE INTEGRATION';

export interface TableColumn {
  readonly name: string;
  readonly type: ColumnType;
  readonly notNull: boolean;
}

/** Snowflake statement type ids, as the driver reads them (result.js / statement_type.js). */
export const STATEMENT_TYPE = {
  SELECT: 0x1000,
  DML: 0x3000,
  INSERT: 0x3100,
  UPDATE: 0x3200,
  DELETE: 0x3300,
  MERGE: 0x3400,
  COPY: 0x3600,
  SCL: 0x4000,
  ALTER_SESSION: 0x4100,
  USE: 0x4300,
  TCL: 0x5000,
  BEGIN: 0x5100,
  COMMIT: 0x5200,
  ROLLBACK: 0x5300,
  DDL: 0x6000,
  MULTI_STATEMENT: 0xa000,
} as const;

export function resolveName(name: ObjectName, facts: TranslateOptions['session'], action: string): QualifiedName {
  const parts = name.parts;
  if (parts.length === 3) return { database: parts[0]!, schema: parts[1]!, name: parts[2]! };
  if (parts.length === 2) {
    if (!facts.database) throw noCurrentDatabase(action);
    return { database: facts.database, schema: parts[0]!, name: parts[1]! };
  }
  if (!facts.database) throw noCurrentDatabase(action);
  if (!facts.schema) throw noCurrentSchema(action);
  return { database: facts.database, schema: facts.schema, name: parts[0]! };
}

/** Plans one statement (significant tokens of it). */
export function planStatement(all: readonly Token[], options: TranslateOptions, source?: string): { plan: Plan; translator?: Translator } {
  const tokens = significant(all);
  const c = new Cursor(tokens);
  const first = c.peek();
  if (!first) throw compilationError('syntax error: empty statement');
  if (first.kind !== 'ident' && !isOp(first, '(')) throw compilationError(`syntax error line 1 at position 0 unexpected ${describe(first)}.`);
  const verb = first.kind === 'ident' ? first.value : 'SELECT';
  switch (verb) {
    case 'SELECT':
    case 'WITH': {
      // SELECT SYSTEM$ABORT_TRANSACTION(<id>): ends another session's open transaction (a killed run's).
      const abort = tokens.map((t) => t.text).join(' ').match(/^SELECT\s+SYSTEM\$ABORT_TRANSACTION\s*\(\s*(\d+)\s*\)\s*;?$/i);
      if (abort) return { plan: { kind: 'abort-transaction', transaction: abort[1]! } };
      return query('SELECT', tokens, options, source);
    }
    case 'INSERT': {
      if (isWord(tokens[1], 'OVERWRITE')) throw unsupported('INSERT OVERWRITE');
      if (isWord(tokens[1], 'ALL') || isWord(tokens[1], 'FIRST')) throw unsupported('multi-table INSERT');
      return query('INSERT', tokens, options);
    }
    case 'UPDATE':
    case 'DELETE':
    case 'MERGE':
      return query(verb, tokens, options);
    case 'BEGIN':
    case 'START': {
      c.next();
      if (verb === 'START') c.expect('TRANSACTION');
      else if (!c.accept('TRANSACTION')) c.accept('WORK');
      if (c.accept('NAME')) c.next();
      expectEnd(c);
      return { plan: { kind: 'begin' } };
    }
    case 'COMMIT':
    case 'ROLLBACK': {
      c.next();
      c.accept('WORK');
      expectEnd(c);
      return { plan: { kind: verb === 'COMMIT' ? 'commit' : 'rollback' } };
    }
    case 'USE':
      return { plan: planUse(c) };
    case 'CREATE':
      return planCreate(c, options);
    case 'DROP':
      return { plan: planDrop(c) };
    case 'ALTER':
      return planAlter(c, options);
    case 'TRUNCATE': {
      c.next();
      c.accept('TABLE');
      const ifExists = c.accept('IF', 'EXISTS');
      const name = parseObjectName(c);
      expectEnd(c);
      return { plan: { kind: 'truncate', table: resolveName(name, options.session, 'TRUNCATE'), ifExists } };
    }
    case 'COPY':
      return { plan: { kind: 'copy', copy: parseCopy(c, options) } };
    case 'GRANT':
    case 'REVOKE':
      // No access control here: a grant is recorded and succeeds, as it would for an owner.
      return { plan: { kind: 'grant', text: tokens.map((t) => t.text).join(' ') } };
    default:
      if (SNOWFLAKE_VERBS.has(verb)) throw unsupported(`${verb} statements`);
      throw compilationError(`syntax error line 1 at position 0 unexpected '${first.text}'.`);
  }
}

/** Statement verbs Snowflake knows that the server does not run. */
const SNOWFLAKE_VERBS = new Set([
  'SHOW', 'DESCRIBE', 'DESC', 'EXPLAIN', 'CALL', 'PUT', 'GET', 'LIST', 'LS', 'REMOVE', 'RM', 'EXECUTE', 'SET',
  'UNSET', 'UNDROP', 'COMMENT', 'MERGE', 'REPLACE', 'VALUES', 'TABLE', 'DECLARE', 'LET', 'RETURN', 'FETCH',
]);

function expectEnd(c: Cursor): void {
  if (!c.done) throw compilationError(`syntax error: unexpected ${describe(c.peek())}`);
}

/** Where a top-level select list ends. */
const SELECT_LIST_END = new Set(['FROM', 'WHERE', 'GROUP', 'HAVING', 'QUALIFY', 'ORDER', 'LIMIT', 'OFFSET', 'FETCH', 'UNION', 'EXCEPT', 'MINUS', 'INTERSECT', 'WINDOW', 'INTO']);
const NOT_AN_ALIAS = new Set(['END', 'NULL', 'TRUE', 'FALSE', 'DISTINCT', 'ALL']);

/**
 * Snowflake names an unaliased result column after the expression's text, upper-cased
 * (`count(*)` -> `COUNT(*)`); DuckDB would say `count_star()`. The outermost select list gets
 * explicit aliases so callers read the names Snowflake would give.
 */
export function nameResultColumns(tokens: readonly Token[], source: string): Token[] {
  let depth = 0;
  let start = -1;
  for (let i = 0; i < tokens.length; i++) {
    if (isOp(tokens[i], '(')) depth++;
    else if (isOp(tokens[i], ')')) depth--;
    else if (depth === 0 && isWord(tokens[i], 'SELECT')) {
      start = i + 1;
      break;
    }
  }
  if (start < 0) return [...tokens];
  while (isWord(tokens[start], 'DISTINCT') || isWord(tokens[start], 'ALL')) start++;
  let end = start;
  depth = 0;
  for (; end < tokens.length; end++) {
    const t = tokens[end]!;
    if (isOp(t, '(')) depth++;
    else if (isOp(t, ')')) depth--;
    if (depth === 0 && t.kind === 'ident' && SELECT_LIST_END.has(t.value)) break;
  }
  const items = splitTopLevel(tokens.slice(start, end));
  const out: Token[] = [...tokens.slice(0, start)];
  items.forEach((item, k) => {
    if (k > 0) out.push({ kind: 'op', text: ',', value: ',', offset: -1 });
    out.push(...item);
    const n = item.length;
    const last = item[n - 1];
    const before = item[n - 2];
    const simpleColumn = item.every((t) => t.kind === 'ident' || t.kind === 'qident' || isOp(t, '.') || isOp(t, '*'));
    const aliased = n >= 2 && (isWord(before, 'AS') || ((last?.kind === 'ident' || last?.kind === 'qident') && !NOT_AN_ALIAS.has(last.value) && !isOp(before, '.') && !isOp(before, '::') && before?.kind !== 'string' && !(before?.kind === 'ident' && ['EXCLUDE', 'REPLACE', 'RENAME'].includes(before.value))));
    if (n === 0 || simpleColumn || aliased || item.some((t) => isWord(t, 'EXCLUDE') || isWord(t, 'REPLACE') || isWord(t, 'ILIKE'))) return;
    const first = item[0]!;
    const text = source.slice(first.offset, last!.offset + last!.text.length).toUpperCase();
    out.push({ kind: 'ident', text: 'AS', value: 'AS', offset: -1 }, { kind: 'qident', text: sqlIdent(text), value: text, offset: -1 });
  });
  out.push(...tokens.slice(end));
  return out;
}

function query(verb: 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE' | 'MERGE', tokens: Token[], options: TranslateOptions, source?: string) {
  const translator = new Translator(options);
  let sql = translator.tokens(verb === 'SELECT' && source !== undefined ? nameResultColumns(tokens, source) : tokens);
  let target: QualifiedName | undefined;
  if (verb === 'UPDATE' || verb === 'DELETE' || verb === 'MERGE') {
    const c = new Cursor(tokens);
    c.next();
    if (verb === 'DELETE') c.expect('FROM');
    if (verb === 'MERGE') c.expect('INTO');
    target = resolveName(parseObjectName(c), options.session, verb);
  }
  if (verb === 'MERGE') {
    if (tokens.some((t) => isWord(t, 'RETURNING'))) throw unsupported('MERGE ... RETURNING');
    // Snowflake reports inserted/updated/deleted counts separately.
    sql += ' RETURNING merge_action';
  }
  return { plan: { kind: 'query' as const, verb, sql, binds: translator.binds, target }, translator };
}

function planUse(c: Cursor): Plan {
  c.expect('USE');
  if (c.accept('SECONDARY', 'ROLES')) {
    const name = parseObjectName(c, 1);
    expectEnd(c);
    return { kind: 'use', objectType: 'SECONDARY ROLES', name };
  }
  let objectType: 'DATABASE' | 'SCHEMA' | 'ROLE' | 'WAREHOUSE' | undefined;
  for (const t of ['DATABASE', 'SCHEMA', 'ROLE', 'WAREHOUSE'] as const) {
    if (c.accept(t)) {
      objectType = t;
      break;
    }
  }
  const name = parseObjectName(c, objectType === 'SCHEMA' || objectType === undefined ? 2 : 1);
  expectEnd(c);
  if (!objectType) objectType = name.parts.length === 2 ? 'SCHEMA' : 'DATABASE';
  return { kind: 'use', objectType, name };
}

function planCreate(c: Cursor, options: TranslateOptions): { plan: Plan; translator?: Translator } {
  c.expect('CREATE');
  const orReplace = c.accept('OR', 'REPLACE');
  let temporary = false;
  if (c.accept('LOCAL') || c.accept('GLOBAL')) temporary = true;
  if (c.accept('TEMPORARY') || c.accept('TEMP') || c.accept('VOLATILE')) temporary = true;
  c.accept('TRANSIENT'); // no Fail-safe locally: the same as a permanent table
  // Access control is not modelled: a role or user is recorded and succeeds, like GRANT.
  if (c.accept('ROLE') || c.accept('USER')) return { plan: { kind: 'grant', text: c.tokens.map((t) => t.text).join(' ') } };
  if (c.accept('DATABASE')) {
    const ifNotExists = c.accept('IF', 'NOT', 'EXISTS');
    const name = parseObjectName(c, 1).parts[0]!;
    tableOrObjectOptions(c, 'DATABASE');
    return { plan: { kind: 'create-database', name, orReplace, ifNotExists } };
  }
  if (c.accept('SCHEMA')) {
    const ifNotExists = c.accept('IF', 'NOT', 'EXISTS');
    const name = parseObjectName(c, 2);
    tableOrObjectOptions(c, 'SCHEMA');
    const database = name.parts.length === 2 ? name.parts[0]! : options.session.database;
    if (!database) throw noCurrentDatabase('CREATE SCHEMA');
    return { plan: { kind: 'create-schema', database, name: name.parts.at(-1)!, orReplace, ifNotExists } };
  }
  if (c.accept('FILE', 'FORMAT') || c.accept('STAGE') || c.accept('STORAGE', 'INTEGRATION')) {
    const words = c.tokens.slice(0, c.position).map((t) => t.value);
    const objectType = words.includes('FORMAT') ? 'FILE FORMAT' : words.includes('STAGE') ? 'STAGE' : 'STORAGE INTEGRATION';
    if (temporary) throw unsupported(`temporary ${objectType}`);
    const ifNotExists = c.accept('IF', 'NOT', 'EXISTS');
    const name = parseObjectName(c, objectType === 'STORAGE INTEGRATION' ? 1 : 3);
    const opts = parseOptions(c);
    return { plan: { kind: 'create-object', objectType, name, orReplace, ifNotExists, options: opts } };
  }
  if (c.accept('TABLE')) return planCreateTable(c, options, { orReplace, temporary });
  if (c.accept('VIEW')) {
    if (temporary) throw unsupported('temporary views');
    const ifNotExists = c.accept('IF', 'NOT', 'EXISTS');
    const name = resolveName(parseObjectName(c), options.session, 'CREATE VIEW');
    if (isOp(c.peek(), '(')) throw unsupported('a column list in CREATE VIEW');
    while (!c.done && !isWord(c.peek(), 'AS')) {
      if (c.accept('COMMENT')) {
        c.acceptOp('=');
        c.next();
      } else throw unsupported(`CREATE VIEW option ${describe(c.peek())}`);
    }
    c.expect('AS');
    const translator = new Translator(options);
    const body = translator.tokens(c.rest());
    if (translator.binds.length > 0) throw unsupported('bind variables in CREATE VIEW');
    const sql = `CREATE ${orReplace ? 'OR REPLACE ' : ''}VIEW ${ifNotExists ? 'IF NOT EXISTS ' : ''}${duckName(name)} AS ${body}`;
    return { plan: { kind: 'ddl', sql, message: `View ${name.name} successfully created.` } };
  }
  throw unsupported(`CREATE ${c.peek()?.value ?? ''}`.trim());
}

/** Options after CREATE DATABASE/SCHEMA that have no meaning locally. */
function tableOrObjectOptions(c: Cursor, what: string): void {
  while (!c.done) {
    if (c.accept('CLONE')) throw unsupported(`${what} CLONE`);
    if (c.accept('WITH', 'MANAGED', 'ACCESS')) continue;
    const t = c.next();
    if (t.kind !== 'ident') throw compilationError(`syntax error: unexpected ${describe(t)}`);
    if (!['COMMENT', 'DATA_RETENTION_TIME_IN_DAYS', 'MAX_DATA_EXTENSION_TIME_IN_DAYS'].includes(t.value)) {
      throw unsupported(`${what} option ${t.value}`);
    }
    c.acceptOp('=');
    c.next();
  }
}

function planCreateTable(c: Cursor, options: TranslateOptions, how: { orReplace: boolean; temporary: boolean }): { plan: Plan; translator: Translator } {
  const ifNotExists = c.accept('IF', 'NOT', 'EXISTS');
  const table = resolveName(parseObjectName(c), options.session, 'CREATE TABLE');
  const translator = new Translator(options);
  const head = `CREATE ${how.orReplace ? 'OR REPLACE ' : ''}${how.temporary ? 'TEMP ' : ''}TABLE ${ifNotExists ? 'IF NOT EXISTS ' : ''}`;
  // A temporary table lives in DuckDB's temp catalog, so it is named without database and schema.
  const target = how.temporary ? sqlIdent(table.name) : duckName(table);
  if (c.accept('LIKE') || c.accept('CLONE')) throw unsupported('CREATE TABLE ... LIKE/CLONE');
  if (c.accept('AS')) {
    const body = translator.tokens(c.rest());
    return { plan: { kind: 'create-table', sql: `${head}${target} AS ${body}`, binds: translator.binds, table, orReplace: how.orReplace, ifNotExists, columns: undefined }, translator };
  }
  if (!isOp(c.peek(), '(')) throw compilationError(`syntax error: expected column list but found ${describe(c.peek())}`);
  const open = c.position;
  let depth = 0;
  let close = -1;
  for (let i = open; i < c.tokens.length; i++) {
    if (isOp(c.tokens[i], '(')) depth++;
    if (isOp(c.tokens[i], ')') && --depth === 0) {
      close = i;
      break;
    }
  }
  if (close < 0) throw compilationError('syntax error: unbalanced parenthesis in CREATE TABLE');
  const elements = splitTopLevel(c.tokens.slice(open + 1, close));
  c.position = close + 1;
  const columns: { name: string; type: ColumnType; notNull: boolean; defaultSql?: string }[] = [];
  const primaryKey = new Set<string>();
  for (const element of elements) {
    const e = new Cursor(element);
    if (e.accept('CONSTRAINT')) e.next();
    if (e.accept('PRIMARY', 'KEY')) {
      e.expectOp('(');
      while (!e.acceptOp(')')) {
        if (e.acceptOp(',')) continue;
        primaryKey.add(parseObjectName(e, 1).parts[0]!);
      }
      continue; // Snowflake does not enforce it, but a primary key column is NOT NULL
    }
    if (e.accept('UNIQUE') || e.accept('FOREIGN', 'KEY')) continue; // declared, never enforced by Snowflake
    const name = parseObjectName(e, 1).parts[0]!;
    const type = parseType(e);
    let notNull = false;
    let defaultSql: string | undefined;
    while (!e.done) {
      if (e.accept('NOT', 'NULL')) notNull = true;
      else if (e.accept('NULL')) notNull = false;
      else if (e.accept('PRIMARY', 'KEY')) notNull = true;
      else if (e.accept('UNIQUE')) continue;
      else if (e.accept('CONSTRAINT')) e.next();
      else if (e.accept('REFERENCES')) {
        parseObjectName(e);
        if (isOp(e.peek(), '(')) {
          while (!e.acceptOp(')')) e.next();
        }
      } else if (e.accept('COMMENT')) {
        e.acceptOp('=');
        e.next();
      } else if (e.accept('DEFAULT')) {
        const start = e.position;
        while (!e.done && !isConstraintStart(e.peek()!)) {
          if (isOp(e.peek(), '(')) {
            let d = 0;
            do {
              const t = e.next();
              if (isOp(t, '(')) d++;
              if (isOp(t, ')')) d--;
            } while (d > 0);
          } else e.next();
        }
        defaultSql = translator.tokens(element.slice(start, e.position));
      } else if (e.accept('AUTOINCREMENT') || e.accept('IDENTITY')) {
        throw unsupported('AUTOINCREMENT/IDENTITY columns');
      } else if (e.accept('COLLATE')) {
        throw unsupported('COLLATE');
      } else {
        throw unsupported(`column option ${describe(e.peek())} in CREATE TABLE`);
      }
    }
    columns.push({ name, type, notNull, defaultSql });
  }
  for (const pk of primaryKey) {
    const col = columns.find((x) => x.name === pk);
    if (!col) throw compilationError(`invalid identifier '${pk}'`, '000904', '42000');
    col.notNull = true;
  }
  // table options: CLUSTER BY (...), COMMENT = '...', retention, change tracking, COPY GRANTS
  while (!c.done) {
    if (c.accept('CLUSTER', 'BY')) {
      c.expectOp('(');
      let d = 1;
      while (d > 0) {
        const t = c.next();
        if (isOp(t, '(')) d++;
        if (isOp(t, ')')) d--;
      }
      continue;
    }
    if (c.accept('COPY', 'GRANTS')) continue;
    const t = c.next();
    if (t.kind !== 'ident' || !['COMMENT', 'DATA_RETENTION_TIME_IN_DAYS', 'MAX_DATA_EXTENSION_TIME_IN_DAYS', 'CHANGE_TRACKING'].includes(t.value)) {
      throw unsupported(`CREATE TABLE option ${t.text}`);
    }
    c.acceptOp('=');
    c.next();
  }
  const defs = columns.map((col) => {
    const id = sqlIdent(col.name);
    let def = `${id} ${col.type.duck}`;
    if (col.notNull) def += ' NOT NULL';
    if (col.defaultSql !== undefined) def += ` DEFAULT ${col.defaultSql}`;
    if (col.type.maxLength !== undefined) def += ` CHECK (length(${id}) <= ${col.type.maxLength})`;
    return def;
  });
  const sql = `${head}${target} (${defs.join(', ')})`;
  return {
    plan: { kind: 'create-table', sql, binds: translator.binds, table, orReplace: how.orReplace, ifNotExists, columns: columns.map(({ name, type, notNull }) => ({ name, type, notNull })) },
    translator,
  };
}

function isConstraintStart(t: Token): boolean {
  return t.kind === 'ident' && ['NOT', 'NULL', 'PRIMARY', 'UNIQUE', 'REFERENCES', 'COMMENT', 'COLLATE', 'CONSTRAINT', 'FOREIGN', 'AUTOINCREMENT', 'IDENTITY', 'WITH', 'MASKING', 'TAG'].includes(t.value);
}

function planDrop(c: Cursor): Plan {
  c.expect('DROP');
  let objectType: DropType | undefined;
  if (c.accept('DATABASE')) objectType = 'DATABASE';
  else if (c.accept('SCHEMA')) objectType = 'SCHEMA';
  else if (c.accept('TABLE')) objectType = 'TABLE';
  else if (c.accept('VIEW')) objectType = 'VIEW';
  else if (c.accept('FILE', 'FORMAT')) objectType = 'FILE FORMAT';
  else if (c.accept('STAGE')) objectType = 'STAGE';
  else if (c.accept('STORAGE', 'INTEGRATION') || c.accept('INTEGRATION')) objectType = 'STORAGE INTEGRATION';
  if (!objectType) throw unsupported(`DROP ${c.peek()?.value ?? ''}`.trim());
  const ifExists = c.accept('IF', 'EXISTS');
  const name = parseObjectName(c, objectType === 'DATABASE' || objectType === 'STORAGE INTEGRATION' ? 1 : objectType === 'SCHEMA' ? 2 : 3);
  if (!c.accept('CASCADE')) c.accept('RESTRICT');
  expectEnd(c);
  return { kind: 'drop', objectType, name, ifExists };
}

function planAlter(c: Cursor, options: TranslateOptions): { plan: Plan; translator?: Translator } {
  c.expect('ALTER');
  if (c.accept('USER')) return { plan: { kind: 'grant', text: c.tokens.map((t) => t.text).join(' ') } };
  if (c.accept('SESSION')) {
    if (c.accept('SET')) return { plan: { kind: 'alter-session', set: parseOptions(c), unset: [] } };
    if (c.accept('UNSET')) {
      const unset: string[] = [];
      while (!c.done) {
        if (c.acceptOp(',')) continue;
        unset.push(c.next().value);
      }
      return { plan: { kind: 'alter-session', set: new Map(), unset } };
    }
    throw unsupported('ALTER SESSION without SET/UNSET');
  }
  if (c.accept('TABLE')) {
    const ifExists = c.accept('IF', 'EXISTS');
    const table = resolveName(parseObjectName(c), options.session, 'ALTER TABLE');
    if (c.accept('ADD')) {
      c.accept('COLUMN');
      const ifNotExists = c.accept('IF', 'NOT', 'EXISTS');
      const name = parseObjectName(c, 1).parts[0]!;
      const type = parseType(c);
      let notNull = false;
      if (c.accept('NOT', 'NULL')) notNull = true;
      else c.accept('NULL');
      if (c.accept('COMMENT')) c.next();
      expectEnd(c);
      if (notNull) throw unsupported('ALTER TABLE ADD COLUMN ... NOT NULL');
      const id = sqlIdent(name);
      const check = type.maxLength !== undefined ? ` CHECK (length(${id}) <= ${type.maxLength})` : '';
      if (check) throw unsupported('ALTER TABLE ADD COLUMN with a length limit');
      const sql = `ALTER TABLE ${ifExists ? 'IF EXISTS ' : ''}${duckName(table)} ADD COLUMN ${ifNotExists ? 'IF NOT EXISTS ' : ''}${id} ${type.duck}`;
      return { plan: { kind: 'ddl', sql, message: 'Statement executed successfully.' } };
    }
    // Snowflake may widen a NUMBER column's precision in place (same scale); DuckDB rewrites the column.
    if (c.accept('ALTER') || c.accept('MODIFY')) {
      c.accept('COLUMN');
      const name = parseObjectName(c, 1).parts[0]!;
      if (!c.accept('SET', 'DATA', 'TYPE')) c.expect('TYPE');
      const type = parseType(c);
      expectEnd(c);
      const sql = `ALTER TABLE ${ifExists ? 'IF EXISTS ' : ''}${duckName(table)} ALTER COLUMN ${sqlIdent(name)} SET DATA TYPE ${type.duck}`;
      return { plan: { kind: 'ddl', sql, message: 'Statement executed successfully.' } };
    }
    throw unsupported(`ALTER TABLE ${displayName({ parts: [table.name] })} ${c.peek()?.value ?? ''}`.trim());
  }
  throw unsupported(`ALTER ${c.peek()?.value ?? ''}`.trim());
}
