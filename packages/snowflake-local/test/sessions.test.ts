import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSnowflakeLocal, type SnowflakeLocal } from '../src/index.js';
import { connect, failure, type Client, type Row } from './helpers.js';

let server: SnowflakeLocal;
let a: Client;
let b: Client;

beforeAll(async () => {
  server = await startSnowflakeLocal();
  a = await connect(server);
  await a.exec('CREATE DATABASE IF NOT EXISTS SESS');
  await a.exec('CREATE TABLE SESS.PUBLIC.T (ID NUMBER(38,0), NOTE VARCHAR)');
  b = await connect(server, { database: 'SESS', schema: 'PUBLIC' });
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await server?.stop();
});

const count = async (c: Client, where = '1 = 1') => Number((await c.exec(`SELECT COUNT(*) AS N FROM SESS.PUBLIC.T WHERE ${where}`))[0]!.N);

describe('multi-statement requests', () => {
  it('runs every statement and hands the driver one result per statement', async () => {
    const results = await new Promise<Row[][]>((resolve, reject) => {
      const all: Row[][] = [];
      a.connection.execute({
        sqlText: "INSERT INTO SESS.PUBLIC.T VALUES (1, 'm'); SELECT COUNT(*) AS N FROM SESS.PUBLIC.T; SELECT 'x' AS X",
        parameters: { MULTI_STATEMENT_COUNT: 3 },
        complete: (err, stmt, rows) => {
          if (err) return reject(err);
          all.push((rows ?? []) as Row[]);
          // the driver's multi-statement cursor (typed only on its file statements)
          const multi = stmt as unknown as { hasNext(): boolean; NextResult(): void };
          if (multi.hasNext()) multi.NextResult();
          else resolve(all);
        },
      });
    });
    expect(results).toEqual([[{ 'number of rows inserted': 1 }], [{ N: 1 }], [{ X: 'x' }]]);
  });

  it('refuses a count mismatch, including the default of one statement', async () => {
    const err = await failure(a.exec('SELECT 1; SELECT 2'));
    expect(err.code).toBe('000008');
    expect(err.message).toBe('Actual statement count 2 did not match the desired statement count 1.');
    expect((await failure(a.exec('SELECT 1; SELECT 2', undefined, { MULTI_STATEMENT_COUNT: 3 }))).code).toBe('000008');
  });

  it('stops at the first failing statement; the ones before it stay done', async () => {
    const err = await failure(a.exec("INSERT INTO SESS.PUBLIC.T VALUES (2, 'm'); SELECT * FROM NOPE; INSERT INTO SESS.PUBLIC.T VALUES (3, 'm')", undefined, { MULTI_STATEMENT_COUNT: 0 }));
    expect(err.code).toBe('002003');
    expect(await count(a, "NOTE = 'm'")).toBe(2);
  });
});

describe('transactions, one per session', () => {
  it('keeps uncommitted rows private to the session and publishes them on COMMIT', async () => {
    await a.exec('BEGIN');
    await a.exec("INSERT INTO SESS.PUBLIC.T VALUES (10, 'tx')");
    expect(await count(a, "NOTE = 'tx'")).toBe(1);
    expect(await count(b, "NOTE = 'tx'")).toBe(0);
    await a.exec('COMMIT');
    expect(await count(b, "NOTE = 'tx'")).toBe(1);
  });

  it('undoes everything on ROLLBACK', async () => {
    await a.exec('BEGIN TRANSACTION');
    await a.exec("DELETE FROM SESS.PUBLIC.T WHERE NOTE = 'tx'");
    await a.exec("INSERT INTO SESS.PUBLIC.T VALUES (11, 'rolled back')");
    await a.exec('ROLLBACK');
    expect(await count(b, "NOTE = 'tx'")).toBe(1);
    expect(await count(b, "NOTE = 'rolled back'")).toBe(0);
  });

  it('commits the open transaction before DDL, as Snowflake does', async () => {
    await a.exec('BEGIN');
    await a.exec("INSERT INTO SESS.PUBLIC.T VALUES (12, 'before ddl')");
    await a.exec('CREATE TABLE SESS.PUBLIC.DDL_COMMITS (X NUMBER)');
    await a.exec('ROLLBACK'); // nothing left to roll back
    expect(await count(b, "NOTE = 'before ddl'")).toBe(1);
  });

  it('after a failed statement inside a transaction, demands ROLLBACK rather than guessing', async () => {
    await a.exec('BEGIN');
    await a.exec("INSERT INTO SESS.PUBLIC.T VALUES (13, 'doomed')");
    expect((await failure(a.exec("INSERT INTO SESS.PUBLIC.T VALUES ('not a number', 'x')"))).code).toBe('100038');
    const next = await failure(a.exec('SELECT 1 AS ONE'));
    expect(next.code).toBe('000002');
    expect(next.message).toContain('ROLLBACK');
    await a.exec('ROLLBACK');
    expect(await count(b, "NOTE = 'doomed'")).toBe(0);
    expect(await a.exec('SELECT 1 AS ONE')).toEqual([{ ONE: 1 }]);
  });

  it('makes a DELETE wait for another transaction\'s DELETE on the same table instead of failing', async () => {
    const events: string[] = [];
    await a.exec('BEGIN');
    await a.exec("DELETE FROM SESS.PUBLIC.T WHERE NOTE = 'tx'");
    const waiting = b.exec("DELETE FROM SESS.PUBLIC.T WHERE NOTE = 'tx'").then((rows) => {
      events.push('b deleted');
      return rows;
    });
    await a.exec("INSERT INTO SESS.PUBLIC.T VALUES (14, 'tx')");
    events.push('a commits');
    await a.exec('COMMIT');
    expect(await waiting).toEqual([{ 'number of rows deleted': 1 }]);
    expect(events).toEqual(['a commits', 'b deleted']);
  });

  it('fails the statement that would close a deadlock at once, and the other transaction goes on', async () => {
    await a.exec('CREATE TABLE IF NOT EXISTS SESS.PUBLIC.U (ID NUMBER(38,0))');
    await a.exec('BEGIN');
    await b.exec('BEGIN');
    await a.exec('DELETE FROM SESS.PUBLIC.T WHERE ID = -1');
    await b.exec('DELETE FROM SESS.PUBLIC.U WHERE ID = -1');
    // Each now wants the other's table. Whichever request closes the cycle fails; the other waits.
    const settle = (who: Client, p: Promise<unknown>) => p.then(() => ({ who, error: undefined }), (error: Error & { code?: string }) => ({ who, error }));
    const pa = settle(a, a.exec('DELETE FROM SESS.PUBLIC.U WHERE ID = -2'));
    const pb = settle(b, b.exec('DELETE FROM SESS.PUBLIC.T WHERE ID = -2'));
    const first = await Promise.race([pa, pb]);
    expect(first.error?.code).toBe('000625');
    expect(first.error?.message).toContain('deadlock');
    await first.who.exec('ROLLBACK');
    const other = await (first.who === a ? pb : pa);
    expect(other.error).toBeUndefined();
    await other.who.exec('COMMIT');
  });

  it('rolls back an open transaction when the session is deleted', async () => {
    const c = await connect(server);
    const before = server.sessionCount();
    await c.exec('BEGIN');
    await c.exec("INSERT INTO SESS.PUBLIC.T VALUES (15, 'abandoned')");
    await c.close();
    expect(server.sessionCount()).toBe(before - 1);
    expect(await count(b, "NOTE = 'abandoned'")).toBe(0);
  });
});

describe('driver retries, de-duplicated by requestId', () => {
  it('a connection dropped mid-statement: the retry waits for that same execution, nothing runs twice', async () => {
    const fault = server.injectFault({ action: { kind: 'drop-connection' }, sql: "'dropped'", when: 'during' });
    expect(await a.exec("INSERT INTO SESS.PUBLIC.T VALUES (20, 'dropped')")).toEqual([{ 'number of rows inserted': 1 }]);
    expect(fault.hits).toBe(1);
    expect(await count(a, "NOTE = 'dropped'")).toBe(1);
    const record = server.queries().find((q) => q.sqlText.includes("'dropped'"))!;
    expect(record).toMatchObject({ attempts: 2, executions: 1, status: 'succeeded' });
  });

  it('503 before the statement runs: retried, runs once', async () => {
    const fault = server.injectFault({ action: { kind: 'http-status', status: 503 }, sql: "'503'" });
    expect(await a.exec("INSERT INTO SESS.PUBLIC.T VALUES (21, '503')")).toEqual([{ 'number of rows inserted': 1 }]);
    expect(fault.hits).toBe(1);
    expect(await count(a, "NOTE = '503'")).toBe(1);
    expect(server.queries().find((q) => q.sqlText.includes("'503'"))).toMatchObject({ attempts: 2, executions: 1 });
  });

  it('429 after the statement ran: retried, the stored result answers', async () => {
    server.injectFault({ action: { kind: 'http-status', status: 429 }, sql: "'429'", when: 'after' });
    expect(await a.exec("INSERT INTO SESS.PUBLIC.T VALUES (22, '429')")).toEqual([{ 'number of rows inserted': 1 }]);
    expect(await count(a, "NOTE = '429'")).toBe(1);
    expect(server.queries().find((q) => q.sqlText.includes("'429'"))).toMatchObject({ attempts: 2, executions: 1 });
  });
});

describe('session tokens', () => {
  it('renews an expired session token with the master token, without a new login', async () => {
    const logins = server.logins().length;
    const renewals = server.tokenRenewals();
    server.expireSessionTokens();
    expect(await a.exec('SELECT 2 AS TWO')).toEqual([{ TWO: 2 }]);
    expect(server.tokenRenewals()).toBe(renewals + 1);
    expect(server.logins().length).toBe(logins);
    const heartbeats = server.requestCounts().heartbeat;
    expect(await a.connection.isValidAsync()).toBe(true); // heartbeat on the renewed token
    expect(server.requestCounts().heartbeat).toBe(heartbeats + 1);
  });

  it('a token that expires as a statement finishes: renewed, resent, run once', async () => {
    server.injectFault({ action: { kind: 'expire-session' }, sql: "'expiring'", when: 'after' });
    expect(await a.exec("INSERT INTO SESS.PUBLIC.T VALUES (23, 'expiring')")).toEqual([{ 'number of rows inserted': 1 }]);
    expect(await count(a, "NOTE = 'expiring'")).toBe(1);
    expect(server.queries().find((q) => q.sqlText.includes("'expiring'"))).toMatchObject({ attempts: 2, executions: 1 });
  });
});

describe('long statements and logins', () => {
  it('answers "in progress" (333333) and serves the result by id to the polling driver', async () => {
    const slow = await startSnowflakeLocal({ queryInProgressAfterMs: 0 });
    try {
      const c = await connect(slow);
      expect(await c.exec("SELECT 'polled' AS P")).toEqual([{ P: 'polled' }]);
      await c.close();
      expect(slow.requestCounts()).toMatchObject({ login: 1, query: 1, 'session-delete': 1, unknown: 0 });
      expect(slow.requestCounts().result).toBeGreaterThanOrEqual(1);
    } finally {
      await slow.stop();
    }
  });

  it('checks passwords and key-pair JWTs when users are configured', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const password = randomBytes(12).toString('base64url'); // made up per run
    const secured = await startSnowflakeLocal({
      users: { ALICE: { password }, ROBOT: { publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() } },
    });
    try {
      const ok = await connect(secured, { username: 'alice', password });
      await ok.close();
      const wrong = await failure(connect(secured, { username: 'alice', password: `${password}x`, sfRetryMaxLoginRetries: 0 } as never));
      expect(wrong.code).toBe('390100');
      const pem = (k: typeof privateKey) => k.export({ type: 'pkcs8', format: 'pem' }).toString();
      const robot = await connect(secured, { username: 'robot', authenticator: 'SNOWFLAKE_JWT', privateKey: pem(privateKey), password: undefined } as never);
      expect(await robot.exec('SELECT CURRENT_USER() AS U')).toEqual([{ U: 'ROBOT' }]);
      await robot.close();
      const impostor = await failure(connect(secured, { username: 'robot', authenticator: 'SNOWFLAKE_JWT', privateKey: pem(other.privateKey), password: undefined } as never));
      expect(impostor.code).toBe('390100');
      expect(secured.logins().map((l) => [l.user.toUpperCase(), l.authenticator, l.accepted])).toEqual([
        ['ALICE', 'SNOWFLAKE', true],
        ['ALICE', 'SNOWFLAKE', false],
        ['ROBOT', 'SNOWFLAKE_JWT', true],
        ['ROBOT', 'SNOWFLAKE_JWT', false],
      ]);
    } finally {
      await secured.stop();
    }
  });
});
