// `batchline doctor`'s warehouse part: the configured warehouse checked against every assumption the loader makes.
import { WarehouseConfigError } from './errors.js';
import type { OpenWarehouseOptions } from './warehouse-contract.js';
import { openWarehouse } from './warehouse-contract.js';

export interface WarehouseCheck {
  readonly id: string;
  readonly title: string;
  readonly ok: boolean;
  readonly detail: string;
  /** How to fix a failure. */
  readonly fix?: string;
}

export interface WarehouseCheckOptions extends OpenWarehouseOptions {
  /**
   * A scratch file the caller wrote under each entity's root (`<root><entity>/<folder><file>`, holding
   * `warehouseProbeRecord(entity)`), for the stage checks. Without it they are skipped.
   */
  readonly stageProbe?: { readonly folder: string; readonly file: string };
}

/** The record the stage probe's scratch file holds for an entity (one valid CSV line). */
export async function warehouseProbeRecord(entity: 'orders' | 'customers'): Promise<string> {
  const { PROBE_RECORDS } = await import('./adapters/snowflake/doctor.js');
  return PROBE_RECORDS[entity];
}

/**
 * Snowflake: login, role, warehouse, database and schema, the tables (and SELECT/DELETE/INSERT on each), and per
 * stage a COPY of a scratch file that shows METADATA$FILENAME's shape; every statement in a rolled-back
 * transaction, nothing created. DuckDB: the file opens and takes the DDL.
 */
export async function checkWarehouse(url: string, options: WarehouseCheckOptions = {}): Promise<WarehouseCheck[]> {
  if (typeof url === 'string' && url.startsWith('snowflake://')) {
    const [{ resolveSnowflakeConfig }, { checkSnowflake }] = await Promise.all([import('./adapters/snowflake/config.js'), import('./adapters/snowflake/doctor.js')]);
    let config;
    try {
      config = await resolveSnowflakeConfig(url, options.snowflake, options.env ?? process.env);
    } catch (error) {
      if (!(error instanceof WarehouseConfigError)) throw error;
      return [{ id: 'config', title: 'Snowflake settings are complete', ok: false, detail: error.message, fix: 'See the snowflake-loader README, "Authentication" and "Settings"' }];
    }
    return checkSnowflake(config, options.stageProbe);
  }
  try {
    const warehouse = await openWarehouse(url, options);
    try {
      await warehouse.setup();
    } finally {
      await warehouse.close();
    }
    return [{ id: 'open', title: `open ${url.split('?')[0]} and apply its DDL`, ok: true, detail: `${warehouse.engine} ready` }];
  } catch (error) {
    return [{ id: 'open', title: `open ${String(url).split('?')[0]}`, ok: false, detail: (error as Error).message, fix: 'Check the warehouse URL (BATCHLINE_WAREHOUSE / --warehouse)' }];
  }
}
