import { describe, expect, it } from 'vitest';
import {
  PermanentTaskError,
  type PriorTaskState,
  type TaskEvent,
  type TaskFigures,
  type TaskJournal,
  type TaskSpec,
  TaskGraphError,
  TaskTimeoutError,
  runTaskGraph,
  validateGraph,
} from '../src/task-graph.js';

type Name = 'a' | 'b' | 'c' | 'd';

/** A journal that remembers every call, like BATCH_AUDIT would. */
function memoryJournal() {
  const rows: { task: Name; state: string; attempt: number; figures?: TaskFigures; error?: string }[] = [];
  const journal: TaskJournal<Name> = {
    started: async (task, attempt) => void rows.push({ task, state: 'running', attempt }),
    succeeded: async (task, attempt, _s, _f, figures) => void rows.push({ task, state: 'succeeded', attempt, figures }),
    failed: async (task, attempt, _s, _f, error) => void rows.push({ task, state: 'failed', attempt, error: error.message }),
  };
  const latest = () => {
    const prior = new Map<Name, PriorTaskState>();
    for (const r of rows) prior.set(r.task, { state: r.state as PriorTaskState['state'], attempt: r.attempt, ...(r.figures ? { figures: r.figures } : {}) });
    return prior;
  };
  return { rows, journal, latest };
}

const fast = { timeoutMs: 5_000, retries: 0, backoffMs: 0 };

/** Diamond a -> (b ∥ c) -> d; each task logs when it starts and ends. */
function diamond(log: string[], behaviour: Partial<Record<Name, (attempt: number) => Promise<TaskFigures>>> = {}) {
  const attempts: Record<Name, number> = { a: 0, b: 0, c: 0, d: 0 };
  const task = (name: Name, needs: Name[]): TaskSpec<Name, null> => ({
    name,
    needs,
    async run() {
      attempts[name] += 1;
      log.push(`start ${name}`);
      const figures = (await behaviour[name]?.(attempts[name])) ?? { rows: name.charCodeAt(0) };
      log.push(`end ${name}`);
      return figures;
    },
  });
  return { tasks: [task('a', []), task('b', ['a']), task('c', ['a']), task('d', ['b', 'c'])], attempts };
}

describe('runTaskGraph', () => {
  it('runs dependencies first and independent legs concurrently', async () => {
    const log: string[] = [];
    let releaseB!: () => void;
    const bGate = new Promise<void>((r) => (releaseB = r));
    const { tasks } = diamond(log, {
      // b waits until c has finished: this only completes if b and c run at the same time.
      b: async () => {
        await bGate;
        return { files: 2 };
      },
      c: async () => {
        releaseB();
        return { files: 3 };
      },
    });
    const { journal } = memoryJournal();
    const outcomes = await runTaskGraph({ tasks, context: null, policy: () => fast, journal });
    expect(outcomes.map((o) => [o.name, o.state])).toEqual([
      ['a', 'succeeded'],
      ['b', 'succeeded'],
      ['c', 'succeeded'],
      ['d', 'succeeded'],
    ]);
    expect(log.indexOf('end a')).toBeLessThan(log.indexOf('start b'));
    expect(log.indexOf('start b')).toBeLessThan(log.indexOf('end c'));
    expect(log.indexOf('end b')).toBeLessThan(log.indexOf('start d'));
    expect(log.indexOf('end c')).toBeLessThan(log.indexOf('start d'));
    expect(outcomes[1]!.figures).toEqual({ files: 2 });
  });

  it('retries a failing attempt and records every attempt, with the end and error of each failed one', async () => {
    const log: string[] = [];
    const { tasks, attempts } = diamond(log, {
      c: async (attempt) => {
        if (attempt < 3) throw new Error(`flaky ${attempt}`);
        return { rows: 42 };
      },
    });
    const { journal, rows } = memoryJournal();
    const events: TaskEvent<Name>[] = [];
    const outcomes = await runTaskGraph({
      tasks,
      context: null,
      policy: (t) => (t === 'c' ? { ...fast, retries: 2 } : fast),
      journal,
      onEvent: (e) => events.push(e),
    });
    expect(attempts.c).toBe(3);
    expect(outcomes.find((o) => o.name === 'c')).toMatchObject({ state: 'succeeded', attempt: 3, figures: { rows: 42 } });
    expect(rows.filter((r) => r.task === 'c').map((r) => `${r.state}#${r.attempt}`)).toEqual([
      'running#1',
      'failed#1',
      'running#2',
      'failed#2',
      'running#3',
      'succeeded#3',
    ]);
    expect(events.filter((e) => e.type === 'retry').map((e) => (e as { error: Error }).error.message)).toEqual(['flaky 1', 'flaky 2']);
  });

  it('stops after a failure: dependents are not run, the failure is recorded', async () => {
    const log: string[] = [];
    const { tasks, attempts } = diamond(log, {
      b: async () => {
        throw new Error('disk full');
      },
    });
    const { journal, rows } = memoryJournal();
    const outcomes = await runTaskGraph({ tasks, context: null, policy: () => ({ ...fast, retries: 1 }), journal });
    expect(outcomes.map((o) => o.state)).toEqual(['succeeded', 'failed', 'succeeded', 'not-run']);
    expect(outcomes[1]!.error?.message).toBe('disk full');
    expect(attempts).toEqual({ a: 1, b: 2, c: 1, d: 0 });
    expect(rows.at(-1)).toMatchObject({ task: 'b', state: 'failed', attempt: 2, error: 'disk full' });
  });

  it('does not retry a permanent error', async () => {
    const { tasks, attempts } = diamond([], {
      a: async () => {
        throw new PermanentTaskError('bad input');
      },
    });
    const outcomes = await runTaskGraph({ tasks, context: null, policy: () => ({ ...fast, retries: 5 }), journal: memoryJournal().journal });
    expect(attempts.a).toBe(1);
    expect(outcomes.map((o) => o.state)).toEqual(['failed', 'not-run', 'not-run', 'not-run']);
  });

  it('reads `permanent` from the error or its cause, never the name: other packages\' errors are not retried (issue 11)', async () => {
    // Shaped like the other packages' errors (no import of their classes): the property is the contract.
    class ElsewhereError extends Error {
      override readonly name = 'LoadRejectedError';
      constructor(readonly permanent: boolean) {
        super('bad record');
      }
    }
    const wrapped = new Error('driver failed', { cause: new ElsewhereError(true) });
    for (const [thrown, expected] of [
      [new ElsewhereError(true), 1],
      [wrapped, 1],
      [new ElsewhereError(false), 3],
      // A name that used to be on the permanent list means nothing by itself.
      [Object.assign(new Error('renamed'), { name: 'BatchFileError' }), 3],
    ] as const) {
      const { tasks, attempts } = diamond([], {
        a: async () => {
          throw thrown;
        },
      });
      await runTaskGraph({ tasks, context: null, policy: () => ({ ...fast, retries: 2 }), journal: memoryJournal().journal });
      expect(attempts.a).toBe(expected);
    }
  });

  it('a cancelled run aborts the running attempt\'s signal and stops waiting for one that ignores it (SIGINT/SIGTERM)', async () => {
    const controller = new AbortController();
    let sawAbort = false;
    const tasks: TaskSpec<Name, null>[] = [
      {
        name: 'a',
        needs: [],
        run: (_ctx, signal) => {
          signal.addEventListener('abort', () => (sawAbort = true));
          setTimeout(() => controller.abort(new Error('interrupted by SIGINT')), 10);
          return new Promise(() => {}); // never settles, like a statement that cannot be cancelled
        },
      },
      { name: 'b', needs: ['a'], run: async () => ({}) },
    ];
    const outcomes = await runTaskGraph({ tasks, context: null, policy: () => ({ ...fast, retries: 3 }), journal: memoryJournal().journal, signal: controller.signal });
    expect(sawAbort).toBe(true);
    expect(outcomes.map((o) => [o.name, o.state, o.attempt])).toEqual([
      ['a', 'failed', 1],
      ['b', 'not-run', 0],
    ]);
    expect(outcomes[0]!.error?.message).toBe('interrupted by SIGINT');
  });

  it('times an attempt out, aborts its signal and does not start another beside it', async () => {
    let aborted: unknown;
    let attempts = 0;
    const hang: TaskSpec<'slow', null> = {
      name: 'slow',
      needs: [],
      run: (_ctx, signal) =>
        new Promise((_, reject) => {
          attempts += 1;
          signal.addEventListener('abort', () => {
            aborted = signal.reason;
            reject(new Error('aborted'));
          });
        }),
    };
    const journal: TaskJournal<'slow'> = { started: async () => {}, succeeded: async () => {}, failed: async () => {} };
    const [outcome] = await runTaskGraph({ tasks: [hang], context: null, policy: () => ({ timeoutMs: 20, retries: 3, backoffMs: 0 }), journal });
    expect(outcome!.state).toBe('failed');
    expect(outcome!.error).toBeInstanceOf(TaskTimeoutError);
    expect(outcome!.error!.message).toBe('Task slow timed out after 20 ms');
    expect(aborted).toBeInstanceOf(TaskTimeoutError);
    expect(attempts).toBe(1);
  });

  it('resumes: skips tasks that succeeded before, reruns the failed one and what follows', async () => {
    const first = memoryJournal();
    let failC = true;
    const behaviour = {
      c: async () => {
        if (failC) throw new PermanentTaskError('c broke');
        return { rows: 7 };
      },
    };
    const log1: string[] = [];
    await runTaskGraph({ tasks: diamond(log1, behaviour).tasks, context: null, policy: () => fast, journal: first.journal });
    failC = false;
    const log2: string[] = [];
    const second = diamond(log2, behaviour);
    const outcomes = await runTaskGraph({ tasks: second.tasks, context: null, policy: () => fast, journal: first.journal, prior: first.latest() });
    expect(second.attempts).toEqual({ a: 0, b: 0, c: 1, d: 1 });
    expect(outcomes.map((o) => `${o.name}:${o.state}:${o.attempt}`)).toEqual(['a:skipped:1', 'b:skipped:1', 'c:succeeded:2', 'd:succeeded:1']);
    // A skipped task reports the figures it recorded when it ran.
    expect(outcomes[0]!.figures).toEqual({ rows: 97 });
  });

  it('--force reruns tasks that succeeded', async () => {
    const j = memoryJournal();
    await runTaskGraph({ tasks: diamond([]).tasks, context: null, policy: () => fast, journal: j.journal });
    const again = diamond([]);
    const outcomes = await runTaskGraph({ tasks: again.tasks, context: null, policy: () => fast, journal: j.journal, prior: j.latest(), force: true });
    expect(again.attempts).toEqual({ a: 1, b: 1, c: 1, d: 1 });
    expect(outcomes.map((o) => o.attempt)).toEqual([2, 2, 2, 2]);
  });

  it('a task left running by a crashed run is run again', async () => {
    const prior = new Map<Name, PriorTaskState>([
      ['a', { state: 'succeeded', attempt: 1 }],
      ['b', { state: 'running', attempt: 1 }],
    ]);
    const again = diamond([]);
    const outcomes = await runTaskGraph({ tasks: again.tasks, context: null, policy: () => fast, journal: memoryJournal().journal, prior });
    expect(again.attempts).toEqual({ a: 0, b: 1, c: 1, d: 1 });
    expect(outcomes.find((o) => o.name === 'b')!.attempt).toBe(2);
  });

  it('starts nothing new once the run is cancelled', async () => {
    const controller = new AbortController();
    const { tasks, attempts } = diamond([], {
      a: async () => {
        controller.abort(new Error('lease lost'));
        return {};
      },
    });
    const outcomes = await runTaskGraph({ tasks, context: null, policy: () => fast, journal: memoryJournal().journal, signal: controller.signal });
    expect(attempts).toEqual({ a: 1, b: 0, c: 0, d: 0 });
    expect(outcomes.map((o) => o.state)).toEqual(['succeeded', 'not-run', 'not-run', 'not-run']);
  });
});

describe('validateGraph', () => {
  it('rejects duplicates, unknown dependencies and cycles', () => {
    expect(() => validateGraph([{ name: 'a', needs: [] }, { name: 'a', needs: [] }])).toThrow(new TaskGraphError('Task a is defined twice'));
    expect(() => validateGraph([{ name: 'a', needs: ['z'] }])).toThrow('Task a needs unknown task z');
    expect(() =>
      validateGraph([
        { name: 'a', needs: ['c'] },
        { name: 'b', needs: ['a'] },
        { name: 'c', needs: ['b'] },
      ]),
    ).toThrow('Task graph has a cycle: a -> c -> b -> a');
  });
});
