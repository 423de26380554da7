// The Snowflake adapter's statements, checked as text against the fixture files in test/fixtures/snowflake/.
// (End to end through the real driver comes with the local Snowflake-protocol server.)
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toBatchId } from '@batchline/batch-id';
import duckdbSetup from '../../../sql/duckdb/setup.sql';
import snowflakeTables from '../../../sql/snowflake/setup/tables.sql';
import { adminStatements, insertRejectStatements, loadStatements, sessionStatements, setupStatements } from '../src/adapters/snowflake/statements.js';
import { common } from '../src/sql-files.js';
import { inlineBatchNo } from '../src/operations.js';
import { inlineBatchId, renderStatements, type Statement } from '../src/sql-text.js';
import type { BatchFile } from '../src/index.js';

const BATCH = toBatchId('20261126T0315');
const AT = '2026-11-26T03:20:00.000Z';
const fixture = (name: string) => new URL(`./fixtures/snowflake/${name}`, import.meta.url).pathname;

/** Statements as a readable file: text, then the binds. */
function show(statements: readonly Statement[]): string {
  return statements.map((s) => `${s.text};\n${s.binds.length > 0 ? `-- binds: ${JSON.stringify(s.binds)}\n` : ''}`).join('\n');
}

const files = (n: number): BatchFile[] =>
  Array.from({ length: n }, (_, i) => ({ path: `2026/11/26/03/orders-stream-1-2026-11-26-03-${String(i).padStart(4, '0')}.gz`, key: `firehose/orders/processing/${BATCH}/x${i}`, size: 10 }));

describe('Snowflake setup', () => {
  it('the loader part: file format, stages and tables only (never a database, schema or integration)', async () => {
    const statements = setupStatements({ stage: { url: 's3://retail-landing/firehose/', integration: 'S3_INTEGRATION_PRO' } });
    await expect(show(statements)).toMatchFileSnapshot(fixture('setup-full.sql'));
    // Every statement creates or alters an object the loader role owns.
    expect(statements.every((s) => /^(CREATE|ALTER TABLE)\b/.test(s.text))).toBe(true);
    const created = statements.filter((s) => s.text.startsWith('CREATE'));
    expect(created.map((s) => /^CREATE\b.*?\b(DATABASE|SCHEMA|INTEGRATION|FORMAT|STAGE|TABLE)(?: IF NOT EXISTS)? (\S+)/.exec(s.text)!.slice(1).join(' '))).toEqual([
      'FORMAT CSV_FORMAT',
      'STAGE ORDERS_STAGE',
      'STAGE CUSTOMERS_STAGE',
      ...[
        'ORDERS_RAW',
        'CUSTOMERS_RAW',
        'LOAD_REJECTS',
        'ORDER_LEDGER',
        'ORDER_CUSTOMER_DATE_PRICE',
        'ORDER_ARRIVALS',
        'CUSTOMER_VERSIONS',
        'ORDERS_WAITING',
        'BATCHLINE_MIGRATIONS',
        'BATCH_AUDIT',
        'ORDERS_CSV',
        'CUSTOMERS_CSV',
      ].map((t) => `TABLE ${t}`),
    ]);
  });

  it('without a stage URL, only file format and tables', async () => {
    const statements = setupStatements({});
    await expect(show(statements)).toMatchFileSnapshot(fixture('setup-minimal.sql'));
    expect(statements.some((s) => /INTEGRATION|STAGE|DATABASE|SCHEMA/.test(s.text))).toBe(false);
  });

  it('the admin part: database, schema, integration, role with its grants, service user', () => {
    const statements = adminStatements({
      database: 'RETAIL_DB',
      schema: 'RETAIL_SCHEMA',
      stageUrl: 's3://retail-landing/firehose/',
      storageAwsRoleArn: 'arn:aws:iam::123456789012:role/snowflake-batchline',
      role: 'BATCHLINE',
      warehouse: 'LOAD_WH',
      user: 'GHA_BATCHLINE',
      githubOidcSubject: 'repo:acme/retail:ref:refs/heads/main',
    }).map((s) => s.text.replace(/\s+/g, ' '));
    expect(statements[0]).toBe('CREATE DATABASE IF NOT EXISTS RETAIL_DB');
    expect(statements[1]).toBe('CREATE SCHEMA IF NOT EXISTS RETAIL_DB.RETAIL_SCHEMA');
    expect(statements.some((s) => s.startsWith('CREATE STORAGE INTEGRATION IF NOT EXISTS S3_INTEGRATION_PRO'))).toBe(true);
    expect(statements).toContain('ALTER USER GHA_BATCHLINE SET ABORT_DETACHED_QUERY = TRUE');
    expect(statements.some((s) => /SUBJECT = 'repo:acme\/retail:ref:refs\/heads\/main'/.test(s))).toBe(true);
  });

  it('the admin grants are exactly what the loader part and the runs need', () => {
    // Needed, worked out from the loader's own statements: each CREATE <kind> of setup needs CREATE <kind> on the
    // schema; a stage naming an integration needs USAGE on it; every session needs USAGE on warehouse, database
    // and schema. Runs touch only objects setup created, which the role owns.
    const loader = setupStatements({ stage: { url: 's3://b/p/', integration: 'S3_INTEGRATION_PRO' } }).map((s) => s.text);
    const needed = new Set<string>(['USAGE ON WAREHOUSE', 'USAGE ON DATABASE', 'USAGE ON SCHEMA']);
    for (const text of loader) {
      const kind = /^CREATE (?:OR REPLACE )?(FILE FORMAT|STAGE|TABLE)\b/.exec(text)?.[1];
      if (kind) needed.add(`CREATE ${kind} ON SCHEMA`);
      if (/STORAGE_INTEGRATION\s*=/.test(text)) needed.add('USAGE ON INTEGRATION');
    }
    const granted = new Set<string>();
    for (const text of adminStatements({ database: 'D', schema: 'S', role: 'R', warehouse: 'W', storageIntegration: 'S3_INTEGRATION_PRO' }).map((s) => s.text)) {
      const m = /^GRANT (.+) ON (WAREHOUSE|DATABASE|SCHEMA|INTEGRATION) /.exec(text);
      if (m) for (const privilege of m[1]!.split(',')) granted.add(`${privilege.trim()} ON ${m[2]}`);
    }
    expect([...granted].sort()).toEqual([...needed].sort());
  });

  it('no credential or account-specific value is in the SQL files', () => {
    const text = show(setupStatements({ stage: { url: 's3://b/p/', integration: 'I' } }));
    expect(text).not.toMatch(/AWS_SECRET|AWS_KEY_ID|PASSWORD|CREDENTIALS\s*=/i);
  });

  it('refuses unsafe values for inlined placeholders', () => {
    expect(() => adminStatements({ database: 'RETAIL_DB; DROP DATABASE X', schema: 'S' })).toThrow(/Invalid database/);
    expect(() => setupStatements({ stage: { url: "s3://b/p/'\n", integration: 'I' } })).toThrow(/control characters/);
  });

  it('DuckDB and Snowflake declare the same tables with the same columns in the same order', () => {
    const tables = (sql: string) =>
      Object.fromEntries(
        [...sql.matchAll(/CREATE TABLE IF NOT EXISTS (\w+) \(([^;]*?)\n\);/g)].map((m) => [
          m[1],
          m[2]!.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter((c) => c && !c.startsWith('--')),
        ]),
      );
    const duck = tables(duckdbSetup);
    const snow = tables(snowflakeTables);
    delete snow.ORDERS_CSV; // validation targets exist only on Snowflake
    delete snow.CUSTOMERS_CSV;
    expect(Object.keys(duck).sort()).toEqual([
      'BATCHLINE_MIGRATIONS',
      'BATCH_AUDIT',
      'CUSTOMERS_RAW',
      'CUSTOMER_VERSIONS',
      'LOAD_REJECTS',
      'ORDERS_RAW',
      'ORDERS_WAITING',
      'ORDER_ARRIVALS',
      'ORDER_CUSTOMER_DATE_PRICE',
      'ORDER_LEDGER',
    ]);
    expect(snow).toEqual(duck);
  });
});

describe('Snowflake load', () => {
  it('abort policy: delete the batch, validate, COPY exactly the manifest files with FORCE', async () => {
    const plan = loadStatements('orders', BATCH, files(2), 'abort', AT);
    await expect(show([...plan.clear, ...plan.validate, ...plan.copy, ...plan.check, ...plan.countByFile])).toMatchFileSnapshot(fixture('load-orders-abort.sql'));
    expect(plan.copy[0]!.text).toContain('ON_ERROR = ABORT_STATEMENT');
    expect(plan.copy[0]!.text).toContain('FORCE = TRUE');
    expect(plan.copy[0]!.text).toContain(`FROM @ORDERS_STAGE/processing/${BATCH}/`);
    expect(plan.copy[0]!.binds).toEqual([]);
    // The raw rows are found by the batch's number (inlined after validation), not its text.
    expect(plan.clear.map((s) => [s.text, s.binds])).toEqual([[`DELETE FROM ORDERS_RAW WHERE BATCH_NO = ${BATCH.replace('T', '')}`, []]]);
    expect(plan.clearRejects.map((s) => s.binds)).toEqual([[BATCH, 'orders']]);
  });

  it('an archived batch: validate and COPY read @<STAGE>/processed/<id>/; the rest of the load is unchanged', async () => {
    const plan = loadStatements('orders', BATCH, files(2), 'abort', AT, 'processed');
    await expect(show([...plan.validate, ...plan.copy])).toMatchFileSnapshot(fixture('load-orders-processed.sql'));
    for (const statement of [...plan.validate, ...plan.copy]) {
      expect(statement.text).toContain(`FROM @ORDERS_STAGE/processed/${BATCH}/\n`);
      expect(statement.text).not.toContain(`@ORDERS_STAGE/processing/`);
    }
    const clean = loadStatements('orders', BATCH, files(2), 'abort', AT);
    expect([...plan.clear, ...plan.check, ...plan.countByFile, ...plan.dropRejected]).toEqual([...clean.clear, ...clean.check, ...clean.countByFile, ...clean.dropRejected]);
  });

  // METADATA$FILENAME may be stage-relative or carry the stage's prefix (Snowflake documents neither for sure).
  it.each([
    ['processing', 'stage-relative'],
    ['processed', 'stage-relative'],
    ['processing', 'bucket path'],
    ['processed', 'bucket path'],
  ] as const)('from %s/ with a %s METADATA$FILENAME, SOURCE_FILE is processing/<id>/<path>', (location, shape) => {
    const [file] = files(1);
    const copy = loadStatements('customers', BATCH, [file!], 'quarantine', AT, location).copy[0]!.text;
    // Evaluate the expression as Snowflake would: POSITION is 1-based (0 when absent), SUBSTR 1-based.
    const m = /'([^']*)' \|\| SUBSTR\(METADATA\$FILENAME, POSITION\('([^']*)' IN '\/' \|\| METADATA\$FILENAME\) \+ LENGTH\('([^']*)'\) - 1\)/.exec(copy);
    expect(m).not.toBeNull();
    const relative = `${location}/${BATCH}/${file!.path}`;
    const metadataFilename = shape === 'stage-relative' ? relative : `firehose/customers/${relative}`;
    const position = ('/' + metadataFilename).indexOf(m![2]!) + 1;
    expect(position).toBeGreaterThan(0);
    expect(m![1]! + metadataFilename.slice(position + m![3]!.length - 1 - 1)).toBe(`processing/${BATCH}/${file!.path}`);
  });

  it('session settings: UTC, ISO timestamps, and the configured lock and statement timeouts', () => {
    const texts = sessionStatements({ lockTimeoutSeconds: 0, statementTimeoutSeconds: 90 }).map((s) => s.text);
    expect(texts).toContain('ALTER SESSION SET LOCK_TIMEOUT = 0');
    expect(texts).toContain('ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = 90');
    expect(() => sessionStatements({ lockTimeoutSeconds: -1, statementTimeoutSeconds: 90 })).toThrow(/LOCK_TIMEOUT -1/);
    expect(() => sessionStatements({ lockTimeoutSeconds: 1, statementTimeoutSeconds: 0 })).toThrow(/STATEMENT_TIMEOUT_IN_SECONDS 0/);
  });

  it('refuses a location other than processing or processed', () => {
    expect(() => loadStatements('orders', BATCH, files(1), 'abort', AT, 'landing' as never)).toThrow(/Invalid batch location "landing"/);
    expect(() => loadStatements('orders', BATCH, files(1), 'abort', AT, "processing/' --" as never)).toThrow(/Invalid batch location/);
  });

  it('quarantine policy: ON_ERROR = CONTINUE, then drop quarantined rows', async () => {
    const plan = loadStatements('customers', BATCH, files(1), 'quarantine', AT);
    await expect(show([...plan.clear, ...plan.validate, ...plan.copy, ...plan.clearRejects, ...plan.dropRejected, ...plan.check, ...plan.countByFile])).toMatchFileSnapshot(
      fixture('load-customers-quarantine.sql'),
    );
    expect(plan.copy[0]!.text).toContain('ON_ERROR = CONTINUE');
  });

  it('FILES= lists at most 1000 files per statement, every file exactly once', () => {
    const all = files(2501);
    const plan = loadStatements('orders', BATCH, all, 'abort', AT);
    expect(plan.copy).toHaveLength(3);
    expect(plan.validate).toHaveLength(3);
    const listed = plan.copy.flatMap((s) => [...s.text.matchAll(/'(2026\/[^']+)'/g)].map((m) => m[1]));
    expect(plan.copy.map((s) => [...s.text.matchAll(/'2026\//g)].length)).toEqual([1000, 1000, 501]);
    expect(listed).toEqual(all.map((f) => f.path));
  });

  it('quarantined records go in multi-row inserts with array binds', () => {
    const rejects = Array.from({ length: 2500 }, (_, i) => ({ sourceFile: `processing/${BATCH}/a`, sourceRow: i + 1, columnName: null, reason: 'Numeric value', record: `r${i}` }));
    const statements = insertRejectStatements('orders', BATCH, rejects, AT);
    expect(statements).toHaveLength(3);
    expect(statements[0]!.binds).toHaveLength(1000);
    expect(statements[2]!.binds[0]).toEqual([BATCH, 'orders', `processing/${BATCH}/a`, 2001, null, 'Numeric value', 'r2000', AT]);
    expect(statements[0]!.text).toBe(renderStatements(common.insertReject, {}, { batch_id: '', entity: '', source_file: '', source_row: 0, column_name: '', reason: '', record: '', rejected_at: '' })[0]!.text);
  });

  it('the batch id is inlined only after validation; file paths are escaped literals', () => {
    expect(() => loadStatements('orders', "20261126T0315' OR 1=1 --" as never, files(1), 'abort', AT)).toThrow(/Invalid batch id/);
    expect(() => inlineBatchId('2026')).toThrow(/Invalid batch id/);
  });
});

describe('transform (one text for both engines)', () => {
  it('renders the same statements the DuckDB tests execute', async () => {
    const statements = [
      ...renderStatements(common.transform, { BATCH_ID: inlineBatchId(BATCH), BATCH_NO: inlineBatchNo(BATCH) }),
      ...renderStatements(common.transformSummary, { BATCH_ID: inlineBatchId(BATCH), BATCH_NO: inlineBatchNo(BATCH) }),
    ];
    await expect(show(statements)).toMatchFileSnapshot(fixture('transform.sql'));
    const text = statements.map((s) => s.text).join('\n');
    expect(text).not.toMatch(/\bIFF\b|\bNUMBER\b|::|\bTRY_|\bstrftime\b|\bread_csv\b/i);
  });
});

describe('sql/README.md', () => {
  it('documents every inlined placeholder used by a SQL file', () => {
    const readme = readFileSync(new URL('../../../sql/README.md', import.meta.url), 'utf8');
    const used = new Set<string>();
    const root = new URL('../../../sql/', import.meta.url);
    const sources = Object.fromEntries(
      (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.sql')).map((f) => [f, readFileSync(new URL(f, root), 'utf8')]),
    );
    expect(Object.keys(sources).length).toBeGreaterThan(20);
    for (const text of Object.values(sources)) for (const m of text.matchAll(/\{\{([A-Z0-9_]+)\}\}/g)) used.add(m[1]!);
    expect(used.size).toBeGreaterThan(5);
    for (const name of used) expect(readme).toContain(`{{${name}}}`);
    const binds = new Set<string>();
    for (const text of Object.values(sources)) for (const m of text.replace(/'[^']*'/g, '').matchAll(/(?<![:\w]):([a-z_][a-z0-9_]*)/g)) binds.add(m[1]!);
    for (const name of binds) expect(readme).toContain(`:${name}`);
  });
});
