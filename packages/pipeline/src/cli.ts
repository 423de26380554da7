#!/usr/bin/env node
import { existsSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TASK_NAMES, type TaskName } from './config.js';
import { runCli } from './cli-program.js';
import { exitQuietlyOnClosedPipe } from '@batchline/cli-kit';
import { RunInterruptedError } from './errors.js';
import type { HookPoint } from './run-batch.js';

/**
 * TEST HOOKS, read only here (never by the library):
 *   BATCHLINE_TEST_HOOKS=1 arms them; without it the variables below are refused.
 *   BATCHLINE_CRASH_AT=<task>:<before|during|after>  kills this process with SIGKILL at that point.
 *   BATCHLINE_PAUSE_AT=<task>:<point> with BATCHLINE_PAUSE_FILE=<path>: writes <path>.paused and waits
 *   until <path> exists (the one-run-per-batch test holds a run mid-batch this way).
 * The crash-recovery tests use them to stop a real run at every task boundary and inside every task.
 */
type Hook = (task: TaskName, point: HookPoint) => void | Promise<void>;

function parsePoint(name: string, value: string): { task: TaskName; point: HookPoint } {
  const m = /^([a-z]+(?::[a-z]+)?):(before|during|after)$/.exec(value);
  if (!m || !(TASK_NAMES as readonly string[]).includes(m[1]!)) {
    throw new Error(`${name}=${JSON.stringify(value)}: expected <task>:<before|during|after> with task one of ${TASK_NAMES.join(', ')}`);
  }
  return { task: m[1] as TaskName, point: m[2] as HookPoint };
}

function testHook(env: NodeJS.ProcessEnv): Hook | undefined {
  const crash = env['BATCHLINE_CRASH_AT'];
  const pause = env['BATCHLINE_PAUSE_AT'];
  if (!crash && !pause) return undefined;
  if (env['BATCHLINE_TEST_HOOKS'] !== '1') {
    throw new Error('BATCHLINE_CRASH_AT/BATCHLINE_PAUSE_AT are test hooks and need BATCHLINE_TEST_HOOKS=1; unset them for real runs');
  }
  const crashAt = crash ? parsePoint('BATCHLINE_CRASH_AT', crash) : undefined;
  const pauseAt = pause ? parsePoint('BATCHLINE_PAUSE_AT', pause) : undefined;
  const pauseFile = env['BATCHLINE_PAUSE_FILE'];
  if (pauseAt && !pauseFile) throw new Error('BATCHLINE_PAUSE_AT needs BATCHLINE_PAUSE_FILE=<path>');
  process.stderr.write(`batchline: test hooks armed (${[crash && `crash at ${crash}`, pause && `pause at ${pause}`].filter(Boolean).join(', ')})\n`);
  return async (task, point) => {
    if (crashAt && crashAt.task === task && crashAt.point === point) process.kill(process.pid, 'SIGKILL');
    if (pauseAt && pauseAt.task === task && pauseAt.point === point) {
      writeFileSync(`${pauseFile}.paused`, String(process.pid));
      while (!existsSync(pauseFile!)) await sleep(50);
    }
  };
}

let hook: Hook | undefined;
try {
  hook = testHook(process.env);
} catch (err) {
  process.stderr.write(`batchline: ${(err as Error).message}\n`);
  process.exit(2);
}

// `batchline status | head -1` closes stdout early: not a crash.
exitQuietlyOnClosedPipe();

/**
 * SIGINT/SIGTERM: stop starting tasks, abort the running ones through their signal, release the lease,
 * then exit 130/143. A second signal exits at once; so does a run that has not stopped within a few
 * seconds (the lease then expires, or the next run on this host takes it over from the dead process).
 * `produce` handles its own signals (it flushes and checkpoints).
 */
const interrupt = new AbortController();
let interruptedBy: NodeJS.Signals | undefined;
const STOP_WITHIN_MS = 5_000;
if (process.argv[2] !== 'produce') {
  const onSignal = (signal: NodeJS.Signals) => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (interruptedBy) {
      process.stderr.write(`batchline: ${signal} again: exiting now (the next run takes the lease over and sweeps temporary files)\n`);
      process.exit(code);
    }
    interruptedBy = signal;
    process.stderr.write(`batchline: ${signal}: stopping: no new task starts, running ones are aborted, the lease is released (${signal} again exits at once)\n`);
    interrupt.abort(new RunInterruptedError(`interrupted by ${signal}`));
    setTimeout(() => {
      process.stderr.write(`batchline: still stopping after ${STOP_WITHIN_MS / 1000} s: exiting now (the next run takes the lease over)\n`);
      process.exit(code);
    }, STOP_WITHIN_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  // Loaded on demand: the producer brings the Firehose SDK, which `run` never needs.
  produce: async (argv) => (await import('./produce.js')).runProducerCli(argv),
  demo: async (options, io) => (await import('./demo.js')).runDemo(options, io),
  ...(hook ? { hook } : {}),
  signal: interrupt.signal,
  interruptedBy: () => interruptedBy,
  isTTY: process.stdout.isTTY === true,
});
process.exitCode = code;
// The report is out and the lease released. Work abandoned in the background (an attempt that did not stop
// when the run was interrupted or lost its lease) must not keep the process: leave once the output is written.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
