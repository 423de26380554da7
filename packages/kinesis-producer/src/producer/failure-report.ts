import { classifyFailure, type FailureKind } from '../errors.js';
import type { ProducerEvent } from '../producer-contract.js';

/**
 * Retried failures (network, throttling, 5xx) are reported at a steady interval, not
 * one line per attempt: the first failure at once, then at most one line per interval
 * while they go on, with counts and the last error; and one line when deliveries recover.
 */
export class FailureReport {
  private since: number | undefined;
  private lastReport = 0;
  private attempts = 0;
  private readonly byKind = new Map<FailureKind, number>();
  private last = { code: '', message: '' };

  constructor(
    private readonly intervalMillis: number,
    private readonly onEvent: (event: ProducerEvent) => void,
  ) {}

  failed(stream: string, code: string, message: string, records: number, waiting: number): void {
    const now = Date.now();
    const kind = classifyFailure(code, message);
    this.since ??= now;
    this.attempts++;
    this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + 1);
    this.last = { code, message };
    if (this.attempts > 1 && now - this.lastReport < this.intervalMillis) return;
    this.lastReport = now;
    const kinds = [...this.byKind].map(([k, n]) => `${n} ${k === 'throttled' ? 'throttled/5xx' : k}`).join(', ');
    this.onEvent({
      type: 'delivery-failing',
      stream,
      code,
      records,
      message:
        `${this.attempts} failed attempt(s) in ${Math.round((now - this.since) / 1000)} s (${kinds}), retrying with backoff; ` +
        `${waiting} record(s) waiting; last error ${code}: ${oneLine(message)}`,
    });
  }

  succeeded(stream: string): void {
    if (this.since === undefined) return;
    const seconds = Math.round((Date.now() - this.since) / 1000);
    this.onEvent({ type: 'delivery-recovered', stream, message: `delivering again after ${this.attempts} failed attempt(s) over ${seconds} s` });
    this.since = undefined;
    this.attempts = 0;
    this.byKind.clear();
  }

  /** The last error seen, for a final message. */
  get lastError(): string {
    return this.last.code ? `${this.last.code}: ${oneLine(this.last.message)}` : '';
  }
}

function oneLine(message: string): string {
  return JSON.stringify(message.length > 300 ? `${message.slice(0, 300)}...` : message).slice(1, -1);
}
