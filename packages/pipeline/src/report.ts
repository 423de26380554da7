import { createRequire } from 'node:module';
import type Table from 'cli-table3';
import type { BatchId } from '@batchline/batch-id';
import { ENTITIES, type PipelineEntity, type TaskName } from './config.js';
import type { TaskFigures, TaskOutcome, TaskOutcomeState } from './task-graph.js';

// cli-table3 (and string-width behind it) loads when a table is first rendered, not when the library is imported.
const requireHere = createRequire(import.meta.url);

export interface TaskReport extends TaskFigures {
  readonly task: TaskName;
  readonly state: TaskOutcomeState;
  readonly attempt: number;
  /** Wall time in this run; absent for skipped and not-run tasks. */
  readonly durationMs?: number;
  /** When the task's first attempt in this run started and its last one ended (ISO-8601 UTC); the job summary's Gantt chart. */
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly error?: string;
}

export interface EntityReport {
  readonly files?: number;
  readonly rowsLoaded?: number;
  readonly rowsRejected?: number;
}

/** One machine-readable run report: what `--json` prints and the job summary shows. */
export interface RunReport {
  readonly batchId: BatchId;
  /**
   * `waiting`: the transform waits for an earlier batch of the sequence (`sequence.waitingFor`); exit 75.
   * `superseded`: the batch was never claimed and a later batch already started its transform, so this id
   * was refused before it pinned anything; its files go to the next slot's batch (exit 0: nothing is lost).
   */
  readonly status: 'succeeded' | 'failed' | 'waiting' | 'superseded';
  /** The claim found nothing in landing for either entity. */
  readonly empty: boolean;
  readonly forced: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  readonly store: string;
  readonly warehouse: string;
  readonly tasks: readonly TaskReport[];
  readonly entities: Readonly<Record<PipelineEntity, EntityReport>>;
  readonly curated: {
    /** Rows written to ORDER_CUSTOMER_DATE_PRICE for this batch. */
    readonly rows?: number;
    /** Order lines of this batch skipped: the order was seen before. */
    readonly duplicates?: number;
    /** Fulfilled orders of this batch whose customer is not known yet. */
    readonly orphans?: number;
    /** Orders of earlier batches counted now: their customer arrived in this batch. */
    readonly late?: number;
    /** Fulfilled orders (any batch so far) still waiting for their customer. */
    readonly pendingOrphans?: number;
  };
  readonly failedTask?: TaskName;
  readonly error?: string;
  /** The exit code the CLI uses: 0 done, 1 failed, 2 refused (bad id, superseded), 75 waiting / busy. */
  readonly exitCode?: number;
  /** Where the batch stands in the store's sequence of batches, and what this run did for the others. */
  readonly sequence?: SequenceReport;
}

export interface SequenceReport {
  /** The earlier batch this one waits for, why, and what to run. */
  readonly waitingFor?: { readonly batchId: BatchId; readonly reason: string; readonly wayOut: string };
  /** Other batches this run finished or re-transformed to keep the sequence in order. */
  readonly caughtUp: readonly { readonly batchId: BatchId; readonly status: string; readonly rerunTransform: boolean; readonly error?: string }[];
}

export interface BuildReportInput {
  readonly batchId: BatchId;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly outcomes: readonly TaskOutcome<TaskName>[];
  readonly store: string;
  readonly warehouse: string;
  readonly forced: boolean;
  readonly lostLease?: string;
  readonly sequence?: SequenceReport;
}

function pickFigures(f: TaskFigures | undefined) {
  if (!f) return {};
  const out: Partial<TaskReport> = {};
  for (const key of ['files', 'rows', 'rejected', 'orphans', 'duplicates', 'late', 'pendingOrphans', 'note'] as const) {
    if (f[key] !== undefined) (out as Record<string, unknown>)[key] = f[key];
  }
  return out;
}

export function buildReport(input: BuildReportInput): RunReport {
  const tasks: TaskReport[] = input.outcomes.map((o) => ({
    task: o.name,
    state: o.state,
    attempt: o.attempt,
    ...(o.durationMs !== undefined && o.state === 'succeeded' ? { durationMs: o.durationMs } : {}),
    ...(o.durationMs !== undefined && o.state === 'failed' ? { durationMs: o.durationMs } : {}),
    ...(o.startedAt && o.finishedAt ? { startedAt: o.startedAt.toISOString(), finishedAt: o.finishedAt.toISOString() } : {}),
    ...pickFigures(o.figures),
    ...(o.error ? { error: o.error.message } : {}),
  }));
  const byName = new Map(tasks.map((t) => [t.task, t]));
  const entities = Object.fromEntries(
    ENTITIES.map((e) => {
      const claim = byName.get(`claim:${e}`);
      const load = byName.get(`load:${e}`);
      const report: EntityReport = {
        ...(claim?.files !== undefined ? { files: claim.files } : {}),
        ...(load?.rows !== undefined ? { rowsLoaded: load.rows } : {}),
        ...(load?.rejected !== undefined ? { rowsRejected: load.rejected } : {}),
      };
      return [e, report];
    }),
  ) as Record<PipelineEntity, EntityReport>;
  const transform = byName.get('transform');
  const failed = tasks.find((t) => t.state === 'failed');
  const waiting = failed ? undefined : input.outcomes.find((o) => o.state === 'waiting');
  // A run that lost its lease failed, whatever its tasks did: another run may have worked on the batch beside it.
  const lostLease = input.lostLease === undefined ? undefined : `lost lease: ${input.lostLease}`;
  const incomplete = lostLease !== undefined || tasks.some((t) => t.state === 'failed' || t.state === 'not-run' || t.state === 'waiting');
  const error = lostLease ?? failed?.error ?? waiting?.error?.message ?? (incomplete ? 'run stopped before every task finished' : undefined);
  const failedError = input.outcomes.find((o) => o.state === 'failed')?.error as { exitCode?: unknown; name?: unknown } | undefined;
  const superseded = failedError?.name === 'BatchSupersededError';
  const exitCode = lostLease ? 1 : !incomplete || superseded ? 0 : waiting ? 75 : failedError?.exitCode === 2 ? 2 : 1;
  return {
    batchId: input.batchId,
    status: lostLease ? 'failed' : !incomplete ? 'succeeded' : superseded ? 'superseded' : waiting ? 'waiting' : 'failed',
    empty: ENTITIES.every((e) => entities[e].files === 0),
    forced: input.forced,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    durationMs: input.finishedAt.getTime() - input.startedAt.getTime(),
    store: input.store,
    warehouse: input.warehouse,
    tasks,
    entities,
    curated: {
      ...(transform?.rows !== undefined ? { rows: transform.rows } : {}),
      ...(transform?.duplicates !== undefined ? { duplicates: transform.duplicates } : {}),
      ...(transform?.orphans !== undefined ? { orphans: transform.orphans } : {}),
      ...(transform?.late !== undefined ? { late: transform.late } : {}),
      ...(transform?.pendingOrphans !== undefined ? { pendingOrphans: transform.pendingOrphans } : {}),
    },
    ...(failed ? { failedTask: failed.task } : {}),
    ...(error ? { error } : {}),
    exitCode,
    ...(input.sequence ? { sequence: input.sequence } : {}),
  };
}

const CURATED_HEAD = ['curated rows', 'duplicate lines skipped', 'new orphans', 'late orders counted', 'orphans still waiting'];
function curatedCells(report: RunReport): string[] {
  const c = report.curated;
  return [dash(c.rows), dash(c.duplicates), dash(c.orphans), dash(c.late), dash(c.pendingOrphans)];
}

const dash = (n: number | undefined) => (n === undefined ? '-' : n.toLocaleString('en-US'));

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function plainTable(head: string[]): Table.Table {
  // No colours: the report must read the same in a terminal, a log file and CI.
  return new (requireHere('cli-table3') as typeof Table)({ head, style: { head: [], border: [] } });
}

/** The human report: batch, tasks, entities, curated figures, where the data lives. */
export function renderReport(report: RunReport): string {
  const lines: string[] = [];
  const verdict =
    report.status === 'succeeded'
      ? report.empty
        ? 'succeeded (empty batch: nothing in landing)'
        : 'succeeded'
      : report.status === 'waiting'
        ? `WAITING for batch ${report.sequence?.waitingFor?.batchId ?? 'an earlier batch'}`
        : report.status === 'superseded'
          ? 'SUPERSEDED (nothing claimed; its files go to the next batch)'
          : 'FAILED';
  lines.push(`batch ${report.batchId}: ${verdict} in ${formatDuration(report.durationMs)}${report.forced ? ' (forced rerun)' : ''}`);
  const tasks = plainTable(['task', 'state', 'attempt', 'time', 'files', 'rows', 'note']);
  for (const t of report.tasks) {
    tasks.push([t.task, t.state, String(t.attempt), formatDuration(t.durationMs), dash(t.files), dash(t.rows), t.error ?? t.note ?? '']);
  }
  lines.push(tasks.toString());
  const entities = plainTable(['entity', 'files', 'rows loaded', 'rows rejected']);
  for (const e of ENTITIES) {
    const r = report.entities[e];
    entities.push([e, dash(r.files), dash(r.rowsLoaded), dash(r.rowsRejected)]);
  }
  lines.push(entities.toString());
  const curated = plainTable(CURATED_HEAD);
  curated.push(curatedCells(report));
  lines.push(curated.toString());
  lines.push(`store:     ${report.store}`);
  lines.push(`warehouse: ${report.warehouse}`);
  for (const c of report.sequence?.caughtUp ?? []) {
    lines.push(`sequence: batch ${c.batchId} ${c.rerunTransform ? 're-transformed' : 'caught up'}: ${c.status}${c.error ? ` (${c.error})` : ''}`);
  }
  if (report.error) lines.push(`${report.status === 'waiting' ? 'waiting' : 'error'}: ${report.failedTask ? `${report.failedTask}: ` : ''}${report.error}`);
  return lines.join('\n');
}

/** Markdown-free summary rows for @actions/core's summary table. */
export function summaryRows(report: RunReport): { tasks: string[][]; entities: string[][]; curated: string[][] } {
  return {
    tasks: [
      ['task', 'state', 'attempt', 'time', 'files', 'rows', 'note'],
      ...report.tasks.map((t) => [t.task, t.state, String(t.attempt), formatDuration(t.durationMs), dash(t.files), dash(t.rows), t.error ?? t.note ?? '']),
    ],
    entities: [
      ['entity', 'files', 'rows loaded', 'rows rejected'],
      ...ENTITIES.map((e) => [e, dash(report.entities[e].files), dash(report.entities[e].rowsLoaded), dash(report.entities[e].rowsRejected)]),
    ],
    curated: [CURATED_HEAD, curatedCells(report)],
  };
}
