/** Which request a fault applies to. */
export type FaultTarget = 'query' | 'result' | 'login' | 'token-renew' | 'heartbeat' | 'session-delete';

export type FaultAction =
  /** Close the TCP connection without an answer. The driver retries with the same requestId. */
  | { readonly kind: 'drop-connection' }
  /** Answer with this HTTP status (503 and 429 make the driver retry). */
  | { readonly kind: 'http-status'; readonly status: number }
  /** Expire the session token: the request gets 390112, the driver renews the token and resends. */
  | { readonly kind: 'expire-session' };

export interface FaultRule {
  readonly action: FaultAction;
  /** Default 'query'. */
  readonly on?: FaultTarget;
  /** For queries: a substring (case-insensitive) or pattern the SQL text must match. */
  readonly sql?: string | RegExp;
  /**
   * For query faults: 'before' fails the request before the statement runs;
   * 'during' fails it as soon as the statement has started (it keeps running, and
   * the driver's retry must wait for that same execution); 'after' runs the statement
   * to completion first, then fails the answer (the retry must get the stored result).
   * A statement never runs twice. Default 'before'.
   */
  readonly when?: 'before' | 'during' | 'after';
  /** How many matching requests fail; default 1. */
  readonly times?: number;
}

/** A live fault: how often it fired, and a way to remove it early. */
export interface FaultHandle {
  readonly rule: FaultRule;
  readonly hits: number;
  readonly remaining: number;
  remove(): void;
}

class ActiveFault implements FaultHandle {
  hits = 0;
  constructor(
    readonly rule: FaultRule,
    private readonly owner: Faults,
  ) {}
  get remaining(): number {
    return Math.max(0, (this.rule.times ?? 1) - this.hits);
  }
  remove(): void {
    this.owner.remove(this);
  }
}

export class Faults {
  private active: ActiveFault[] = [];

  add(rule: FaultRule): FaultHandle {
    if (rule.action.kind === 'http-status' && (rule.action.status < 400 || rule.action.status > 599)) {
      throw new RangeError(`fault http-status must be 400-599, got ${rule.action.status}`);
    }
    if ((rule.times ?? 1) < 1 || !Number.isInteger(rule.times ?? 1)) {
      throw new RangeError(`fault times must be a positive integer, got ${rule.times}`);
    }
    const fault = new ActiveFault(rule, this);
    this.active.push(fault);
    return fault;
  }

  remove(fault: FaultHandle): void {
    this.active = this.active.filter((f) => f !== fault);
  }

  clear(): void {
    this.active = [];
  }

  /** The first live fault for this request and phase; counts the hit. */
  take(on: FaultTarget, when: 'before' | 'during' | 'after', sqlText?: string): FaultAction | undefined {
    for (const fault of this.active) {
      const rule = fault.rule;
      if ((rule.on ?? 'query') !== on) continue;
      if ((rule.when ?? 'before') !== when) continue;
      if (rule.sql !== undefined) {
        if (sqlText === undefined) continue;
        const matches = typeof rule.sql === 'string' ? sqlText.toLowerCase().includes(rule.sql.toLowerCase()) : rule.sql.test(sqlText);
        if (!matches) continue;
      }
      if (fault.remaining === 0) continue;
      fault.hits++;
      if (fault.remaining === 0) this.remove(fault);
      return rule.action;
    }
    return undefined;
  }
}
