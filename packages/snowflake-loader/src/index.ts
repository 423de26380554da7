export {
  type BatchFile,
  type BatchFileSource,
  type BatchLocation,
  type CuratedRow,
  type Entity,
  type FileLoadResult,
  type LoadRequest,
  type LoadResult,
  type OnErrorPolicy,
  type OpenWarehouseOptions,
  type TaskAudit,
  type TaskState,
  type TransformResult,
  type Warehouse,
  BATCH_LOCATIONS,
  ENTITIES,
  TASK_NAMES,
  openWarehouse,
} from './warehouse-contract.js';
export type { SnowflakeAuthenticator, SnowflakeOptions } from './adapters/snowflake/config.js';
export { LoadInputError, LoadMismatchError, LoadRejectedError, WarehouseConfigError, WarehouseError } from './errors.js';
