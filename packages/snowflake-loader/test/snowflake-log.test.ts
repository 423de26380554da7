// Where snowflake-sdk writes its log: never `snowflake.log` in the user's working directory, never the console
// besides; SNOWFLAKE_LOG_FILE names the file, the default is under the OS temp dir.
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { toBatchId } from '@batchline/batch-id';
import { driverLogOptions } from '../src/adapters/snowflake/connection.js';
import { openWarehouse, WarehouseConfigError, WarehouseError } from '../src/index.js';
import { startLoginServer, type LoginServer } from './support/login-server.js';

describe('driverLogOptions', () => {
  it('by default: errors only, to a per-user file under the temp dir, not to the console', () => {
    const options = driverLogOptions({}, '/var/tmp/x');
    expect(options).toEqual({
      logLevel: 'ERROR',
      logFilePath: path.join('/var/tmp/x', `batchline-snowflake-${process.getuid?.() ?? 'user'}.log`),
      additionalLogToConsole: false,
    });
    expect(path.dirname(driverLogOptions({}).logFilePath!)).toBe(tmpdir());
  });

  it('SNOWFLAKE_LOG_FILE names the file (made absolute), or STDOUT for the console only; SNOWFLAKE_LOG_LEVEL the level', () => {
    expect(driverLogOptions({ SNOWFLAKE_LOG_FILE: 'logs/driver.log' }).logFilePath).toBe(path.resolve('logs/driver.log'));
    expect(driverLogOptions({ SNOWFLAKE_LOG_FILE: '/srv/log/sf.log' }).logFilePath).toBe('/srv/log/sf.log');
    expect(driverLogOptions({ SNOWFLAKE_LOG_FILE: 'stdout' }).logFilePath).toBe('STDOUT');
    expect(driverLogOptions({ SNOWFLAKE_LOG_FILE: '  ' }, '/t').logFilePath).toBe(path.join('/t', `batchline-snowflake-${process.getuid?.() ?? 'user'}.log`));
    expect(driverLogOptions({ SNOWFLAKE_LOG_LEVEL: 'debug' })).toMatchObject({ logLevel: 'DEBUG', additionalLogToConsole: false });
    expect(driverLogOptions({ SNOWFLAKE_LOG_LEVEL: 'OFF' }).logLevel).toBe('OFF');
  });

  it('refuses an unknown log level, naming it and the choices', () => {
    expect(() => driverLogOptions({ SNOWFLAKE_LOG_LEVEL: 'LOUD' })).toThrow(WarehouseConfigError);
    expect(() => driverLogOptions({ SNOWFLAKE_LOG_LEVEL: 'LOUD' })).toThrow('Invalid SNOWFLAKE_LOG_LEVEL "LOUD": expected one of OFF, ERROR, WARN, INFO, DEBUG, TRACE');
  });
});

describe('the driver configured by the loader', () => {
  let server: LoginServer;
  let dir: string;
  const cwd = process.cwd();
  const saved = { file: process.env.SNOWFLAKE_LOG_FILE, telemetry: process.env.SF_TELEMETRY_DISABLE_CONNECTION_SHAPE };
  beforeAll(async () => {
    server = await startLoginServer();
    dir = await mkdtemp(path.join(tmpdir(), 'batchline-sflog-'));
    process.env.SF_TELEMETRY_DISABLE_CONNECTION_SHAPE = '1';
  });
  afterAll(async () => {
    process.chdir(cwd);
    for (const [name, value] of [['SNOWFLAKE_LOG_FILE', saved.file], ['SF_TELEMETRY_DISABLE_CONNECTION_SHAPE', saved.telemetry]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('logs a failed login to SNOWFLAKE_LOG_FILE only: nothing in the working directory, nothing on the console', async () => {
    const work = path.join(dir, 'work');
    const logFile = path.join(dir, 'logs', 'driver.log');
    await mkdir(work);
    process.chdir(work);
    process.env.SNOWFLAKE_LOG_FILE = logFile;
    const consoleStreams = console as unknown as { _stdout?: NodeJS.WritableStream; _stderr?: NodeJS.WritableStream };
    const spies = [
      vi.spyOn(console, 'log'),
      vi.spyOn(console, 'error'),
      vi.spyOn(console, 'warn'),
      ...(consoleStreams._stdout ? [vi.spyOn(consoleStreams._stdout, 'write')] : []),
      ...(consoleStreams._stderr ? [vi.spyOn(consoleStreams._stderr, 'write')] : []),
    ];
    try {
      server.failLogin = '390100';
      const wh = await openWarehouse(`snowflake://testacct/RETAIL_DB/RETAIL_SCHEMA?accessUrl=${encodeURIComponent(server.url)}`, {
        env: { SNOWFLAKE_USER: 'u', SNOWFLAKE_AUTHENTICATOR: 'OAUTH', SNOWFLAKE_TOKEN: 'not-a-real-token' },
      });
      const error = await wh.readTasks(toBatchId('20261126T0315')).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: '390100' });
      expect(error).toBeInstanceOf(WarehouseError);
      // The driver writes its file asynchronously: wait for the line (a deadline, not a timing assertion).
      await vi.waitFor(async () => expect(await readFile(logFile, 'utf8').catch(() => '')).toContain('Incorrect username or password'), { timeout: 10_000 });
      expect(await readdir(work)).toEqual([]);
      for (const spy of spies) {
        expect(spy.mock.calls.map((call) => String(call[0]))).not.toEqual(expect.arrayContaining([expect.stringContaining('Incorrect username')]));
      }
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });
});
