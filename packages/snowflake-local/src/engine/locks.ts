import { SnowflakeError } from '../errors.js';

interface Waiter {
  readonly owner: string;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Snowflake makes a DELETE/UPDATE/MERGE wait for another transaction's
 * DELETE/UPDATE/MERGE on the same table; DuckDB would instead fail one of them
 * with a write conflict. Table locks held until the transaction ends give the
 * callers Snowflake's behaviour.
 */
export class TableLocks {
  private readonly holders = new Map<string, string>();
  private readonly queues = new Map<string, Waiter[]>();
  /** owner -> the table it waits for, for deadlock detection. */
  private readonly waiting = new Map<string, string>();

  constructor(private readonly timeoutMs: number) {}

  /** Would `owner` waiting for `table` close a cycle of waiters? */
  private deadlocks(owner: string, table: string): string | undefined {
    const seen = new Set<string>();
    let holder = this.holders.get(table);
    while (holder !== undefined && !seen.has(holder)) {
      if (holder === owner) return table;
      seen.add(holder);
      const next = this.waiting.get(holder);
      holder = next === undefined ? undefined : this.holders.get(next);
    }
    return undefined;
  }

  /** The session holding each locked table (a dead client's session keeps its locks until aborted). */
  held(): { table: string; owner: string }[] {
    return [...this.holders].map(([table, owner]) => ({ table, owner }));
  }

  async acquire(table: string, owner: string, statement: string, timeoutMs: number = this.timeoutMs): Promise<void> {
    const holder = this.holders.get(table);
    if (holder === undefined || holder === owner) {
      this.holders.set(table, owner);
      return;
    }
    if (this.deadlocks(owner, table)) {
      throw new SnowflakeError(
        '000625',
        '57014',
        `Statement '${statement.slice(0, 60)}' was aborted: waiting for the lock on table ${table} would deadlock with the transaction holding it.`,
      );
    }
    this.waiting.set(owner, table);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(owner);
        const queue = this.queues.get(table) ?? [];
        this.queues.set(table, queue.filter((w) => w.timer !== timer));
        // Snowflake names the transaction holding the lock, so it can be ended with SYSTEM$ABORT_TRANSACTION.
        reject(
          new SnowflakeError(
            '000625',
            '57014',
            `Statement '${statement.slice(0, 60)}' was aborted: table ${table} is locked by transaction ${holder}, which has not released it, ` +
              `and the statement waited longer than LOCK_TIMEOUT (${timeoutMs / 1000} s).`,
          ),
        );
      }, timeoutMs);
      const queue = this.queues.get(table) ?? [];
      queue.push({ owner, resolve, reject, timer });
      this.queues.set(table, queue);
    });
  }

  releaseAll(owner: string): void {
    for (const [table, holder] of [...this.holders]) {
      if (holder !== owner) continue;
      const queue = this.queues.get(table) ?? [];
      const next = queue.shift();
      if (next) {
        clearTimeout(next.timer);
        this.holders.set(table, next.owner);
        this.waiting.delete(next.owner);
        next.resolve();
      } else {
        this.holders.delete(table);
      }
    }
  }
}
