// Public API of @batchline/pipeline (ESM only: @actions/core 3 is ESM-only).
export { type RunBatchOptions, type RunEvent, runBatch } from './run-batch.js';
export { type EntityReport, type RunReport, type SequenceReport, type TaskReport, renderReport } from './report.js';
export {
  type BatchlineConfig,
  type LoadConfigOptions,
  type LoadedConfig,
  type PipelineEntity,
  type TaskName,
  type TaskPolicyConfig,
  ConfigError,
  ENTITIES,
  ENV_OVERRIDES,
  TASK_NAMES,
  loadConfig,
  parseConfig,
} from './config.js';
export {
  type BatchStatusRow,
  type PipelineStatus,
  type SequenceStatus,
  type SkippedKeyStatus,
  pipelineStatus,
  renderStatus,
  sequenceStatus,
} from './status.js';
export { type ReleaseOutcome, type RepinOutcome, type WayOutOptions, releaseBatch, repinBatch } from './ways-out.js';
export { type SequenceEntry, type SequenceRecord, type SequenceView, Sequence } from './sequence.js';
export {
  type CellState,
  type PageAttempt,
  type PageBatch,
  type PageTask,
  type StatusPageData,
  type WriteStatusPageOptions,
  collectStatusPage,
  mermaidGantt,
  renderStatusPage,
  statusPageData,
  writeStatusPage,
} from './status-page/index.js';
// The demo is `@batchline/pipeline/demo` (src/demo-entry.ts): it loads the producer and the CLI's output.
export {
  type TaskFigures,
  type TaskOutcome,
  type TaskPolicy,
  type TaskSpec,
  runTaskGraph,
} from './task-graph.js';
export {
  BatchSupersededError,
  FutureBatchError,
  SequenceWaitError,
  WayOutRefusedError,
  PermanentTaskError,
  RunInterruptedError,
  TaskGraphError,
  TaskTimeoutError,
  UsageError,
  exitCodeOf,
  isPermanentError,
} from './errors.js';
