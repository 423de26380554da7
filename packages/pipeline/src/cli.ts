#!/usr/bin/env node
import { existsSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TASK_NAMES, type TaskName } from './config.js';
import { runCli } from './cli-program.js';
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

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  // Loaded on demand: the producer brings the Firehose SDK, which `run` never needs.
  produce: async (argv) => (await import('./produce.js')).runProducerCli(argv),
  demo: async (options, io) => (await import('./demo.js')).runDemo(options, io),
  ...(hook ? { hook } : {}),
});
process.exitCode = code;
