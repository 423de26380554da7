export {
  type BatchId,
  type BatchIdOptions,
  type LegacyBatchId,
  BATCH_ID_FORMAT,
  LEGACY_BATCH_ID_FORMAT,
  assertBatchId,
  formatBatchId,
  fromAirflowTsNodash,
  isBatchId,
  parseBatchId,
  toBatchId,
  toLegacyBatchId,
} from './batch-id.js';
export { MAX_SLOTS, assertCron, batchIdForSchedule, slotsBetween } from './schedule.js';
export { parseIsoInstant } from './instant.js';
export { InvalidBatchIdError, InvalidCronError, InvalidInstantError } from './errors.js';
