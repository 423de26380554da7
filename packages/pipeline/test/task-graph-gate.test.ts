// A task's gate (the sequence gate in the pipeline): waiting is not failing; transient gate errors are retried;
// any error a task throws, synchronously or not, is a failed task, never an unhandled rejection.
import { describe, expect, it } from 'vitest';
import { type TaskJournal, type TaskSpec, runTaskGraph } from '../src/task-graph.js';

type Name = 'first' | 'gated' | 'after';

function journal() {
  const rows: string[] = [];
  const j: TaskJournal<Name> = {
    started: async (task, attempt) => void rows.push(`${task} running ${attempt}`),
    succeeded: async (task, attempt) => void rows.push(`${task} succeeded ${attempt}`),
    failed: async (task, attempt, _s, _f, error) => void rows.push(`${task} failed ${attempt}: ${error.message}`),
  };
  return { rows, j };
}

function graph(gate: TaskSpec<Name, null>['gate'], run: TaskSpec<Name, null>['run'] = async () => ({})): TaskSpec<Name, null>[] {
  return [
    { name: 'first', needs: [], run: async () => ({}) },
    { name: 'gated', needs: ['first'], run, ...(gate ? { gate } : {}) },
    { name: 'after', needs: ['gated'], run: async () => ({}) },
  ];
}

const policy = () => ({ timeoutMs: 5_000, retries: 2, backoffMs: 1 });

describe('task gates', () => {
  it('a waiting gate leaves the task waiting: nothing journaled for it, nothing after it starts', async () => {
    const { rows, j } = journal();
    const wait = Object.assign(new Error('waits for batch X'), { waiting: true });
    const outcomes = await runTaskGraph({ tasks: graph(async () => Promise.reject(wait)), context: null, policy, journal: j });
    expect(outcomes.map((o) => [o.name, o.state])).toEqual([
      ['first', 'succeeded'],
      ['gated', 'waiting'],
      ['after', 'not-run'],
    ]);
    expect(outcomes[1]!.error?.message).toBe('waits for batch X');
    expect(rows.filter((r) => !r.startsWith('first'))).toEqual([]);
  });

  it('a transient gate error is retried; a permanent one fails the task at once', async () => {
    let calls = 0;
    const flaky = await runTaskGraph({
      tasks: graph(async () => {
        if (++calls < 3) throw new Error('connection reset');
      }),
      context: null,
      policy,
      journal: journal().j,
    });
    expect(calls).toBe(3);
    expect(flaky.map((o) => o.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);

    let permanentCalls = 0;
    const permanent = await runTaskGraph({
      tasks: graph(async () => {
        permanentCalls++;
        throw Object.assign(new Error('corrupt sequence record'), { permanent: true });
      }),
      context: null,
      policy,
      journal: journal().j,
    });
    expect(permanentCalls).toBe(1);
    expect(permanent[1]).toMatchObject({ state: 'failed' });
    expect(permanent[1]!.error?.message).toBe('corrupt sequence record');
  });

  it('a task that throws synchronously or rejects late is a failed task in the journal', async () => {
    const { rows, j } = journal();
    const sync = await runTaskGraph({
      tasks: graph(undefined, (() => {
        throw new Error('thrown synchronously');
      }) as unknown as TaskSpec<Name, null>['run']),
      context: null,
      policy: () => ({ timeoutMs: 5_000, retries: 0, backoffMs: 0 }),
      journal: j,
    });
    expect(sync[1]).toMatchObject({ state: 'failed' });
    expect(rows).toContain('gated failed 1: thrown synchronously');
    const late = await runTaskGraph({
      tasks: graph(undefined, async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error('rejected later');
      }),
      context: null,
      policy: () => ({ timeoutMs: 5_000, retries: 0, backoffMs: 0 }),
      journal: j,
    });
    expect(late[1]!.error?.message).toBe('rejected later');
  });
});
