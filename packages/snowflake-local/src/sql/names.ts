import { compilationError } from '../errors.js';
import { Cursor, describe, isOp, tokenize, type Token } from './lexer.js';
import { sqlIdent } from './translate.js';

/** An object name as written: one to three parts, each already case-normalized. */
export interface ObjectName {
  readonly parts: readonly string[];
}

/** Unquoted identifiers are upper-case in Snowflake; quoted ones keep their case. */
export function identValue(t: Token): string {
  if (t.kind === 'ident') return t.value;
  if (t.kind === 'qident') return t.value;
  if (t.kind === 'string') return t.value;
  throw compilationError(`syntax error: identifier expected, found ${describe(t)}`);
}

export function parseObjectName(c: Cursor, maxParts = 3): ObjectName {
  const parts = [identValue(c.next())];
  while (isOp(c.peek(), '.')) {
    c.next();
    parts.push(identValue(c.next()));
  }
  if (parts.length > maxParts) {
    throw compilationError(`syntax error: too many name parts in ${parts.join('.')}`);
  }
  return { parts };
}

export function displayName(name: ObjectName): string {
  return name.parts.join('.');
}

/** A name resolved against the session's current database and schema. */
export interface QualifiedName {
  readonly database: string;
  readonly schema: string;
  readonly name: string;
}

export function duckName(q: QualifiedName): string {
  return `${sqlIdent(q.database)}.${sqlIdent(q.schema)}.${sqlIdent(q.name)}`;
}

/** Splits `@db.schema.stage/some/path/` into the stage name and the path after it. */
export function parseStageReference(reference: string): { name: ObjectName; path: string } {
  const slash = findUnquoted(reference, '/');
  const namePart = slash < 0 ? reference : reference.slice(0, slash);
  const path = slash < 0 ? '' : reference.slice(slash + 1);
  if (namePart.startsWith('~') || namePart.startsWith('%')) {
    throw compilationError(`user and table stages (@${namePart}) are not supported; name a stage`, '000002', '0A000');
  }
  const tokens = tokenize(namePart).filter((t) => t.kind !== 'ws');
  const c = new Cursor(tokens);
  const name = parseObjectName(c);
  if (!c.done) throw compilationError(`syntax error: bad stage reference @${reference}`);
  return { name, path };
}

function findUnquoted(text: string, ch: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (!quoted && text[i] === ch) return i;
  }
  return -1;
}
