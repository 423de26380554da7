import { WarehouseConfigError } from '../../errors.js';
import type { OpenWarehouseOptions, Warehouse } from '../../warehouse-contract.js';

export async function openSnowflakeWarehouse(_url: string, _options: OpenWarehouseOptions = {}): Promise<Warehouse> {
  throw new WarehouseConfigError('snowflake:// is not available in this build yet');
}
