// The repository's own Snowflake SQL (sql/), rendered for tests the way its README documents the placeholders.
import database from '../../../sql/snowflake/admin/database.sql';
import fileFormat from '../../../sql/snowflake/setup/file-format.sql';
import stages from '../../../sql/snowflake/setup/stages.sql';
import storageIntegration from '../../../sql/snowflake/admin/storage-integration.sql';
import tables from '../../../sql/snowflake/setup/tables.sql';
import loadOrders from '../../../sql/snowflake/load-orders.sql';
import validateOrders from '../../../sql/snowflake/validate-orders.sql';
import session from '../../../sql/snowflake/session.sql';

export const BUCKET_ROOT = 's3://batchline-test/firehose/';
/** Not a credential: an ARN-shaped name the local integration records. */
export const ROLE_ARN = 'arn:aws:iam::123456789012:role/batchline-snowflake-local';

export function render(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{\s*([A-Z0-9_]+)\s*\}\}/g, (_m, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`no value for {{${name}}}`);
    return v;
  });
}

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

/** The admin's part (database, integration), then the loader's setup, in the order sql/README.md gives, as multi-statement texts. */
export function setupTexts(): string[] {
  const values = {
    DATABASE: 'RETAIL_DB',
    SCHEMA: 'RETAIL_SCHEMA',
    STORAGE_INTEGRATION: 'S3_INTEGRATION_PRO',
    STORAGE_AWS_ROLE_ARN: quote(ROLE_ARN),
    STORAGE_ALLOWED_LOCATION: quote(BUCKET_ROOT),
    ORDERS_STAGE_URL: quote(`${BUCKET_ROOT}orders/`),
    CUSTOMERS_STAGE_URL: quote(`${BUCKET_ROOT}customers/`),
  };
  return [database, storageIntegration, fileFormat, stages, tables].map((t) => render(t, values));
}

/** {{LOCATION}}: the folder the files are read from; {{BATCH_NO}}: the id's digits, as sql/README.md documents. */
function located(batchId: string, location: 'processing' | 'processed') {
  return { LOCATION: location, BATCH_NO: batchId.replace('T', '') };
}

export function loadOrdersText(batchId: string, files: string[], onError = 'ABORT_STATEMENT', location: 'processing' | 'processed' = 'processing'): string {
  return render(loadOrders, { BATCH_ID: batchId, FILES: files.map(quote).join(', '), ON_ERROR: onError, ...located(batchId, location) });
}

export function validateOrdersText(batchId: string, files: string[], location: 'processing' | 'processed' = 'processing'): string {
  return render(validateOrders, { BATCH_ID: batchId, FILES: files.map(quote).join(', '), ...located(batchId, location) });
}

/** session.sql with its timeouts filled in (the loader's defaults). */
export const sessionText = render(session, { LOCK_TIMEOUT: '300', STATEMENT_TIMEOUT: '3600' });
