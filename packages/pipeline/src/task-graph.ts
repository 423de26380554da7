import pRetry, { AbortError } from 'p-retry';
import { PermanentTaskError, TaskGraphError, TaskTimeoutError, isPermanentError } from './errors.js';

/**
 * A deliberately small task-graph runner: a handful of typed tasks with
 * dependencies, run as soon as their dependencies succeed, each with its own
 * timeout and retry policy. State lives outside (a journal), so a re-run can
 * skip what already succeeded and resume what failed.
 */

/** Figures a task reports; they are persisted with its state. */
export interface TaskFigures {
  readonly files?: number;
  readonly rows?: number;
  readonly rejected?: number;
  readonly orphans?: number;
  readonly duplicates?: number;
  /** Orders from earlier batches counted now that their customer arrived. */
  readonly late?: number;
  /** Fulfilled orders still waiting for their customer after this task. */
  readonly pendingOrphans?: number;
  /** A short note for humans, e.g. "empty batch". */
  readonly note?: string;
}

export interface TaskPolicy {
  /** Per attempt. */
  readonly timeoutMs: number;
  /** Further attempts after the first failure. */
  readonly retries: number;
  /** First backoff; doubles per retry, with jitter. */
  readonly backoffMs: number;
}

export interface TaskSpec<Name extends string, Ctx> {
  readonly name: Name;
  readonly needs: readonly Name[];
  /** `signal` aborts on timeout or when the run is cancelled. */
  run(ctx: Ctx, signal: AbortSignal): Promise<TaskFigures>;
  /**
   * Checked once before the first attempt, outside the timeout and the journal: an error marked
   * `waiting` (e.g. the sequence gate) leaves the task `waiting` (nothing recorded, nothing after it
   * starts); any other error fails the task.
   */
  gate?(ctx: Ctx, signal: AbortSignal | undefined): Promise<void>;
}

/** What the journal remembers of a task from earlier runs. */
export interface PriorTaskState {
  readonly state: 'running' | 'succeeded' | 'failed' | 'skipped';
  readonly attempt: number;
  readonly figures?: TaskFigures;
}

/** Where task state is persisted (BATCH_AUDIT in the pipeline; memory in tests). */
export interface TaskJournal<Name extends string> {
  started(task: Name, attempt: number, at: Date): Promise<void>;
  succeeded(task: Name, attempt: number, startedAt: Date, finishedAt: Date, figures: TaskFigures): Promise<void>;
  failed(task: Name, attempt: number, startedAt: Date, finishedAt: Date, error: Error): Promise<void>;
}

export type TaskOutcomeState = 'succeeded' | 'skipped' | 'failed' | 'waiting' | 'not-run';

export interface TaskOutcome<Name extends string> {
  readonly name: Name;
  /**
   * `skipped`: succeeded in an earlier run; `waiting`: its gate held it back (it was not started);
   * `not-run`: blocked by a failure, a wait or cancellation.
   */
  readonly state: TaskOutcomeState;
  /** Attempt number of the last attempt (counting across runs). */
  readonly attempt: number;
  readonly startedAt?: Date;
  readonly finishedAt?: Date;
  readonly durationMs?: number;
  readonly figures?: TaskFigures;
  readonly error?: Error;
}

export type TaskEvent<Name extends string> =
  | { readonly type: 'start'; readonly task: Name; readonly attempt: number }
  | { readonly type: 'retry'; readonly task: Name; readonly attempt: number; readonly error: Error; readonly delayMs: number }
  | { readonly type: 'succeeded'; readonly task: Name; readonly attempt: number; readonly durationMs: number; readonly figures: TaskFigures }
  | { readonly type: 'failed'; readonly task: Name; readonly attempt: number; readonly error: Error }
  | { readonly type: 'waiting'; readonly task: Name; readonly error: Error }
  | { readonly type: 'skipped'; readonly task: Name; readonly figures?: TaskFigures };

export interface RunGraphOptions<Name extends string, Ctx> {
  readonly tasks: readonly TaskSpec<Name, Ctx>[];
  readonly context: Ctx;
  readonly policy: (task: Name) => TaskPolicy;
  readonly journal: TaskJournal<Name>;
  /** State from earlier runs of the same batch. */
  readonly prior?: ReadonlyMap<Name, PriorTaskState>;
  /** Rerun tasks that already succeeded (every task must be idempotent). */
  readonly force?: boolean;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: TaskEvent<Name>) => void;
  /**
   * More errors another attempt cannot fix, beyond those that say so themselves: an error (or its
   * `cause`) with `permanent: true` always fails at once instead of being retried.
   */
  readonly isPermanent?: (error: Error) => boolean;
  /** Tasks to run again even though they succeeded before (e.g. a transform a sequence change made stale). */
  readonly rerun?: ReadonlySet<Name>;
}

/** An error from a task's gate that means "not yet" rather than "failed". */
export function isWaitingError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { waiting?: unknown }).waiting === true;
}

export { PermanentTaskError, TaskGraphError, TaskTimeoutError };

/** Check the graph once: unique names, known dependencies, no cycles. */
export function validateGraph<Name extends string>(tasks: readonly { name: Name; needs: readonly Name[] }[]): void {
  const names = new Set<Name>();
  for (const t of tasks) {
    if (names.has(t.name)) throw new TaskGraphError(`Task ${t.name} is defined twice`);
    names.add(t.name);
  }
  for (const t of tasks) {
    for (const need of t.needs) {
      if (!names.has(need)) throw new TaskGraphError(`Task ${t.name} needs unknown task ${need}`);
    }
  }
  const byName = new Map(tasks.map((t) => [t.name, t]));
  const state = new Map<Name, 'visiting' | 'done'>();
  const visit = (name: Name, trail: Name[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new TaskGraphError(`Task graph has a cycle: ${[...trail, name].join(' -> ')}`);
    state.set(name, 'visiting');
    for (const need of byName.get(name)!.needs) visit(need, [...trail, name]);
    state.set(name, 'done');
  };
  for (const t of tasks) visit(t.name, []);
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** How long a cancelled attempt may take to stop by itself before the run stops waiting for it. */
const CANCEL_GRACE_MS = 2_000;

/** Run one attempt with a timeout; the attempt sees an AbortSignal that fires on timeout or cancellation. */
async function attemptWithTimeout<T>(task: string, timeoutMs: number, parent: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent?.reason);
  parent?.addEventListener('abort', onParentAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new TaskTimeoutError(task, timeoutMs);
      reject(error);
      controller.abort(error);
    }, timeoutMs);
  });
  // A cancelled run (SIGINT/SIGTERM, a lost lease): the attempt sees its signal fire and gets a moment to
  // stop cleanly; after that the run stops waiting for it, so the caller can release what it holds and exit.
  let grace: NodeJS.Timeout | undefined;
  let onCancel: (() => void) | undefined;
  const cancelled = new Promise<never>((_, reject) => {
    onCancel = () => {
      grace = setTimeout(() => reject(asError(parent?.reason ?? 'run cancelled')), CANCEL_GRACE_MS);
    };
    if (parent?.aborted) onCancel();
    else parent?.addEventListener('abort', onCancel, { once: true });
  });
  cancelled.catch(() => undefined);
  try {
    return await Promise.race([fn(controller.signal), timeout, cancelled]);
  } catch (err) {
    // A task that reacts to the abort rejects with its own error: report the timeout.
    if (controller.signal.reason instanceof TaskTimeoutError) throw controller.signal.reason;
    throw err;
  } finally {
    clearTimeout(timer);
    clearTimeout(grace);
    parent?.removeEventListener('abort', onParentAbort);
    if (onCancel) parent?.removeEventListener('abort', onCancel);
  }
}

/**
 * Run the graph. Independent tasks run concurrently. A task that fails (after
 * its retries) stops the run from starting anything new; tasks already running
 * finish, everything else is reported `not-run`.
 */
export async function runTaskGraph<Name extends string, Ctx>(options: RunGraphOptions<Name, Ctx>): Promise<TaskOutcome<Name>[]> {
  const { tasks, context, journal, prior, force = false, signal, onEvent, isPermanent = () => false, rerun } = options;
  validateGraph(tasks);
  const outcomes = new Map<Name, TaskOutcome<Name>>();
  const running = new Map<Name, Promise<void>>();
  let stopped = false;

  const runOne = async (spec: TaskSpec<Name, Ctx>): Promise<void> => {
    const before = prior?.get(spec.name);
    if (!force && before?.state === 'succeeded' && !rerun?.has(spec.name)) {
      outcomes.set(spec.name, { name: spec.name, state: 'skipped', attempt: before.attempt, ...(before.figures ? { figures: before.figures } : {}) });
      onEvent?.({ type: 'skipped', task: spec.name, ...(before.figures ? { figures: before.figures } : {}) });
      return;
    }
    let attempt = before?.attempt ?? 0;
    const startedAt = new Date();
    let attemptStartedAt = startedAt;
    try {
      if (spec.gate) {
        // The gate reads and writes shared state too: a transient error is retried per the task's policy.
        const gatePolicy = options.policy(spec.name);
        for (let tries = 0; ; tries++) {
          try {
            await spec.gate(context, signal);
            break;
          } catch (err) {
            if (isWaitingError(err)) {
              stopped = true;
              outcomes.set(spec.name, { name: spec.name, state: 'waiting', attempt, error: asError(err) });
              onEvent?.({ type: 'waiting', task: spec.name, error: asError(err) });
              return;
            }
            if (tries >= gatePolicy.retries || isPermanentError(err) || isPermanent(asError(err)) || signal?.aborted) throw new AbortError(asError(err));
            const delayMs = gatePolicy.backoffMs * 2 ** tries;
            onEvent?.({ type: 'retry', task: spec.name, attempt, error: asError(err), delayMs });
            await new Promise((resolve) => setTimeout(resolve, delayMs));
          }
        }
      }
      const policy = options.policy(spec.name);
      const figures = await pRetry(
        async () => {
          if (signal?.aborted) throw new AbortError(asError(signal.reason ?? 'run cancelled'));
          attempt += 1;
          attemptStartedAt = new Date();
          await journal.started(spec.name, attempt, attemptStartedAt);
          onEvent?.({ type: 'start', task: spec.name, attempt });
          try {
            return await attemptWithTimeout(spec.name, policy.timeoutMs, signal, (s) => spec.run(context, s));
          } catch (err) {
            // A timed-out attempt may still be working: never start another beside it.
            if (err instanceof TaskTimeoutError || isPermanentError(err) || isPermanent(asError(err)) || signal?.aborted) {
              throw new AbortError(asError(err));
            }
            // Each failed attempt gets its end and error recorded, so the next one keeps it in the task's history.
            await journal.failed(spec.name, attempt, attemptStartedAt, new Date(), asError(err)).catch(() => undefined);
            throw err;
          }
        },
        {
          retries: policy.retries,
          minTimeout: policy.backoffMs,
          factor: 2,
          randomize: policy.backoffMs > 0,
          onFailedAttempt: ({ error, retriesLeft }) => {
            if (retriesLeft > 0) onEvent?.({ type: 'retry', task: spec.name, attempt, error, delayMs: policy.backoffMs });
          },
        },
      );
      const finishedAt = new Date();
      await journal.succeeded(spec.name, attempt, attemptStartedAt, finishedAt, figures);
      const durationMs = finishedAt.getTime() - startedAt.getTime();
      outcomes.set(spec.name, { name: spec.name, state: 'succeeded', attempt, startedAt, finishedAt, durationMs, figures });
      onEvent?.({ type: 'succeeded', task: spec.name, attempt, durationMs, figures });
    } catch (err) {
      // p-retry wraps non-retried errors in AbortError; report the task's own error.
      const error = err instanceof AbortError ? asError(err.originalError) : asError(err);
      const finishedAt = new Date();
      stopped = true;
      outcomes.set(spec.name, {
        name: spec.name,
        state: 'failed',
        attempt,
        startedAt,
        finishedAt,
        durationMs: finishedAt.getTime() - startedAt.getTime(),
        error,
      });
      onEvent?.({ type: 'failed', task: spec.name, attempt, error });
      // Recording the failure is best effort: the store that failed may be the journal's.
      await journal.failed(spec.name, attempt, attemptStartedAt, finishedAt, error).catch(() => undefined);
    }
  };

  const ready = (spec: TaskSpec<Name, Ctx>) =>
    !outcomes.has(spec.name) &&
    !running.has(spec.name) &&
    spec.needs.every((n) => {
      const o = outcomes.get(n);
      return o !== undefined && (o.state === 'succeeded' || o.state === 'skipped');
    });

  for (;;) {
    if (signal?.aborted) stopped = true;
    if (!stopped) {
      for (const spec of tasks) {
        if (!ready(spec)) continue;
        const p = runOne(spec).finally(() => running.delete(spec.name));
        running.set(spec.name, p);
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }

  return tasks.map(
    (spec) => outcomes.get(spec.name) ?? { name: spec.name, state: 'not-run' as const, attempt: prior?.get(spec.name)?.attempt ?? 0 },
  );
}
