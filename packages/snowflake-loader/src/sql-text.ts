/**
 * Rendering of the statement files in the repository's sql/ folder.
 *
 * Two kinds of placeholder, documented in sql/README.md:
 * - `{{NAME}}` is inlined text. Only values built by the `inline*` helpers below go in, each validated
 *   for its kind (batch id, identifier, string literal, list of string literals, positive integer).
 * - `:name` is a bound value, sent to the driver as a positional `?`, never spliced into the text.
 */
import { assertBatchId, type BatchId } from '@batchline/batch-id';
import { SqlTemplateError } from './errors.js';

/** A bound value; a list of strings binds as a DuckDB list (VARCHAR[]). */
export type BindValue = string | number | null | readonly string[];

/** One executable statement: text with `?` markers and its positional binds. */
export interface Statement {
  readonly text: string;
  readonly binds: readonly BindValue[];
}

/** A validated fragment that may be inlined into SQL text. */
export interface InlineSql {
  readonly sql: string;
}

export { SqlTemplateError };

/** The batch id as bare text, for use inside quotes in the files: `'{{BATCH_ID}}'`. */
export function inlineBatchId(batchId: string): InlineSql {
  assertBatchId(batchId);
  return { sql: batchId as BatchId };
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,254}$/;

/** An unquoted identifier (database, schema, integration, table): letters, digits, `_`, `$`. */
export function inlineIdentifier(name: string, what = 'identifier'): InlineSql {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new SqlTemplateError(
      `Invalid ${what} ${JSON.stringify(name)}: expected letters, digits, "_" or "$", starting with a letter or "_"`,
    );
  }
  return { sql: name };
}

/** A single-quoted string literal. Control characters are refused; quotes and backslashes are escaped. */
export function inlineString(value: string, what = 'string'): InlineSql {
  if (typeof value !== 'string' || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new SqlTemplateError(`Invalid ${what} ${JSON.stringify(value)}: control characters are not allowed`);
  }
  return { sql: `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'` };
}

/** A positive integer literal, e.g. a SUBSTR start position. */
export function inlinePositiveInteger(value: number, what = 'integer'): InlineSql {
  if (!Number.isSafeInteger(value) || value < 1) throw new SqlTemplateError(`Invalid ${what} ${String(value)}: expected a positive integer`);
  return { sql: String(value) };
}

/** A comma-separated list of string literals, e.g. for `FILES = (...)`. */
export function inlineStringList(values: readonly string[], what = 'string'): InlineSql {
  if (values.length === 0) throw new SqlTemplateError(`Empty list of ${what}s`);
  return { sql: values.map((v) => inlineString(v, what).sql).join(', ') };
}

/**
 * Split a statement file into statements and bind `:name` placeholders.
 * Comments are dropped; quotes, quoted identifiers and comments are respected while scanning.
 */
export function renderStatements(
  file: string,
  inline: Readonly<Record<string, InlineSql>> = {},
  binds: Readonly<Record<string, BindValue | undefined>> = {},
): Statement[] {
  const text = file.replace(/\{\{\s*([A-Z0-9_]+)\s*\}\}/g, (_m, name: string) => {
    const value = inline[name];
    if (!value) throw new SqlTemplateError(`No value for inlined placeholder {{${name}}}`);
    return value.sql;
  });
  const statements: Statement[] = [];
  let current = '';
  let currentBinds: BindValue[] = [];
  const flush = () => {
    const trimmed = current.replace(/[ \t]+\n/g, '\n').replace(/\n{2,}/g, '\n').trim();
    if (trimmed.length > 0) statements.push({ text: trimmed, binds: currentBinds });
    current = '';
    currentBinds = [];
  };
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    const next = text[i + 1];
    if (ch === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end;
      continue;
    }
    if (ch === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end === -1) throw new SqlTemplateError('Unterminated /* comment');
      i = end + 2;
      continue;
    }
    if (ch === "'" || ch === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw new SqlTemplateError(`Unterminated ${ch === "'" ? 'string' : 'quoted identifier'}`);
        const c = text[j]!;
        if (ch === "'" && c === '\\') {
          j += 2;
          continue;
        }
        if (c === ch) {
          if (text[j + 1] === ch) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      current += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === ';') {
      flush();
      i++;
      continue;
    }
    if (ch === ':' && next !== undefined && /[a-z_]/.test(next) && text[i - 1] !== ':') {
      const match = /^[a-z_][a-z0-9_]*/.exec(text.slice(i + 1))!;
      const name = match[0];
      if (!(name in binds) || binds[name] === undefined) throw new SqlTemplateError(`No value for bind :${name}`);
      currentBinds.push(binds[name]!);
      current += '?';
      i += 1 + name.length;
      continue;
    }
    current += ch;
    i++;
  }
  flush();
  return statements;
}

/** A single-statement file rendered; throws when the file holds more or fewer than one statement. */
export function renderStatement(
  file: string,
  inline: Readonly<Record<string, InlineSql>> = {},
  binds: Readonly<Record<string, BindValue | undefined>> = {},
): Statement {
  const statements = renderStatements(file, inline, binds);
  if (statements.length !== 1) throw new SqlTemplateError(`Expected one statement, found ${statements.length}`);
  return statements[0]!;
}
