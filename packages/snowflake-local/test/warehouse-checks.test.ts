// checkWarehouse (batchline doctor's warehouse part) through snowflake-sdk against snowflake-local: what it finds
// before `batchline setup` (with the fix), after it, and that it leaves nothing behind.
import { randomUUID } from 'node:crypto';
import snowflake from 'snowflake-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkWarehouse, openWarehouse, WarehouseConfigError, warehouseProbeRecord } from '@batchline/snowflake-loader';
import { startSnowflakeLocal } from '../src/index.js';
import { STAGE_URL, startHarness, type Harness } from './loader-harness.js';

let h: Harness;
const password = randomUUID();
const env = { SNOWFLAKE_USER: 'batchline', SNOWFLAKE_AUTHENTICATOR: 'SNOWFLAKE', SNOWFLAKE_PASSWORD: password };

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

async function probe(): Promise<{ folder: string; file: string }> {
  const folder = `_batchline/doctor/${randomUUID()}/`;
  for (const entity of ['orders', 'customers'] as const) await h.store.put(`firehose/${entity}/${folder}probe.csv`, await warehouseProbeRecord(entity));
  return { folder, file: 'probe.csv' };
}

describe('batchline setup without the admin part', () => {
  it('fails naming sql/snowflake/admin/, and creates nothing', async () => {
    const server = await startSnowflakeLocal();
    try {
      const wh = await openWarehouse(server.warehouseUrl({ warehouse: 'LOAD_WH' }), { env });
      const error = await wh.setup().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WarehouseConfigError);
      expect((error as Error).message).toMatch(/an admin runs sql\/snowflake\/admin\/\*\.sql first/);
      expect((error as Error).message).toMatch(/print-setup snowflake-admin/);
      expect(server.statements().filter((s) => s.ok && /^CREATE (DATABASE|SCHEMA)/.test(s.sqlText))).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('checkWarehouse on Snowflake', () => {
  it('before setup: login passes; tables and stages fail, each naming batchline setup', async () => {
    const checks = await checkWarehouse(h.server.warehouseUrl({ warehouse: 'LOAD_WH' }), { env, stageProbe: await probe() });
    const byId = Object.fromEntries(checks.map((c) => [c.id, c]));
    expect(byId['login']!.ok).toBe(true);
    expect(byId['warehouse']!.ok).toBe(true);
    expect(byId['schema']!.ok).toBe(true);
    expect(byId['tables']!.ok).toBe(false);
    expect(byId['tables']!.detail).toMatch(/ORDERS_RAW/);
    expect(byId['tables']!.fix).toMatch(/batchline setup/);
    expect(byId['stage-orders']!.ok).toBe(false);
    expect(byId['stage-orders']!.fix).toMatch(/batchline setup/);
  });

  it('after setup: every check passes, METADATA$FILENAME is stage-relative here, and nothing is left behind', async () => {
    const wh = await h.warehouse();
    await wh.setup();
    const first = h.server.statements().length;
    const checks = await checkWarehouse(h.server.warehouseUrl({ warehouse: 'LOAD_WH' }), { env, snowflake: { stageUrl: STAGE_URL }, stageProbe: await probe() });
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.find((c) => c.id === 'stage-customers')!.detail).toMatch(/METADATA\$FILENAME is stage-relative/);
    const ran = h.server.statements().slice(first);
    expect(ran.filter((s) => /^(CREATE|DROP|ALTER TABLE|COMMIT)\b/.test(s.sqlText))).toEqual([]);
    expect(ran.filter((s) => s.sqlText === 'ROLLBACK').length).toBeGreaterThanOrEqual(ran.filter((s) => s.sqlText === 'BEGIN').length);
    for (const table of ['ORDERS_RAW', 'CUSTOMERS_RAW', 'LOAD_REJECTS', 'BATCH_AUDIT']) {
      expect(await h.server.sql(`SELECT COUNT(*) AS N FROM RETAIL_DB.RETAIL_SCHEMA.${table}`)).toEqual([{ N: '0' }]);
    }
    expect(h.server.openTransactions()).toEqual([]);
  });

  it('a table locked by a dead run: reported as locked (with SYSTEM$ABORT_TRANSACTION), without a long wait', async () => {
    const connection = snowflake.createConnection({
      accessUrl: h.server.accessUrl,
      account: h.server.account,
      username: 'dead_run',
      password: randomUUID(),
      database: 'RETAIL_DB',
      schema: 'RETAIL_SCHEMA',
    } as snowflake.ConnectionOptions);
    await new Promise<void>((resolve, reject) => connection.connect((e) => (e ? reject(e) : resolve())));
    for (const sqlText of ['BEGIN', 'DELETE FROM CUSTOMERS_RAW WHERE 1 = 0']) {
      await new Promise<void>((resolve, reject) => connection.execute({ sqlText, complete: (e) => (e ? reject(e) : resolve()) }));
    }
    const checks = await checkWarehouse(h.server.warehouseUrl({ warehouse: 'LOAD_WH' }), { env: { ...env, SNOWFLAKE_LOCK_TIMEOUT: '1' } });
    const locks = checks.find((c) => c.id === 'locks')!;
    expect(locks.ok).toBe(false);
    expect(locks.detail).toMatch(/CUSTOMERS_RAW/);
    expect(locks.fix).toMatch(/SYSTEM\$ABORT_TRANSACTION/);
    const [dead] = h.server.openTransactions().filter((t) => t.user === 'DEAD_RUN');
    await h.server.abortTransaction(dead!.sessionId);
  });
});
