import { compilationError } from '../errors.js';
import { Cursor, describe, isOp, type Token } from './lexer.js';

/** A value in Snowflake's `NAME = value` option syntax. */
export type OptionValue =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: string }
  | { readonly kind: 'word'; readonly value: string }
  | { readonly kind: 'list'; readonly values: readonly OptionValue[] }
  | { readonly kind: 'options'; readonly options: Options };

export type Options = ReadonlyMap<string, OptionValue>;

/** Reads `NAME = value` pairs until the cursor ends or `stop` says so. */
export function parseOptions(c: Cursor, stop?: (t: Token) => boolean): Map<string, OptionValue> {
  const options = new Map<string, OptionValue>();
  while (!c.done && !(stop && stop(c.peek()!))) {
    if (c.acceptOp(',')) continue;
    const nameToken = c.next();
    if (nameToken.kind !== 'ident') throw compilationError(`syntax error: option name expected, found ${describe(nameToken)}`);
    c.acceptOp('=');
    if (options.has(nameToken.value)) {
      throw compilationError(`duplicate option ${nameToken.value}`, '001003', '42601');
    }
    options.set(nameToken.value, parseOptionValue(c));
  }
  return options;
}

export function parseOptionValue(c: Cursor): OptionValue {
  const t = c.next();
  if (t.kind === 'string') return { kind: 'string', value: t.value };
  if (t.kind === 'number') return { kind: 'number', value: t.text };
  if (t.kind === 'ident' || t.kind === 'qident') {
    // a possibly qualified name, e.g. FORMAT_NAME = RETAIL_DB.RETAIL_SCHEMA.CSV_FORMAT
    let value = t.value;
    while (isOp(c.peek(), '.')) {
      c.next();
      const part = c.next();
      value += `.${part.value}`;
    }
    return { kind: 'word', value };
  }
  if (isOp(t, '(')) {
    // either a nested option set, FILE_FORMAT = (TYPE = CSV ...), or a list, NULL_IF = ('', 'NULL')
    const first = c.peek();
    const second = c.peek(1);
    if (first && first.kind === 'ident' && (isOp(second, '=') || (second?.kind === 'ident' && isOp(c.peek(2), '=')))) {
      const nested = parseOptions(c, (x) => isOp(x, ')'));
      c.expectOp(')');
      return { kind: 'options', options: nested };
    }
    const values: OptionValue[] = [];
    while (!c.acceptOp(')')) {
      if (c.acceptOp(',')) continue;
      values.push(parseOptionValue(c));
    }
    return { kind: 'list', values };
  }
  throw compilationError(`syntax error: option value expected, found ${describe(t)}`);
}

export function optionText(v: OptionValue | undefined, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (v.kind === 'string' || v.kind === 'word' || v.kind === 'number') return v.value;
  throw compilationError(`invalid value for ${name}: a single value is expected`, '002023', '22023');
}

export function optionBoolean(v: OptionValue | undefined, name: string): boolean | undefined {
  const text = optionText(v, name);
  if (text === undefined) return undefined;
  const upper = text.toUpperCase();
  if (upper === 'TRUE') return true;
  if (upper === 'FALSE') return false;
  throw compilationError(`invalid value [${text}] for parameter '${name}'`, '002023', '22023');
}

export function optionInteger(v: OptionValue | undefined, name: string): number | undefined {
  const text = optionText(v, name);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw compilationError(`invalid value [${text}] for parameter '${name}'`, '002023', '22023');
  return Number(text);
}

export function optionStrings(v: OptionValue | undefined, name: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (v.kind === 'list') return v.values.map((x) => optionText(x, name)!);
  return [optionText(v, name)!];
}
