/** A statement failed in the warehouse; keeps the driver's code and SQL state. */
export class WarehouseError extends Error {
  override readonly name = 'WarehouseError';
  readonly code: string | undefined;
  readonly sqlState: string | undefined;
  readonly queryId: string | undefined;
  constructor(message: string, details: { code?: string; sqlState?: string; queryId?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = details.code;
    this.sqlState = details.sqlState;
    this.queryId = details.queryId;
  }
}

/** A bad record under the `abort` policy: names the file, the record and the reason. Nothing was loaded. */
export class LoadRejectedError extends Error {
  override readonly name = 'LoadRejectedError';
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

/** The warehouse's counts disagree with what the load expected; the transaction was rolled back. */
export class LoadMismatchError extends Error {
  override readonly name = 'LoadMismatchError';
}

/** The load request or a batch file is unusable (bad path, size differs from the manifest, unknown entity). */
export class LoadInputError extends Error {
  override readonly name = 'LoadInputError';
}

/** The warehouse URL or configuration is invalid. */
export class WarehouseConfigError extends Error {
  override readonly name = 'WarehouseConfigError';
}
