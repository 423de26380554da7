// Errors @batchline/pipeline throws on purpose. Each says whether another attempt could help (`permanent`)
// and which exit code the CLI uses (`exitCode`: 1 the work failed, 2 usage or configuration, 75 must wait).

/** Quote an untrusted value for a message: JSON escaping, plus C1 controls, line separators and bidi overrides. */
export function quoteValue(value: unknown): string {
  const text = JSON.stringify(typeof value === 'string' ? value : String(value));
  return text.replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A batch id after the current slot of the configured cron: refused before any I/O. */
export class FutureBatchError extends Error {
  override readonly name = 'FutureBatchError';
  readonly permanent = true;
  readonly exitCode = 2 as const;
  constructor(
    readonly batchId: string,
    readonly currentSlot: string,
    readonly cron: string,
  ) {
    super(
      `batch ${batchId} is after the current slot ${currentSlot} of the schedule ${quoteValue(cron)}: ` +
        `a future id would take files that belong to later batches; expected an id at or before ${currentSlot}`,
    );
  }
}

/**
 * The transform of a batch waits for an earlier batch of the sequence (in progress elsewhere, failed, or
 * not loaded yet). Nothing of this batch is lost: its loads stay, and it is transformed once the earlier one is.
 */
export class SequenceWaitError extends Error {
  override readonly name = 'SequenceWaitError';
  readonly permanent = true;
  readonly exitCode = 75 as const;
  /** The task runner reports a task held back by this error as `waiting`, not `failed`. */
  readonly waiting = true;
  constructor(
    readonly batchId: string,
    /** The earliest batch holding this one back. */
    readonly blocker: string,
    /** Why it holds the sequence: `in progress ...`, `failed at load:orders: ...`, `not loaded yet`. */
    readonly reason: string,
    /** What to run. */
    readonly wayOut: string,
    /** True when the blocker is being worked on by another run: waiting (--wait) helps. */
    readonly busy: boolean,
  ) {
    super(`batch ${batchId} waits for batch ${blocker} (${reason}); ${wayOut}`);
  }
}

/**
 * A new claim of a batch earlier than one whose transform already started: the sequence is sealed below
 * that batch, so this id is refused before it pins anything and its files go to the next slot.
 */
export class BatchSupersededError extends Error {
  override readonly name = 'BatchSupersededError';
  readonly permanent = true;
  readonly exitCode = 2 as const;
  constructor(
    readonly batchId: string,
    readonly sealedBy: string,
  ) {
    super(
      `batch ${batchId} was never claimed and batch ${sealedBy} already started its transform: ` +
        `an earlier batch cannot join the sequence after it; nothing was claimed, and the files in landing go to the next slot's batch`,
    );
  }
}

/** repin or release refused for the batch's state; the message says why and what to run instead. */
export class WayOutRefusedError extends Error {
  override readonly name = 'WayOutRefusedError';
  readonly permanent = true;
  readonly exitCode = 2 as const;
}

/** Bad command-line usage: exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly permanent = true;
  readonly exitCode = 2 as const;
}

/** A config file, environment variable or flag that is not valid: exit 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly permanent = true;
  readonly exitCode = 2 as const;
}

/** An attempt ran past its timeout; it may still be working, so it is never retried beside itself. */
export class TaskTimeoutError extends Error {
  override readonly name = 'TaskTimeoutError';
  readonly permanent = true;
  readonly exitCode = 1 as const;
  constructor(
    readonly task: string,
    readonly timeoutMs: number,
  ) {
    super(`Task ${task} timed out after ${timeoutMs} ms`);
  }
}

/** Thrown by a task for a failure that another attempt cannot fix (bad data, bad config). */
export class PermanentTaskError extends Error {
  override readonly name = 'PermanentTaskError';
  readonly permanent = true;
  readonly exitCode = 1 as const;
}

/** A task graph that cannot run: a duplicate name, an unknown dependency or a cycle. */
export class TaskGraphError extends Error {
  override readonly name = 'TaskGraphError';
  readonly permanent = true;
  readonly exitCode = 1 as const;
}

/** The run stopped because of SIGINT/SIGTERM (or its caller's AbortSignal); exit 130/143 from the CLI. */
export class RunInterruptedError extends Error {
  override readonly name = 'RunInterruptedError';
  readonly permanent = true;
  readonly exitCode = 1 as const;
}

/**
 * Whether another attempt could help: the error's own `permanent`, or that of its `cause` (a wrapper
 * such as a driver error keeps the original there). Errors without the property are retried.
 */
export function isPermanentError(error: unknown): boolean {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const permanent = (e as { permanent?: unknown }).permanent;
    if (typeof permanent === 'boolean') return permanent;
  }
  return false;
}

/** The exit code an error asks for (1 when it does not say): 2 usage or configuration, 75 busy elsewhere. */
export function exitCodeOf(error: unknown): number {
  const code = typeof error === 'object' && error !== null ? (error as { exitCode?: unknown }).exitCode : undefined;
  return code === 2 || code === 75 || code === 1 ? code : 1;
}
