// agent.json as the Kinesis Agent writes it: its installed default, the minimal one from the AWS docs, and patterns
// that match nothing. Through the real CLI (bundled, in its own process).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCli } from './support/cli-bundle.js';
import { compareRows, csvLines, csvRows } from './support/csv-oracle.js';
import { FirehoseEndpoint } from './support/firehose-endpoint.js';
import { waitFor } from './support/wait.js';

let dir: string;
let cli: string;
let endpoint: FirehoseEndpoint;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kp-agent-json-'));
  cli = await bundleCli(dir);
  endpoint = await new FirehoseEndpoint().start();
});
afterAll(async () => {
  await endpoint.stop();
  await rm(dir, { recursive: true, force: true });
});

function env(): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) out[k] = v;
  return {
    ...out,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: `test-${randomUUID()}`,
    AWS_SECRET_ACCESS_KEY: randomUUID(),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: path.join(dir, 'no-aws-config'),
  };
}

function start(args: string[], cwd: string) {
  const child = spawn(process.execPath, [cli, ...args, '--endpoint', endpoint.url, '--metrics-interval', '0'], { cwd, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const done = new Promise<{ code: number | null }>((resolve) => child.once('close', (code) => resolve({ code })));
  return { child, done, err: () => stderr, out: () => stdout };
}

describe('agent.json as the agent writes it', () => {
  it("the agent's installed default (configuration/release/aws-kinesis-agent.json) starts with --ignore-unsupported", async () => {
    const cwd = await mkdtemp(path.join(dir, 'release-'));
    const config = path.join(cwd, 'agent.json');
    await copyFile(path.join(import.meta.dirname, 'fixtures', 'agent-release.json'), config);

    const refused = start(['--config', config], cwd);
    expect((await refused.done).code).toBe(2);
    // Empty endpoints are unset, not errors; what is unsupported is named.
    expect(refused.err()).not.toMatch(/endpoint/);
    expect(refused.err()).toMatch(/unsupported agent.json option cloudwatch.emitMetrics/);
    expect(refused.err()).toMatch(/unsupported agent.json option flows\[0\]\.kinesisStream: Kinesis Data Streams are not supported/);

    const run = start(['--config', config, '--ignore-unsupported'], cwd);
    await waitFor(() => /following \/tmp\/app\.log\* -> yourdeliverystream/.test(run.err()), 'the producer to start following');
    expect(run.err()).toMatch(/warning: skipping flows\[0\] \("\/tmp\/app\.log\*" -> kinesisStream "yourkinesisstream"\)/);
    run.child.kill('SIGTERM');
    expect((await run.done).code).toBe(0);
    expect(JSON.parse(run.out().trim().split('\n').at(-1)!)).toMatchObject({ event: 'stopped', recordsPending: 0 });
  });

  it('the minimal agent.json of the AWS docs with --drain warns that END_OF_FILE sends nothing and names --initial-position START_OF_FILE', async () => {
    const cwd = await mkdtemp(path.join(dir, 'minimal-'));
    const log = path.join(cwd, 'app.log');
    const lines = csvLines(1, 200);
    await writeFile(log, lines.join(''));
    const config = path.join(cwd, 'agent.json');
    await writeFile(config, JSON.stringify({ flows: [{ filePattern: path.join(cwd, 'app.log*'), deliveryStream: 'minimal' }] }));

    const nothing = start(['--config', config, '--drain'], cwd);
    expect((await nothing.done).code).toBe(0);
    expect(nothing.err()).toMatch(/starts at END_OF_FILE \(the agent's default\) and has no checkpoint: this drain sends nothing/);
    expect(nothing.err()).toMatch(/--initial-position START_OF_FILE/);
    expect(endpoint.data('minimal')).toBe('');

    const all = start(['--config', config, '--drain', '--initial-position', 'START_OF_FILE', '--checkpoint-file', path.join(cwd, 'fresh.json')], cwd);
    expect((await all.done).code).toBe(0);
    expect(all.err()).not.toMatch(/END_OF_FILE/);
    expect(compareRows(csvRows(lines.join('')), csvRows(endpoint.data('minimal')))).toEqual({ lost: [], foreign: [], duplicates: 0 });
  });

  it('a pattern that matches nothing is reported, for --drain and when following', async () => {
    const cwd = await mkdtemp(path.join(dir, 'nothing-'));
    const missing = path.join(cwd, 'no-such-file.csv');
    const drain = start(['--file', missing, '--stream', 'orders', '--drain'], cwd);
    expect((await drain.done).code).toBe(0);
    expect(drain.err()).toMatch(new RegExp(`file pattern ${JSON.stringify(missing).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} matches no file: nothing to send`));

    const follow = start(['--file', path.join(cwd, '*.csv'), '--stream', 'orders'], cwd);
    await waitFor(() => /matches no file \(yet\): waiting for one/.test(follow.err()), 'the report');
    follow.child.kill('SIGTERM');
    expect((await follow.done).code).toBe(0);
  });

  it('--help documents the rotation grace, the retry budget and the shutdown bound', async () => {
    const help = start(['--help'], dir);
    expect((await help.done).code).toBe(0);
    expect(help.out()).toMatch(/--rotation-grace <ms>/);
    expect(help.out()).toMatch(/--retry-budget <ms>/);
    expect(help.out()).toMatch(/--shutdown-timeout <ms>/);
  });
});
