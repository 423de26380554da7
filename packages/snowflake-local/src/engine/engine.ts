import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBResultReader, type DuckDBValue } from '@duckdb/node-api';
import { executeCopy } from '../copy/copy-executor.js';
import { csvFormatFromOptions } from '../copy/file-format.js';
import type { StageFiles } from '../copy/stage-files.js';
import {
  alreadyExists,
  compilationError,
  fromDuckDbError,
  noCurrentDatabase,
  objectNotFound,
  SnowflakeError,
  unsupported,
} from '../errors.js';
import { splitStatements, tokenize, type Token } from '../sql/lexer.js';
import { displayName, duckName, type QualifiedName } from '../sql/names.js';
import { optionBoolean, optionStrings, optionText, type OptionValue, type Options } from '../sql/options.js';
import { planStatement, resolveName, STATEMENT_TYPE, type Plan } from '../sql/plan.js';
import { sqlIdent, type SessionFacts } from '../sql/translate.js';
import { Catalog, type LoadedFile } from './catalog.js';
import { TableLocks } from './locks.js';
import { column, countResult, fromDuckDb, statusResult, type StatementResult } from './results.js';

/** A bind as the driver sends it: `{"1": {"type": "TEXT", "value": "x"}}`. */
export interface Binding {
  readonly type: string;
  readonly value: unknown;
}
export type Bindings = Readonly<Record<string, Binding>>;

export interface EngineOptions {
  readonly account: string;
  readonly files: StageFiles;
  /** How long a DML statement waits for another transaction's table lock, unless the session sets LOCK_TIMEOUT. */
  readonly lockTimeoutMs: number;
  /** What METADATA$FILENAME holds (see CopyEnvironment). */
  readonly metadataFilename?: 'stage-relative' | 'bucket-path';
}

/** Statements a test wants to run at the same time: each waits until `parties` have arrived (or fails). */
export interface Rendezvous {
  readonly sql: RegExp;
  readonly parties: number;
  readonly timeoutMs: number;
}

export interface LoginFacts {
  readonly user: string;
  readonly role: string | undefined;
  readonly warehouse: string | undefined;
  readonly database: string | undefined;
  readonly schema: string | undefined;
  readonly sessionId: string;
}

/** Statements a test can read back: what ran, as Snowflake and as DuckDB saw it. */
export interface ExecutedStatement {
  readonly sessionId: string;
  readonly sqlText: string;
  readonly kind: Plan['kind'];
  readonly ok: boolean;
  readonly errorCode?: string;
  /** When it started and ended (ms since the epoch, high resolution), for overlap assertions. */
  readonly startedAt: number;
  readonly finishedAt: number;
}

const NO_DATABASE = '__SNOWFLAKE_LOCAL_NO_DATABASE';
const OK = 'Statement executed successfully.';

/** Session parameters a caller may set; everything else is rejected. */
const SESSION_PARAMETERS = new Set([
  'MULTI_STATEMENT_COUNT', 'QUERY_TAG', 'TIMEZONE', 'AUTOCOMMIT', 'LOCK_TIMEOUT', 'STATEMENT_TIMEOUT_IN_SECONDS',
  'ABORT_DETACHED_QUERY', 'JS_TREAT_INTEGER_AS_BIGINT', 'TIMESTAMP_OUTPUT_FORMAT', 'TIMESTAMP_NTZ_OUTPUT_FORMAT',
  'TIMESTAMP_LTZ_OUTPUT_FORMAT', 'TIMESTAMP_TZ_OUTPUT_FORMAT', 'DATE_OUTPUT_FORMAT', 'TIME_OUTPUT_FORMAT',
  'CLIENT_SESSION_KEEP_ALIVE', 'CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY', 'QUOTED_IDENTIFIERS_IGNORE_CASE',
  'ROWS_PER_RESULTSET', 'USE_CACHED_RESULT', 'BINARY_OUTPUT_FORMAT', 'WEEK_START', 'WEEK_OF_YEAR_POLICY',
]);

export class SnowflakeEngine {
  readonly catalog = new Catalog();
  readonly locks: TableLocks;
  readonly executed: ExecutedStatement[] = [];
  readonly sessions = new Set<Session>();
  private readonly gates: { rule: Rendezvous; arrived: number; release: (() => void)[]; open: boolean }[] = [];

  /** Arms a rendezvous: matching statements wait for each other before they run. */
  rendezvous(rule: Rendezvous): void {
    this.gates.push({ rule, arrived: 0, release: [], open: false });
  }

  /** Waits at every armed rendezvous the statement matches; a party that waits in vain fails. */
  async meet(sqlText: string): Promise<void> {
    for (const gate of this.gates) {
      if (gate.open || !gate.rule.sql.test(sqlText)) continue;
      gate.arrived++;
      if (gate.arrived >= gate.rule.parties) {
        gate.open = true;
        for (const release of gate.release.splice(0)) release();
        continue;
      }
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new SnowflakeError('000630', '57014', `snowflake-local rendezvous: ${gate.arrived} of ${gate.rule.parties} statements matching ${gate.rule.sql} arrived within ${gate.rule.timeoutMs} ms; they did not run at the same time`));
        }, gate.rule.timeoutMs);
        gate.release.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private constructor(
    readonly instance: DuckDBInstance,
    private readonly utility: DuckDBConnection,
    readonly tmpDir: string,
    readonly options: EngineOptions,
  ) {
    this.locks = new TableLocks(options.lockTimeoutMs);
  }

  static async create(options: EngineOptions): Promise<SnowflakeEngine> {
    const instance = await DuckDBInstance.create(':memory:');
    const utility = await instance.connect();
    await utility.run(`ATTACH ':memory:' AS ${sqlIdent(NO_DATABASE)}`);
    const dir = await mkdtemp(path.join(tmpdir(), 'snowflake-local-'));
    return new SnowflakeEngine(instance, utility, dir, options);
  }

  private utilityQueue: Promise<unknown> = Promise.resolve();

  /** The utility connection serves every session: one query at a time. */
  private catalogQuery(sql: string, values: DuckDBValue[]): Promise<unknown[][]> {
    const run = this.utilityQueue.then(async () => (await this.utility.runAndReadAll(sql, values)).getRows());
    this.utilityQueue = run.catch(() => undefined);
    return run;
  }

  async databaseExists(name: string): Promise<boolean> {
    const rows = await this.catalogQuery('SELECT 1 FROM duckdb_databases() WHERE database_name = $1', [name]);
    return rows.length > 0 && name !== NO_DATABASE;
  }

  async schemaExists(database: string, schema: string): Promise<boolean> {
    const rows = await this.catalogQuery('SELECT 1 FROM duckdb_schemas() WHERE database_name = $1 AND schema_name = $2', [database, schema]);
    return rows.length > 0;
  }

  async openSession(login: LoginFacts): Promise<Session> {
    const conn = await this.instance.connect();
    await conn.run("SET TimeZone = 'UTC'");
    // Snowflake sorts NULL as the largest value: last ascending, first descending.
    await conn.run("SET default_null_order = 'nulls_last_on_asc_first_on_desc'");
    let database = login.database;
    let schema = login.schema ?? (database ? 'PUBLIC' : undefined);
    if (database && !(await this.databaseExists(database))) database = undefined;
    if (!database || (schema && !(await this.schemaExists(database, schema)))) schema = undefined;
    const session = new Session(this, conn, {
      user: login.user,
      role: login.role ?? 'PUBLIC',
      warehouse: login.warehouse,
      account: this.options.account,
      sessionId: login.sessionId,
      database,
      schema,
    });
    this.sessions.add(session);
    return session;
  }

  forget(session: Session): void {
    this.sessions.delete(session);
  }

  async close(): Promise<void> {
    for (const s of [...this.sessions]) await s.close();
    await this.utilityQueue;
    this.utility.closeSync();
    this.instance.closeSync();
    await rm(this.tmpDir, { recursive: true, force: true });
  }
}

type MutableFacts = { -readonly [K in keyof SessionFacts]: SessionFacts[K] };

/** One Snowflake session: one DuckDB connection, its transaction, its USE state. */
export class Session {
  readonly facts: MutableFacts;
  readonly parameters = new Map<string, string | number | boolean>();
  private inTransaction = false;
  private transactionAborted = false;
  private pendingLoads: { table: QualifiedName; files: LoadedFile[] }[] = [];
  private pendingForgets: QualifiedName[] = [];
  private duckUse: string | undefined;
  private closed = false;
  /** The request's SQL text: token offsets point into it (for Snowflake-style column names). */
  private source = '';

  constructor(
    private readonly engine: SnowflakeEngine,
    private readonly conn: DuckDBConnection,
    facts: SessionFacts,
  ) {
    this.facts = { ...facts };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Executes a request's SQL text: one statement, or several when
   * MULTI_STATEMENT_COUNT allows (the results are the children's).
   */
  async executeText(sqlText: string, bindings: Bindings | undefined, statementCount: number): Promise<StatementResult[]> {
    this.source = sqlText;
    const statements = splitStatements(tokenize(sqlText));
    if (statements.length === 0) throw compilationError('Empty SQL statement.', '000900', '42000');
    if (statementCount !== 0 && statements.length !== statementCount) {
      throw new SnowflakeError('000008', '0A000', `Actual statement count ${statements.length} did not match the desired statement count ${statementCount}.`);
    }
    const results: StatementResult[] = [];
    let bindOffset = 0;
    for (const statement of statements) {
      results.push(await this.executeStatement(statement, bindings, bindOffset));
      bindOffset += statement.filter((t) => t.kind === 'param' && t.text === '?').length;
    }
    return results;
  }

  private record(sqlText: string, kind: Plan['kind'], startedAt: number, error?: SnowflakeError): void {
    const finishedAt = performance.timeOrigin + performance.now();
    this.engine.executed.push({ sessionId: this.facts.sessionId, sqlText, kind, ok: !error, ...(error ? { errorCode: error.code } : {}), startedAt, finishedAt });
  }

  /** True while a transaction is open (a client that died mid-transaction leaves it open, locks and all). */
  get transactionOpen(): boolean {
    return this.inTransaction;
  }

  /** SYSTEM$ABORT_TRANSACTION: roll the open transaction back and release its locks. */
  async abortTransaction(): Promise<void> {
    await this.rollback();
  }

  async executeStatement(tokens: Token[], bindings: Bindings | undefined, bindOffset: number): Promise<StatementResult> {
    const sqlText = tokens.map((t) => t.text).join('').trim();
    let kind: Plan['kind'] | 'unplanned' = 'unplanned';
    let startedAt = performance.timeOrigin + performance.now();
    try {
      const { plan } = planStatement(tokens, { session: this.facts, bindOffset }, this.source);
      kind = plan.kind;
      if (this.transactionAborted && plan.kind !== 'rollback' && plan.kind !== 'commit') throw this.abortedError();
      await this.engine.meet(sqlText);
      startedAt = performance.timeOrigin + performance.now();
      const result = await this.run(plan, bindings);
      this.record(sqlText, plan.kind, startedAt);
      return result;
    } catch (e) {
      const error = fromDuckDbError(e);
      if (this.inTransaction && !(e instanceof SnowflakeError)) await this.probeTransaction();
      if (!this.inTransaction) this.engine.locks.releaseAll(this.facts.sessionId);
      this.record(sqlText, kind === 'unplanned' ? 'query' : kind, startedAt, error);
      throw error;
    }
  }

  /** The session's LOCK_TIMEOUT (seconds) when set, else the server's default. */
  private lockTimeoutMs(): number {
    const value = this.parameters.get('LOCK_TIMEOUT');
    return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value * 1000 : this.engine.options.lockTimeoutMs;
  }

  private abortedError(): SnowflakeError {
    return new SnowflakeError(
      '000002',
      '0A000',
      "Unsupported feature 'continuing a transaction after a failed statement': Snowflake rolls back only the failed statement, DuckDB aborts the whole transaction. snowflake-local therefore requires ROLLBACK here.",
    );
  }

  /** After a DuckDB error inside a transaction: is the transaction still usable? */
  private async probeTransaction(): Promise<void> {
    try {
      await this.conn.run('SELECT 1');
    } catch {
      this.transactionAborted = true;
    }
  }

  private async duck(sql: string, values?: DuckDBValue[]): Promise<DuckDBResultReader> {
    return values && values.length > 0 ? this.conn.runAndReadAll(sql, values) : this.conn.runAndReadAll(sql);
  }

  /** Points DuckDB's default catalog/schema at the session's current database and schema. */
  private async ensureUse(): Promise<void> {
    const { database, schema } = this.facts;
    let target = sqlIdent(NO_DATABASE);
    if (database && (await this.engine.databaseExists(database))) {
      target = schema && (await this.engine.schemaExists(database, schema)) ? `${sqlIdent(database)}.${sqlIdent(schema)}` : sqlIdent(database);
    }
    if (target !== this.duckUse) {
      await this.conn.run(`USE ${target}`);
      this.duckUse = target;
    }
  }

  /** Snowflake commits an open transaction before any DDL statement. */
  private async implicitCommit(): Promise<void> {
    if (this.inTransaction) await this.commit();
  }

  private async commit(): Promise<void> {
    if (!this.inTransaction) return;
    const aborted = this.transactionAborted;
    try {
      await this.conn.run(aborted ? 'ROLLBACK' : 'COMMIT');
    } finally {
      this.inTransaction = false;
      this.transactionAborted = false;
      this.engine.locks.releaseAll(this.facts.sessionId);
    }
    if (aborted) {
      this.pendingLoads = [];
      this.pendingForgets = [];
      throw new SnowflakeError(
        '000002',
        '0A000',
        "Unsupported feature 'COMMIT after a failed statement': DuckDB aborted the transaction, so snowflake-local rolled it back. Snowflake would have committed the statements that succeeded.",
      );
    }
    for (const t of this.pendingForgets) this.engine.catalog.forgetLoads(t);
    for (const { table, files } of this.pendingLoads) this.engine.catalog.recordLoads(table, files);
    this.pendingLoads = [];
    this.pendingForgets = [];
  }

  private async rollback(): Promise<void> {
    if (!this.inTransaction) return;
    try {
      await this.conn.run('ROLLBACK');
    } finally {
      this.inTransaction = false;
      this.transactionAborted = false;
      this.pendingLoads = [];
      this.pendingForgets = [];
      this.engine.locks.releaseAll(this.facts.sessionId);
    }
  }

  private forgetLoads(table: QualifiedName): void {
    if (this.inTransaction) this.pendingForgets.push(table);
    else this.engine.catalog.forgetLoads(table);
  }

  private bindValues(binds: readonly number[], bindings: Bindings | undefined): { rows: DuckDBValue[][] } {
    if (binds.length === 0) return { rows: [[]] };
    const columns = binds.map((n) => {
      const b = bindings?.[String(n)];
      if (!b) throw compilationError(`Bind variable ${n} not set.`, '002049', '42601');
      return b;
    });
    const arrays = columns.filter((b) => Array.isArray(b.value));
    if (arrays.length > 0 && arrays.length !== columns.length) throw compilationError('Array binds must all be arrays of the same length.', '002049', '42601');
    const rowCount = arrays.length > 0 ? (arrays[0]!.value as unknown[]).length : 1;
    const rows: DuckDBValue[][] = [];
    for (let r = 0; r < rowCount; r++) {
      rows.push(columns.map((b) => bindValue(b.type, Array.isArray(b.value) ? (b.value as unknown[])[r] : b.value)));
    }
    return { rows };
  }

  private async run(plan: Plan, bindings: Bindings | undefined): Promise<StatementResult> {
    const engine = this.engine;
    switch (plan.kind) {
      case 'begin':
        if (!this.inTransaction) {
          await this.conn.run('BEGIN TRANSACTION');
          this.inTransaction = true;
        }
        return statusResult(OK, STATEMENT_TYPE.BEGIN);
      case 'commit':
        await this.commit();
        return statusResult(OK, STATEMENT_TYPE.COMMIT);
      case 'rollback':
        await this.rollback();
        return statusResult(OK, STATEMENT_TYPE.ROLLBACK);
      case 'grant':
        return statusResult(OK, STATEMENT_TYPE.DDL);
      case 'abort-transaction': {
        // The server's transaction ids are its session ids (what a lock-timeout message names).
        const target = [...engine.sessions].find((s) => s.facts.sessionId === plan.transaction);
        if (!target || !target.transactionOpen) {
          throw new SnowflakeError('000603', 'XX000', `Transaction ${plan.transaction} does not exist or is not running.`);
        }
        await target.abortTransaction();
        return { statementTypeId: STATEMENT_TYPE.SELECT, rowtype: [column(`SYSTEM$ABORT_TRANSACTION(${plan.transaction})`, 'text')], rowset: [[`Aborted transaction ${plan.transaction}`]] };
      }
      case 'use':
        return this.use(plan);
      case 'alter-session':
        return this.alterSession(plan.set, plan.unset);
      case 'query': {
        await this.ensureUse();
        const { rows } = this.bindValues(plan.binds, bindings);
        if (plan.target) await engine.locks.acquire(duckName(plan.target), this.facts.sessionId, plan.sql, this.lockTimeoutMs());
        try {
          if (!this.inTransaction && rows.length > 1) {
            // an array bind is one statement: all rows or none
            await this.conn.run('BEGIN TRANSACTION');
            try {
              const result = await this.runQuery(plan, rows);
              await this.conn.run('COMMIT');
              return result;
            } catch (e) {
              await this.conn.run('ROLLBACK');
              throw e;
            }
          }
          return await this.runQuery(plan, rows);
        } finally {
          if (!this.inTransaction) engine.locks.releaseAll(this.facts.sessionId);
        }
      }
      case 'truncate': {
        await this.ensureUse();
        await engine.locks.acquire(duckName(plan.table), this.facts.sessionId, 'TRUNCATE', this.lockTimeoutMs());
        try {
          const exists = (await this.duck(`SELECT 1 FROM duckdb_tables() WHERE database_name = $1 AND schema_name = $2 AND table_name = $3`, [plan.table.database, plan.table.schema, plan.table.name])).getRows().length > 0;
          if (!exists) {
            if (plan.ifExists) return statusResult(OK, STATEMENT_TYPE.DML);
            throw objectNotFound('Table', displayName({ parts: [plan.table.database, plan.table.schema, plan.table.name] }));
          }
          await this.duck(`DELETE FROM ${duckName(plan.table)}`);
          this.forgetLoads(plan.table);
          return statusResult(OK, STATEMENT_TYPE.DML);
        } finally {
          if (!this.inTransaction) engine.locks.releaseAll(this.facts.sessionId);
        }
      }
      case 'copy': {
        await this.ensureUse();
        const { rows } = this.bindValues(plan.copy.binds, bindings);
        if (rows.length !== 1) throw unsupported('array binds in COPY');
        const outcome = await executeCopy(plan.copy, {
          instance: engine.instance,
          catalog: engine.catalog,
          files: engine.options.files,
          tmpDir: engine.tmpDir,
          facts: this.facts,
          ...(engine.options.metadataFilename ? { metadataFilename: engine.options.metadataFilename } : {}),
          run: (sql, values) => this.duck(sql, values),
        }, rows[0]!);
        if (outcome.loads.length > 0) {
          if (this.inTransaction) this.pendingLoads.push({ table: plan.copy.table, files: outcome.loads });
          else engine.catalog.recordLoads(plan.copy.table, outcome.loads);
        }
        return outcome.result;
      }
      case 'create-table': {
        await this.implicitCommit();
        await this.ensureUse();
        await this.requireSchema(plan.table.database, plan.table.schema);
        const exists = (await this.duck(`SELECT 1 FROM duckdb_tables() WHERE database_name = $1 AND schema_name = $2 AND table_name = $3`, [plan.table.database, plan.table.schema, plan.table.name])).getRows().length > 0;
        if (exists && plan.ifNotExists) return statusResult(`${plan.table.name} already exists, statement succeeded.`, STATEMENT_TYPE.DDL);
        if (exists && !plan.orReplace) throw alreadyExists('Object', plan.table.name);
        const { rows } = this.bindValues(plan.binds, bindings);
        await this.duck(plan.sql, rows[0]);
        engine.catalog.forgetLoads(plan.table);
        return statusResult(`Table ${plan.table.name} successfully created.`, STATEMENT_TYPE.DDL);
      }
      case 'ddl': {
        await this.implicitCommit();
        await this.ensureUse();
        await this.duck(plan.sql);
        return statusResult(plan.message, STATEMENT_TYPE.DDL);
      }
      case 'create-database':
        await this.implicitCommit();
        return this.createDatabase(plan.name, plan.orReplace, plan.ifNotExists);
      case 'create-schema':
        await this.implicitCommit();
        return this.createSchema(plan.database, plan.name, plan.orReplace, plan.ifNotExists);
      case 'drop':
        await this.implicitCommit();
        return this.drop(plan);
      case 'create-object':
        await this.implicitCommit();
        return this.createObject(plan);
    }
  }

  private async runQuery(plan: Extract<Plan, { kind: 'query' }>, rows: DuckDBValue[][]): Promise<StatementResult> {
    if (plan.verb === 'SELECT') {
      if (rows.length > 1) throw unsupported('array binds in a SELECT');
      return fromDuckDb(await this.duck(plan.sql, rows[0]), STATEMENT_TYPE.SELECT);
    }
    if (plan.verb === 'MERGE') {
      const counts = { INSERT: 0, UPDATE: 0, DELETE: 0 };
      for (const values of rows) {
        for (const [action] of (await this.duck(plan.sql, values)).getRows()) counts[String(action) as keyof typeof counts]++;
      }
      const names: string[] = [];
      const values: number[] = [];
      const text = plan.sql.toUpperCase();
      if (/THEN\s+INSERT\b/.test(text)) {
        names.push('number of rows inserted');
        values.push(counts.INSERT);
      }
      if (/THEN\s+UPDATE\b/.test(text)) {
        names.push('number of rows updated');
        values.push(counts.UPDATE);
      }
      if (/THEN\s+DELETE\b/.test(text)) {
        names.push('number of rows deleted');
        values.push(counts.DELETE);
      }
      return countResult(names, values, STATEMENT_TYPE.MERGE);
    }
    let changed = 0;
    for (const values of rows) changed += (await this.duck(plan.sql, values)).rowsChanged;
    switch (plan.verb) {
      case 'INSERT':
        return countResult(['number of rows inserted'], [changed], STATEMENT_TYPE.INSERT);
      case 'DELETE':
        return countResult(['number of rows deleted'], [changed], STATEMENT_TYPE.DELETE);
      case 'UPDATE':
        return countResult(['number of rows updated', 'number of multi-joined rows updated'], [changed, 0], STATEMENT_TYPE.UPDATE);
    }
  }

  private async requireSchema(database: string, schema: string): Promise<void> {
    if (!(await this.engine.databaseExists(database))) throw objectNotFound('Database', database);
    if (!(await this.engine.schemaExists(database, schema))) throw objectNotFound('Schema', `${database}.${schema}`);
  }

  private async use(plan: Extract<Plan, { kind: 'use' }>): Promise<StatementResult> {
    const parts = plan.name.parts;
    const notFound = () => new SnowflakeError('002043', '02000', 'SQL compilation error:\nObject does not exist, or operation cannot be performed.');
    switch (plan.objectType) {
      case 'ROLE':
        this.facts.role = parts[0]!;
        break;
      case 'WAREHOUSE':
        this.facts.warehouse = parts[0]!;
        break;
      case 'SECONDARY ROLES':
        break;
      case 'DATABASE': {
        if (!(await this.engine.databaseExists(parts[0]!))) throw notFound();
        this.facts.database = parts[0]!;
        this.facts.schema = (await this.engine.schemaExists(parts[0]!, 'PUBLIC')) ? 'PUBLIC' : undefined;
        break;
      }
      case 'SCHEMA': {
        const database = parts.length === 2 ? parts[0]! : this.facts.database;
        if (!database) throw noCurrentDatabase('USE SCHEMA');
        const schema = parts.at(-1)!;
        if (!(await this.engine.databaseExists(database)) || !(await this.engine.schemaExists(database, schema))) throw notFound();
        this.facts.database = database;
        this.facts.schema = schema;
        break;
      }
    }
    return statusResult(OK, STATEMENT_TYPE.USE);
  }

  private alterSession(set: Options, unset: readonly string[]): StatementResult {
    for (const [name, value] of set) {
      if (!SESSION_PARAMETERS.has(name)) throw compilationError(`invalid parameter '${name}'`, '001007', '22023');
      const text = optionText(value, name)!;
      if (name === 'TIMEZONE' && !['UTC', 'ETC/UTC'].includes(text.toUpperCase())) throw unsupported(`TIMEZONE = '${text}' (the server runs in UTC)`);
      if (name === 'AUTOCOMMIT' && optionBoolean(value, name) === false) throw unsupported('AUTOCOMMIT = FALSE (use BEGIN ... COMMIT)');
      this.parameters.set(name, value.kind === 'number' ? Number(text) : value.kind === 'word' && /^(TRUE|FALSE)$/i.test(text) ? text.toUpperCase() === 'TRUE' : text);
    }
    for (const name of unset) this.parameters.delete(name);
    return statusResult(OK, STATEMENT_TYPE.ALTER_SESSION);
  }

  private async createDatabase(name: string, orReplace: boolean, ifNotExists: boolean): Promise<StatementResult> {
    const exists = await this.engine.databaseExists(name);
    if (exists && ifNotExists) return statusResult(`${name} already exists, statement succeeded.`, STATEMENT_TYPE.DDL);
    if (exists && !orReplace) throw alreadyExists('Object', name);
    if (exists) {
      await this.detach(name);
      this.engine.catalog.dropContainer(name);
    }
    await this.conn.run(`ATTACH ':memory:' AS ${sqlIdent(name)}`);
    await this.conn.run(`CREATE SCHEMA ${sqlIdent(name)}."PUBLIC"`);
    // Snowflake makes a new database (and its PUBLIC schema) the session's current one.
    this.facts.database = name;
    this.facts.schema = 'PUBLIC';
    return statusResult(`Database ${name} successfully created.`, STATEMENT_TYPE.DDL);
  }

  private async detach(name: string): Promise<void> {
    // DuckDB refuses to detach the database a connection is using.
    if (this.duckUse?.startsWith(sqlIdent(name))) {
      await this.conn.run(`USE ${sqlIdent(NO_DATABASE)}`);
      this.duckUse = sqlIdent(NO_DATABASE);
    }
    await this.conn.run(`DETACH ${sqlIdent(name)}`);
  }

  private async createSchema(database: string, name: string, orReplace: boolean, ifNotExists: boolean): Promise<StatementResult> {
    if (!(await this.engine.databaseExists(database))) throw objectNotFound('Database', database);
    const exists = await this.engine.schemaExists(database, name);
    if (exists && ifNotExists) return statusResult(`${name} already exists, statement succeeded.`, STATEMENT_TYPE.DDL);
    if (exists && !orReplace) throw alreadyExists('Object', name);
    if (exists) {
      await this.conn.run(`DROP SCHEMA ${sqlIdent(database)}.${sqlIdent(name)} CASCADE`);
      this.engine.catalog.dropContainer(database, name);
    }
    await this.conn.run(`CREATE SCHEMA ${sqlIdent(database)}.${sqlIdent(name)}`);
    this.facts.database = database;
    this.facts.schema = name;
    return statusResult(`Schema ${name} successfully created.`, STATEMENT_TYPE.DDL);
  }

  private async drop(plan: Extract<Plan, { kind: 'drop' }>): Promise<StatementResult> {
    const catalog = this.engine.catalog;
    const gone = (label: string) => statusResult(`Drop statement executed successfully (${label} already dropped).`, STATEMENT_TYPE.DDL);
    switch (plan.objectType) {
      case 'DATABASE': {
        const name = plan.name.parts[0]!;
        if (!(await this.engine.databaseExists(name))) {
          if (plan.ifExists) return gone(name);
          throw objectNotFound('Database', name);
        }
        await this.detach(name);
        catalog.dropContainer(name);
        if (this.facts.database === name) {
          this.facts.database = undefined;
          this.facts.schema = undefined;
        }
        return statusResult(`${name} successfully dropped.`, STATEMENT_TYPE.DDL);
      }
      case 'SCHEMA': {
        const parts = plan.name.parts;
        const database = parts.length === 2 ? parts[0]! : this.facts.database;
        if (!database) throw noCurrentDatabase('DROP SCHEMA');
        const schema = parts.at(-1)!;
        if (!(await this.engine.databaseExists(database)) || !(await this.engine.schemaExists(database, schema))) {
          if (plan.ifExists) return gone(schema);
          throw objectNotFound('Schema', `${database}.${schema}`);
        }
        await this.conn.run(`DROP SCHEMA ${sqlIdent(database)}.${sqlIdent(schema)} CASCADE`);
        catalog.dropContainer(database, schema);
        if (this.facts.database === database && this.facts.schema === schema) this.facts.schema = undefined;
        return statusResult(`${schema} successfully dropped.`, STATEMENT_TYPE.DDL);
      }
      case 'TABLE':
      case 'VIEW': {
        const name = resolveName(plan.name, this.facts, `DROP ${plan.objectType}`);
        await this.ensureUse();
        const found = (await this.duck(`SELECT 1 FROM ${plan.objectType === 'TABLE' ? 'duckdb_tables()' : 'duckdb_views()'} WHERE database_name = $1 AND schema_name = $2 AND ${plan.objectType === 'TABLE' ? 'table_name' : 'view_name'} = $3`, [name.database, name.schema, name.name])).getRows().length > 0;
        if (!found) {
          if (plan.ifExists) return gone(name.name);
          throw objectNotFound(plan.objectType === 'TABLE' ? 'Table' : 'View', `${name.database}.${name.schema}.${name.name}`);
        }
        await this.duck(`DROP ${plan.objectType} ${duckName(name)}`);
        if (plan.objectType === 'TABLE') catalog.forgetLoads(name);
        return statusResult(`${name.name} successfully dropped.`, STATEMENT_TYPE.DDL);
      }
      case 'FILE FORMAT':
      case 'STAGE': {
        const name = resolveName(plan.name, this.facts, `DROP ${plan.objectType}`);
        const map = plan.objectType === 'STAGE' ? catalog.stages : catalog.fileFormats;
        if (!map.delete(Catalog.key(name))) {
          if (plan.ifExists) return gone(name.name);
          throw objectNotFound(plan.objectType === 'STAGE' ? 'Stage' : 'File format', `${name.database}.${name.schema}.${name.name}`);
        }
        return statusResult(`${name.name} successfully dropped.`, STATEMENT_TYPE.DDL);
      }
      case 'STORAGE INTEGRATION': {
        const name = plan.name.parts[0]!;
        if (!catalog.integrations.delete(name)) {
          if (plan.ifExists) return gone(name);
          throw objectNotFound('Integration', name);
        }
        return statusResult(`${name} successfully dropped.`, STATEMENT_TYPE.DDL);
      }
    }
  }

  private async createObject(plan: Extract<Plan, { kind: 'create-object' }>): Promise<StatementResult> {
    const catalog = this.engine.catalog;
    const options = plan.options;
    if (plan.objectType === 'STORAGE INTEGRATION') {
      const name = plan.name.parts[0]!;
      if (catalog.integrations.has(name)) {
        if (plan.ifNotExists) return statusResult(`${name} already exists, statement succeeded.`, STATEMENT_TYPE.DDL);
        if (!plan.orReplace) throw alreadyExists('Integration', name);
      }
      const known = ['TYPE', 'STORAGE_PROVIDER', 'ENABLED', 'STORAGE_AWS_ROLE_ARN', 'STORAGE_ALLOWED_LOCATIONS', 'STORAGE_BLOCKED_LOCATIONS', 'STORAGE_AWS_OBJECT_ACL', 'STORAGE_AWS_EXTERNAL_ID', 'USE_PRIVATELINK_ENDPOINT', 'COMMENT', 'AZURE_TENANT_ID'];
      for (const k of options.keys()) if (!known.includes(k)) throw unsupported(`storage integration option ${k}`);
      const type = optionText(options.get('TYPE'), 'TYPE');
      if (type?.toUpperCase() !== 'EXTERNAL_STAGE') throw compilationError(`invalid value [${type ?? ''}] for parameter 'TYPE'`, '002023', '22023');
      const provider = optionText(options.get('STORAGE_PROVIDER'), 'STORAGE_PROVIDER')?.toUpperCase();
      if (!provider || !['S3', 'S3GOV', 'GCS', 'AZURE'].includes(provider)) throw compilationError(`invalid value [${provider ?? ''}] for parameter 'STORAGE_PROVIDER'`, '002023', '22023');
      const allowed = optionStrings(options.get('STORAGE_ALLOWED_LOCATIONS'), 'STORAGE_ALLOWED_LOCATIONS');
      if (!allowed || allowed.length === 0) throw compilationError('missing required property STORAGE_ALLOWED_LOCATIONS', '002029', '42601');
      const roleArn = optionText(options.get('STORAGE_AWS_ROLE_ARN'), 'STORAGE_AWS_ROLE_ARN');
      if (provider.startsWith('S3') && !roleArn) throw compilationError('missing required property STORAGE_AWS_ROLE_ARN', '002029', '42601');
      catalog.integrations.set(name, {
        name,
        provider,
        enabled: optionBoolean(options.get('ENABLED'), 'ENABLED') ?? false,
        roleArn,
        allowedLocations: allowed,
        blockedLocations: optionStrings(options.get('STORAGE_BLOCKED_LOCATIONS'), 'STORAGE_BLOCKED_LOCATIONS') ?? [],
        options,
      });
      return statusResult(`Integration ${name} successfully created.`, STATEMENT_TYPE.DDL);
    }
    const name = resolveName(plan.name, this.facts, `CREATE ${plan.objectType}`);
    await this.requireSchema(name.database, name.schema);
    const map = plan.objectType === 'STAGE' ? catalog.stages : catalog.fileFormats;
    if (map.has(Catalog.key(name))) {
      if (plan.ifNotExists) return statusResult(`${name.name} already exists, statement succeeded.`, STATEMENT_TYPE.DDL);
      if (!plan.orReplace) throw alreadyExists('Object', name.name);
    }
    if (plan.objectType === 'FILE FORMAT') {
      csvFormatFromOptions(options); // validates every option now, as Snowflake does
      catalog.fileFormats.set(Catalog.key(name), { name, options });
      return statusResult(`File format ${name.name} successfully created.`, STATEMENT_TYPE.DDL);
    }
    const known = ['URL', 'STORAGE_INTEGRATION', 'FILE_FORMAT', 'COMMENT', 'DIRECTORY', 'COPY_OPTIONS'];
    for (const k of options.keys()) {
      if (k === 'CREDENTIALS' || k === 'ENCRYPTION') throw unsupported(`stage ${k} (use a storage integration)`);
      if (!known.includes(k)) throw unsupported(`stage option ${k}`);
    }
    const url = optionText(options.get('URL'), 'URL');
    if (!url) throw unsupported('internal stages (PUT is not supported); give the stage a URL');
    if (!/^(s3|s3gov|gcs|azure):\/\/[^/]+/.test(url)) throw compilationError(`invalid URL '${url}' for an external stage`, '001003', '42000');
    const copyOptions = options.get('COPY_OPTIONS');
    if (copyOptions && !(copyOptions.kind === 'options' && copyOptions.options.size === 0)) throw unsupported('stage COPY_OPTIONS');
    const integrationName = optionText(options.get('STORAGE_INTEGRATION'), 'STORAGE_INTEGRATION')?.toUpperCase();
    if (integrationName) {
      const integration = catalog.integrations.get(integrationName);
      if (!integration) throw objectNotFound('Integration', integrationName);
      if (!integration.enabled) throw new SnowflakeError('003115', '22000', `SQL execution error: Integration '${integrationName}' is not enabled.`);
      const within = (loc: string) => loc === '*' || url.startsWith(loc);
      if (!integration.allowedLocations.some(within) || integration.blockedLocations.some((b) => url.startsWith(b))) {
        throw new SnowflakeError('003118', '22000', `SQL execution error: Location '${url}' is not allowed by integration '${integrationName}'. Please use DESC INTEGRATION to check out allowed and blocked locations.`);
      }
    }
    const fileFormat = options.get('FILE_FORMAT');
    let formatOptions: Options | undefined;
    if (fileFormat) {
      formatOptions = fileFormat.kind === 'options' ? fileFormat.options : new Map<string, OptionValue>([['FORMAT_NAME', fileFormat]]);
      const formatName = formatOptions.get('FORMAT_NAME');
      if (formatName) {
        const text = optionText(formatName, 'FORMAT_NAME')!;
        const parts = text.split('.');
        const resolved = resolveName({ parts }, { ...this.facts, database: name.database, schema: name.schema }, 'CREATE STAGE');
        if (!catalog.fileFormat(resolved)) throw objectNotFound('File format', `${resolved.database}.${resolved.schema}.${resolved.name}`);
        formatOptions = new Map<string, OptionValue>([['FORMAT_NAME', { kind: 'string', value: `${resolved.database}.${resolved.schema}.${resolved.name}` }]]);
      } else {
        csvFormatFromOptions(formatOptions);
      }
    }
    catalog.stages.set(Catalog.key(name), { name, url, storageIntegration: integrationName, fileFormat: formatOptions, options });
    return statusResult(`Stage area ${name.name} successfully created.`, STATEMENT_TYPE.DDL);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.inTransaction) await this.conn.run('ROLLBACK');
    } catch {
      // the connection goes away regardless
    }
    this.inTransaction = false;
    this.engine.locks.releaseAll(this.facts.sessionId);
    this.conn.closeSync();
    this.engine.forget(this);
  }
}

/** The driver's bind types onto DuckDB values; DuckDB casts them to the column's type as Snowflake would. */
function bindValue(type: string, value: unknown): DuckDBValue {
  if (value === null || value === undefined) return null;
  const text = String(value);
  switch (type.toUpperCase()) {
    case 'TEXT':
      return text;
    case 'FIXED':
      return /^-?\d+$/.test(text) ? BigInt(text) : text;
    case 'REAL':
      return Number(text);
    case 'BOOLEAN':
      return typeof value === 'boolean' ? value : /^(true|1)$/i.test(text);
    default:
      throw unsupported(`bind type ${type}`);
  }
}

export { column };
