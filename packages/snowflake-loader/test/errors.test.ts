// The loader's error model (issue 11): whether another attempt can help is a property of the error, and the
// exit code a CLI should use is one too.
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import {
  CorruptFileError,
  LoadInputError,
  LoadMismatchError,
  LoadRejectedError,
  SqlTemplateError,
  WarehouseBusyError,
  WarehouseConfigError,
  WarehouseError,
  WarehouseMissingError,
} from '../src/index.js';

/** The message DuckDB itself gives for a statement, so the classification is checked against the real engine. */
async function duckdbMessage(sql: string): Promise<string> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    await c.run(sql);
    throw new Error(`expected ${sql} to fail`);
  } catch (error) {
    return `DuckDB: ${(error as Error).message}`;
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

describe('loader errors carry permanent and exitCode', () => {
  it.each([
    ['an overflow (DuckDB Conversion Error)', 'SELECT CAST(99999999999.99 AS DECIMAL(12,2))', true],
    ['a bad cast (DuckDB Conversion Error)', "SELECT CAST('abc' AS INTEGER)", true],
    ['an unknown table (DuckDB Catalog Error)', 'SELECT * FROM NO_SUCH_TABLE', true],
    ['a syntax error (DuckDB Parser Error)', 'SELEKT 1', true],
  ])('WarehouseError for %s is permanent', async (_what, sql, permanent) => {
    expect(new WarehouseError(await duckdbMessage(sql)).permanent).toBe(permanent);
  });

  it.each([
    ['22003', true], // numeric value out of range
    ['22018', true], // invalid character value for cast
    ['42S02', true], // object does not exist
    ['23000', true], // integrity constraint
    ['08001', false], // connection
    ['57014', false], // statement cancelled (timeout)
    ['XX000', false], // internal error
  ])('WarehouseError with SQL state %s: permanent %s', (sqlState, permanent) => {
    expect(new WarehouseError('Snowflake query failed', { sqlState }).permanent).toBe(permanent);
  });

  it('an explicit permanent wins, and a lock or a connection failure is worth another attempt', () => {
    expect(new WarehouseError('DuckDB: Conversion Error: x', { permanent: false }).permanent).toBe(false);
    expect(new WarehouseError('DuckDB: TransactionContext Error: Conflict on update').permanent).toBe(false);
    expect(new WarehouseError('DuckDB: IO Error: Could not set lock').permanent).toBe(false);
  });

  it.each([
    [new LoadRejectedError('orders', '20260101T0000', 'f', 1, 'C', 'bad', 1), true, 1],
    [new CorruptFileError('orders', '20260101T0000', 'f.gz', 'truncated or corrupt gzip'), true, 1],
    [new LoadMismatchError('x'), true, 1],
    [new LoadInputError('x'), true, 1],
    [new WarehouseConfigError('x'), true, 2],
    [new SqlTemplateError('x'), true, 2],
    [new WarehouseMissingError('x'), true, 2],
    [new WarehouseBusyError('x'), false, 75],
  ] as const)('%s: permanent %s, exit %i', (error, permanent, exitCode) => {
    expect(error.permanent).toBe(permanent);
    expect(error.exitCode).toBe(exitCode);
  });

  it('quotes an untrusted file name in a CorruptFileError: no raw control characters', () => {
    const e = new CorruptFileError('orders', '20260101T0000', 'processing/x/\u001b[31mevil\nname.gz', 'truncated or corrupt gzip');
    expect(e.message).toContain('"processing/x/\\u001b[31mevil\\nname.gz": truncated or corrupt gzip');
    expect(e.message).not.toMatch(/[\u0000-\u001f]/);
  });
});
