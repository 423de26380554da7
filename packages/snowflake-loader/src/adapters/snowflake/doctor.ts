// `batchline doctor`'s warehouse part on Snowflake: every assumption the loader makes, checked with the configured
// identity. Safe at any time: each check runs in its own transaction, always rolled back, and creates nothing.
import { runAll, type Row, type SqlSession } from '../../sql-session.js';
import { snowflake as sfSql } from '../../sql-files.js';
import { inlineIdentifier, inlineStringList, renderStatements, SqlTemplateError, type InlineSql } from '../../sql-text.js';
import type { WarehouseCheck } from '../../warehouse-checks.js';
import type { Entity } from '../../warehouse-contract.js';
import type { SnowflakeConfig } from './config.js';
import { WarehouseLockedError } from '../../errors.js';
import { connect, disconnect, SnowflakeSession } from './connection.js';
import { sessionStatements } from './statements.js';


/** A scratch file the caller wrote under each entity's stage root (`<root><entity>/<folder><file>`). */
export interface StageProbe {
  /** Folder relative to the entity root, e.g. `_batchline/doctor/<id>/`. */
  readonly folder: string;
  readonly file: string;
}

/** One valid record per entity, for the stage probe's scratch file. */
export const PROBE_RECORDS: Record<Entity, string> = {
  orders: '1,1,F,1.00,2024-01-01,1-URGENT,Clerk#000000001,0,batchline doctor probe\n',
  customers: '1,Customer#000000001,1 Probe St,1,10-111-222-3333,1.00,BUILDING,batchline doctor probe\n',
};

/** How long a doctor statement waits for a table lock before it reports the table as busy. */
const DOCTOR_LOCK_TIMEOUT_SECONDS = 10;
const LOCKED_FIX =
  'Another transaction holds the table: rerun `batchline doctor` when no run is active; if none is, a killed run left its transaction open: SELECT SYSTEM$ABORT_TRANSACTION(<id>) (README, "Locks left by a killed run")';
const SETUP_FIX = 'Run `batchline setup` as the loader role (file format, stages, tables); see the README, "Running against real AWS and Snowflake"';
const ADMIN_FIX = 'An admin runs sql/snowflake/admin/*.sql (`batchline-warehouse print-setup snowflake-admin` renders them): database, schema, integration, role and grants';

function cell(row: Row | undefined, name: string): string | undefined {
  if (!row) return undefined;
  const key = Object.keys(row).find((k) => k.toUpperCase() === name);
  const value = key === undefined ? undefined : row[key];
  return value === null || value === undefined ? undefined : String(value);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function inlineScratchFolder(folder: string): InlineSql {
  if (!/^_batchline\/doctor\/[A-Za-z0-9-]{1,64}\/$/.test(folder)) {
    throw new SqlTemplateError(`Invalid doctor scratch folder ${JSON.stringify(folder)}: expected _batchline/doctor/<id>/`);
  }
  return { sql: folder };
}

/** The tables `batchline setup` creates, from sql/snowflake/setup/tables.sql itself. */
export function setupTables(): string[] {
  return renderStatements(sfSql.setup.tables).flatMap((s) => /^CREATE TABLE IF NOT EXISTS (\w+)/.exec(s.text)?.[1] ?? []);
}

/** Each check in its own transaction, rolled back whatever happens. */
async function rolledBack<T>(session: SqlSession, fn: () => Promise<T>): Promise<T> {
  await session.run({ text: 'BEGIN', binds: [] });
  try {
    return await fn();
  } finally {
    await session.run({ text: 'ROLLBACK', binds: [] }).catch(() => undefined);
  }
}

export async function checkSnowflake(config: SnowflakeConfig, probe?: StageProbe): Promise<WarehouseCheck[]> {
  const checks: WarehouseCheck[] = [];
  const who = config.user ?? `the ${config.authenticator} token's user`;
  let connection;
  try {
    connection = await connect(config);
  } catch (error) {
    checks.push({
      id: 'login',
      title: `log in to ${config.account} as ${who} (${config.authenticator})`,
      ok: false,
      detail: errorText(error),
      fix:
        config.authenticator === 'WORKLOAD_IDENTITY'
          ? 'Check the service user\'s WORKLOAD_IDENTITY (issuer https://token.actions.githubusercontent.com, subject repo:<org>/<repo>:ref:refs/heads/<branch>, or :environment:<name>) and `permissions: id-token: write` on the job; see sql/snowflake/admin/service-user.sql'
          : 'Check SNOWFLAKE_USER, SNOWFLAKE_AUTHENTICATOR and its key or token (see the snowflake-loader README, "Authentication")',
    });
    return checks;
  }
  const session = new SnowflakeSession(connection);
  try {
    // A DELETE locks its table even when it deletes nothing: never wait long behind a running load (or make it wait).
    await runAll(session, sessionStatements({ ...config, lockTimeoutSeconds: Math.min(config.lockTimeoutSeconds, DOCTOR_LOCK_TIMEOUT_SECONDS) }));
    const row = (await session.run(renderStatements(sfSql.doctor.whoami)[0]!)).rows[0];
    checks.push({ id: 'login', title: `log in to ${config.account} (${config.authenticator})`, ok: true, detail: `logged in as ${cell(row, 'USER_NAME') ?? '?'}` });
    const role = cell(row, 'ROLE_NAME');
    const roleOk = role !== undefined && (config.role === undefined || role.toUpperCase() === config.role.toUpperCase());
    checks.push({
      id: 'role',
      title: `role${config.role ? ` ${config.role}` : ''}`,
      ok: roleOk,
      detail: role ? `current role ${role}` : 'no current role',
      ...(roleOk ? {} : { fix: `GRANT ROLE ${config.role ?? '<role>'} TO USER ${config.user ?? '<service user>'} (sql/snowflake/admin/service-user.sql), or set ?role= in the warehouse URL` }),
    });
    const warehouse = cell(row, 'WAREHOUSE_NAME');
    checks.push({
      id: 'warehouse',
      title: `warehouse${config.warehouse ? ` ${config.warehouse}` : ''}`,
      ok: warehouse !== undefined,
      detail: warehouse ? `current warehouse ${warehouse}` : 'no current warehouse: statements that scan tables cannot run',
      ...(warehouse ? {} : { fix: 'Set ?warehouse=<name> in the warehouse URL and GRANT USAGE ON WAREHOUSE <name> TO ROLE <role> (sql/snowflake/admin/loader-role.sql)' }),
    });
    const database = cell(row, 'DATABASE_NAME');
    const schema = cell(row, 'SCHEMA_NAME');
    const placeOk = database !== undefined && schema !== undefined;
    checks.push({
      id: 'schema',
      title: `database and schema ${config.database}.${config.schema}`,
      ok: placeOk,
      detail: placeOk ? `using ${database}.${schema}` : `${config.database}.${config.schema} does not exist or this role may not use it`,
      ...(placeOk ? {} : { fix: ADMIN_FIX }),
    });

    const missing: string[] = [];
    const refused: string[] = [];
    const locked: string[] = [];
    for (const table of setupTables()) {
      try {
        await rolledBack(session, () => runAll(session, renderStatements(sfSql.doctor.tablePrivileges, { TABLE: inlineIdentifier(table, 'table') })));
      } catch (error) {
        const line = `${table}: ${errorText(error).split('\n')[0]}`;
        if (error instanceof WarehouseLockedError) locked.push(line);
        else (/does not exist/i.test(errorText(error)) ? missing : refused).push(line);
      }
    }
    if (locked.length > 0) {
      checks.push({ id: 'locks', title: 'no table is locked by another transaction', ok: false, detail: locked.join('; '), fix: LOCKED_FIX });
    }
    checks.push({
      id: 'tables',
      title: `the ${setupTables().length} tables exist`,
      ok: missing.length === 0,
      detail: missing.length === 0 ? setupTables().join(', ') : `missing: ${missing.join('; ')}`,
      ...(missing.length === 0 ? {} : { fix: SETUP_FIX }),
    });
    checks.push({
      id: 'privileges',
      title: 'the role may SELECT, DELETE and INSERT on every table',
      ok: refused.length === 0 && missing.length === 0,
      detail: refused.length === 0 ? (missing.length === 0 ? 'all statements compiled and ran (rolled back)' : 'not checked on the missing tables') : refused.join('; '),
      ...(refused.length === 0 ? {} : { fix: 'The loader role must own the tables: create them with `batchline setup` as that role (or GRANT SELECT, INSERT, DELETE ON ALL TABLES IN SCHEMA ... TO ROLE <role>)' }),
    });

    for (const entity of ['orders', 'customers'] as const) {
      const stage = entity === 'orders' ? 'ORDERS_STAGE' : 'CUSTOMERS_STAGE';
      const title = `stage ${stage} lists a scratch file, CSV_FORMAT reads it, and COPY INTO ${entity.toUpperCase()}_RAW works`;
      if (!probe) {
        checks.push({ id: `stage-${entity}`, title, ok: true, detail: 'skipped: no store to write a scratch file to' });
        continue;
      }
      const statements = renderStatements(sfSql.doctor.stageProbe[entity], {
        SCRATCH_PATH: inlineScratchFolder(probe.folder),
        FILES: inlineStringList([probe.file], 'file'),
      });
      try {
        const names = await rolledBack(session, async () => {
          await session.run(statements[0]!);
          return (await session.run(statements[1]!)).rows.map((r) => cell(r, 'SOURCE_FILE') ?? '');
        });
        const relative = `${probe.folder}${probe.file}`;
        const [name] = names;
        const shape =
          name === relative ? 'stage-relative' : name !== undefined && name.endsWith(`/${relative}`) ? `with the stage's prefix (${name.slice(0, -relative.length)})` : undefined;
        checks.push({
          id: `stage-${entity}`,
          title,
          ok: names.length === 1 && shape !== undefined,
          detail:
            shape !== undefined
              ? `METADATA$FILENAME is ${shape}: ${JSON.stringify(name)} (the loader handles either); rolled back`
              : `COPY read ${names.length} record(s) named ${JSON.stringify(names)}; expected one named like ${JSON.stringify(relative)}`,
          ...(shape !== undefined ? {} : { fix: `The stage URL must be s3://<bucket>/<root>${entity}/ (the store's root); rerun \`batchline setup\` with BATCHLINE_STAGE_URL set` }),
        });
      } catch (error) {
        const text = errorText(error);
        checks.push({
          id: `stage-${entity}`,
          title,
          ok: false,
          detail: text.split('\n')[0]!,
          fix: /does not exist|not found/i.test(text) && /stage|format/i.test(text)
            ? SETUP_FIX
            : /not found|Failure using stage|access denied|forbidden/i.test(text)
              ? `The storage integration's IAM role must read <bucket>/<root>* (s3:GetObject, s3:ListBucket; kms:Decrypt under SSE-KMS), and the stage URL must be s3://<bucket>/<root>${entity}/; see docs/iam.md`
              : 'See the error; the loader role needs USAGE on the stage and file format (it owns them when it ran `batchline setup`)',
        });
      }
    }
  } finally {
    await disconnect(connection);
  }
  return checks;
}
