// snowflake-sdk, loaded on first use, one dedicated connection per transaction.
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ConfigureOptions, Connection, ConnectionOptions, LogLevel, SnowflakeError } from 'snowflake-sdk';
import { WarehouseConfigError, WarehouseError, WarehouseLockedError } from '../../errors.js';
import type { Row, SqlSession } from '../../sql-session.js';
import type { Statement } from '../../sql-text.js';
import type { SnowflakeConfig } from './config.js';

type SnowflakeSdk = typeof import('snowflake-sdk');
let sdkPromise: Promise<SnowflakeSdk> | undefined;
/** The peer range in package.json, named in the message when the driver is missing. */
const SNOWFLAKE_SDK_RANGE = '^3.3.0';

const LOG_LEVELS: readonly LogLevel[] = ['OFF', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE'];

/**
 * The driver's process-wide log settings. By default it logs at INFO to `snowflake.log` in the working
 * directory and to the console; batchline logs errors only, to a file under the OS temp dir (or
 * SNOWFLAKE_LOG_FILE; `STDOUT` means the console), never to the console besides.
 */
export function driverLogOptions(
  env: Readonly<Record<string, string | undefined>> = process.env,
  tempDir: string = tmpdir(),
): Pick<ConfigureOptions, 'logLevel' | 'logFilePath' | 'additionalLogToConsole'> {
  const level = (env.SNOWFLAKE_LOG_LEVEL?.trim() || 'ERROR').toUpperCase() as LogLevel;
  if (!LOG_LEVELS.includes(level)) {
    throw new WarehouseConfigError(`Invalid SNOWFLAKE_LOG_LEVEL ${JSON.stringify(env.SNOWFLAKE_LOG_LEVEL)}: expected one of ${LOG_LEVELS.join(', ')}`);
  }
  const configured = env.SNOWFLAKE_LOG_FILE?.trim();
  let logFilePath: string;
  if (!configured) {
    // Per user, so two accounts on one machine do not share (or fail to open) one file.
    logFilePath = path.join(tempDir, `batchline-snowflake-${process.getuid?.() ?? 'user'}.log`);
  } else if (configured.toUpperCase() === 'STDOUT') {
    logFilePath = 'STDOUT'; // the driver's own keyword: the console only
  } else {
    logFilePath = path.resolve(configured);
  }
  return { logLevel: level, logFilePath, additionalLogToConsole: false };
}

async function loadSdk(): Promise<SnowflakeSdk> {
  // Checked on every connect (a bad setting fails it by name); applied once, when the driver loads: its logger is process-wide.
  const logOptions = driverLogOptions();
  sdkPromise ??= import('snowflake-sdk').then(
    (mod) => {
      const sdk = ((mod as { default?: SnowflakeSdk }).default ?? mod) as SnowflakeSdk;
      sdk.configure(logOptions);
      return sdk;
    },
    (error: unknown) => {
      sdkPromise = undefined; // installed later in this process: the next connect tries again
      if ((error as NodeJS.ErrnoException)?.code !== 'ERR_MODULE_NOT_FOUND' && (error as NodeJS.ErrnoException)?.code !== 'MODULE_NOT_FOUND') throw error;
      throw new WarehouseConfigError(
        `snowflake:// needs the optional peer dependency snowflake-sdk: npm install snowflake-sdk@${SNOWFLAKE_SDK_RANGE}`,
        { cause: error },
      );
    },
  );
  return sdkPromise;
}

/** The driver options for one connection; a token is fetched fresh each time. */
export async function connectionOptions(config: SnowflakeConfig): Promise<ConnectionOptions> {
  const options: ConnectionOptions = {
    account: config.account,
    ...(config.user ? { username: config.user } : {}),
    authenticator: config.authenticator,
    database: config.database,
    schema: config.schema,
    application: 'batchline',
    ...(config.warehouse ? { warehouse: config.warehouse } : {}),
    ...(config.role ? { role: config.role } : {}),
    ...(config.accessUrl ? { accessUrl: config.accessUrl } : {}),
  };
  const credential = config.credential;
  if (credential.kind === 'key-pair') {
    return { ...options, privateKeyPath: credential.privateKeyPath, ...(credential.passphrase ? { privateKeyPass: credential.passphrase } : {}) };
  }
  if (credential.kind === 'password') return { ...options, password: credential.password };
  const token = await credential.getToken();
  if (config.authenticator === 'WORKLOAD_IDENTITY') return { ...options, token, workloadIdentityProvider: 'OIDC' as ConnectionOptions['workloadIdentityProvider'] };
  return { ...options, token };
}

export function driverError(error: unknown, context: string): WarehouseError {
  const e = error as SnowflakeError;
  const code = e?.code === undefined ? undefined : String(e.code);
  const sqlState = e?.sqlState === undefined ? undefined : String(e.sqlState);
  const queryId = (e?.data as { queryId?: string } | undefined)?.queryId;
  const tags = [code && `code ${code}`, sqlState && `SQL state ${sqlState}`, queryId && `query ${queryId}`].filter(Boolean).join(', ');
  if (code === '000625' || /LOCK_TIMEOUT|waiting for a lock|lock has not yet been released/i.test(e?.message ?? '')) {
    const transaction = /transaction (\d+)/i.exec(e?.message ?? '')?.[1];
    return new WarehouseLockedError(
      `Snowflake ${context} failed: a table it needs is locked by another transaction (${e?.message ?? String(error)}${tags ? `; ${tags}` : ''}). ` +
        'If no other run is active, a killed run left its transaction open: Snowflake keeps its locks until it aborts it. ' +
        `End it now with SELECT SYSTEM$ABORT_TRANSACTION(${transaction ?? '<transaction id from SHOW LOCKS>'}), then rerun (see the README, "Locks left by a killed run").`,
      { ...(code ? { code } : {}), ...(sqlState ? { sqlState } : {}), ...(queryId ? { queryId } : {}), cause: error, permanent: false },
    );
  }
  return new WarehouseError(`Snowflake ${context} failed: ${e?.message ?? String(error)}${tags ? ` (${tags})` : ''}`, {
    ...(code ? { code } : {}),
    ...(sqlState ? { sqlState } : {}),
    ...(queryId ? { queryId } : {}),
    cause: error,
  });
}

/** connect(cb) wrapped: unlike connectAsync(), it rejects when login fails. */
export async function connect(config: SnowflakeConfig): Promise<Connection> {
  const sdk = await loadSdk();
  let options: ConnectionOptions;
  try {
    options = await connectionOptions(config);
  } catch (error) {
    if (error instanceof WarehouseConfigError) throw error;
    throw new WarehouseConfigError(`Snowflake credentials: ${(error as Error).message}`);
  }
  const connection = sdk.createConnection(options);
  await new Promise<void>((resolve, reject) => {
    connection.connect((error) => (error ? reject(driverError(error, `login as ${config.user ?? `the ${config.authenticator} token's user`} to ${config.account}`)) : resolve()));
  });
  return connection;
}

export function disconnect(connection: Connection): Promise<void> {
  return new Promise((resolve) => connection.destroy(() => resolve()));
}

export class SnowflakeSession implements SqlSession {
  constructor(private readonly connection: Connection) {}

  run(statement: Statement): Promise<{ rows: Row[]; rowsChanged?: number }> {
    return new Promise((resolve, reject) => {
      this.connection.execute({
        sqlText: statement.text,
        binds: statement.binds as never,
        // Exact decimals and ISO dates as text, never JS floats or local-time Dates.
        fetchAsString: ['Number', 'Date'],
        complete: (error, stmt, rows) => {
          if (error) {
            reject(driverError(error, `statement "${firstLine(statement.text)}"`));
            return;
          }
          const changed = stmt.getNumUpdatedRows?.();
          resolve({ rows: (rows ?? []) as Row[], ...(typeof changed === 'number' && changed >= 0 ? { rowsChanged: changed } : {}) });
        },
      });
    });
  }
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 80 ? `${line.slice(0, 80)}…` : line;
}
