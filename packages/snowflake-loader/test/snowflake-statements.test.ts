// The Snowflake adapter's statements, checked as text against the fixture files in test/fixtures/snowflake/.
// (End to end through the real driver comes with the local Snowflake-protocol server.)
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toBatchId } from '@batchline/batch-id';
import duckdbSetup from '../../../sql/duckdb/setup.sql';
import snowflakeTables from '../../../sql/snowflake/setup/tables.sql';
import { insertRejectStatements, loadStatements, setupStatements } from '../src/adapters/snowflake/statements.js';
import { common } from '../src/sql-files.js';
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
  it('database, storage integration, file format, stages and tables', async () => {
    const statements = setupStatements({
      database: 'RETAIL_DB',
      schema: 'RETAIL_SCHEMA',
      stage: { url: 's3://retail-landing/firehose/', integration: 'S3_INTEGRATION_PRO', awsRoleArn: 'arn:aws:iam::123456789012:role/snowflake-batchline' },
    });
    await expect(show(statements)).toMatchFileSnapshot(fixture('setup-full.sql'));
    expect(statements.map((s) => /^(?:CREATE|USE)\b.*?\b(DATABASE|SCHEMA|INTEGRATION|FORMAT|STAGE|TABLE)(?: IF NOT EXISTS)? (\S+)/.exec(s.text)!.slice(1).join(' '))).toEqual([
      'DATABASE RETAIL_DB',
      'SCHEMA RETAIL_DB.RETAIL_SCHEMA',
      'SCHEMA RETAIL_DB.RETAIL_SCHEMA',
      'INTEGRATION S3_INTEGRATION_PRO',
      'FORMAT CSV_FORMAT',
      'STAGE ORDERS_STAGE',
      'STAGE CUSTOMERS_STAGE',
      ...['ORDERS_RAW', 'CUSTOMERS_RAW', 'LOAD_REJECTS', 'ORDER_LEDGER', 'ORDER_CUSTOMER_DATE_PRICE', 'BATCH_AUDIT', 'ORDERS_CSV', 'CUSTOMERS_CSV'].map((t) => `TABLE ${t}`),
    ]);
  });

  it('without a role ARN or stage URL, only what the loader itself owns', async () => {
    const statements = setupStatements({ database: 'ANALYTICS', schema: 'BATCHLINE' });
    await expect(show(statements)).toMatchFileSnapshot(fixture('setup-minimal.sql'));
    expect(statements.some((s) => /INTEGRATION|STAGE/.test(s.text))).toBe(false);
  });

  it('no credential or account-specific value is in the SQL files', () => {
    const text = show(setupStatements({ database: 'D', schema: 'S' }));
    expect(text).not.toMatch(/AWS_SECRET|AWS_KEY_ID|PASSWORD|CREDENTIALS\s*=/i);
  });

  it('refuses unsafe values for inlined placeholders', () => {
    expect(() => setupStatements({ database: 'RETAIL_DB; DROP DATABASE X', schema: 'S' })).toThrow(/Invalid database/);
    expect(() => setupStatements({ database: 'D', schema: 'S', stage: { url: "s3://b/p/'\n", integration: 'I', awsRoleArn: 'arn' } })).toThrow(/control characters/);
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
    expect(Object.keys(duck).sort()).toEqual(['BATCH_AUDIT', 'CUSTOMERS_RAW', 'LOAD_REJECTS', 'ORDERS_RAW', 'ORDER_CUSTOMER_DATE_PRICE', 'ORDER_LEDGER']);
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
    expect(plan.clear.map((s) => s.binds)).toEqual([[BATCH], [BATCH]]);
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

  it.each(['processing', 'processed'] as const)('from %s/, SOURCE_FILE is processing/<id>/<path>, as on DuckDB', (location) => {
    const [file] = files(1);
    const copy = loadStatements('customers', BATCH, [file!], 'quarantine', AT, location).copy[0]!.text;
    // Evaluate the SOURCE_FILE expression as Snowflake would (SUBSTR is 1-based) on the stage-relative
    // METADATA$FILENAME of a file read from this location.
    const m = /'([^']*)' \|\| SUBSTR\(METADATA\$FILENAME, (\d+)\)/.exec(copy);
    expect(m).not.toBeNull();
    const metadataFilename = `${location}/${BATCH}/${file!.path}`;
    expect(m![1]! + metadataFilename.slice(Number(m![2]) - 1)).toBe(`processing/${BATCH}/${file!.path}`);
  });

  it('refuses a location other than processing or processed', () => {
    expect(() => loadStatements('orders', BATCH, files(1), 'abort', AT, 'landing' as never)).toThrow(/Invalid batch location "landing"/);
    expect(() => loadStatements('orders', BATCH, files(1), 'abort', AT, "processing/' --" as never)).toThrow(/Invalid batch location/);
  });

  it('quarantine policy: ON_ERROR = CONTINUE, then drop quarantined rows', async () => {
    const plan = loadStatements('customers', BATCH, files(1), 'quarantine', AT);
    await expect(show([...plan.clear, ...plan.validate, ...plan.copy, ...plan.dropRejected, ...plan.check, ...plan.countByFile])).toMatchFileSnapshot(
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
      ...renderStatements(common.transform, { BATCH_ID: inlineBatchId(BATCH) }),
      ...renderStatements(common.transformSummary, { BATCH_ID: inlineBatchId(BATCH) }),
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
