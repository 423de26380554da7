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
  type PinnedFileReader,
  type TaskAttempt,
  type TaskAudit,
  type TaskState,
  type TransformResult,
  type Warehouse,
  BATCH_LOCATIONS,
  ENTITIES,
  checkWarehouseUrl,
  openWarehouse,
} from './warehouse-contract.js';
export type { SnowflakeAuthenticator, SnowflakeOptions } from './adapters/snowflake/config.js';
export {
  CorruptFileError,
  LoadInputError,
  LoadMismatchError,
  LoadRejectedError,
  SqlTemplateError,
  WarehouseBusyError,
  WarehouseConfigError,
  WarehouseError,
  WarehouseLockedError,
  WarehouseMissingError,
} from './errors.js';
export { snowflakeAdminSql, type SnowflakeAdminSettings } from './admin-sql.js';
export { checkWarehouse, warehouseProbeRecord, type WarehouseCheck, type WarehouseCheckOptions } from './warehouse-checks.js';
