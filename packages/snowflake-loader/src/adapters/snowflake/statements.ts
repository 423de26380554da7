// The Snowflake statements for setup and load, rendered from sql/ (pure: checked as text in tests).
import type { BatchId } from '@batchline/batch-id';
import { byEntity, common, snowflake as sfSql } from '../../sql-files.js';
import { locatedFileName } from '../../load-request.js';
import { inlineBatchId, inlineIdentifier, inlinePositiveInteger, inlineString, inlineStringList, renderStatements, SqlTemplateError, type BindValue, type InlineSql, type Statement } from '../../sql-text.js';
import { BATCH_LOCATIONS, type BatchFile, type BatchLocation, type Entity, type OnErrorPolicy } from '../../warehouse-contract.js';
import type { SnowflakeConfig } from './config.js';

/** Snowflake accepts at most 1000 names in one FILES = (...) list. */
export const FILES_PER_COPY = 1000;

export function setupStatements(config: Pick<SnowflakeConfig, 'database' | 'schema' | 'stage'>): Statement[] {
  const statements = renderStatements(sfSql.setup.database, {
    DATABASE: inlineIdentifier(config.database, 'database'),
    SCHEMA: inlineIdentifier(config.schema, 'schema'),
  });
  const stage = config.stage;
  if (stage?.awsRoleArn) {
    statements.push(
      ...renderStatements(sfSql.setup.storageIntegration, {
        STORAGE_INTEGRATION: inlineIdentifier(stage.integration, 'storage integration'),
        STORAGE_AWS_ROLE_ARN: inlineString(stage.awsRoleArn, 'IAM role ARN'),
        STORAGE_ALLOWED_LOCATION: inlineString(stage.url, 'stage URL'),
      }),
    );
  }
  statements.push(...renderStatements(sfSql.setup.fileFormat));
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

export interface LoadStatements {
  readonly clear: Statement[];
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
  const chunks: (readonly BatchFile[])[] = [];
  for (let i = 0; i < files.length; i += FILES_PER_COPY) chunks.push(files.slice(i, i + FILES_PER_COPY));
  // METADATA$FILENAME is `<location>/<BATCH_ID>/<path>`: <path> starts right after that prefix (1-based).
  const pathStart = locatedFileName(location, batchId, '').length + 1;
  const inline = (chunk: readonly BatchFile[]) => ({
    BATCH_ID: inlineBatchId(batchId),
    LOCATION: inlineLocation(location),
    PATH_START: inlinePositiveInteger(pathStart, 'path start'),
    FILES: inlineStringList(
      chunk.map((f) => f.path),
      'file path',
    ),
    ON_ERROR: inlineIdentifier(onError === 'abort' ? 'ABORT_STATEMENT' : 'CONTINUE'),
  });
  return {
    clear: renderStatements(byEntity[entity].clearBatch, {}, batch),
    validate: chunks.flatMap((chunk) => renderStatements(sfSql.validate[entity], inline(chunk))),
    copy: chunks.flatMap((chunk) => renderStatements(sfSql.load[entity], inline(chunk))),
    dropRejected: renderStatements(sfSql.dropRejected[entity], {}, batch),
    check: renderStatements(byEntity[entity].check, {}, { ...batch, rejected_at: rejectedAt }),
    countByFile: renderStatements(byEntity[entity].countByFile, {}, batch),
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
