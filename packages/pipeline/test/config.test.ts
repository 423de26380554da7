import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig, redactUrl, taskPolicyFor } from '../src/config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'batchline-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadConfig', () => {
  it('has local defaults when there is no file', () => {
    const { config, file } = loadConfig({ cwd: dir, env: {} });
    expect(file).toBeUndefined();
    expect(config).toMatchObject({
      store: 'file://./.batchline/bucket',
      warehouse: 'duckdb://./.batchline/warehouse.duckdb',
      cron: '*/15 * * * *',
      root: '',
      streams: { orders: 'orders', customers: 'customers' },
      onError: 'abort',
    });
  });

  it('reads batchline.config.json, then env overrides, then flags', async () => {
    const cwd = await mkdtemp(path.join(dir, 'layered-'));
    await writeFile(
      path.join(cwd, 'batchline.config.json'),
      JSON.stringify({ store: 's3://from-file/x', cron: '0 * * * *', root: 'firehose/', streams: { orders: 'orders-prod' }, tasks: { default: { retries: 4 }, transform: { timeoutSeconds: 60 } } }),
    );
    const env = { BATCHLINE_STORE: 's3://from-env/y', BATCHLINE_CUSTOMERS_STREAM: 'customers-prod', BATCHLINE_LEASE_SECONDS: '120' };
    const { config, file } = loadConfig({ cwd, env, overrides: { store: 's3://from-flag/z', warehouse: undefined } });
    expect(file).toBe(path.join(cwd, 'batchline.config.json'));
    expect(config.store).toBe('s3://from-flag/z');
    expect(config.cron).toBe('0 * * * *');
    expect(config.root).toBe('firehose/');
    expect(config.streams).toEqual({ orders: 'orders-prod', customers: 'customers-prod' });
    expect(config.leaseSeconds).toBe(120);
    expect(taskPolicyFor(config, 'transform')).toEqual({ timeoutSeconds: 60, retries: 4, backoffSeconds: 2 });
    expect(taskPolicyFor(config, 'claim:orders')).toEqual({ timeoutSeconds: 1800, retries: 4, backoffSeconds: 2 });
    expect(loadConfig({ cwd, env: {} }).config.store).toBe('s3://from-file/x');
  });

  it('names the bad key and the expected shape', () => {
    const bad = (raw: unknown) => {
      try {
        parseConfig(raw, 'test.json');
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(bad({ store: 'ftp://x' })).toContain('store: expected a store URL: file://<dir> or s3://<bucket>[/prefix]');
    expect(bad({ warehouse: 'postgres://x' })).toContain('warehouse: expected a warehouse URL');
    expect(bad({ cron: 'every minute' })).toMatch(/cron: Invalid cron expression "every minute"/);
    expect(bad({ root: '../etc/' })).toContain('root:');
    expect(bad({ tasks: { 'load:orders': { retries: -1 } } })).toMatch(/tasks\.load:orders\.retries: .*>=0/);
    expect(bad({ tasks: { 'load:products': {} } })).toMatch(/tasks: Unrecognized key: "load:products"/);
    expect(bad({ onError: 'ignore' })).toMatch(/onError: Invalid option: expected one of "abort"\|"quarantine"/);
    expect(bad({ streams: { orders: 'a b' } })).toContain('streams.orders: expected a Firehose delivery stream name');
    expect(bad({ stroe: 'file://x' })).toMatch(/\(top level\): Unrecognized key: "stroe"/);
    expect(bad({ store: 'ftp://x' })).toContain('Invalid batchline configuration (test.json)');
  });

  it('names env variables as the source of a bad value', () => {
    expect(() => loadConfig({ cwd: dir, env: { BATCHLINE_CONCURRENCY: 'lots' } })).toThrow(/defaults \+ BATCHLINE_CONCURRENCY[^]*concurrency \(BATCHLINE_CONCURRENCY\): Invalid input: expected (int|number), received string; got "lots"/);
    // A number out of range names the variable, the value and the range, not its type.
    expect(() => loadConfig({ cwd: dir, env: { BATCHLINE_LEASE_SECONDS: '-5' } })).toThrow(/leaseSeconds \(BATCHLINE_LEASE_SECONDS\): Too small: expected number to be >=10; got "-5"/);
  });

  it('validates crons by their syntax: schedules whose first slot is not at 1970-01-01T00:00 pass', () => {
    for (const cron of ['5 * * * *', '30 2 * * *', '0 6 * * 1', '10,40 * * * *', '@daily']) {
      expect(loadConfig({ cwd: dir, env: { BATCHLINE_CRON: cron } }).config.cron).toBe(cron);
    }
    expect(() => loadConfig({ cwd: dir, env: { BATCHLINE_CRON: '61 * * * *' } })).toThrow(/cron \(BATCHLINE_CRON\): Invalid cron expression "61 \* \* \* \*"/);
  });

  it('accepts a config file saved with a UTF-8 byte-order mark', async () => {
    const own = await mkdtemp(path.join(tmpdir(), 'batchline-bom-'));
    await writeFile(path.join(own, 'batchline.config.json'), `\uFEFF${JSON.stringify({ cron: '5 * * * *' })}`);
    expect(loadConfig({ cwd: own }).config.cron).toBe('5 * * * *');
    await rm(own, { recursive: true, force: true });
  });

  it('reports a missing or malformed file', async () => {
    expect(() => loadConfig({ cwd: dir, env: {}, file: 'nope.json' })).toThrow(/Config file "nope.json" not found/);
    const broken = path.join(dir, 'broken.json');
    await writeFile(broken, '{ "store": ');
    expect(() => loadConfig({ cwd: dir, env: { BATCHLINE_CONFIG: broken } })).toThrow(/is not valid JSON/);
    await writeFile(broken, '[1]');
    expect(() => loadConfig({ cwd: dir, env: {}, file: broken })).toThrow(/expected a JSON object at the top level/);
  });
});

describe('redactUrl', () => {
  it('hides credentials and secret-looking parameters', () => {
    expect(redactUrl('snowflake://user:pw@acct/db/sch?warehouse=WH&token=abc')).toBe('snowflake://***@acct/db/sch?warehouse=WH&token=***');
    expect(redactUrl('duckdb://./x.duckdb')).toBe('duckdb://./x.duckdb');
  });
});
