// `batchline doctor`'s warehouse part: the configured warehouse checked against every assumption the loader makes.
import { WarehouseBusyError, WarehouseConfigError, WarehouseMissingError } from './errors.js';
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
 * transaction, nothing created. DuckDB: the file opens read-only (absent or held by a run is fine).
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
  const title = `open ${String(url).split('?')[0]} (read-only)`;
  try {
    // Read-only: the doctor changes nothing, not even by creating an embedded warehouse file.
    const warehouse = await openWarehouse(url, { ...options, readOnly: true });
    await warehouse.close();
    return [{ id: 'open', title, ok: true, detail: `${warehouse.engine} opens` }];
  } catch (error) {
    if (error instanceof WarehouseMissingError) return [{ id: 'open', title, ok: true, detail: `not created yet: the first run (or \`batchline setup\`) creates it (${error.message})` }];
    if (error instanceof WarehouseBusyError) return [{ id: 'open', title, ok: true, detail: `a run holds it now (${error.message})` }];
    return [{ id: 'open', title: `open ${String(url).split('?')[0]}`, ok: false, detail: (error as Error).message, fix: 'Check the warehouse URL (BATCHLINE_WAREHOUSE / --warehouse)' }];
  }
}
