// Public API of @batchline/pipeline (ESM only: @actions/core 3 is ESM-only).
export { type RunBatchOptions, type RunEvent, runBatch } from './run-batch.js';
export { type EntityReport, type RunReport, type TaskReport, renderReport } from './report.js';
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
  configSchema,
  loadConfig,
  parseConfig,
} from './config.js';
export { type BatchStatusRow, type PipelineStatus, pipelineStatus, renderStatus } from './status.js';
// The demo is `@batchline/pipeline/demo` (src/demo-entry.ts): it loads the producer and the CLI's output.
export {
  type TaskFigures,
  type TaskOutcome,
  type TaskPolicy,
  type TaskSpec,
  runTaskGraph,
} from './task-graph.js';
export {
  PermanentTaskError,
  RunInterruptedError,
  TaskGraphError,
  TaskTimeoutError,
  UsageError,
  exitCodeOf,
  isPermanentError,
} from './errors.js';
