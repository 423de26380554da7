// Every error @batchline/snowflake-loader throws on purpose. `permanent`: another attempt cannot help
// (bad data, bad config, overflow, a missing or corrupt file); `exitCode`: what a CLI exits with
// (1 the work failed, 2 usage or configuration, 75 busy elsewhere). The pipeline reads `permanent`.

/** Quote an untrusted value for a message: JSON escaping, plus C1 controls, line separators and bidi overrides. */
export function quote(value: unknown): string {
  const text = JSON.stringify(typeof value === 'string' ? value : String(value));
  return text.replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Whether a statement's failure is deterministic. SQL states 22 (data exception: overflow, bad
 * cast), 23 (constraint) and 42 (syntax, unknown object, no privilege) repeat on every attempt; so
 * do DuckDB's errors of the same kinds, which carry no SQL state but name their class first.
 */
export function isDeterministicFailure(details: { sqlState?: string | undefined; message?: string }): boolean {
  if (details.sqlState !== undefined) return /^(22|23|42)/.test(details.sqlState);
  return /^(DuckDB: )?(Conversion|Out of Range|Invalid Input|Constraint|Binder|Parser|Catalog|Not implemented|Permission) Error/.test(details.message ?? '');
}

/** A statement failed in the warehouse; keeps the driver's code and SQL state. */
export class WarehouseError extends Error {
  override readonly name: string = 'WarehouseError';
  readonly code: string | undefined;
  readonly sqlState: string | undefined;
  readonly queryId: string | undefined;
  readonly permanent: boolean;
  readonly exitCode: 1 | 2 | 75 = 1;
  constructor(message: string, details: { code?: string; sqlState?: string; queryId?: string; cause?: unknown; permanent?: boolean } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = details.code;
    this.sqlState = details.sqlState;
    this.queryId = details.queryId;
    this.permanent = details.permanent ?? isDeterministicFailure({ sqlState: details.sqlState, message });
  }
}

/**
 * A statement gave up waiting for a table lock another transaction holds (LOCK_TIMEOUT). Usually a killed
 * run's transaction, which keeps its locks until Snowflake aborts it. Not permanent: it passes once the lock goes.
 */
export class WarehouseLockedError extends WarehouseError {
  override readonly name: string = 'WarehouseLockedError';
  override readonly exitCode: 1 | 2 | 75 = 75;
}

/** A bad record under the `abort` policy: names the file, the record and the reason. Nothing was loaded. */
export class LoadRejectedError extends Error {
  override readonly name = 'LoadRejectedError';
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 1;
  constructor(
    readonly entity: string,
    readonly batchId: string,
    readonly file: string,
    readonly row: number | undefined,
    readonly column: string | undefined,
    readonly reason: string,
    readonly rejectedRecords: number,
  ) {
    const where = row === undefined ? file : `${file} record ${row}`;
    const more = rejectedRecords > 1 ? ` (${rejectedRecords} bad records in this file)` : '';
    super(
      `Load of ${entity} batch ${batchId} aborted: ${where}${column ? ` column ${column}` : ''}: ${reason}${more}. ` +
        `Nothing was loaded; fix the file, or load with onError: 'quarantine' to set bad records aside in LOAD_REJECTS.`,
    );
  }
}

/**
 * A compressed batch file that does not decompress to its end (cut short, or damaged). The whole
 * file is refused under either onError policy: a prefix of it is not a smaller valid file.
 */
export class CorruptFileError extends Error {
  override readonly name = 'CorruptFileError';
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 1;
  constructor(
    readonly entity: string,
    readonly batchId: string,
    readonly file: string,
    readonly reason: string,
    detail?: string,
  ) {
    super(
      `Load of ${entity} batch ${batchId} refused ${quote(file)}: ${reason}${detail ? ` (${detail})` : ''}. ` +
        'Nothing was loaded; the whole file is refused in either onError mode: replace the object with a complete one, ' +
        'then pin the batch to it (the claim pinned the broken bytes) before loading again.',
    );
  }
}

/** The warehouse's counts disagree with what the load expected; the transaction was rolled back. */
export class LoadMismatchError extends Error {
  override readonly name = 'LoadMismatchError';
  /** The same files give the same counts on every attempt. */
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 1;
}

/** The load request or a batch file is unusable (bad path, size differs from the manifest, unknown entity). */
export class LoadInputError extends Error {
  override readonly name = 'LoadInputError';
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 1;
}

/** The warehouse URL or configuration is invalid (including a file behind the URL that is not a warehouse). */
export class WarehouseConfigError extends Error {
  override readonly name = 'WarehouseConfigError';
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 2;
}

/** A read-only open of an embedded warehouse that was never created (nothing has run against it yet). */
export class WarehouseMissingError extends Error {
  override readonly name = 'WarehouseMissingError';
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 2;
}

/** Another process holds the embedded warehouse file (DuckDB allows one process per file). */
export class WarehouseBusyError extends Error {
  override readonly name = 'WarehouseBusyError';
  readonly permanent: boolean = false;
  readonly exitCode: 1 | 2 | 75 = 75;
}

/** A value that may not be inlined into SQL text (an identifier, a location). */
export class SqlTemplateError extends Error {
  override readonly name = 'SqlTemplateError';
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 2;
}
