import type { RunReport } from '../report.js';

/**
 * The run's tasks as a Mermaid `gantt` block (GitHub renders Mermaid in job summaries): one bar per task that
 * ran in this run, from its first attempt's start to its last attempt's end; failed tasks are `crit`.
 * Tasks skipped (done in an earlier run) or not run have no bar; they are listed under the chart instead.
 * Times are Unix milliseconds (`dateFormat x`), so sub-second tasks keep their length.
 */
export function mermaidGantt(report: RunReport): string | undefined {
  const ran = report.tasks.filter((t) => t.startedAt && t.finishedAt);
  if (ran.length === 0) return undefined;
  // A colon ends a Mermaid task name: claim:orders becomes "claim orders".
  const name = (task: string, extra: string) => `${task.replace(/:/g, ' ')}${extra}`.replace(/[#;:]/g, ' ');
  const lines = ['gantt', `  title batch ${report.batchId}`, '  dateFormat x', '  axisFormat %H:%M:%S', '  section tasks'];
  ran.forEach((t, i) => {
    const start = Date.parse(t.startedAt!);
    // Mermaid drops zero-length bars: draw at least one millisecond.
    const end = Math.max(start + 1, Date.parse(t.finishedAt!));
    const tag = t.state === 'failed' ? 'crit, ' : 'done, ';
    const attempts = t.attempt > 1 ? `, attempt ${t.attempt}` : '';
    lines.push(`  ${name(t.task, ` (${t.state}${attempts})`)} :${tag}t${i + 1}, ${start}, ${end}`);
  });
  return lines.join('\n');
}
