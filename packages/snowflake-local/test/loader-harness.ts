// A small harness for the loader's Snowflake adapter against snowflake-local: a store with a batch's files, a
// server set up the way an admin would (sql/snowflake/admin/), and warehouses opened the way the pipeline does.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BatchId } from '@batchline/batch-id';
import { FileObjectStore } from '@batchline/s3-lifecycle';
import { openWarehouse, snowflakeAdminSql, type BatchFile, type Entity, type Warehouse } from '@batchline/snowflake-loader';
import { startSnowflakeLocal, type SnowflakeLocal, type SnowflakeLocalOptions, type StageFileSource } from '../src/index.js';

export const STAGE_URL = 's3://batchline-harness/firehose/';
/** ARN-shaped, not a credential: the admin's storage integration records it. */
export const ROLE_ARN = 'arn:aws:iam::123456789012:role/batchline-harness';

export type Line = (string | number)[];

export function csvLine(values: Line): string {
  return values
    .map((v) => {
      const s = String(v);
      return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    })
    .join(',');
}

export interface Harness {
  readonly dir: string;
  readonly store: FileObjectStore;
  readonly server: SnowflakeLocal;
  /** Writes a file of the batch under processing/<id>/ and returns it as the load request names it. */
  put(entity: Entity, batch: BatchId, filePath: string, lines: Line[]): Promise<BatchFile>;
  /** A warehouse as the pipeline opens it; `env` adds to a password login (generated per run). */
  warehouse(env?: Record<string, string>): Promise<Warehouse>;
  close(): Promise<void>;
}

export async function startHarness(
  options: Omit<SnowflakeLocalOptions, 'objectStore' | 'stageUrls'> & { stageView?: (store: FileObjectStore) => StageFileSource } = {},
): Promise<Harness> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sfl-harness-'));
  const store = new FileObjectStore(path.join(dir, 'store'));
  const { stageView, ...serverOptions } = options;
  const server = await startSnowflakeLocal({ ...serverOptions, objectStore: stageView ? stageView(store) : store, stageUrls: { [STAGE_URL]: 'firehose/' } });
  // The whole admin part, as an admin would run it: database, schema, integration, loader role and grants, service user.
  await server.runAdmin(
    snowflakeAdminSql({
      database: 'RETAIL_DB',
      schema: 'RETAIL_SCHEMA',
      stageUrl: STAGE_URL,
      storageAwsRoleArn: ROLE_ARN,
      role: 'BATCHLINE',
      warehouse: 'LOAD_WH',
      user: 'GHA_BATCHLINE',
      githubOidcSubject: 'repo:example/batchline:ref:refs/heads/main',
    }),
  );
  const opened: Warehouse[] = [];
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const harness: Harness = {
    dir,
    store,
    server,
    put: async (entity, batch, filePath, lines) => {
      const key = `firehose/${entity}/processing/${batch}/${filePath}`;
      const body = Buffer.from(lines.map(csvLine).join('\n') + (lines.length > 0 ? '\n' : ''));
      await store.put(key, body);
      return { path: filePath, key, size: body.length };
    },
    warehouse: async (env = {}) => {
      const warehouse = await openWarehouse(server.warehouseUrl({ warehouse: 'LOAD_WH' }), {
        files: store,
        snowflake: { stageUrl: STAGE_URL },
        env: { SNOWFLAKE_USER: 'batchline', SNOWFLAKE_AUTHENTICATOR: 'SNOWFLAKE', SNOWFLAKE_PASSWORD: password, ...env },
      });
      opened.push(warehouse);
      return warehouse;
    },
    close: async () => {
      for (const w of opened) await w.close();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** An order line: key, customer, status, price, date, and the rest filled in. */
export const order = (key: number, cust: number, status = 'F', price = '1.00', date = '2024-01-01'): Line => [key, cust, status, price, date, '1-URGENT', 'Clerk#1', 0, `order ${key}`];
export const customer = (key: number, name: string): Line => [key, name, `${key} Main St`, 7, '10-111-222-3333', '1.00', 'BUILDING', `customer ${key}`];
