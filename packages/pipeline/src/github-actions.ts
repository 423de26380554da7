import * as core from '@actions/core';
import type { RunReport } from './report.js';
import { summaryRows } from './report.js';
import { mermaidGantt } from './status-page/mermaid.js';

/** True inside a GitHub Actions job (the runner sets GITHUB_ACTIONS=true). */
export function inGitHubActions(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['GITHUB_ACTIONS'] === 'true';
}

/** Outputs, failure annotations and the job summary of one run. */
export async function publishToGitHubActions(report: RunReport): Promise<void> {
  core.setOutput('batch-id', report.batchId);
  core.setOutput('status', report.status);
  core.setOutput('curated-rows', String(report.curated.rows ?? 0));
  core.setOutput('report', JSON.stringify(report));
  for (const t of report.tasks) {
    if (t.state === 'failed') core.error(`${t.task} failed (attempt ${t.attempt}): ${t.error ?? 'unknown error'}`, { title: `batch ${report.batchId}: ${t.task}` });
    if (t.rejected) core.warning(`${t.task}: ${t.rejected} rows rejected`, { title: `batch ${report.batchId}: rejected rows` });
  }
  // The sequence: a transform waiting for an earlier batch, or an earlier id refused, says what to run.
  const waitingFor = report.sequence?.waitingFor;
  if (waitingFor) {
    core.error(`waits for batch ${waitingFor.batchId} (${waitingFor.reason}); ${waitingFor.wayOut}`, { title: `batch ${report.batchId}: waiting` });
  }
  if (report.status === 'superseded') core.notice(report.error ?? 'superseded', { title: `batch ${report.batchId}: superseded` });
  for (const c of report.sequence?.caughtUp ?? []) {
    core.notice(`batch ${c.batchId} ${c.rerunTransform ? 're-transformed' : 'caught up'}: ${c.status}`, { title: `batch ${report.batchId}: sequence` });
  }
  if (report.curated.pendingOrphans) {
    core.notice(`${report.curated.pendingOrphans} fulfilled orders wait for their customer`, { title: `batch ${report.batchId}: orphan orders` });
  }
  if (!process.env['GITHUB_STEP_SUMMARY']) return;
  const rows = summaryRows(report);
  // Cells are HTML in the summary; error texts can carry untrusted file content.
  const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const header = (cells: string[]) => cells.map((data) => ({ data: esc(data), header: true }));
  const body = (table: string[][]) => table.slice(1).map((r) => r.map(esc));
  const gantt = mermaidGantt(report);
  const verdict =
    report.status === 'succeeded'
      ? report.empty
        ? 'succeeded (empty batch)'
        : 'succeeded'
      : report.status === 'waiting'
        ? `waiting for batch ${report.sequence?.waitingFor?.batchId ?? 'an earlier batch'}`
        : report.status;
  await core.summary
    .addHeading(`batchline batch ${report.batchId}: ${verdict}`, 2)
    .addHeading('Tasks', 3)
    .addTable([header(rows.tasks[0]!), ...body(rows.tasks)])
    .addRaw(gantt ? `\n\n\`\`\`mermaid\n${gantt}\n\`\`\`\n\n` : '', true)
    .addHeading('Files and rows per entity', 3)
    .addTable([header(rows.entities[0]!), ...body(rows.entities)])
    .addHeading('Curated', 3)
    .addTable([header(rows.curated[0]!), ...body(rows.curated)])
    .addRaw(esc(`Store: ${report.store}, warehouse: ${report.warehouse}`), true)
    .write();
}

export function publishPlan(batchId: string, mode: string): void {
  core.setOutput('batch-id', batchId);
  core.setOutput('mode', mode);
}

/**
 * Snowflake workload identity in a GitHub Actions job: a fresh OIDC token for Snowflake's audience
 * per connection (the job needs `permissions: id-token: write`). Undefined outside Actions.
 */
export function githubOidcTokenProvider(env: NodeJS.ProcessEnv = process.env): (() => Promise<string>) | undefined {
  if (!inGitHubActions(env) || !env['ACTIONS_ID_TOKEN_REQUEST_URL']) return undefined;
  return () => core.getIDToken('snowflakecomputing.com');
}
