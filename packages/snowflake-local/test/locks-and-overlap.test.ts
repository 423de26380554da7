// Sessions that cannot hang, and loads that do not wait for each other, on snowflake-local's lock model
// (a DELETE/UPDATE/MERGE locks its table until the transaction ends; a session whose client died keeps its
// transaction, and so its locks, until the transaction is aborted).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import snowflake from 'snowflake-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBatchId } from '@batchline/batch-id';
import { WarehouseLockedError, type BatchFile } from '@batchline/snowflake-loader';
import { customer, order, startHarness, type Harness } from './loader-harness.js';

const B = toBatchId('20261126T0315');

let h: Harness;
let orders: BatchFile[];
let customers: BatchFile[];

beforeAll(async () => {
  h = await startHarness();
  const wh = await h.warehouse();
  await wh.setup();
  orders = [
    await h.put('orders', B, 'o/orders-1', [order(1, 1), order(2, 1, 'X'), order(3, 2)]),
    await h.put('orders', B, 'o/orders-2', [order(4, 2), [5, 2, 'F', 'not-a-price', '2024-01-01', 'x', 'y', 0, 'bad price']]),
  ];
  customers = [await h.put('customers', B, 'c/customers-1', [customer(1, 'Alice'), customer(2, 'Bob'), [3, '', 'x', 7, 'p', 'not-a-number', 'm', 'c']])];
});

afterAll(() => h.close());

/** A client that BEGINs, takes table locks, and then dies: it never commits, rolls back or logs out. */
async function killedRunHoldingLocks(statements: string[]): Promise<void> {
  const connection = snowflake.createConnection({
    accessUrl: h.server.accessUrl,
    account: h.server.account,
    username: 'killed_run',
    password: randomUUID(),
    database: 'RETAIL_DB',
    schema: 'RETAIL_SCHEMA',
  } as snowflake.ConnectionOptions);
  await new Promise<void>((resolve, reject) => connection.connect((e) => (e ? reject(e) : resolve())));
  for (const sqlText of ['BEGIN', ...statements]) {
    await new Promise<void>((resolve, reject) => connection.execute({ sqlText, complete: (e) => (e ? reject(e) : resolve()) }));
  }
  // ...and the process is gone: no COMMIT, no ROLLBACK, no session delete.
}

/** One statement in a fresh session, as an operator in a worksheet. */
async function operatorSql(sqlText: string): Promise<Record<string, unknown>[]> {
  const connection = snowflake.createConnection({ accessUrl: h.server.accessUrl, account: h.server.account, username: 'operator', password: randomUUID() } as snowflake.ConnectionOptions);
  await new Promise<void>((resolve, reject) => connection.connect((e) => (e ? reject(e) : resolve())));
  try {
    return await new Promise((resolve, reject) =>
      connection.execute({ sqlText, complete: (e, _s, rows) => (e ? reject(e) : resolve((rows ?? []) as Record<string, unknown>[])) }),
    );
  } finally {
    await new Promise<void>((resolve) => connection.destroy(() => resolve()));
  }
}

describe('a killed run left its transaction open', () => {
  it('the rerun fails fast (LOCK_TIMEOUT), naming the lock and SYSTEM$ABORT_TRANSACTION; after the abort it succeeds', async () => {
    await killedRunHoldingLocks([`DELETE FROM ORDERS_RAW WHERE BATCH_ID = '${B}'`]);
    const [held] = h.server.openTransactions().filter((t) => t.user === 'KILLED_RUN');
    expect(held?.lockedTables.join()).toMatch(/ORDERS_RAW/);

    // The loader's session sets LOCK_TIMEOUT (1 s here, 300 s by default) instead of Snowflake's 12 hours.
    const rerun = await h.warehouse({ SNOWFLAKE_LOCK_TIMEOUT: '1' });
    const error = await rerun.load({ entity: 'orders', batchId: B, files: orders, onError: 'quarantine' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WarehouseLockedError);
    const locked = error as WarehouseLockedError;
    expect(locked.exitCode).toBe(75);
    expect(locked.permanent).toBe(false);
    expect(locked.message).toContain('ORDERS_RAW');
    expect(locked.message).toContain(`SYSTEM$ABORT_TRANSACTION(${held!.sessionId})`);
    // The wait ended because of the session's LOCK_TIMEOUT: the server saw the loader set it.
    expect(h.server.statements().some((s) => s.ok && s.sqlText === 'ALTER SESSION SET LOCK_TIMEOUT = 1')).toBe(true);

    await h.server.abortTransaction(held!.sessionId);
    expect(h.server.openTransactions().filter((t) => t.user === 'KILLED_RUN')).toEqual([]);
    const result = await rerun.load({ entity: 'orders', batchId: B, files: orders, onError: 'quarantine' });
    // Independent count: 5 records, one bad status (X), one bad price.
    expect([result.rowsParsed, result.rowsLoaded, result.rowsRejected]).toEqual([5, 3, 2]);
  });
});

describe('a run SIGKILLed in the middle of a load', () => {
  it('leaves its locks; the rerun fails fast naming SYSTEM$ABORT_TRANSACTION, and succeeds after it', async () => {
    // The child's load stops inside its transaction (after DELETE FROM ORDERS_RAW locked the table): its
    // validation COPY waits here for a partner that only the rerun will bring.
    h.server.rendezvous({ sql: /^COPY INTO ORDERS_CSV\b/, parties: 2, timeoutMs: 120_000 });
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { openWarehouse } from '@batchline/snowflake-loader';
         const wh = await openWarehouse(process.env.URL, { env: process.env });
         await wh.load(JSON.parse(process.env.REQUEST));`,
      ],
      {
        cwd: path.dirname(fileURLToPath(import.meta.url)),
        env: {
          ...process.env,
          URL: h.server.warehouseUrl({ warehouse: 'LOAD_WH' }),
          SNOWFLAKE_USER: 'doomed_run',
          SNOWFLAKE_AUTHENTICATOR: 'SNOWFLAKE',
          SNOWFLAKE_PASSWORD: randomUUID(),
          SF_TELEMETRY_DISABLE_CONNECTION_SHAPE: '1',
          REQUEST: JSON.stringify({ entity: 'orders', batchId: B, files: orders, onError: 'quarantine' }),
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    // Wait (by events, not by time) until the child's transaction holds the lock and its COPY is waiting.
    while (!h.server.queries().some((q) => q.status === 'running' && q.sqlText.startsWith('COPY INTO ORDERS_CSV'))) {
      if (child.exitCode !== null) throw new Error(`the child ended early: ${stderr}`);
      await new Promise((r) => setImmediate(r));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const [held] = h.server.openTransactions().filter((t) => t.user === 'DOOMED_RUN');
    expect(held?.lockedTables.join()).toMatch(/ORDERS_RAW/);

    const rerun = await h.warehouse({ SNOWFLAKE_LOCK_TIMEOUT: '1' });
    const error = await rerun.load({ entity: 'orders', batchId: B, files: orders, onError: 'quarantine' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WarehouseLockedError);
    expect((error as Error).message).toContain(`SYSTEM$ABORT_TRANSACTION(${held!.sessionId})`);

    // What the message says to do, as an operator would, in SQL.
    const [aborted] = await operatorSql(`SELECT SYSTEM$ABORT_TRANSACTION(${held!.sessionId})`);
    expect(Object.values(aborted!)).toEqual([`Aborted transaction ${held!.sessionId}`]);
    expect(h.server.openTransactions().filter((t) => t.user === 'DOOMED_RUN')).toEqual([]);
    const result = await rerun.load({ entity: 'orders', batchId: B, files: orders, onError: 'quarantine' });
    expect([result.rowsParsed, result.rowsLoaded, result.rowsRejected]).toEqual([5, 3, 2]);
  });
});

describe('the two entity loads of a batch', () => {
  it('run at the same time: their COPYs overlap, though both write LOAD_REJECTS and BATCH_AUDIT', async () => {
    // Each COPY waits here until the other has started too; were one load blocked on a lock the other holds
    // until COMMIT, it would never arrive and the rendezvous would fail the load.
    h.server.rendezvous({ sql: /^COPY INTO (ORDERS|CUSTOMERS)_RAW\b/, parties: 2, timeoutMs: 30_000 });
    const wh = await h.warehouse();
    const first = h.server.statements().length;
    const [o, c] = await Promise.all([
      wh.load({ entity: 'orders', batchId: B, files: orders, onError: 'quarantine' }),
      wh.load({ entity: 'customers', batchId: B, files: customers, onError: 'quarantine' }),
    ]);
    expect([o.rowsLoaded, o.rowsRejected, c.rowsLoaded, c.rowsRejected]).toEqual([3, 2, 2, 1]);
    const ran = h.server.statements().slice(first);
    const copy = (table: string) => ran.find((s) => s.ok && s.sqlText.startsWith(`COPY INTO ${table}`))!;
    const a = copy('ORDERS_RAW');
    const b = copy('CUSTOMERS_RAW');
    // Overlap of intervals, not durations.
    expect(a.startedAt < b.finishedAt && b.startedAt < a.finishedAt).toBe(true);
    // Both wrote the shared tables in their own transaction, after their COPY.
    for (const s of [a, b]) {
      const own = ran.filter((x) => x.sessionId === s.sessionId && x.ok);
      const rejects = own.findIndex((x) => /^DELETE FROM LOAD_REJECTS/.test(x.sqlText));
      const audit = own.findIndex((x) => /^DELETE FROM BATCH_AUDIT/.test(x.sqlText));
      const copyAt = own.indexOf(s);
      expect(rejects).toBeGreaterThan(copyAt);
      expect(audit).toBeGreaterThan(copyAt);
    }
    const rejected = await h.server.sql(`SELECT ENTITY, COUNT(*) AS N FROM RETAIL_DB.RETAIL_SCHEMA.LOAD_REJECTS WHERE BATCH_ID = '${B}' GROUP BY 1 ORDER BY 1`);
    expect(rejected).toEqual([
      { ENTITY: 'customers', N: '1' },
      { ENTITY: 'orders', N: '2' },
    ]);
  });
});
