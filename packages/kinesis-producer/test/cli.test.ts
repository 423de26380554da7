import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProducerCli } from '../src/index.js';
import { bundleCli } from './support/cli-bundle.js';
import { FirehoseEndpoint } from './support/firehose-endpoint.js';
import { MemoryLandingStore } from './support/memory-store.js';
import { waitFor } from './support/wait.js';

let dir: string;
let cli: string;
let endpoint: FirehoseEndpoint;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kp-cli-'));
  cli = await bundleCli(dir);
  endpoint = await new FirehoseEndpoint().start();
});
afterAll(async () => {
  await endpoint.stop();
  await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[], extra: Parameters<typeof runProducerCli>[1] = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await runProducerCli(argv, { stdout, stderr, handleSignals: false, ...extra });
  return { code, out, err };
}

const awsEnv = () => ({ AWS_ACCESS_KEY_ID: `test-${randomUUID()}`, AWS_SECRET_ACCESS_KEY: randomUUID(), AWS_EC2_METADATA_DISABLED: 'true' });

describe('batchline-producer CLI', () => {
  it('prints help and exits 0', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    expect(out).toMatch(/Usage: batchline-producer/);
    expect(out).toMatch(/--config <file>/);
    expect(out).toMatch(/--drain/);
  });

  it('bad usage exits 2 with a message naming the value', async () => {
    // No arguments at all: the help, on stderr, exit 2 (the convention of every batchline bin).
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/Usage: batchline-producer/);
    expect((await run(['--drain'])).err).toMatch(/Give --config <agent.json> or --file <pattern> with --stream <name>/);
    expect((await run(['--file', 'x.csv'])).code).toBe(2);
    const bad = await run(['--file', 'x.csv', '--stream', 'o', '--skip-header-lines', 'one']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--skip-header-lines must be an integer from 0 to 1000000, got "one"/);
    const badStream = await run(['--file', 'x.csv', '--stream', 'no spaces']);
    expect(badStream.code).toBe(2);
    expect(badStream.err).toMatch(/deliveryStream/);
  });

  it('drains into a landing directory with Firehose-shaped keys', async () => {
    const work = await mkdtemp(path.join(dir, 'landing-'));
    await writeFile(path.join(work, 'orders.csv'), 'h\n1,"x\ny"\n2,z\n');
    const { code, out } = await run([
      '--file', path.join(work, 'orders.csv'),
      '--stream', 'orders',
      '--initial-position', 'START_OF_FILE',
      '--skip-header-lines', '1',
      '--landing-dir', path.join(work, 'lake'),
      '--landing-prefix', 'orders=firehose/orders/landing/',
      '--checkpoint-file', path.join(work, 'cp.json'),
      '--drain',
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ event: 'drained', recordsSent: 2 });
    const hourDir = path.join(work, 'lake', 'firehose', 'orders', 'landing');
    const [y] = await readdir(hourDir);
    const [mo] = await readdir(path.join(hourDir, y!));
    const [d] = await readdir(path.join(hourDir, y!, mo!));
    const [h] = await readdir(path.join(hourDir, y!, mo!, d!));
    const files = await readdir(path.join(hourDir, y!, mo!, d!, h!));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^orders-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f-]{36}$/);
    expect(await readFile(path.join(hourDir, y!, mo!, d!, h!, files[0]!), 'utf8')).toBe('1,"x\ny"\n2,z\n');
  });

  it('uses an injected landing store (how the pipeline delegates its produce command)', async () => {
    const work = await mkdtemp(path.join(dir, 'store-'));
    await writeFile(path.join(work, 'customers.csv'), 'c\n10,Alice\n');
    const store = new MemoryLandingStore();
    const { code } = await run(
      ['--file', path.join(work, 'customers.csv'), '--stream', 'customers', '--initial-position', 'START_OF_FILE', '--skip-header-lines', '1', '--checkpoint-file', path.join(work, 'cp.json'), '--drain'],
      { landingStore: store },
    );
    expect(code).toBe(0);
    const keys = store.keys('customers/landing/');
    expect(keys).toHaveLength(1);
    expect(store.objects.get(keys[0]!)!.toString()).toBe('10,Alice\n');
  });

  it('refuses an agent.json with unsupported options unless told, then runs it against Firehose', async () => {
    const work = await mkdtemp(path.join(dir, 'agent-'));
    await writeFile(path.join(work, 'orders.csv'), 'h\nA1\nA2\n');
    await writeFile(
      path.join(work, 'agent.json'),
      JSON.stringify({
        checkpointFile: path.join(work, 'cp.json'),
        'firehose.endpoint': endpoint.url,
        flows: [
          { filePattern: path.join(work, 'orders.csv'), deliveryStream: 'agent-orders', initialPosition: 'START_OF_FILE', skipHeaderLines: 1, partitionKeyOption: 'RANDOM' },
        ],
      }),
    );
    const refused = await run(['--config', path.join(work, 'agent.json'), '--drain']);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/unsupported agent.json option flows\[0\]\.partitionKeyOption/);
    Object.assign(process.env, awsEnv());
    const ran = await run(['--config', path.join(work, 'agent.json'), '--region', 'us-east-1', '--ignore-unsupported', '--drain']);
    expect(ran.code).toBe(0);
    expect(endpoint.data('agent-orders')).toBe('A1\nA2\n');
  });

  it('SIGTERM: flushes, checkpoints and exits 0; everything read is delivered', async () => {
    const work = await mkdtemp(path.join(dir, 'sigterm-'));
    const file = path.join(work, 'orders.csv');
    const lines = Array.from({ length: 1000 }, (_, i) => `${i},sig\n`).join('');
    await writeFile(file, lines);
    const child = spawn(
      process.execPath,
      [cli, '--file', file, '--stream', 'sigterm', '--endpoint', endpoint.url, '--region', 'us-east-1', '--initial-position', 'START_OF_FILE',
        '--max-buffer-age', '600000', '--checkpoint-file', path.join(work, 'cp.json'), '--metrics-interval', '20'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...awsEnv() } },
    );
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // Everything read, and buffered for ten minutes: only the graceful stop can send it now.
    await waitFor(() => err.includes('"linesRead":1000'), 'all lines read');
    expect(endpoint.data('sigterm')).toBe('');
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code, err).toBe(0);
    expect(endpoint.data('sigterm')).toBe(lines);
    const cp = JSON.parse(await readFile(path.join(work, 'cp.json'), 'utf8'));
    expect(Object.values(Object.values(cp.flows)[0] as object).map((f: { offset: number }) => f.offset)).toEqual([Buffer.byteLength(lines)]);
  });

  it('a second signal exits at once, with the checkpoint lagging safely behind', async () => {
    const work = await mkdtemp(path.join(dir, 'sig2-'));
    const file = path.join(work, 'orders.csv');
    await writeFile(file, 'x\n'.repeat(10));
    endpoint.delayMillis = 60_000; // a call that will not come back in time
    try {
      const child = spawn(
        process.execPath,
        [cli, '--file', file, '--stream', 'sig2', '--endpoint', endpoint.url, '--region', 'us-east-1', '--initial-position', 'START_OF_FILE',
          '--max-buffer-age', '1', '--checkpoint-file', path.join(work, 'cp.json'), '--metrics-interval', '0'],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...awsEnv() } },
      );
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      let inFlight = false;
      endpoint.onCall = () => (inFlight = true);
      await waitFor(() => inFlight, 'a call in flight');
      endpoint.onCall = undefined;
      child.kill('SIGTERM');
      await waitFor(() => err.includes('SIGTERM: flushing'), 'graceful stop begun');
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      expect(code, err).toBe(143);
      const cp = JSON.parse(await readFile(path.join(work, 'cp.json'), 'utf8').catch(() => '{"flows":{}}'));
      for (const files of Object.values(cp.flows) as object[]) for (const f of Object.values(files)) expect(f.offset).toBe(0);
    } finally {
      endpoint.delayMillis = 0;
    }
  });
});
