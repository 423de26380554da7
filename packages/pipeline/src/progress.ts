import type { RunEvent } from './run-batch.js';
import { formatDuration } from './report.js';

const n = (v: number) => v.toLocaleString('en-US');

/**
 * Human progress on stderr: tasks as they start and finish, file moves as they
 * happen (at most about once a second per entity and step), rows as they load.
 */
export function progressPrinter(write: (line: string) => void, now: () => number = Date.now): (event: RunEvent) => void {
  const lastPrinted = new Map<string, number>();
  return (event) => {
    switch (event.type) {
      case 'lease':
        write(`holding lease ${event.key}`);
        break;
      case 'start':
        write(`> ${event.task}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`);
        break;
      case 'skipped':
        write(`- ${event.task}: already done in an earlier run, skipped`);
        break;
      case 'retry':
        write(`! ${event.task} attempt ${event.attempt} failed, retrying: ${event.error.message}`);
        break;
      case 'failed':
        write(`x ${event.task} failed (attempt ${event.attempt}): ${event.error.message}`);
        break;
      case 'succeeded': {
        const f = event.figures;
        const parts: string[] = [];
        if (f.files !== undefined) parts.push(`${n(f.files)} files`);
        if (f.rows !== undefined) parts.push(`${n(f.rows)} rows`);
        if (f.rejected) parts.push(`${n(f.rejected)} rejected`);
        if (f.duplicates) parts.push(`${n(f.duplicates)} duplicates skipped`);
        if (f.orphans) parts.push(`${n(f.orphans)} orphans`);
        if (f.note) parts.push(f.note);
        write(`✓ ${event.task} in ${formatDuration(event.durationMs)}${parts.length ? `: ${parts.join(', ')}` : ''}`);
        break;
      }
      case 'progress': {
        const key = `${event.entity}:${event.step}`;
        const t = now();
        const final = event.done === event.total;
        if (!final && t - (lastPrinted.get(key) ?? 0) < 1000) break;
        lastPrinted.set(key, t);
        write(`  ${event.entity} ${event.step}: ${n(event.done)}/${n(event.total)} files`);
        break;
      }
    }
  };
}
