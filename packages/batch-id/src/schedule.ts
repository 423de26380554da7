import { Cron } from 'croner';
import { type BatchId, formatBatchId, parseBatchId } from './batch-id.js';
import { InvalidCronError } from './errors.js';

export { InvalidCronError };

/** Upper bound for slotsBetween, so a typo in a range cannot allocate millions of ids. */
export const MAX_SLOTS = 100_000;

const ALIASES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly']);

const MINUTE_MS = 60_000;

function parseCron(cron: string): Cron {
  if (typeof cron !== 'string' || cron.trim() === '') throw new InvalidCronError(cron, 'empty');
  const trimmed = cron.trim();
  // Batch ids have minute resolution: a seconds field would make two slots share an id.
  if (!ALIASES.has(trimmed) && trimmed.split(/\s+/).length !== 5) {
    throw new InvalidCronError(cron, `has ${trimmed.split(/\s+/).length} fields`);
  }
  try {
    // No callback: nothing is scheduled, the object only answers questions about the pattern.
    // domAndDow false: a day-of-month and a day-of-week both given match either (Vixie cron, as GitHub Actions).
    return new Cron(trimmed, { timezone: 'UTC', mode: '5-part', domAndDow: false });
  } catch (err) {
    throw new InvalidCronError(cron, (err as Error).message);
  }
}

/**
 * Check a cron expression by its syntax: five fields (or an @alias), each in range, UTC. Nothing is
 * evaluated at a particular instant, so any valid schedule passes whatever its first slot.
 */
export function assertCron(cron: unknown): asserts cron is string {
  parseCron(cron as string);
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
  const schedule = parseCron(cron);
  // Slots fall on whole minutes: the latest one at or before `now` is the latest at or before its minute.
  // previousRuns includes a run earlier in the reference's second, so 1 ms past the minute includes the minute.
  const minute = Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS;
  const [slot] = schedule.previousRuns(1, new Date(minute + 1));
  if (!slot) throw new InvalidCronError(cron, `no slot at or before ${now.toISOString()}`);
  return formatBatchId(slot);
}

/** Every slot of `cron` from `fromId` to `toId`, both inclusive, oldest first. */
export function slotsBetween(cron: string, fromId: BatchId | string, toId: BatchId | string): BatchId[] {
  const from = parseBatchId(fromId);
  const to = parseBatchId(toId);
  if (from.getTime() > to.getTime()) {
    throw new RangeError(`slotsBetween: from ${JSON.stringify(fromId)} is after to ${JSON.stringify(toId)}`);
  }
  const schedule = parseCron(cron);
  const slots: BatchId[] = [];
  // nextRun is strictly after its argument: start 1 ms before `from` so a slot at `from` counts.
  for (let next = schedule.nextRun(new Date(from.getTime() - 1)); next && next.getTime() <= to.getTime(); next = schedule.nextRun(next)) {
    if (slots.length === MAX_SLOTS) {
      throw new RangeError(`slotsBetween: more than ${MAX_SLOTS} slots between ${fromId} and ${toId}; narrow the range`);
    }
    slots.push(formatBatchId(next));
  }
  return slots;
}
