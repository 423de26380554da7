// Each defect of issue 12 against a fault-injecting local PutRecordBatch endpoint, through the real CLI
// (bundled, in its own process): exit code, last line, and what arrived compared by an independent CSV parse.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createProducer, type ProducerEvent } from '../src/index.js';
import { bundleCli } from './support/cli-bundle.js';
import { compareRows, csvLines, csvRows } from './support/csv-oracle.js';
import { seeded } from './support/csv-reference.js';
import { FirehoseEndpoint } from './support/firehose-endpoint.js';
import { firehoseSinkFor } from './support/harness.js';
import { waitFor } from './support/wait.js';

let dir: string;
let cli: string;
let endpoint: FirehoseEndpoint;
let caseDir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kp-faults-'));
  cli = await bundleCli(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async (ctx) => {
  await endpoint?.stop();
  endpoint = await new FirehoseEndpoint({ streams: ['orders'] }).start();
  caseDir = await mkdtemp(path.join(dir, 'case-'));
  ctx.onTestFinished(() => endpoint.stop());
});

/** Credentials made up at run time; no region, config file or instance metadata from the machine. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  return {
    ...env,
    AWS_ACCESS_KEY_ID: `test-${randomUUID()}`,
    AWS_SECRET_ACCESS_KEY: randomUUID(),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: path.join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'no-aws-credentials'),
    ...extra,
  };
}

interface Run {
  readonly child: ChildProcess;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function producer(args: string[], env = cleanEnv()): Run {
  const child = spawn(process.execPath, [cli, ...args], { cwd: caseDir, stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

const file = () => path.join(caseDir, 'orders.csv');
const checkpoint = () => path.join(caseDir, 'checkpoint.json');

function flowArgs(extra: string[] = []): string[] {
  return [
    '--file', file(),
    '--stream', 'orders',
    '--endpoint', endpoint.url,
    '--region', 'us-east-1',
    '--checkpoint-file', checkpoint(),
    '--aggregate-bytes', '2048',
    '--max-buffer-bytes', '8192',
    '--max-buffer-age', '20',
    '--max-in-flight', '2',
    '--metrics-interval', '0',
    '--retry-max-delay', '200',
    ...extra,
  ];
}

const lastLine = (text: string) => text.trimEnd().split('\n').at(-1) ?? '';

async function checkpointOffset(): Promise<number> {
  try {
    const json = JSON.parse(await readFile(checkpoint(), 'utf8')) as { flows: Record<string, Record<string, { offset: number }>> };
    return Object.values(json.flows).flatMap((f) => Object.values(f).map((e) => e.offset))[0] ?? 0;
  } catch {
    return 0;
  }
}

function arrived(): ReturnType<typeof compareRows> & { rows: number } {
  const rows = csvRows(endpoint.data('orders'));
  return { ...compareRows(written, rows), rows: rows.length };
}
let written: string[] = [];

async function writeInput(lines: string[]): Promise<void> {
  const text = lines.join('');
  await writeFile(file(), text);
  written = csvRows(text);
}

describe('never stops with work pending', () => {
  it('follow: with 20% of records failing and a spell of 503s it stays up until SIGTERM, then exits 0 with nothing lost', async () => {
    await writeInput(csvLines(1, 3000));
    const rnd = seeded(12);
    endpoint.failRecord = () => (rnd() < 0.2 ? 'ServiceUnavailableException' : undefined);
    endpoint.throttleNext = Number.POSITIVE_INFINITY;
    const run = producer(flowArgs(['--initial-position', 'START_OF_FILE']));
    // Many backoffs pass while every call is refused: the process must still be there.
    const alive = (condition: () => boolean) => () => {
      if (run.child.exitCode !== null) throw new Error(`the producer exited by itself with ${run.child.exitCode}`);
      return condition();
    };
    await waitFor(alive(() => endpoint.calls.filter((c) => c.status === 503).length >= 12), '12 throttled calls', 60_000);
    expect(run.child.exitCode).toBeNull();
    endpoint.throttleNext = 0;
    await waitFor(alive(() => arrived().lost.length === 0), 'every record delivered', 60_000);
    expect(run.child.exitCode).toBeNull();
    run.child.kill('SIGTERM');
    const result = await run.done;
    expect(result.code).toBe(0);
    const stopped = JSON.parse(lastLine(result.stdout)) as { event: string; recordsPending: number };
    expect(stopped.event).toBe('stopped');
    expect(stopped.recordsPending).toBe(0);
    const a = arrived();
    expect(a.lost).toEqual([]);
    expect(a.foreign).toEqual([]);
    // Only failed records are resent, and the endpoint accepted none of a refused call.
    expect(a.duplicates).toBe(0);
    expect(endpoint.violations).toEqual([]);
  });

  it('follow into the landing sink: calls held for the landing interval keep the process alive, and everything lands', async () => {
    const lake = path.join(caseDir, 'lake');
    const run = producer([
      '--file', file(), '--stream', 'orders', '--initial-position', 'START_OF_FILE', '--checkpoint-file', checkpoint(),
      '--landing-dir', lake, '--landing-interval-ms', '1500', '--max-buffer-age', '10', '--metrics-interval', '0',
    ]);
    const lines: string[] = [];
    // Separate small calls, more than the sink's slots: the reader waits for a slot while the sink waits for its interval.
    for (let i = 0; i < 12; i++) {
      const more = csvLines(i * 10 + 1, 10);
      lines.push(...more);
      await appendFile(file(), more.join(''));
      await new Promise((r) => setTimeout(r, 60));
    }
    written = csvRows(lines.join(''));
    const landed = async () => {
      const { readdir } = await import('node:fs/promises');
      const files = (await readdir(lake, { recursive: true, withFileTypes: true }).catch(() => [])).filter((d) => d.isFile());
      const texts = await Promise.all(files.map((d) => readFile(path.join(d.parentPath, d.name), 'utf8')));
      return csvRows(texts.join(''));
    };
    await waitFor(async () => {
      if (run.child.exitCode !== null) throw new Error(`the producer exited by itself with ${run.child.exitCode}`);
      return compareRows(written, await landed()).lost.length === 0;
    }, 'everything to land', 60_000);
    expect(run.child.exitCode).toBeNull();
    run.child.kill('SIGTERM');
    const result = await run.done;
    expect(result.code).toBe(0);
    expect(compareRows(written, await landed())).toEqual({ lost: [], foreign: [], duplicates: 0 });
  });

  it('drain: when every call keeps failing it gives up after the retry budget with exit 1 and a last line naming the unsent records; the checkpoint stays put', async () => {
    await writeInput(csvLines(1, 1500));
    const size = Buffer.byteLength(await readFile(file()));
    endpoint.throttleNext = Number.POSITIVE_INFINITY;
    const failed = await producer(flowArgs(['--drain', '--retry-budget', '1500'])).done;
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/Gave up delivering to "orders": deliveries kept failing for 1.5 s \(the retry budget\); last error ServiceUnavailableException/);
    const m = /^batchline-producer: gave up: ([\d,]+) record\(s\) read and not delivered, ([\d,]+) byte\(s\) after the checkpoint/.exec(lastLine(failed.stderr));
    expect(m, lastLine(failed.stderr)).not.toBeNull();
    expect(Number(m![1]!.replace(/,/g, ''))).toBeGreaterThan(0);
    expect(Number(m![2]!.replace(/,/g, ''))).toBe(size);
    expect(await checkpointOffset()).toBe(0);
    expect(endpoint.data('orders')).toBe('');

    endpoint.throttleNext = 0;
    const ok = await producer(flowArgs(['--drain'])).done;
    expect(ok.code).toBe(0);
    const a = arrived();
    expect(a).toMatchObject({ lost: [], foreign: [], duplicates: 0 });
    expect(await checkpointOffset()).toBe(size);
  });
});

describe('errors are classified', () => {
  it('configuration errors are fatal at once with exit 2: no region, no credentials, an unknown delivery stream', async () => {
    await writeInput(csvLines(1, 10));
    const noRegion = await producer(flowArgs(['--drain']).filter((a, i, all) => a !== '--region' && all[i - 1] !== '--region')).done;
    expect(noRegion.code).toBe(2);
    expect(noRegion.stderr).toMatch(/No AWS region for Firehose: set AWS_REGION/);
    expect(endpoint.calls).toHaveLength(0);

    const noCredentials = cleanEnv();
    delete noCredentials.AWS_ACCESS_KEY_ID;
    delete noCredentials.AWS_SECRET_ACCESS_KEY;
    const anonymous = await producer(flowArgs(['--drain']), noCredentials).done;
    expect(anonymous.code).toBe(2);
    expect(anonymous.stderr).toMatch(/CredentialsProviderError|Could not load credentials/);

    const unknown = await producer(flowArgs(['--drain']).map((a) => (a === 'orders' ? 'no-such-stream' : a))).done;
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Delivery stream "no-such-stream" refused records: ResourceNotFoundException/);
    expect(lastLine(unknown.stderr)).toMatch(/^batchline-producer: stopped: \d+ record\(s\) read and not delivered/);
    expect(await checkpointOffset()).toBe(0);
  });

  it('network errors are retried and reported on stderr with counts and the last error; a drain gives up after its budget', async () => {
    await writeInput(csvLines(1, 50));
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const args = flowArgs(['--drain', '--retry-budget', '1500']).map((a) => (a === endpoint.url ? `http://127.0.0.1:${port}` : a));
    const result = await producer(args).done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\[orders\] delivery-failing \d+ failed attempt\(s\) in \d+ s \(\d+ network\), retrying with backoff; \d+ record\(s\) waiting; last error ECONNREFUSED/);
    expect(lastLine(result.stderr)).toMatch(/^batchline-producer: gave up: 50 record\(s\) read and not delivered/);
  });

  it('failing deliveries are reported at a steady interval, with growing counts, then once when they recover', async () => {
    const file = path.join(caseDir, 'lib.csv');
    await writeFile(file, csvLines(1, 30).join(''));
    const events: ProducerEvent[] = [];
    endpoint.throttleNext = Number.POSITIVE_INFINITY;
    const sink = firehoseSinkFor(endpoint.url);
    const p = createProducer({
      flows: [{ filePattern: file, deliveryStream: 'orders' }],
      sink,
      checkpointFile: path.join(caseDir, 'lib-checkpoint.json'),
      retryMaxDelayMillis: 50,
      failureReportMillis: 300,
      onEvent: (e) => events.push(e),
    });
    const drained = p.drain();
    await waitFor(() => events.filter((e) => e.type === 'delivery-failing').length >= 3, 'three reports');
    endpoint.throttleNext = 0;
    await drained;
    await sink.close();
    const reports = events.filter((e) => e.type === 'delivery-failing').map((e) => Number(/^(\d+) failed attempt/.exec(e.message ?? '')![1]));
    // Far fewer lines than attempts (one per interval), each with the running count.
    expect(reports.length).toBeLessThan(reports.at(-1)!);
    expect(reports).toEqual([...reports].sort((a, b) => a - b));
    expect(events.filter((e) => e.type === 'delivery-recovered')).toHaveLength(1);
  });

  it('connection resets and slow answers are retried: nothing lost, nothing sent twice', async () => {
    await writeInput(csvLines(1, 2000));
    endpoint.resetCall = (call) => call % 3 === 0;
    endpoint.delayMillis = 20;
    const result = await producer(flowArgs(['--drain'])).done;
    expect(result.code).toBe(0);
    expect(endpoint.calls.filter((c) => c.status === 0).length).toBeGreaterThan(0);
    expect(arrived()).toMatchObject({ lost: [], foreign: [], duplicates: 0 });
  });
});

describe('an oversize record through the CLI', () => {
  it('a quoted record over 1,000 KiB spanning lines goes whole to the dead-letter file; the drain delivers the rest and exits 0', async () => {
    const big = `big,"${Array.from({ length: 1300 }, (_, i) => `line ${i} ${'z'.repeat(800)}`).join('\n')}",1\n`;
    const before = csvLines(1, 100);
    const after = csvLines(101, 5000);
    await writeFile(file(), before.join('') + big + after.join(''));
    written = csvRows([...before, ...after].join(''));
    const result = await producer(flowArgs(['--drain'])).done;
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/\[orders\] dead-letter .* at byte \d+ a CSV record of \d+ bytes is over Firehose's 1024000-byte record limit: written whole to/);
    expect(JSON.parse(lastLine(result.stdout))).toMatchObject({ event: 'drained', deadLetters: 1, recordsPending: 0, lagBytes: 0 });
    expect(await readFile(path.join(caseDir, 'checkpoint.json.dead-letter.csv'), 'utf8')).toBe(big);
    expect(arrived()).toMatchObject({ lost: [], foreign: [], duplicates: 0 });
    expect(await checkpointOffset()).toBe(Buffer.byteLength(before.join('') + big + after.join('')));
  });
});

describe('SIGTERM exits within its bound whatever the endpoint does', () => {
  for (const mode of ['drain', 'follow'] as const) {
    it(`${mode}: an endpoint that never answers; exit ${mode === 'drain' ? 143 : 1} with the unsent records named, and a later run delivers them`, async () => {
      await writeInput(csvLines(1, 800));
      let held = 0;
      endpoint.holdCall = () => {
        held++;
        return new Promise<void>(() => undefined); // never answers
      };
      const run = producer(flowArgs(['--shutdown-timeout', '500', ...(mode === 'drain' ? ['--drain'] : ['--initial-position', 'START_OF_FILE'])]));
      await waitFor(() => held > 0, 'a call to arrive');
      run.child.kill('SIGTERM');
      const result = await run.done;
      expect(result.code).toBe(mode === 'drain' ? 143 : 1);
      expect(lastLine(result.stderr)).toMatch(
        mode === 'drain'
          ? /^batchline-producer: stopped by SIGTERM before the drain finished: [1-9][\d,]* record\(s\) read and not delivered/
          : /^batchline-producer: stopped with records not delivered \(in-flight calls abandoned at the shutdown timeout\): [1-9][\d,]* record\(s\)/,
      );
      expect(await checkpointOffset()).toBe(0);

      endpoint.holdCall = undefined;
      const again = await producer(flowArgs(['--drain'])).done;
      expect(again.code).toBe(0);
      expect(arrived()).toMatchObject({ lost: [], foreign: [], duplicates: 0 });
    });
  }
});
