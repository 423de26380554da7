import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatchLifecycle, openObjectStore } from '@batchline/s3-lifecycle';
import { runProducerCli } from '../src/produce.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'batchline-produce-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function produce(argv: string[], env: NodeJS.ProcessEnv) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  stdout.resume();
  const code = await runProducerCli(argv, { env, cwd: dir, stdout, stderr });
  return { code, err };
}

async function landed(storeUrl: string, prefix: string): Promise<string> {
  const store = openObjectStore(storeUrl);
  let text = '';
  for await (const o of store.list(prefix)) {
    const chunks: Buffer[] = [];
    for await (const c of await store.get(o.key)) chunks.push(c as Buffer);
    text += Buffer.concat(chunks).toString('utf8');
  }
  await store.close();
  return text;
}

describe('batchline produce', () => {
  it("lands in the pipeline's configured store by default, under the landing prefix claim reads (root and stream names from the config)", async () => {
    const bucket = pathToFileURL(path.join(dir, 'bucket')).href;
    const file = path.join(dir, 'orders.csv');
    const rows = Array.from({ length: 300 }, (_, i) => `${i + 1},"note ${i}\nsecond line",${i * 3}\n`);
    await writeFile(file, `o_orderkey,o_comment,o_total\n${rows.join('')}`);
    const env = { BATCHLINE_STORE: bucket, BATCHLINE_ROOT: 'firehose/', BATCHLINE_ORDERS_STREAM: 'orders-prod' };
    const args = ['--file', file, '--stream', 'orders-prod', '--skip-header-lines', '1', '--drain', '--checkpoint-file', path.join(dir, 'cp.json')];
    const r = await produce(args, env);
    expect(r.err).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const prefix = createBatchLifecycle(openObjectStore(bucket), { root: 'firehose/' }).landingPrefix('orders');
    expect(prefix).toBe('firehose/orders/landing/');
    expect(await landed(bucket, prefix)).toBe(rows.join(''));
    // --store on the command line wins over the environment.
    const other = pathToFileURL(path.join(dir, 'other')).href;
    const again = await produce([...args.slice(0, -2), '--checkpoint-file', path.join(dir, 'cp2.json'), '--store', other], env);
    expect(again.code).toBe(0);
    expect(await landed(other, prefix)).toBe(rows.join(''));
  });

  it('refuses a stream that is no entity of the pipeline (claim would never read it), naming it', async () => {
    const file = path.join(dir, 'x.csv');
    await writeFile(file, 'a,b\n');
    const r = await produce(['--file', file, '--stream', 'clicks', '--drain'], { BATCHLINE_STORE: pathToFileURL(path.join(dir, 'b3')).href });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Delivery stream "clicks" is not one the pipeline claims from/);
  });

  it('--sink firehose sends to Firehose instead (here: no region configured, so it stops at once with exit 2)', async () => {
    const file = path.join(dir, 'y.csv');
    await writeFile(file, 'a,b\n');
    const env = { AWS_CONFIG_FILE: path.join(dir, 'none'), AWS_EC2_METADATA_DISABLED: 'true' };
    const saved = { region: process.env.AWS_REGION, def: process.env.AWS_DEFAULT_REGION };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    const prevConfig = process.env.AWS_CONFIG_FILE;
    process.env.AWS_CONFIG_FILE = env.AWS_CONFIG_FILE;
    try {
      const r = await produce(['--file', file, '--stream', 'orders', '--sink', 'firehose', '--drain', '--checkpoint-file', path.join(dir, 'cp3.json')], env);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/No AWS region for Firehose/);
    } finally {
      if (saved.region !== undefined) process.env.AWS_REGION = saved.region;
      if (saved.def !== undefined) process.env.AWS_DEFAULT_REGION = saved.def;
      if (prevConfig === undefined) delete process.env.AWS_CONFIG_FILE;
      else process.env.AWS_CONFIG_FILE = prevConfig;
    }
  });
});
