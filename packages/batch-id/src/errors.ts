// Every error @batchline/batch-id throws on purpose. `permanent`: another attempt cannot help;
// `exitCode`: what a CLI exits with (2 = usage or configuration).

/** Quote an untrusted value for a message: JSON escaping, plus C1 controls, line separators and bidi overrides. */
export function quote(value: string, max = 64): string {
  const shown = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(shown).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Render an untrusted value for an error message without letting it forge lines. */
function describe(value: unknown): string {
  if (typeof value !== 'string') return `of type ${value === null ? 'null' : typeof value}`;
  return quote(value);
}

export class InvalidBatchIdError extends Error {
  override readonly name = 'InvalidBatchIdError';
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 2;
  readonly value: unknown;
  constructor(value: unknown, reason: string, legacy = false) {
    const expected = legacy ? 'YYYYMMDDTHHMM (or legacy YYYYMMDDTHHM)' : 'YYYYMMDDTHHMM';
    super(`Invalid batch id ${describe(value)}: ${reason}; expected ${expected} in UTC, e.g. 20261126T0315`);
    this.value = value;
  }
}

export class InvalidCronError extends Error {
  override readonly name = 'InvalidCronError';
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 2;
  constructor(
    readonly value: unknown,
    reason: string,
  ) {
    super(
      `Invalid cron expression ${typeof value === 'string' ? quote(value, 200) : `of type ${typeof value}`}: ${reason}; expected five fields "minute hour day-of-month month day-of-week" in UTC, e.g. "*/15 * * * *"`,
    );
  }
}

export class InvalidInstantError extends Error {
  override readonly name = 'InvalidInstantError';
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 2;
  constructor(
    readonly value: unknown,
    reason: string,
  ) {
    super(`Invalid instant ${describe(value)}: ${reason}; expected an ISO-8601 instant with a zone, e.g. 2026-11-26T03:17:00Z`);
  }
}
