import { unsupported, compilationError } from '../errors.js';

/**
 * A tokenizer for the Snowflake dialect. Translation works on tokens, never on
 * raw text, so a keyword inside a string literal or a comment is never rewritten.
 */
export type TokenKind =
  | 'ws'
  | 'comment'
  | 'ident' // unquoted identifier or keyword (text as written; `upper` is the canonical form)
  | 'qident' // "quoted identifier" (text includes the quotes)
  | 'string' // '...' or $$...$$ (value holds the decoded string)
  | 'number'
  | 'param' // ? or :1
  | 'column' // $1 (a staged file's column)
  | 'stage' // @name/path/ (a stage reference)
  | 'op' // operators and punctuation
  | 'semicolon';

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** Upper-case text for idents; the decoded value for strings. */
  readonly value: string;
  readonly offset: number;
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_$]/;

/** Snowflake's backslash escapes in single-quoted strings. */
const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  b: '\b',
  f: '\f',
  '0': '\0',
  '\\': '\\',
  "'": "'",
  '"': '"',
};

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number, value?: string) => {
    const text = sql.slice(start, end);
    tokens.push({ kind, text, value: value ?? text, offset: start });
  };
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    const start = i;
    if (/\s/.test(c)) {
      while (i < sql.length && /\s/.test(sql[i]!)) i++;
      push('ws', start, i);
    } else if ((c === '-' && next === '-') || (c === '/' && next === '/')) {
      while (i < sql.length && sql[i] !== '\n') i++;
      push('comment', start, i);
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw compilationError(`syntax error: unterminated comment starting at position ${start}`);
      i = end + 2;
      push('comment', start, i);
    } else if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= sql.length) throw compilationError(`syntax error: unterminated string starting at position ${start}`);
        const ch = sql[i]!;
        if (ch === "'") {
          if (sql[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (ch === '\\') {
          const esc = sql[i + 1];
          if (esc === undefined) throw compilationError(`syntax error: unterminated string starting at position ${start}`);
          if (esc === 'x' || esc === 'u' || /[1-7]/.test(esc)) {
            throw unsupported(`the string escape \\${esc} (position ${i})`);
          }
          value += ESCAPES[esc] ?? esc;
          i += 2;
          continue;
        }
        value += ch;
        i++;
      }
      push('string', start, i, value);
    } else if (c === '$' && next === '$') {
      const end = sql.indexOf('$$', i + 2);
      if (end < 0) throw compilationError(`syntax error: unterminated $$ string starting at position ${start}`);
      const value = sql.slice(i + 2, end);
      i = end + 2;
      push('string', start, i, value);
    } else if (c === '$' && next !== undefined && /[0-9]/.test(next)) {
      i++;
      while (i < sql.length && /[0-9]/.test(sql[i]!)) i++;
      push('column', start, i);
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= sql.length) throw compilationError(`syntax error: unterminated quoted identifier at position ${start}`);
        if (sql[i] === '"') {
          if (sql[i + 1] === '"') {
            i += 2;
            continue;
          }
          i++;
          break;
        }
        i++;
      }
      push('qident', start, i, sql.slice(start + 1, i - 1).replaceAll('""', '"'));
    } else if (/[0-9]/.test(c) || (c === '.' && next !== undefined && /[0-9]/.test(next))) {
      while (i < sql.length && /[0-9]/.test(sql[i]!)) i++;
      if (sql[i] === '.') {
        i++;
        while (i < sql.length && /[0-9]/.test(sql[i]!)) i++;
      }
      if ((sql[i] === 'e' || sql[i] === 'E') && /[-+0-9]/.test(sql[i + 1] ?? '')) {
        i += 2;
        while (i < sql.length && /[0-9]/.test(sql[i]!)) i++;
      }
      push('number', start, i);
    } else if (IDENT_START.test(c)) {
      while (i < sql.length && IDENT_PART.test(sql[i]!)) i++;
      const text = sql.slice(start, i);
      tokens.push({ kind: 'ident', text, value: text.toUpperCase(), offset: start });
    } else if (c === '?') {
      i++;
      push('param', start, i);
    } else if (c === ':' && next !== undefined && /[0-9]/.test(next)) {
      i++;
      while (i < sql.length && /[0-9]/.test(sql[i]!)) i++;
      push('param', start, i);
    } else if (c === '@') {
      // @stage, @db.schema.stage, @"Quoted"/path/to/ ; the path runs to whitespace, ')' or ';'
      i++;
      while (i < sql.length && !/[\s);,]/.test(sql[i]!)) i++;
      if (i === start + 1) throw compilationError(`syntax error: stage name expected after '@' at position ${start}`);
      push('stage', start, i, sql.slice(start + 1, i));
    } else if (c === ';') {
      i++;
      push('semicolon', start, i);
    } else {
      const two = sql.slice(i, i + 2);
      if (['::', '||', '<=', '>=', '<>', '!=', '=>'].includes(two)) {
        i += 2;
      } else {
        i++;
      }
      push('op', start, i);
    }
  }
  return tokens;
}

/** Tokens without whitespace and comments. */
export function significant(tokens: readonly Token[]): Token[] {
  return tokens.filter((t) => t.kind !== 'ws' && t.kind !== 'comment');
}

/** Splits a token list into statements at top-level semicolons; empty statements are dropped. */
export function splitStatements(tokens: readonly Token[]): Token[][] {
  const statements: Token[][] = [];
  let current: Token[] = [];
  for (const t of tokens) {
    if (t.kind === 'semicolon') {
      if (significant(current).length > 0) statements.push(current);
      current = [];
    } else {
      current.push(t);
    }
  }
  if (significant(current).length > 0) statements.push(current);
  return statements;
}

/** A cursor over significant tokens, for the small recursive-descent parsers. */
export class Cursor {
  private i = 0;
  constructor(readonly tokens: readonly Token[]) {}

  get done(): boolean {
    return this.i >= this.tokens.length;
  }
  get position(): number {
    return this.i;
  }
  set position(p: number) {
    this.i = p;
  }
  peek(ahead = 0): Token | undefined {
    return this.tokens[this.i + ahead];
  }
  next(): Token {
    const t = this.tokens[this.i];
    if (!t) throw compilationError('syntax error: unexpected end of statement');
    this.i++;
    return t;
  }
  /** True (and consumed) when the next tokens are these keywords. */
  accept(...words: string[]): boolean {
    for (let k = 0; k < words.length; k++) {
      const t = this.tokens[this.i + k];
      if (!t || !isWord(t, words[k]!)) return false;
    }
    this.i += words.length;
    return true;
  }
  acceptOp(op: string): boolean {
    const t = this.tokens[this.i];
    if (t && t.kind === 'op' && t.text === op) {
      this.i++;
      return true;
    }
    return false;
  }
  expect(...words: string[]): void {
    if (!this.accept(...words)) {
      throw compilationError(`syntax error: expected ${words.join(' ')} but found ${describe(this.peek())}`);
    }
  }
  expectOp(op: string): void {
    if (!this.acceptOp(op)) throw compilationError(`syntax error: expected '${op}' but found ${describe(this.peek())}`);
  }
  rest(): Token[] {
    return this.tokens.slice(this.i);
  }
}

export function isWord(t: Token | undefined, word: string): boolean {
  return t !== undefined && t.kind === 'ident' && t.value === word;
}

export function isOp(t: Token | undefined, op: string): boolean {
  return t !== undefined && t.kind === 'op' && t.text === op;
}

export function describe(t: Token | undefined): string {
  return t ? `'${t.text}'` : 'end of statement';
}
