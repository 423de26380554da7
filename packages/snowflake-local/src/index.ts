// Public API of @batchline/snowflake-local: a test server, not a published package.
export { startSnowflakeLocal } from './server.js';
export type {
  SnowflakeLocal,
  SnowflakeLocalOptions,
  QueryRecord,
  LoginRecord,
  FaultRule,
  FaultHandle,
  FaultAction,
  FaultTarget,
  LocalUser,
  StageFileSource,
  Endpoint,
  OpenTransaction,
} from './server.js';
export type { ExecutedStatement } from './engine/engine.js';
export { SnowflakeError } from './errors.js';
