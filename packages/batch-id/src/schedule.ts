import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { type BatchId, formatBatchId, parseBatchId } from './batch-id.js';
import { InvalidCronError } from './errors.js';

export { InvalidCronError };

/** Upper bound for slotsBetween, so a typo in a range cannot allocate millions of ids. */
export const MAX_SLOTS = 100_000;

const ALIASES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly']);

function parseCron(cron: string, currentDate: Date, endDate?: Date): CronExpression {
  if (typeof cron !== 'string' || cron.trim() === '') throw new InvalidCronError(cron, 'empty');
  const trimmed = cron.trim();
  // Batch ids have minute resolution: a seconds field would make two slots share an id.
  if (!ALIASES.has(trimmed) && trimmed.split(/\s+/).length !== 5) {
    throw new InvalidCronError(cron, `has ${trimmed.split(/\s+/).length} fields`);
  }
  try {
    return CronExpressionParser.parse(trimmed, { currentDate, ...(endDate ? { endDate } : {}), tz: 'UTC' });
  } catch (err) {
    throw new InvalidCronError(cron, (err as Error).message);
  }
}

/**
 * Check a cron expression by its syntax: five fields (or an @alias), each in range, UTC. Nothing is
 * evaluated at a particular instant, so any valid schedule passes whatever its first slot.
 */
export function assertCron(cron: unknown): asserts cron is string {
  parseCron(cron as string, new Date());
}

function checkDate(now: Date, name: string): void {
  if (!(now instanceof Date) || !Number.isFinite(now.getTime())) {
    throw new RangeError(`${name} must be a valid Date, got ${String(now)}`);
  }
}

/**
 * The batch id of the latest cron slot at or before `now` (UTC). A scheduled run
 * that starts late, and any replay of it, therefore name the same batch.
 */
export function batchIdForSchedule(cron: string, now: Date = new Date()): BatchId {
  checkDate(now, 'now');
  // prev() is strict, so step 1 ms past `now` to include a slot that starts exactly at `now`.
  const expr = parseCron(cron, new Date(now.getTime() + 1));
  return formatBatchId(expr.prev().toDate());
}

/** Every slot of `cron` from `fromId` to `toId`, both inclusive, oldest first. */
export function slotsBetween(cron: string, fromId: BatchId | string, toId: BatchId | string): BatchId[] {
  const from = parseBatchId(fromId);
  const to = parseBatchId(toId);
  if (from.getTime() > to.getTime()) {
    throw new RangeError(`slotsBetween: from ${JSON.stringify(fromId)} is after to ${JSON.stringify(toId)}`);
  }
  const expr = parseCron(cron, new Date(from.getTime() - 1), new Date(to.getTime() + 1));
  const slots: BatchId[] = [];
  while (expr.hasNext()) {
    const next = expr.next().toDate();
    if (next.getTime() > to.getTime()) break;
    if (slots.length === MAX_SLOTS) {
      throw new RangeError(`slotsBetween: more than ${MAX_SLOTS} slots between ${fromId} and ${toId}; narrow the range`);
    }
    slots.push(formatBatchId(next));
  }
  return slots;
}
