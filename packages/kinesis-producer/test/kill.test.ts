import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFile, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceRecords, seeded } from './support/csv-reference.js';
import { bundleCli } from './support/cli-bundle.js';
import { FirehoseEndpoint } from './support/firehose-endpoint.js';

const KILLS = Number(process.env.KILL_TEST_POINTS ?? 36);
const SEED = Number(process.env.KILL_TEST_SEED ?? Date.now() % 1_000_000);
if (!Number.isInteger(KILLS) || KILLS < 1) throw new Error(`KILL_TEST_POINTS must be an integer >= 1, got ${process.env.KILL_TEST_POINTS}`);
if (!Number.isSafeInteger(SEED) || SEED < 0) throw new Error(`KILL_TEST_SEED must be a non-negative integer, got ${process.env.KILL_TEST_SEED}`);
const MAX_IN_FLIGHT = 2;
const CALL_BYTES = 16 * 1024;

let dir: string;
let cli: string;
let endpoint: FirehoseEndpoint;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kp-kill-'));
  cli = await bundleCli(dir);
  endpoint = await new FirehoseEndpoint({ streams: ['orders'] }).start();
});
afterAll(async () => {
  await endpoint.stop();
  await rm(dir, { recursive: true, force: true });
});

function startProducer(file: string, drain: boolean): ChildProcess {
  const args = [
    cli,
    '--file', file,
    '--stream', 'orders',
    '--endpoint', endpoint.url,
    '--region', 'us-east-1',
    '--initial-position', 'START_OF_FILE',
    '--skip-header-lines', '1',
    '--checkpoint-file', path.join(dir, 'checkpoint.json'),
    '--aggregate-bytes', '4096',
    '--max-buffer-bytes', String(CALL_BYTES),
    '--max-buffer-age', '20',
    '--max-in-flight', String(MAX_IN_FLIGHT),
    '--metrics-interval', '0',
    ...(drain ? ['--drain'] : []),
  ];
  return spawn(process.execPath, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Made up at run time: the local endpoint only checks that requests are signed.
    env: { ...process.env, AWS_ACCESS_KEY_ID: `test-${randomUUID()}`, AWS_SECRET_ACCESS_KEY: randomUUID(), AWS_EC2_METADATA_DISABLED: 'true' },
  });
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });

describe('no loss across SIGKILL', () => {
  it(`every appended record is accepted at least once; duplicates stay within what was in flight (seed ${SEED})`, async () => {
    const rnd = seeded(SEED);
    const file = path.join(dir, 'orders.csv');
    const written = new Map<string, number>(); // record -> bytes
    let seq = 0;
    let appending = true;
    /** Set by the kill loop; the writer rotates before its next write and calls it. */
    let rotateThenCall: (() => void) | undefined;
    await appendFile(file, 'id,kind,payload\n');

    // The writer: complete records, some with quoted newlines, some written in two halves.
    // It rotates its own file, between two writes, as a logger does: so the new file's first
    // line is its header and no record is begun in one file and finished in the next (such a
    // record exists whole in no file, and no tailer could deliver it).
    const writer = (async () => {
      while (appending) {
        const rotatedCallback = rotateThenCall;
        if (rotatedCallback) {
          rotateThenCall = undefined;
          await rename(file, `${file}.1`);
          await appendFile(file, 'id,kind,payload\n');
          rotatedCallback();
        }
        let chunk = '';
        const n = 1 + Math.floor(rnd() * 40);
        for (let i = 0; i < n; i++) {
          const id = ++seq;
          const record = id % 7 === 0 ? `${id},quoted,"line one\nline two, ""q"""\n` : `${id},plain,${'p'.repeat(Math.floor(rnd() * 120))}\n`;
          written.set(record, Buffer.byteLength(record));
          chunk += record;
        }
        if (rnd() < 0.3) {
          const cut = Math.floor(rnd() * chunk.length);
          await appendFile(file, chunk.slice(0, cut));
          await new Promise((r) => setTimeout(r, 1));
          await appendFile(file, chunk.slice(cut));
        } else {
          await appendFile(file, chunk);
        }
        await new Promise((r) => setTimeout(r, 2 + Math.floor(rnd() * 6)));
      }
    })();

    let killed = 0;
    const killModes = { timed: 0, 'mid-call': 0, 'after-answer': 0 };
    for (let round = 0; round < KILLS; round++) {
      if (round === Math.floor(KILLS / 2)) {
        // Rename rotation while the producer is down: the writer renames its file and goes on with a new one at the same path.
        await new Promise<void>((resolve) => (rotateThenCall = resolve));
      }
      const child = startProducer(file, false);
      const mode = (['timed', 'mid-call', 'after-answer'] as const)[Math.floor(rnd() * 3)]!;
      const callsBefore = endpoint.calls.length;
      const target = 1 + Math.floor(rnd() * 6);
      const kill = () => child.kill('SIGKILL');
      if (mode === 'timed') {
        setTimeout(kill, 150 + Math.floor(rnd() * 900));
      } else if (mode === 'mid-call') {
        endpoint.onCall = () => {
          if (endpoint.calls.length - callsBefore + 1 >= target) {
            endpoint.onCall = undefined;
            kill();
          }
        };
      } else {
        const watch = setInterval(() => {
          if (endpoint.calls.length - callsBefore >= target) {
            clearInterval(watch);
            kill();
          }
        }, 1);
        child.once('exit', () => clearInterval(watch));
      }
      const safety = setTimeout(kill, 10_000);
      const { signal } = await exited(child);
      clearTimeout(safety);
      endpoint.onCall = undefined;
      if (signal === 'SIGKILL') {
        killed++;
        killModes[mode]++;
      }
    }
    appending = false;
    await writer;

    // A last run reads everything to its end and exits.
    const final = startProducer(file, true);
    let stderr = '';
    final.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const { code } = await exited(final);
    expect(code, stderr).toBe(0);

    // Each Firehose record holds whole CSV records only.
    const accepted = new Map<string, number>();
    for (const rec of endpoint.accepted.get('orders') ?? []) {
      const { records, rest } = referenceRecords(rec);
      expect(rest.length).toBe(0);
      for (const r of records) {
        const key = r.toString('utf8');
        accepted.set(key, (accepted.get(key) ?? 0) + 1);
      }
    }
    const missing = [...written.keys()].filter((r) => !accepted.has(r));
    const unknown = [...accepted.keys()].filter((r) => !written.has(r));
    // One assertion, so a failure shows both lists: the pieces of a missing record usually show up in `unknown`.
    expect({ missing, unknown }, `seed ${SEED}`).toEqual({ missing: [], unknown: [] });
    let duplicateBytes = 0;
    for (const [r, n] of accepted) duplicateBytes += (n - 1) * written.get(r)!;
    // What can be sent twice: the calls in flight (each at most CALL_BYTES) when a kill struck.
    expect(duplicateBytes).toBeLessThanOrEqual(killed * MAX_IN_FLIGHT * CALL_BYTES);
    expect(endpoint.violations).toEqual([]);
    expect(killed).toBeGreaterThanOrEqual(Math.floor(KILLS * 0.9));
    console.log(
      `kill test: seed ${SEED}, ${killed} SIGKILLs (${JSON.stringify(killModes)}), ${written.size} records, ` +
        `${duplicateBytes} duplicate bytes (bound ${killed * MAX_IN_FLIGHT * CALL_BYTES}), ${endpoint.calls.length} calls`,
    );
  }, 170_000);
});
