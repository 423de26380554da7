import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFile, copyFile, mkdtemp, rename, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleCli } from './cli-bundle.js';
import { compareRows, csvRows } from './csv-oracle.js';
import { seeded } from './csv-reference.js';
import { FirehoseEndpoint } from './firehose-endpoint.js';

export interface SoakOptions {
  readonly records: number;
  readonly kills: number;
  readonly seed: number;
  readonly log?: (line: string) => void;
}

export interface SoakResult {
  readonly records: number;
  readonly kills: number;
  readonly rotations: { readonly rename: number; readonly copytruncate: number; readonly whileDown: number };
  readonly lost: number;
  /** Rows that arrived but were never written (a fragment of a record). */
  readonly foreign: number;
  /** Firehose records that do not end with a newline or hold a row never written. */
  readonly brokenFirehoseRecords: number;
  readonly duplicates: number;
  readonly calls: number;
  readonly faults: { readonly recordFailures: number; readonly throttled: number; readonly resets: number };
  readonly finalExitCode: number | null;
  readonly violations: readonly string[];
}

/**
 * The soak: a writer appends `records` CSV records (1 in 5 with a quoted newline, some written
 * in two halves) to app.log and rotates it both ways (rename, copytruncate; live and while the
 * producer is down), while the producer (the bundled CLI following app.log*) is SIGKILLed `kills`
 * times at random points and restarted, against an endpoint that fails records, throttles and
 * drops connections. A final --drain delivers the rest; an independent CSV parse compares.
 */
export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? (() => undefined);
  const dir = await mkdtemp(path.join(tmpdir(), 'kp-soak-'));
  const endpoint = await new FirehoseEndpoint({ streams: ['orders'] }).start();
  try {
    const cli = await bundleCli(dir);
    const rnd = seeded(o.seed);
    const logFile = path.join(dir, 'app.log');
    let recordFailures = 0;
    endpoint.failRecord = () => (rnd() < 0.03 ? (recordFailures++, 'ServiceUnavailableException') : undefined);
    endpoint.resetCall = (call) => call % 17 === 0;
    const env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_'))),
      AWS_ACCESS_KEY_ID: `test-${randomUUID()}`,
      AWS_SECRET_ACCESS_KEY: randomUUID(),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const start = (drain: boolean): ChildProcess =>
      spawn(
        process.execPath,
        [
          cli,
          '--file', path.join(dir, 'app.log*'),
          '--stream', 'orders',
          '--endpoint', endpoint.url,
          '--region', 'us-east-1',
          '--initial-position', 'START_OF_FILE',
          '--checkpoint-file', path.join(dir, 'checkpoint.json'),
          '--aggregate-bytes', '4096',
          '--max-buffer-bytes', String(16 * 1024),
          '--max-buffer-age', '50',
          '--max-in-flight', '2',
          '--metrics-interval', '0',
          '--retry-max-delay', '200',
          '--rotation-grace', '100',
          ...(drain ? ['--drain'] : []),
        ],
        { stdio: ['ignore', 'ignore', 'ignore'], env },
      );
    const exited = (child: ChildProcess) =>
      new Promise<number | null>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
        else child.once('exit', (code) => resolve(code));
      });

    let next = 1;
    let generation = 0;
    const written: string[] = [];
    const record = (i: number): string => {
      const body = i % 5 === 0 ? `"first line ${i}\nsecond, line ""q"" ${i}"` : i % 7 === 0 ? `"a, b ${i}"` : `plain ${i}`;
      return `s${i},${body},${(i * 7919) % 100_000}\n`;
    };
    const rotations = { rename: 0, copytruncate: 0, whileDown: 0 };
    const rotate = async (): Promise<void> => {
      generation++;
      const rotated = `${logFile}.${generation}`;
      if (generation % 2 === 0) {
        await rename(logFile, rotated).catch(() => undefined);
        rotations.rename++;
      } else {
        await copyFile(logFile, rotated).catch(() => undefined);
        await truncate(logFile, 0).catch(() => undefined);
        rotations.copytruncate++;
      }
    };
    const perCycle = Math.ceil(o.records / o.kills);
    for (let cycle = 0; cycle < o.kills; cycle++) {
      endpoint.throttleNext = rnd() < 0.3 ? 2 : 0;
      const child = start(false);
      const mode = rnd();
      let armed = false;
      if (mode < 0.35) {
        endpoint.onCall = () => {
          if (armed) {
            armed = false;
            child.kill('SIGKILL');
          }
        };
      }
      const rotateAt = rnd() < 0.6 ? Math.floor(rnd() * 8) : -1;
      for (let piece = 0; piece < 8 && next <= o.records; piece++) {
        const lines: string[] = [];
        for (let k = 0; k < perCycle / 8 && next <= o.records; k++) lines.push(record(next++));
        written.push(...lines);
        const text = lines.join('');
        if (rnd() < 0.5) {
          // Two halves, the cut inside a record: the producer may read the first half alone.
          const cut = Math.floor(rnd() * text.length);
          await appendFile(logFile, text.slice(0, cut));
          await new Promise((r) => setTimeout(r, 1 + rnd() * 10));
          await appendFile(logFile, text.slice(cut));
        } else {
          await appendFile(logFile, text);
        }
        if (piece === rotateAt) await rotate();
        await new Promise((r) => setTimeout(r, rnd() * 30));
      }
      // Let the producer work first (it may still be starting on a loaded machine): a few calls, then the kill.
      const calls = endpoint.calls.length;
      const progress = 1 + Math.floor(rnd() * 6);
      const deadline = Date.now() + 20_000;
      while (endpoint.calls.length < calls + progress && Date.now() < deadline && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 5));
      }
      if (mode < 0.35) {
        armed = true; // at the next call, in the middle of it
        const until = Date.now() + 2_000;
        while (armed && Date.now() < until && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
      } else {
        await new Promise((r) => setTimeout(r, rnd() * 100));
      }
      child.kill('SIGKILL');
      await exited(child);
      endpoint.onCall = undefined;
      if (rnd() < 0.25) {
        await rotate();
        rotations.whileDown++;
      }
      log(`cycle ${cycle + 1}/${o.kills}: ${next - 1} records written, ${endpoint.calls.length} calls`);
    }
    // The end: the rotated files are complete; one drain delivers what is left.
    endpoint.throttleNext = 0;
    const final = start(true);
    const finalExitCode = await exited(final);

    const rowsWritten = csvRows(written.join(''));
    const arrived = endpoint.accepted.get('orders') ?? [];
    const c = compareRows(rowsWritten, csvRows(Buffer.concat(arrived).toString('utf8')));
    const known = new Set(rowsWritten);
    let brokenFirehoseRecords = 0;
    for (const r of arrived) {
      if (r.at(-1) !== 0x0a) brokenFirehoseRecords++;
      else if (!csvRows(r.toString('utf8')).every((row) => known.has(row))) brokenFirehoseRecords++;
    }
    return {
      records: rowsWritten.length,
      kills: o.kills,
      rotations,
      lost: c.lost.length,
      foreign: c.foreign.length,
      brokenFirehoseRecords,
      duplicates: c.duplicates,
      calls: endpoint.calls.length,
      faults: { recordFailures, throttled: endpoint.calls.filter((x) => x.status === 503).length, resets: endpoint.calls.filter((x) => x.status === 0).length },
      finalExitCode,
      violations: endpoint.violations,
    };
  } finally {
    await endpoint.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
