// Every statement the package runs, embedded at build time from the repository's sql/ folder.
import begin from '../../../sql/common/begin.sql';
import commit from '../../../sql/common/commit.sql';
import rollback from '../../../sql/common/rollback.sql';
import duckdbSession from '../../../sql/duckdb/session.sql';
import snowflakeAdminDatabase from '../../../sql/snowflake/admin/database.sql';
import snowflakeAdminStorageIntegration from '../../../sql/snowflake/admin/storage-integration.sql';
import snowflakeAdminLoaderRole from '../../../sql/snowflake/admin/loader-role.sql';
import snowflakeAdminServiceUser from '../../../sql/snowflake/admin/service-user.sql';
import snowflakeFileFormat from '../../../sql/snowflake/setup/file-format.sql';
import snowflakeStages from '../../../sql/snowflake/setup/stages.sql';
import snowflakeTables from '../../../sql/snowflake/setup/tables.sql';
import snowflakeSession from '../../../sql/snowflake/session.sql';
import snowflakeValidateOrders from '../../../sql/snowflake/validate-orders.sql';
import snowflakeValidateCustomers from '../../../sql/snowflake/validate-customers.sql';
import snowflakeLoadOrders from '../../../sql/snowflake/load-orders.sql';
import snowflakeLoadCustomers from '../../../sql/snowflake/load-customers.sql';
import snowflakeDropRejectedOrders from '../../../sql/snowflake/drop-rejected-orders.sql';
import snowflakeDropRejectedCustomers from '../../../sql/snowflake/drop-rejected-customers.sql';
import snowflakeClearRawOrders from '../../../sql/snowflake/clear-raw-orders.sql';
import snowflakeClearRawCustomers from '../../../sql/snowflake/clear-raw-customers.sql';
import snowflakeClearRejects from '../../../sql/snowflake/clear-rejects.sql';
import snowflakeDoctorWhoami from '../../../sql/snowflake/doctor/whoami.sql';
import snowflakeDoctorTablePrivileges from '../../../sql/snowflake/doctor/table-privileges.sql';
import snowflakeDoctorStageProbeOrders from '../../../sql/snowflake/doctor/stage-probe-orders.sql';
import snowflakeDoctorStageProbeCustomers from '../../../sql/snowflake/doctor/stage-probe-customers.sql';
import auditDeleteTask from '../../../sql/common/audit-delete-task.sql';
import auditInsertTask from '../../../sql/common/audit-insert-task.sql';
import auditReadBatch from '../../../sql/common/audit-read-batch.sql';
import auditReadBatches from '../../../sql/common/audit-read-batches.sql';
import auditReadTask from '../../../sql/common/audit-read-task.sql';
import checkCustomers from '../../../sql/common/check-customers.sql';
import checkOrders from '../../../sql/common/check-orders.sql';
import clearBatchCustomers from '../../../sql/common/clear-batch-customers.sql';
import clearBatchOrders from '../../../sql/common/clear-batch-orders.sql';
import releaseAudit from '../../../sql/common/release-audit.sql';
import releaseCustomers from '../../../sql/common/release-customers.sql';
import releaseOrders from '../../../sql/common/release-orders.sql';
import countCustomersByFile from '../../../sql/common/count-customers-by-file.sql';
import countOrdersByFile from '../../../sql/common/count-orders-by-file.sql';
import curatedRows from '../../../sql/common/curated-rows.sql';
import curatedRowsBatch from '../../../sql/common/curated-rows-batch.sql';
import firstLoadReject from '../../../sql/common/first-load-reject.sql';
import insertReject from '../../../sql/common/insert-reject.sql';
import transform from '../../../sql/common/transform.sql';
import stateBackfill from '../../../sql/common/state-backfill.sql';
import stateCustomers from '../../../sql/common/state-customers.sql';
import stateMigrated from '../../../sql/common/state-migrated.sql';
import stateOrders from '../../../sql/common/state-orders.sql';
import transformSummary from '../../../sql/common/transform-summary.sql';
import duckdbClearRejects from '../../../sql/duckdb/clear-rejects.sql';
import duckdbLoadCustomers from '../../../sql/duckdb/load-customers.sql';
import duckdbLoadOrders from '../../../sql/duckdb/load-orders.sql';
import duckdbQuarantineRejects from '../../../sql/duckdb/quarantine-rejects.sql';
import duckdbFirstReject from '../../../sql/duckdb/first-reject.sql';
import duckdbRenumberAfterRejects from '../../../sql/duckdb/renumber-after-rejects.sql';
import duckdbCountRejects from '../../../sql/duckdb/count-rejects.sql';
import duckdbSetup from '../../../sql/duckdb/setup.sql';
import duckdbCuratedSumType from '../../../sql/duckdb/curated-sum-type.sql';
import duckdbWidenCuratedSum from '../../../sql/duckdb/widen-curated-sum.sql';
import type { Entity } from './warehouse-contract.js';

export const common = {
  begin,
  commit,
  rollback,
  auditDeleteTask,
  auditInsertTask,
  auditReadBatch,
  auditReadBatches,
  auditReadTask,
  curatedRows,
  curatedRowsBatch,
  firstLoadReject,
  insertReject,
  transform,
  transformSummary,
  stateBackfill,
  stateMigrated,
};

/** Per entity; `state` is the load's last step: the batch's rows of the transform's state table. */
export const byEntity: Record<Entity, { clearBatch: string; check: string; countByFile: string; state: string; release: string }> = {
  orders: { clearBatch: clearBatchOrders, check: checkOrders, countByFile: countOrdersByFile, state: stateOrders, release: releaseOrders },
  customers: { clearBatch: clearBatchCustomers, check: checkCustomers, countByFile: countCustomersByFile, state: stateCustomers, release: releaseCustomers },
};

/** Release of a batch: its task rows go with its loads. */
export const release = { audit: releaseAudit };

export const duckdb = {
  session: duckdbSession,
  setup: duckdbSetup,
  curatedSumType: duckdbCuratedSumType,
  widenCuratedSum: duckdbWidenCuratedSum,
  load: { orders: duckdbLoadOrders, customers: duckdbLoadCustomers } satisfies Record<Entity, string>,
  firstReject: duckdbFirstReject,
  quarantineRejects: duckdbQuarantineRejects,
  renumberAfterRejects: duckdbRenumberAfterRejects,
  countRejects: duckdbCountRejects,
  clearRejects: duckdbClearRejects,
};

export const snowflake = {
  session: snowflakeSession,
  /** Run once by an admin, never by the loader (sql/snowflake/admin/, in this order). */
  admin: {
    database: snowflakeAdminDatabase,
    storageIntegration: snowflakeAdminStorageIntegration,
    loaderRole: snowflakeAdminLoaderRole,
    serviceUser: snowflakeAdminServiceUser,
  },
  /** `batchline setup`: the loader role's own objects. */
  setup: {
    fileFormat: snowflakeFileFormat,
    stages: snowflakeStages,
    tables: snowflakeTables,
  },
  validate: { orders: snowflakeValidateOrders, customers: snowflakeValidateCustomers } satisfies Record<Entity, string>,
  load: { orders: snowflakeLoadOrders, customers: snowflakeLoadCustomers } satisfies Record<Entity, string>,
  dropRejected: { orders: snowflakeDropRejectedOrders, customers: snowflakeDropRejectedCustomers } satisfies Record<Entity, string>,
  clearRaw: { orders: snowflakeClearRawOrders, customers: snowflakeClearRawCustomers } satisfies Record<Entity, string>,
  clearRejects: snowflakeClearRejects,
  /** `batchline doctor`: read-only or rolled back. */
  doctor: {
    whoami: snowflakeDoctorWhoami,
    tablePrivileges: snowflakeDoctorTablePrivileges,
    stageProbe: { orders: snowflakeDoctorStageProbeOrders, customers: snowflakeDoctorStageProbeCustomers } satisfies Record<Entity, string>,
  },
};
