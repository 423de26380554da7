import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSnowflakeLocal, type SnowflakeLocal } from '../src/index.js';
import { connect, failure, type Client } from './helpers.js';

let server: SnowflakeLocal;
let client: Client;

beforeAll(async () => {
  server = await startSnowflakeLocal();
  client = await connect(server);
});

afterAll(async () => {
  await client?.close();
  await server?.stop();
});

describe('the real snowflake-sdk against snowflake-local', () => {
  it('logs in on loopback and runs a query', async () => {
    expect(server.accessUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const rows = await client.exec('SELECT 1 AS ONE, \'a\' AS T');
    expect(rows).toEqual([{ ONE: 1, T: 'a' }]);
    expect(server.logins().at(-1)).toMatchObject({ user: 'tester', accepted: true, authenticator: 'SNOWFLAKE' });
  });

  it('creates a database, schema and table and reads typed values back', async () => {
    await client.exec('CREATE DATABASE IF NOT EXISTS TESTDB');
    await client.exec('CREATE SCHEMA IF NOT EXISTS TESTDB.S1');
    await client.exec('CREATE TABLE T1 (ID NUMBER(38,0) NOT NULL, NAME VARCHAR(10), PRICE NUMBER(12,2), D DATE, TS TIMESTAMP_NTZ, OK BOOLEAN)');
    const inserted = await client.exec(
      "INSERT INTO T1 VALUES (1, 'one', 12.5, '2024-02-29', '2024-02-29 10:11:12.345', TRUE), (2, NULL, -0.07, NULL, NULL, FALSE)",
    );
    expect(inserted).toEqual([{ 'number of rows inserted': 2 }]);
    const rows = await client.exec('SELECT ID, NAME, PRICE, D, TS, OK FROM TESTDB.S1.T1 ORDER BY ID');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ ID: 1, NAME: 'one', PRICE: 12.5, OK: true });
    expect((rows[0]!.D as Date).toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect((rows[0]!.TS as Date).toISOString()).toBe('2024-02-29T10:11:12.345Z');
    expect(rows[1]).toMatchObject({ ID: 2, NAME: null, PRICE: -0.07, D: null, TS: null, OK: false });
  });
});

describe('binds', () => {
  it('binds positional ? and numbered :n values of each driver type', async () => {
    await client.exec('CREATE OR REPLACE TABLE TESTDB.S1.B (ID NUMBER(38,0), NAME VARCHAR, PRICE NUMBER(12,2), RATIO FLOAT, OK BOOLEAN, LOGGED_AT TIMESTAMP_LTZ)');
    await client.exec('INSERT INTO TESTDB.S1.B VALUES (?, ?, ?, ?, ?, ?)', [7, "O'Brien", '12.345', 0.25, true, '2024-03-01T10:00:00.000Z']);
    const rows = await client.exec('SELECT ID, NAME, PRICE, RATIO, OK FROM TESTDB.S1.B WHERE NAME = :2 AND ID = :1', [7, "O'Brien"]);
    // 12.345 into NUMBER(12,2) rounds half away from zero, as Snowflake does
    expect(rows).toEqual([{ ID: 7, NAME: "O'Brien", PRICE: 12.35, RATIO: 0.25, OK: true }]);
    const [at] = await client.exec('SELECT LOGGED_AT FROM TESTDB.S1.B');
    expect((at!.LOGGED_AT as Date).toISOString()).toBe('2024-03-01T10:00:00.000Z');
  });

  it('inserts array binds as one statement, all rows or none', async () => {
    await client.exec('CREATE OR REPLACE TABLE TESTDB.S1.A (ID NUMBER(38,0) NOT NULL, NAME VARCHAR)');
    const { statement } = await client.statement('INSERT INTO TESTDB.S1.A (ID, NAME) VALUES (?, ?)', [
      [1, 'a'],
      [2, null],
      [3, 'c'],
    ]);
    expect(statement.getNumUpdatedRows()).toBe(3);
    const err = await failure(client.exec('INSERT INTO TESTDB.S1.A (ID, NAME) VALUES (?, ?)', [[4, 'd'], [null, 'e']]));
    expect(err.code).toBe('100072');
    expect(await client.exec('SELECT COUNT(*) AS N FROM TESTDB.S1.A')).toEqual([{ N: 3 }]);
  });

  it('reports a missing bind the way Snowflake does', async () => {
    const err = await failure(client.exec('SELECT ? AS A, ? AS B', [1]));
    expect(err.code).toBe('002049');
    expect(err.sqlState).toBe('42601');
  });
});

describe('errors surface with Snowflake code and sqlState', () => {
  it('a syntax error is a compilation error', async () => {
    const err = await failure(client.exec('SELEC 1'));
    expect(err.name).toBe('OperationFailedError');
    expect(err.code).toBe('001003');
    expect(err.sqlState).toBe('42000');
    expect(err.message).toMatch(/^SQL compilation error/);
    expect(err.data?.queryId).toMatch(/[0-9a-f-]{36}/);
  });

  it('a missing table is 002003 / 42S02', async () => {
    const err = await failure(client.exec('SELECT * FROM TESTDB.S1.NO_SUCH_TABLE'));
    expect(err.code).toBe('002003');
    expect(err.sqlState).toBe('42S02');
    expect(err.message).toContain('does not exist or not authorized');
  });

  it('an unknown column is invalid identifier 000904', async () => {
    const err = await failure(client.exec('SELECT NOPE FROM TESTDB.S1.A'));
    expect(err.code).toBe('000904');
    expect(err.message).toContain("invalid identifier 'NOPE'");
  });

  it('a bad numeric value is 100038 / 22018', async () => {
    const err = await failure(client.exec("SELECT CAST('abc' AS NUMBER(10,2)) AS X"));
    expect(err.code).toBe('100038');
    expect(err.sqlState).toBe('22018');
    expect(err.message).toBe("Numeric value 'abc' is not recognized");
  });

  it('anything outside the translated dialect is rejected as unsupported, never answered', async () => {
    for (const sql of ['SELECT GREATEST(1, NULL) AS G', 'SELECT 7 / 2 AS Q', 'SELECT * FROM TESTDB.S1.A SAMPLE (10)', 'SHOW TABLES', 'SELECT PARSE_JSON(\'{}\') AS J', "SELECT LEFT('abc', -1) AS L"]) {
      const err = await failure(client.exec(sql));
      expect(err.code, sql).toBe('000002');
      expect(err.sqlState, sql).toBe('0A000');
    }
  });
});

describe('dialect translation', () => {
  it('IFF, NVL, CURRENT_TIMESTAMP(), QUALIFY, MINUS and NULL ordering behave as on Snowflake', async () => {
    const rows = await client.exec(`
      SELECT IFF(ID > 1, 'big', 'small') AS SIZE, NAME, NVL(NAME, '-') AS SHOWN,
             CURRENT_TIMESTAMP() >= '2020-01-01'::TIMESTAMP_NTZ AS NOW_OK
      FROM TESTDB.S1.A
      QUALIFY ROW_NUMBER() OVER (ORDER BY ID) <= 3
      ORDER BY NAME DESC`);
    // Snowflake sorts NULL as the largest value: first when descending
    expect(rows.map((r) => r.SHOWN)).toEqual(['-', 'c', 'a']);
    expect(rows.map((r) => r.SIZE)).toEqual(['big', 'big', 'small']);
    expect((await client.exec('SELECT NAME FROM TESTDB.S1.A ORDER BY NAME')).map((r) => r.NAME)).toEqual(['a', 'c', null]);
    expect(rows.every((r) => r.NOW_OK === true)).toBe(true);
    expect(await client.exec('SELECT ID FROM TESTDB.S1.A MINUS SELECT 1 ORDER BY ID')).toEqual([{ ID: 2 }, { ID: 3 }]);
  });

  it('enforces VARCHAR(n) and NOT NULL, and ignores PRIMARY KEY/UNIQUE as Snowflake does', async () => {
    await client.exec('CREATE OR REPLACE TABLE TESTDB.S1.K (ID NUMBER(38,0) PRIMARY KEY, CODE VARCHAR(3) UNIQUE)');
    await client.exec("INSERT INTO TESTDB.S1.K VALUES (1, 'abc'), (1, 'abc')");
    expect(await client.exec('SELECT COUNT(*) AS N FROM TESTDB.S1.K')).toEqual([{ N: 2 }]);
    expect((await failure(client.exec("INSERT INTO TESTDB.S1.K VALUES (2, 'abcd')"))).code).toBe('100074');
    expect((await failure(client.exec("INSERT INTO TESTDB.S1.K VALUES (NULL, 'x')"))).code).toBe('100072');
  });

  it('SUBSTR reads start 0 as 1, and $ is allowed in identifiers, as on Snowflake', async () => {
    expect(await client.exec("SELECT SUBSTR('hello', 0, 2) AS A, SUBSTRING('hello', 2) AS B, SUBSTR('hello', -3, 2) AS C")).toEqual([{ A: 'he', B: 'ello', C: 'll' }]);
    await client.exec('CREATE OR REPLACE TABLE TESTDB.S1.D$ (AMOUNT$USD NUMBER(12,2))');
    await client.exec('INSERT INTO TESTDB.S1.D$ (AMOUNT$USD) VALUES (1.5)');
    expect(await client.exec('SELECT AMOUNT$USD FROM TESTDB.S1.D$')).toEqual([{ AMOUNT$USD: 1.5 }]);
  });

  it('MERGE reports inserted, updated and deleted rows separately', async () => {
    await client.exec('CREATE OR REPLACE TABLE TESTDB.S1.M (ID NUMBER(38,0), V VARCHAR)');
    await client.exec("INSERT INTO TESTDB.S1.M VALUES (1, 'old'), (2, 'old'), (3, 'gone')");
    const counts = await client.exec(`
      MERGE INTO TESTDB.S1.M t
      USING (SELECT 1 AS ID, 'new' AS V UNION ALL SELECT 3, 'drop' UNION ALL SELECT 4, 'added') s ON t.ID = s.ID
      WHEN MATCHED AND s.V = 'drop' THEN DELETE
      WHEN MATCHED THEN UPDATE SET V = s.V
      WHEN NOT MATCHED THEN INSERT (ID, V) VALUES (s.ID, s.V)`);
    expect(counts).toEqual([{ 'number of rows inserted': 1, 'number of rows updated': 1, 'number of rows deleted': 1 }]);
    expect(await client.exec('SELECT ID, V FROM TESTDB.S1.M ORDER BY ID')).toEqual([
      { ID: 1, V: 'new' },
      { ID: 2, V: 'old' },
      { ID: 4, V: 'added' },
    ]);
  });

  it('names unaliased result columns after their text, upper-cased, as Snowflake does', async () => {
    expect(await client.exec('select count(*), sum(id), max(NAME) AS LAST, id FROM TESTDB.S1.A WHERE ID = 1 GROUP BY ID')).toEqual([
      { 'COUNT(*)': 1, 'SUM(ID)': 1, LAST: 'a', ID: 1 },
    ]);
  });

  it('reports the session database and schema, and resolves unqualified names in them', async () => {
    await client.exec('USE SCHEMA TESTDB.S1');
    expect(await client.exec('SELECT CURRENT_DATABASE() AS D, CURRENT_SCHEMA() AS S')).toEqual([{ D: 'TESTDB', S: 'S1' }]);
    expect(await client.exec('SELECT COUNT(*) AS N FROM K')).toEqual([{ N: 2 }]);
  });
});
