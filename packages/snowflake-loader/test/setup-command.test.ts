import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { runSetupCommand } from '../src/setup-command.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

describe('batchline-warehouse', () => {
  it('setup applies the DuckDB DDL, idempotently', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'batchline-cli-'));
    try {
      const file = path.join(dir, 'nested', 'w.duckdb');
      for (let i = 0; i < 2; i++) {
        const run = io();
        expect(await runSetupCommand(['setup', `duckdb://${file}`], run.io)).toBe(0);
        expect(run.out.join('')).toContain('duckdb setup applied');
      }
      const instance = await DuckDBInstance.create(file);
      const connection = await instance.connect();
      const tables = (await connection.runAndReadAll('SELECT table_name FROM information_schema.tables ORDER BY 1')).getRows().map((r) => r[0]);
      connection.closeSync();
      instance.closeSync();
      expect(tables).toEqual([
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
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('print-setup snowflake renders the loader part, snowflake-admin the admin part', async () => {
    const run = io();
    const code = await runSetupCommand(['print-setup', 'snowflake', '--stage-url', 's3://retail-landing/firehose/'], run.io);
    expect(code).toBe(0);
    const text = run.out.join('');
    expect(text).toContain("URL = 's3://retail-landing/firehose/customers/'");
    expect(text).toContain('SKIP_HEADER = 0');
    expect(text).not.toMatch(/CREATE (DATABASE|SCHEMA|STORAGE INTEGRATION)/);
    const admin = io();
    expect(
      await runSetupCommand(
        ['print-setup', 'snowflake-admin', '--stage-url', 's3://retail-landing/firehose/', '--role-arn', 'arn:aws:iam::123456789012:role/sf-read', '--role', 'BATCHLINE', '--warehouse', 'LOAD_WH'],
        admin.io,
      ),
    ).toBe(0);
    const adminText = admin.out.join('');
    expect(adminText).toContain("STORAGE_AWS_ROLE_ARN = 'arn:aws:iam::123456789012:role/sf-read'");
    expect(adminText).toContain('CREATE DATABASE IF NOT EXISTS RETAIL_DB');
    expect(adminText).toContain('GRANT USAGE ON INTEGRATION S3_INTEGRATION_PRO TO ROLE BATCHLINE');
    expect(adminText).not.toMatch(/^CREATE (OR REPLACE )?(TABLE|STAGE|FILE FORMAT)/m);
  });

  it('explains bad usage and bad values', async () => {
    const unknown = io();
    expect(await runSetupCommand(['frobnicate'], unknown.io)).toBe(2);
    expect(unknown.err.join('')).toMatch(/unknown command 'frobnicate'[\s\S]*--help for usage/);
    const bad = io();
    expect(await runSetupCommand(['setup', 'postgres://x'], bad.io)).toBe(2);
    expect(bad.err.join('')).toMatch(/Unsupported warehouse URL "postgres:\/\/x"/);
    const badName = io();
    expect(await runSetupCommand(['print-setup', 'snowflake-admin', '--database', 'X;DROP'], badName.io)).toBe(2);
    expect(badName.err.join('')).toMatch(/Invalid database "X;DROP"/);
  });
});
