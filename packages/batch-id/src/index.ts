export {
  type BatchId,
  type BatchIdOptions,
  type LegacyBatchId,
  BATCH_ID_FORMAT,
  LEGACY_BATCH_ID_FORMAT,
  InvalidBatchIdError,
  assertBatchId,
  formatBatchId,
  fromAirflowTsNodash,
  isBatchId,
  parseBatchId,
  toBatchId,
  toLegacyBatchId,
} from './batch-id.js';
export { InvalidCronError, MAX_SLOTS, batchIdForSchedule, slotsBetween } from './schedule.js';
