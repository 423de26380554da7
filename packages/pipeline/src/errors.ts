// Errors @batchline/pipeline throws on purpose. Each says whether another attempt could help (`permanent`)
// and which exit code the CLI uses (`exitCode`: 1 the work failed, 2 usage or configuration, 75 must wait).

/** Quote an untrusted value for a message: JSON escaping, plus C1 controls, line separators and bidi overrides. */
export function quoteValue(value: unknown): string {
  const text = JSON.stringify(typeof value === 'string' ? value : String(value));
  return text.replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
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
