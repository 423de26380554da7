import type { Statement } from './sql-text.js';

export type Cell = string | number | bigint | boolean | Date | null | undefined;
export type Row = Record<string, Cell>;

/** One connection inside one transaction. */
export interface SqlSession {
  /** Run one statement; returns its rows (none for DML) and the rows it changed when the driver reports it. */
  run(statement: Statement): Promise<{ rows: Row[]; rowsChanged?: number }>;
}

/** What the engine-neutral operations need from an adapter. */
export interface SqlEngine {
  /** Run `fn` on a dedicated connection between BEGIN and COMMIT; ROLLBACK when it throws. */
  transaction<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  /** A timestamp cell as the driver returns it, as a Date. */
  toDate(cell: Cell): Date | undefined;
}

export async function runAll(session: SqlSession, statements: readonly Statement[]): Promise<Row[]> {
  let last: Row[] = [];
  for (const statement of statements) last = (await session.run(statement)).rows;
  return last;
}

export function asNumber(cell: Cell, what: string): number {
  const n = typeof cell === 'bigint' ? Number(cell) : typeof cell === 'string' ? Number(cell) : cell;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`Expected a number for ${what}, got ${String(cell)}`);
  return n;
}
