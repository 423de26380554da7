import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { checkLogin, userForToken, type LocalUser, type LoginAttempt } from './auth.js';
import { StageFiles, type StageFileSource } from './copy/stage-files.js';
import { SnowflakeEngine, type Bindings, type ExecutedStatement, type Session } from './engine/engine.js';
import type { StatementResult } from './engine/results.js';
import { fromDuckDbError, SnowflakeError } from './errors.js';
import { Faults, type FaultAction, type FaultHandle, type FaultRule, type FaultTarget } from './faults.js';
import { STATEMENT_TYPE } from './sql/plan.js';

export interface SnowflakeLocalOptions {
  /** Port on 127.0.0.1; default 0 (any free port). */
  readonly port?: number;
  /** Account name clients must use; default `snowflake_local`. */
  readonly account?: string;
  /** Where stages read files: any object with `get(key)` (and optionally `localPath`, `list`). */
  readonly objectStore?: StageFileSource;
  /**
   * Stage URL prefix -> object-key prefix, e.g. `{ 's3://bucket/firehose/': 'firehose/' }`.
   * Default: the bucket is the store's root (`s3://any-bucket/a/b` reads key `a/b`).
   */
  readonly stageUrls?: Readonly<Record<string, string>>;
  /** Users and their credentials; without it, any login succeeds. */
  readonly users?: Readonly<Record<string, LocalUser>>;
  /** Faults armed from the start (see `injectFault`). */
  readonly faults?: readonly FaultRule[];
  /** A statement still running after this long is answered "in progress" (code 333333) and polled; default 20 s. */
  readonly queryInProgressAfterMs?: number;
  /**
   * How long a DELETE/UPDATE/MERGE waits for another transaction's lock on its table when the session set no
   * LOCK_TIMEOUT; default 10 min. A deadlock fails at once.
   */
  readonly lockTimeoutMs?: number;
  /**
   * What METADATA$FILENAME holds in COPY: `stage-relative` (default: the path after the stage URL) or
   * `bucket-path` (the object's path in the bucket, the stage's prefix included).
   */
  readonly metadataFilename?: 'stage-relative' | 'bucket-path';
}

/** A transaction left open by its session, and the tables it holds locked. */
export interface OpenTransaction {
  readonly sessionId: string;
  readonly user: string;
  readonly lockedTables: readonly string[];
}

/** One query-request as the server saw it (by requestId), for assertions about retries. */
export interface QueryRecord {
  readonly queryId: string;
  readonly requestId: string;
  readonly sessionId: string;
  readonly sqlText: string;
  /** HTTP requests that carried this requestId (1 + the driver's retries). */
  readonly attempts: number;
  /** Times the statement actually ran: 1, or 0 if it failed before running. Never more. */
  readonly executions: number;
  readonly status: 'running' | 'succeeded' | 'failed';
  readonly errorCode?: string;
  readonly sqlState?: string;
}

export interface LoginRecord {
  readonly account: string;
  readonly user: string;
  readonly authenticator: string;
  readonly accepted: boolean;
  readonly database: string | undefined;
  readonly schema: string | undefined;
  readonly warehouse: string | undefined;
  readonly role: string | undefined;
}

export interface SnowflakeLocal {
  /** Give this to `snowflake.createConnection({ accessUrl, account })`. */
  readonly accessUrl: string;
  readonly account: string;
  readonly host: string;
  readonly port: number;
  /**
   * `snowflake://<account>/<database>/<schema>?accessUrl=...` for @batchline/snowflake-loader's
   * `openWarehouse`: its Snowflake adapter then talks to this server. Defaults: RETAIL_DB / RETAIL_SCHEMA.
   */
  warehouseUrl(options?: { database?: string; schema?: string; warehouse?: string; role?: string }): string;
  /** Arms a fault; it fires on the next matching request(s). */
  injectFault(rule: FaultRule): FaultHandle;
  clearFaults(): void;
  /** Expires every current session token: the next request of each session gets 390112 and renews. */
  expireSessionTokens(): void;
  /** Query-requests seen so far, oldest first. */
  queries(): QueryRecord[];
  /** Statements executed (including each child of a multi-statement request). */
  statements(): readonly ExecutedStatement[];
  logins(): readonly LoginRecord[];
  /** Session tokens renewed with the master token (after a 390112). */
  tokenRenewals(): number;
  /** HTTP requests served, by endpoint. */
  requestCounts(): Readonly<Record<Endpoint, number>>;
  /** Open sessions (logged in and not deleted). */
  sessionCount(): number;
  /**
   * Runs Snowflake SQL outside any client session (for assertions and fixtures),
   * through the same translation. Rows come back as objects of strings/null.
   */
  sql(sqlText: string, options?: { database?: string; schema?: string }): Promise<Record<string, string | null>[]>;
  /** Plays the admin: runs each statement (e.g. the loader's `snowflakeAdminSql(...)`) outside any client session. */
  runAdmin(statements: readonly string[]): Promise<void>;
  /**
   * Open transactions and their table locks. A client that dies mid-transaction never deletes its session,
   * so its transaction stays open and keeps its locks, as on Snowflake until it aborts the transaction.
   */
  openTransactions(): OpenTransaction[];
  /** SYSTEM$ABORT_TRANSACTION(<id>): roll back that session's open transaction, releasing its locks. */
  abortTransaction(sessionId: string): Promise<void>;
  /**
   * Makes statements matching `sql` wait for each other until `parties` of them have arrived, then run
   * together (a statement still alone after `timeoutMs` fails): proof that they could run at the same time.
   */
  rendezvous(rule: { sql: RegExp; parties: number; timeoutMs: number }): void;
  /** Files COPY has recorded as loaded into a table (Snowflake's load metadata). */
  loadHistory(table: string): { url: string; contentKey: string; rowsLoaded: number }[];
  stop(): Promise<void>;
}

export type Endpoint = 'login' | 'query' | 'result' | 'abort' | 'heartbeat' | 'token-renew' | 'session-delete' | 'telemetry' | 'unknown';

interface QueryEntry {
  readonly queryId: string;
  readonly requestId: string;
  readonly session: LocalSession;
  readonly sqlText: string;
  executions: number;
  status: QueryRecord['status'];
  error?: SnowflakeError;
  readonly body: Promise<ResponseBody>;
  done: boolean;
}

interface LocalSession {
  readonly id: string;
  readonly numericId: number;
  token: string;
  tokenExpired: boolean;
  readonly masterToken: string;
  readonly engineSession: Session;
  queue: Promise<unknown>;
  readonly requests: Map<string, QueryEntry>;
}

type ResponseBody = Record<string, unknown>;

class HttpFault extends Error {
  constructor(readonly action: FaultAction) {
    super(action.kind);
  }
}

const DEFAULT_ACCOUNT = 'snowflake_local';
const SESSION_VALIDITY_S = 3600;
const MASTER_VALIDITY_S = 14400;

function sessionParameters(session: Session | undefined): { name: string; value: unknown }[] {
  const base: Record<string, unknown> = {
    TIMEZONE: 'UTC',
    TIMESTAMP_OUTPUT_FORMAT: 'YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM',
    TIMESTAMP_NTZ_OUTPUT_FORMAT: 'YYYY-MM-DD HH24:MI:SS.FF3',
    TIMESTAMP_LTZ_OUTPUT_FORMAT: '',
    TIMESTAMP_TZ_OUTPUT_FORMAT: '',
    DATE_OUTPUT_FORMAT: 'YYYY-MM-DD',
    TIME_OUTPUT_FORMAT: 'HH24:MI:SS',
    BINARY_OUTPUT_FORMAT: 'HEX',
    CLIENT_SESSION_KEEP_ALIVE: false,
    CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY: 3600,
    JS_TREAT_INTEGER_AS_BIGINT: false,
  };
  for (const [k, v] of session?.parameters ?? []) base[k] = v;
  return Object.entries(base).map(([name, value]) => ({ name, value }));
}

function errorBody(error: SnowflakeError, queryId?: string): ResponseBody {
  return {
    success: false,
    code: error.code,
    message: error.message,
    data: {
      sqlState: error.sqlState,
      errorCode: error.code,
      internalError: false,
      age: 0,
      ...(queryId ? { queryId } : {}),
    },
    headers: null,
  };
}

function gsError(code: string, message: string): ResponseBody {
  return { success: false, code, message, data: { errorCode: code, age: 0, internalError: false }, headers: null };
}

function resultBody(queryId: string, result: StatementResult, session: Session, extra: Record<string, unknown> = {}): ResponseBody {
  return {
    success: true,
    code: null,
    message: null,
    data: {
      parameters: sessionParameters(session),
      rowtype: result.rowtype,
      rowset: result.rowset,
      total: result.rowset.length,
      returned: result.rowset.length,
      queryId,
      databaseProvider: null,
      finalDatabaseName: session.facts.database ?? null,
      finalSchemaName: session.facts.schema ?? null,
      finalWarehouseName: session.facts.warehouse ?? null,
      finalRoleName: session.facts.role,
      numberOfBinds: 0,
      arrayBindSupported: false,
      statementTypeId: result.statementTypeId,
      version: 1,
      sendResultTime: Date.now(),
      queryResultFormat: 'json',
      ...extra,
    },
  };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let raw = Buffer.concat(chunks);
  if (/gzip/i.test(String(req.headers['content-encoding'] ?? ''))) raw = gunzipSync(raw);
  if (raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return {};
  }
}

function tokenFrom(req: IncomingMessage): string | undefined {
  const m = String(req.headers.authorization ?? '').match(/Snowflake Token="([^"]*)"/);
  return m ? m[1] : undefined;
}

const upperName = (v: string | null | undefined): string | undefined => {
  if (v === null || v === undefined || v === '') return undefined;
  return v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v.toUpperCase();
};

/**
 * Starts a local server that speaks the part of Snowflake's REST protocol that
 * snowflake-sdk uses, and runs the statements on DuckDB.
 */
export async function startSnowflakeLocal(options: SnowflakeLocalOptions = {}): Promise<SnowflakeLocal> {
  const account = options.account ?? DEFAULT_ACCOUNT;
  const inProgressAfter = options.queryInProgressAfterMs ?? 20_000;
  const engine = await SnowflakeEngine.create({
    account,
    files: new StageFiles(options.objectStore, options.stageUrls),
    lockTimeoutMs: options.lockTimeoutMs ?? 600_000,
    ...(options.metadataFilename ? { metadataFilename: options.metadataFilename } : {}),
  });
  const faults = new Faults();
  for (const rule of options.faults ?? []) faults.add(rule);
  const sessionsByToken = new Map<string, LocalSession>();
  const sessionsByMaster = new Map<string, LocalSession>();
  const expiredTokens = new Map<string, LocalSession>();
  const allSessions = new Set<LocalSession>();
  const queries: QueryEntry[] = [];
  /** HTTP requests per session/requestId, counted on arrival (also those a fault turned away). */
  const attempts = new Map<string, number>();
  const byQueryId = new Map<string, { body: Promise<ResponseBody>; done: boolean }>();
  const loginLog: LoginRecord[] = [];
  let nextSessionId = 1;
  const counts: Record<Endpoint, number> = { login: 0, query: 0, result: 0, abort: 0, heartbeat: 0, 'token-renew': 0, 'session-delete': 0, telemetry: 0, unknown: 0 };
  let renewals = 0;
  const sockets = new Set<Socket>();

  const newToken = (kind: string) => `${kind}-${randomBytes(24).toString('base64url')}`;

  /** Session for a session token: a 390112 answer when expired, 390104 when unknown. */
  const authenticate = (req: IncomingMessage): LocalSession | ResponseBody => {
    const token = tokenFrom(req);
    if (!token) return gsError('390101', 'Authorization header not found.');
    const session = sessionsByToken.get(token);
    if (session && !session.tokenExpired) return session;
    if (session || expiredTokens.has(token)) return gsError('390112', 'Your session has expired. Please login again.');
    return gsError('390104', 'Session no longer exists. New login required to access the service.');
  };

  const serialize = <T>(session: LocalSession, work: () => Promise<T>): Promise<T> => {
    const run = session.queue.then(work, work);
    session.queue = run.catch(() => undefined);
    return run;
  };

  const executeRequest = async (entry: QueryEntry, bindings: Bindings | undefined, statementCount: number): Promise<ResponseBody> => {
    const session = entry.session.engineSession;
    entry.executions++;
    try {
      const results = await session.executeText(entry.sqlText, bindings, statementCount);
      entry.status = 'succeeded';
      if (results.length === 1 && statementCount === 1) return resultBody(entry.queryId, results[0]!, session);
      const childIds = results.map((result) => {
        const id = randomUUID();
        byQueryId.set(id, { body: Promise.resolve(resultBody(id, result, session)), done: true });
        return id;
      });
      return resultBody(
        entry.queryId,
        {
          statementTypeId: STATEMENT_TYPE.MULTI_STATEMENT,
          rowtype: [{ name: 'multiple statement execution', type: 'text', precision: null, scale: null, length: 16777216, byteLength: 16777216, nullable: true, database: '', schema: '', table: '' }],
          rowset: [['Multiple statements executed successfully.']],
        },
        session,
        { resultIds: childIds.join(','), resultTypes: results.map((r) => String(r.statementTypeId)).join(',') },
      );
    } catch (e) {
      const error = fromDuckDbError(e);
      entry.status = 'failed';
      entry.error = error;
      return errorBody(error, entry.queryId);
    }
  };

  const inProgress = (queryId: string): ResponseBody => ({
    success: true,
    code: '333333',
    message: null,
    data: { queryId, getResultUrl: `/queries/${queryId}/result`, queryAbortsAfterSecs: 300, progressDesc: null },
  });

  /** The body once ready, or "in progress" after the threshold. */
  const answerWhenReady = async (queryId: string, body: Promise<ResponseBody>, isDone: () => boolean): Promise<ResponseBody> => {
    if (isDone()) return body;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), inProgressAfter);
    });
    const winner = await Promise.race([body, timeout]);
    clearTimeout(timer);
    return winner === 'timeout' ? inProgress(queryId) : winner;
  };

  const applyFault = (action: FaultAction | undefined, session?: LocalSession): ResponseBody | undefined => {
    if (!action) return undefined;
    if (action.kind === 'expire-session') {
      if (session) session.tokenExpired = true;
      return gsError('390112', 'Your session has expired. Please login again.');
    }
    throw new HttpFault(action);
  };

  const handleLogin = async (req: IncomingMessage, url: URL): Promise<ResponseBody> => {
    const body = (await readBody(req)) as { data?: Record<string, unknown> };
    const data = body.data ?? {};
    const str = (k: string) => (typeof data[k] === 'string' ? (data[k] as string) : undefined);
    let attempt: LoginAttempt = {
      account: str('ACCOUNT_NAME') ?? '',
      user: str('LOGIN_NAME') ?? '',
      authenticator: (str('AUTHENTICATOR') ?? 'SNOWFLAKE').toUpperCase(),
      password: str('PASSWORD'),
      token: str('TOKEN'),
      provider: str('PROVIDER'),
      clientApp: str('CLIENT_APP_ID'),
    };
    const database = upperName(url.searchParams.get('databaseName'));
    const schema = upperName(url.searchParams.get('schemaName'));
    const warehouse = upperName(url.searchParams.get('warehouse'));
    const role = upperName(url.searchParams.get('roleName'));
    // Workload identity (and OAuth) may omit LOGIN_NAME: the token identifies the user.
    if (attempt.user === '' && attempt.token !== undefined && options.users) {
      const owner = userForToken(attempt, options.users);
      if (owner) attempt = { ...attempt, user: owner };
    }
    const accepted = attempt.account.toUpperCase() === account.toUpperCase() && attempt.user !== '' && checkLogin(attempt, options.users);
    loginLog.push({ account: attempt.account, user: attempt.user, authenticator: attempt.authenticator, accepted, database, schema, warehouse, role });
    if (!accepted) return gsError('390100', 'Incorrect username or password was specified.');
    const numericId = nextSessionId++;
    const id = String(numericId);
    const engineSession = await engine.openSession({ user: attempt.user.toUpperCase(), role, warehouse, database, schema, sessionId: id });
    const sessionParams = data.SESSION_PARAMETERS as Record<string, unknown> | undefined;
    if (sessionParams && typeof sessionParams === 'object') {
      for (const [k, v] of Object.entries(sessionParams)) {
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') engineSession.parameters.set(k.toUpperCase(), v);
      }
    }
    const session: LocalSession = {
      id,
      numericId,
      token: newToken('session'),
      tokenExpired: false,
      masterToken: newToken('master'),
      engineSession,
      queue: Promise.resolve(),
      requests: new Map(),
    };
    sessionsByToken.set(session.token, session);
    sessionsByMaster.set(session.masterToken, session);
    allSessions.add(session);
    return {
      success: true,
      code: null,
      message: null,
      data: {
        token: session.token,
        masterToken: session.masterToken,
        validityInSeconds: SESSION_VALIDITY_S,
        masterValidityInSeconds: MASTER_VALIDITY_S,
        sessionId: numericId,
        parameters: sessionParameters(engineSession),
        sessionInfo: {
          databaseName: engineSession.facts.database ?? null,
          schemaName: engineSession.facts.schema ?? null,
          warehouseName: engineSession.facts.warehouse ?? null,
          roleName: engineSession.facts.role,
        },
        displayUserName: attempt.user,
        serverVersion: '9.0.0',
        firstLogin: false,
        remMeToken: null,
        remMeValidityInSeconds: 0,
        healthCheckInterval: 45,
        newClientForUpgrade: null,
        idToken: null,
        idTokenValidityInSeconds: 0,
        responseData: null,
        mfaToken: null,
        mfaTokenValidityInSeconds: 0,
      },
    };
  };

  const handleQuery = async (req: IncomingMessage, url: URL): Promise<ResponseBody | undefined> => {
    const body = (await readBody(req)) as { sqlText?: string; bindings?: Bindings; parameters?: Record<string, unknown>; asyncExec?: boolean; describeOnly?: boolean; bindStage?: string };
    const auth = authenticate(req);
    if (!('engineSession' in auth)) return auth;
    const session = auth as LocalSession;
    const sqlText = body.sqlText ?? '';
    const requestId = url.searchParams.get('requestId') ?? randomUUID();
    const attemptKey = `${session.id}/${requestId}`;
    attempts.set(attemptKey, (attempts.get(attemptKey) ?? 0) + 1);
    const existing = session.requests.get(requestId);
    if (existing) {
      // A retry of a request we already accepted: never run it again.
      const before = applyFault(faults.take('query', 'before', sqlText), session);
      if (before) return before;
      const answer = await answerWhenReady(existing.queryId, existing.body, () => existing.done);
      const after = faults.take('query', 'after', sqlText);
      if (after) {
        await existing.body;
        return applyFault(after, session);
      }
      return answer;
    }
    const before = applyFault(faults.take('query', 'before', sqlText), session);
    if (before) return before;
    if (body.asyncExec) return errorBody(new SnowflakeError('000002', '0A000', "Unsupported feature 'asyncExec'."));
    if (body.describeOnly) return errorBody(new SnowflakeError('000002', '0A000', "Unsupported feature 'describeOnly'."));
    if (body.bindStage) return errorBody(new SnowflakeError('000002', '0A000', "Unsupported feature 'stage binding (more than 100,000 binds)'."));
    const countParam = body.parameters?.MULTI_STATEMENT_COUNT ?? session.engineSession.parameters.get('MULTI_STATEMENT_COUNT') ?? 1;
    const statementCount = Number(countParam);
    const queryId = randomUUID();
    let settle!: (b: ResponseBody) => void;
    const bodyPromise = new Promise<ResponseBody>((resolve) => {
      settle = resolve;
    });
    const entry: QueryEntry = { queryId, requestId, session, sqlText, executions: 0, status: 'running', body: bodyPromise, done: false };
    session.requests.set(requestId, entry);
    queries.push(entry);
    const tracked = { body: bodyPromise, done: false };
    byQueryId.set(queryId, tracked);
    void serialize(session, () => executeRequest(entry, body.bindings, Number.isFinite(statementCount) ? statementCount : 1)).then((b) => {
      entry.done = true;
      tracked.done = true;
      settle(b);
    });
    const during = faults.take('query', 'during', sqlText);
    if (during) return applyFault(during, session); // the statement keeps running
    const answer = await answerWhenReady(queryId, bodyPromise, () => entry.done);
    const after = faults.take('query', 'after', sqlText);
    if (after) {
      // the fault hits once the statement has run to completion
      await bodyPromise;
      return applyFault(after, session);
    }
    return answer;
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<ResponseBody | undefined> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const p = url.pathname;
    if (req.method === 'POST' && p === '/session/v1/login-request') {
      counts.login++;
      applyFault(faults.take('login', 'before'));
      return handleLogin(req, url);
    }
    if (req.method === 'POST' && p === '/queries/v1/query-request') {
      counts.query++;
      return handleQuery(req, url);
    }
    const resultMatch = p.match(/^\/queries\/([^/]+)\/result$/);
    if (req.method === 'GET' && resultMatch) {
      counts.result++;
      const auth = authenticate(req);
      if (!('engineSession' in auth)) return auth;
      const fault = applyFault(faults.take('result', 'before'), auth as LocalSession);
      if (fault) return fault;
      const tracked = byQueryId.get(resultMatch[1]!);
      if (!tracked) return errorBody(new SnowflakeError('000709', '02000', `Statement ${resultMatch[1]} not found`));
      return answerWhenReady(resultMatch[1]!, tracked.body, () => tracked.done);
    }
    if (req.method === 'POST' && (p === '/queries/v1/abort-request' || /^\/queries\/[^/]+\/abort-request$/.test(p))) {
      counts.abort++;
      await readBody(req);
      return { success: true, code: null, message: null, data: null };
    }
    if (req.method === 'POST' && p === '/session/heartbeat') {
      counts.heartbeat++;
      await readBody(req);
      const auth = authenticate(req);
      if (!('engineSession' in auth)) return auth;
      const fault = applyFault(faults.take('heartbeat', 'before'), auth as LocalSession);
      if (fault) return fault;
      return { success: true, code: null, message: null, data: {} };
    }
    if (req.method === 'POST' && p === '/session/token-request') {
      counts['token-renew']++;
      const body = (await readBody(req)) as { requestType?: string; oldSessionToken?: string };
      const fault = applyFault(faults.take('token-renew', 'before'));
      if (fault) return fault;
      const master = tokenFrom(req);
      const session = master ? sessionsByMaster.get(master) : undefined;
      if (!session) return gsError('390114', 'Master token has expired. Please login again.');
      if (body.requestType !== 'RENEW') return gsError('390100', `Unsupported token request type ${body.requestType}`);
      renewals++;
      sessionsByToken.delete(session.token);
      expiredTokens.set(session.token, session);
      session.token = newToken('session');
      session.tokenExpired = false;
      sessionsByToken.set(session.token, session);
      return {
        success: true,
        code: null,
        message: null,
        data: { sessionToken: session.token, validityInSecondsST: SESSION_VALIDITY_S, masterToken: session.masterToken, validityInSecondsMT: MASTER_VALIDITY_S },
      };
    }
    if (req.method === 'POST' && p === '/session' && url.searchParams.get('delete') === 'true') {
      counts['session-delete']++;
      await readBody(req);
      const auth = authenticate(req);
      if (!('engineSession' in auth)) return auth;
      const session = auth as LocalSession;
      const fault = applyFault(faults.take('session-delete', 'before'), session);
      if (fault) return fault;
      await serialize(session, () => session.engineSession.close());
      sessionsByToken.delete(session.token);
      sessionsByMaster.delete(session.masterToken);
      allSessions.delete(session);
      return { success: true, code: null, message: null, data: null };
    }
    if (req.method === 'POST' && p === '/telemetry/send') {
      counts.telemetry++;
      await readBody(req);
      return { success: true, code: null, message: null, data: 'Log Received' };
    }
    counts.unknown++;
    res.statusCode = 404;
    return { success: false, code: '404', message: `snowflake-local does not serve ${req.method} ${p}`, data: null };
  };

  const server: Server = createServer((req, res) => {
    route(req, res).then(
      (body) => {
        if (res.writableEnded || res.destroyed) return;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(body ?? {}));
      },
      (e: unknown) => {
        if (e instanceof HttpFault) {
          if (e.action.kind === 'drop-connection') {
            req.socket.destroy();
            return;
          }
          if (e.action.kind === 'http-status') {
            res.statusCode = e.action.status;
            res.setHeader('content-type', 'application/json');
            if (e.action.status === 429) res.setHeader('retry-after', '1');
            res.end(JSON.stringify({ success: false, code: String(e.action.status), message: `injected HTTP ${e.action.status}`, data: null }));
            return;
          }
        }
        res.statusCode = 500;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ success: false, code: '000603', message: `snowflake-local internal error: ${e instanceof Error ? e.message : String(e)}`, data: null }));
      },
    );
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  let inspector: Session | undefined;
  const inspect = async (): Promise<Session> => {
    inspector ??= await engine.openSession({ user: 'SNOWFLAKE_LOCAL', role: 'ACCOUNTADMIN', warehouse: undefined, database: undefined, schema: undefined, sessionId: 'inspector' });
    return inspector;
  };

  return {
    accessUrl: `http://127.0.0.1:${port}`,
    account,
    host: '127.0.0.1',
    port,
    warehouseUrl: (o = {}) => {
      const query = new URLSearchParams();
      if (o.warehouse) query.set('warehouse', o.warehouse);
      if (o.role) query.set('role', o.role);
      query.set('accessUrl', `http://127.0.0.1:${port}`);
      return `snowflake://${encodeURIComponent(account)}/${encodeURIComponent(o.database ?? 'RETAIL_DB')}/${encodeURIComponent(o.schema ?? 'RETAIL_SCHEMA')}?${query.toString()}`;
    },
    injectFault: (rule) => faults.add(rule),
    clearFaults: () => faults.clear(),
    expireSessionTokens: () => {
      for (const s of allSessions) s.tokenExpired = true;
    },
    queries: () =>
      queries.map((q) => ({
        queryId: q.queryId,
        requestId: q.requestId,
        sessionId: q.session.id,
        sqlText: q.sqlText,
        attempts: attempts.get(`${q.session.id}/${q.requestId}`) ?? 1,
        executions: q.executions,
        status: q.status,
        ...(q.error ? { errorCode: q.error.code, sqlState: q.error.sqlState } : {}),
      })),
    statements: () => engine.executed,
    logins: () => loginLog,
    tokenRenewals: () => renewals,
    requestCounts: () => ({ ...counts }),
    sessionCount: () => allSessions.size,
    sql: async (sqlText, where = {}) => {
      const session = await inspect();
      session.facts.database = where.database?.toUpperCase();
      session.facts.schema = where.schema?.toUpperCase() ?? (where.database ? 'PUBLIC' : undefined);
      const [result] = await session.executeText(sqlText, undefined, 1);
      return result!.rowset.map((row) => Object.fromEntries(result!.rowtype.map((c, i) => [c.name, row[i] ?? null])));
    },
    runAdmin: async (statements) => {
      const session = await inspect();
      session.facts.database = undefined;
      session.facts.schema = undefined;
      for (const text of statements) await session.executeText(text, undefined, 1);
    },
    openTransactions: () => {
      const held = engine.locks.held();
      return [...allSessions]
        .filter((s) => s.engineSession.transactionOpen)
        .map((s) => ({ sessionId: s.id, user: s.engineSession.facts.user, lockedTables: held.filter((h) => h.owner === s.id).map((h) => h.table) }));
    },
    abortTransaction: async (sessionId) => {
      const session = [...allSessions].find((s) => s.id === sessionId);
      if (!session) throw new Error(`no session ${JSON.stringify(sessionId)}`);
      await session.engineSession.abortTransaction();
    },
    rendezvous: (rule) => engine.rendezvous(rule),
    loadHistory: (table) => {
      const [database, schema, name] = table.split('.');
      if (!database || !schema || !name) throw new TypeError(`loadHistory needs DATABASE.SCHEMA.TABLE, got ${JSON.stringify(table)}`);
      return engine.catalog
        .loadHistory({ database: database.toUpperCase(), schema: schema.toUpperCase(), name: name.toUpperCase() })
        .map(({ url, contentKey, rowsLoaded }) => ({ url, contentKey, rowsLoaded }));
    },
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of allSessions) await s.queue.catch(() => undefined);
      await engine.close();
    },
  };
}

export type { FaultRule, FaultHandle, FaultAction, FaultTarget, LocalUser, StageFileSource };
