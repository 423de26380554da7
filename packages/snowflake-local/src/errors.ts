/**
 * An error as Snowflake reports it: the driver surfaces `code` and `sqlState`
 * unchanged, so tests of error handling see what production would show.
 */
export class SnowflakeError extends Error {
  override readonly name = 'SnowflakeError';
  constructor(
    readonly code: string,
    readonly sqlState: string,
    message: string,
  ) {
    super(message);
  }
}

export function compilationError(detail: string, code = '001003', sqlState = '42000'): SnowflakeError {
  return new SnowflakeError(code, sqlState, `SQL compilation error:\n${detail}`);
}

/**
 * Anything outside the translated subset. Snowflake's own code for an
 * unsupported feature, so callers cannot mistake it for a data error.
 */
export function unsupported(feature: string): SnowflakeError {
  return new SnowflakeError(
    '000002',
    '0A000',
    `Unsupported feature '${feature}'. snowflake-local runs only the statements listed in its README.`,
  );
}

export function objectNotFound(kind: string, name: string): SnowflakeError {
  return compilationError(`${kind} '${name}' does not exist or not authorized.`, '002003', '42S02');
}

export function alreadyExists(kind: string, name: string): SnowflakeError {
  return compilationError(`${kind} '${name}' already exists.`, '002002', '42710');
}

export function invalidIdentifier(name: string): SnowflakeError {
  return compilationError(`invalid identifier '${name}'`, '000904', '42000');
}

export function noCurrentDatabase(action: string): SnowflakeError {
  return new SnowflakeError(
    '090105',
    '22000',
    `Cannot perform ${action}. This session does not have a current database. Call 'USE DATABASE', or use a qualified name.`,
  );
}

export function noCurrentSchema(action: string): SnowflakeError {
  return new SnowflakeError(
    '090106',
    '22000',
    `Cannot perform ${action}. This session does not have a current schema. Call 'USE SCHEMA', or use a qualified name.`,
  );
}

export function numericNotRecognized(value: string): SnowflakeError {
  return new SnowflakeError('100038', '22018', `Numeric value '${value}' is not recognized`);
}

export function dateNotRecognized(value: string): SnowflakeError {
  return new SnowflakeError('100040', '22007', `Date '${value}' is not recognized`);
}

export function timestampNotRecognized(value: string): SnowflakeError {
  return new SnowflakeError('100035', '22007', `Timestamp '${value}' is not recognized`);
}

export function nullInNonNullable(): SnowflakeError {
  return new SnowflakeError('100072', '22000', 'NULL result in a non-nullable column');
}

export function internalError(detail: string): SnowflakeError {
  return new SnowflakeError('000603', 'XX000', `SQL execution internal error:\n${detail}`);
}

/**
 * Maps a DuckDB error onto the Snowflake error a caller would see for the same
 * mistake. Unknown DuckDB errors become internal errors that keep DuckDB's text.
 */
export function fromDuckDbError(error: unknown): SnowflakeError {
  if (error instanceof SnowflakeError) return error;
  const raw = error instanceof Error ? error.message : String(error);
  const message = raw.split('\n')[0]!.trim();
  let m: RegExpMatchArray | null;
  if ((m = message.match(/^Catalog Error: (Table|View|Schema|Catalog|Table Function|Macro Function|Sequence) with name "?([^"!]+?)"? does not exist/))) {
    const kind = m[1] === 'Catalog' ? 'Database' : m[1] === 'Schema' ? 'Schema' : 'Object';
    return objectNotFound(kind, m[2]!);
  }
  if ((m = message.match(/^Catalog Error: (?:Scalar Function|Aggregate Function|Function) with name "?([^"!]+?)"? does not exist/))) {
    return compilationError(`Unknown function ${m[1]!.toUpperCase()}`, '002140', '42601');
  }
  if ((m = message.match(/^Catalog Error: .*?"?([\w$.]+)"? already exists/))) {
    return alreadyExists('Object', m[1]!);
  }
  if ((m = message.match(/^Binder Error: Referenced column "?([^"]+)"? not found/))) {
    return invalidIdentifier(m[1]!);
  }
  if ((m = message.match(/^Binder Error: (?:Values list|Table) "?(\w+)"? does not have a column named "?([^"]+)"?/))) {
    return invalidIdentifier(`${m[1]}.${m[2]}`);
  }
  if (message.startsWith('Parser Error:')) {
    return compilationError(`syntax error: ${message.slice('Parser Error:'.length).trim()}`, '001003', '42000');
  }
  if (message.startsWith('Binder Error:') || message.startsWith('Catalog Error:')) {
    return compilationError(message.replace(/^(Binder|Catalog) Error: /, ''), '002000', '42000');
  }
  if ((m = message.match(/^Conversion Error: Could not convert string ['"](.*)['"] to (INT\d+|UINT\d+|DECIMAL.*|DOUBLE|FLOAT|HUGEINT)/))) {
    const value = m[1]!;
    // A well-formed number that does not fit is "out of range", as Snowflake says.
    if (/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(value)) {
      return new SnowflakeError('100039', '22003', `Numeric value '${value}' is out of range`);
    }
    return numericNotRecognized(value);
  }
  if ((m = message.match(/^Conversion Error: .*date.*?"(.*)"/i))) {
    return dateNotRecognized(m[1]!);
  }
  if ((m = message.match(/^Conversion Error: .*timestamp.*?"(.*)"/i))) {
    return timestampNotRecognized(m[1]!);
  }
  if (message.startsWith('Conversion Error:') || message.startsWith('Out of Range Error:')) {
    return new SnowflakeError('100038', '22018', message.replace(/^[\w ]+ Error: /, ''));
  }
  if (message.startsWith('Constraint Error: NOT NULL constraint failed')) {
    return nullInNonNullable();
  }
  if (message.startsWith('Constraint Error: CHECK constraint failed')) {
    return new SnowflakeError('100074', '22000', 'String is too long and would be truncated');
  }
  if (message.startsWith('Constraint Error:')) {
    return new SnowflakeError('100072', '22000', message.replace(/^Constraint Error: /, ''));
  }
  return internalError(message);
}
