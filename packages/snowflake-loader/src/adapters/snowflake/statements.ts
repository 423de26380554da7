// The Snowflake statements for setup and load, rendered from sql/ (pure: checked as text in tests).
import type { BatchId } from '@batchline/batch-id';
import { byEntity, common, snowflake as sfSql } from '../../sql-files.js';
import { inlineIdentifier, inlinePositiveInteger, inlineString, inlineStringList, renderStatements, SqlTemplateError, type BindValue, type InlineSql, type Statement } from '../../sql-text.js';
import { inlineBatch } from '../../operations.js';
import { BATCH_LOCATIONS, type BatchFile, type BatchLocation, type Entity, type OnErrorPolicy } from '../../warehouse-contract.js';
import type { SnowflakeConfig } from './config.js';

/** Snowflake accepts at most 1000 names in one FILES = (...) list. */
export const FILES_PER_COPY = 1000;

/** `batchline setup`, as the loader role: file format, stages (when a stage URL is set) and tables. Never a database or integration. */
export function setupStatements(config: Pick<SnowflakeConfig, 'stage'>): Statement[] {
  const statements = renderStatements(sfSql.setup.fileFormat);
  const stage = config.stage;
  if (stage) {
    statements.push(
      ...renderStatements(sfSql.setup.stages, {
        STORAGE_INTEGRATION: inlineIdentifier(stage.integration, 'storage integration'),
        ORDERS_STAGE_URL: inlineString(`${stage.url}orders/`, 'stage URL'),
        CUSTOMERS_STAGE_URL: inlineString(`${stage.url}customers/`, 'stage URL'),
      }),
    );
  }
  statements.push(...renderStatements(sfSql.setup.tables));
  return statements;
}

export interface AdminSettings {
  readonly database: string;
  readonly schema: string;
  /** Stage URL above the entity roots (the integration's allowed location), e.g. s3://bucket/firehose/. */
  readonly stageUrl?: string;
  readonly storageIntegration?: string;
  /** The IAM role the integration assumes; the integration is rendered only with it. */
  readonly storageAwsRoleArn?: string;
  readonly role?: string;
  readonly warehouse?: string;
  /** The workload-identity service user (rendered only with `githubOidcSubject`). */
  readonly user?: string;
  readonly githubOidcSubject?: string;
}

/** The admin's part (sql/snowflake/admin/), rendered: what an admin runs once before `batchline setup`. */
export function adminStatements(settings: AdminSettings): Statement[] {
  const integration = inlineIdentifier(settings.storageIntegration ?? 'S3_INTEGRATION_PRO', 'storage integration');
  const statements = renderStatements(sfSql.admin.database, {
    DATABASE: inlineIdentifier(settings.database, 'database'),
    SCHEMA: inlineIdentifier(settings.schema, 'schema'),
  });
  if (settings.storageAwsRoleArn && settings.stageUrl) {
    statements.push(
      ...renderStatements(sfSql.admin.storageIntegration, {
        STORAGE_INTEGRATION: integration,
        STORAGE_AWS_ROLE_ARN: inlineString(settings.storageAwsRoleArn, 'IAM role ARN'),
        STORAGE_ALLOWED_LOCATION: inlineString(settings.stageUrl, 'stage URL'),
      }),
    );
  }
  if (settings.role && settings.warehouse) {
    const role = inlineIdentifier(settings.role, 'role');
    const warehouse = inlineIdentifier(settings.warehouse, 'warehouse');
    statements.push(
      ...renderStatements(sfSql.admin.loaderRole, {
        ROLE: role,
        WAREHOUSE: warehouse,
        DATABASE: inlineIdentifier(settings.database, 'database'),
        SCHEMA: inlineIdentifier(settings.schema, 'schema'),
        STORAGE_INTEGRATION: integration,
      }),
    );
    if (settings.user && settings.githubOidcSubject) {
      statements.push(
        ...renderStatements(sfSql.admin.serviceUser, {
          USER: inlineIdentifier(settings.user, 'user'),
          ROLE: role,
          WAREHOUSE: warehouse,
          GITHUB_OIDC_SUBJECT: inlineString(settings.githubOidcSubject, 'GitHub OIDC subject'),
        }),
      );
    }
  }
  return statements;
}

/** sql/snowflake/session.sql with the configured timeouts. */
export function sessionStatements(config: Pick<SnowflakeConfig, 'lockTimeoutSeconds' | 'statementTimeoutSeconds'>): Statement[] {
  return renderStatements(sfSql.session, {
    LOCK_TIMEOUT: inlineNonNegativeInteger(config.lockTimeoutSeconds, 'LOCK_TIMEOUT'),
    STATEMENT_TIMEOUT: inlinePositiveInteger(config.statementTimeoutSeconds, 'STATEMENT_TIMEOUT_IN_SECONDS'),
  });
}

function inlineNonNegativeInteger(value: number, what: string): InlineSql {
  if (!Number.isSafeInteger(value) || value < 0) throw new SqlTemplateError(`Invalid ${what} ${String(value)}: expected a whole number of seconds >= 0`);
  return { sql: String(value) };
}

export interface LoadStatements {
  /** First: the batch's raw rows of this entity. */
  readonly clear: Statement[];
  /** After the COPY, with every other LOAD_REJECTS write: the batch's previous rejects of this entity. */
  readonly clearRejects: Statement[];
  readonly validate: Statement[];
  readonly copy: Statement[];
  readonly dropRejected: Statement[];
  readonly check: Statement[];
  readonly countByFile: Statement[];
}

/** `processing` or `processed`, the only folders a load reads from. */
function inlineLocation(location: BatchLocation): InlineSql {
  if (!BATCH_LOCATIONS.includes(location)) {
    throw new SqlTemplateError(`Invalid batch location ${JSON.stringify(location)}: expected ${BATCH_LOCATIONS.map((l) => `'${l}'`).join(' or ')}`);
  }
  return { sql: location };
}

export function loadStatements(
  entity: Entity,
  batchId: BatchId,
  files: readonly BatchFile[],
  onError: OnErrorPolicy,
  rejectedAt: string,
  location: BatchLocation = 'processing',
): LoadStatements {
  const batch = { batch_id: batchId };
  const numbered = inlineBatch(batchId);
  const chunks: (readonly BatchFile[])[] = [];
  for (let i = 0; i < files.length; i += FILES_PER_COPY) chunks.push(files.slice(i, i + FILES_PER_COPY));
  const inline = (chunk: readonly BatchFile[]) => ({
    ...numbered,
    LOCATION: inlineLocation(location),
    FILES: inlineStringList(
      chunk.map((f) => f.path),
      'file path',
    ),
    ON_ERROR: inlineIdentifier(onError === 'abort' ? 'ABORT_STATEMENT' : 'CONTINUE'),
  });
  return {
    clear: renderStatements(sfSql.clearRaw[entity], numbered, batch),
    clearRejects: renderStatements(sfSql.clearRejects, {}, { ...batch, entity }),
    validate: chunks.flatMap((chunk) => renderStatements(sfSql.validate[entity], inline(chunk))),
    copy: chunks.flatMap((chunk) => renderStatements(sfSql.load[entity], inline(chunk))),
    dropRejected: renderStatements(sfSql.dropRejected[entity], numbered, batch),
    check: renderStatements(byEntity[entity].check, numbered, { ...batch, rejected_at: rejectedAt }),
    countByFile: renderStatements(byEntity[entity].countByFile, numbered, batch),
  };
}

export interface RejectRow {
  readonly sourceFile: string;
  readonly sourceRow: number | null;
  readonly columnName: string | null;
  readonly reason: string;
  readonly record: string | null;
}

/** Quarantined records as multi-row inserts (array binds), at most `perStatement` rows each. */
export function insertRejectStatements(entity: Entity, batchId: BatchId, rejects: readonly RejectRow[], rejectedAt: string, perStatement = 1000): Statement[] {
  const statements: Statement[] = [];
  for (let i = 0; i < rejects.length; i += perStatement) {
    const rows = rejects.slice(i, i + perStatement).map((r) => {
      const [statement] = renderStatements(common.insertReject, {}, {
        batch_id: batchId,
        entity,
        source_file: r.sourceFile,
        source_row: r.sourceRow,
        column_name: r.columnName,
        reason: r.reason,
        record: r.record,
        rejected_at: rejectedAt,
      });
      return statement!;
    });
    statements.push({ text: rows[0]!.text, binds: rows.map((r) => r.binds) as unknown as BindValue[] });
  }
  return statements;
}
