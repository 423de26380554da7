// The DuckDB URL's form, apart from the adapter so it can be checked without loading the engine.
import { WarehouseConfigError, quote } from '../../errors.js';

/** `duckdb://:memory:`, `duckdb://./relative/file.duckdb`, `duckdb:///absolute/file.duckdb`. */
export function duckdbLocation(url: string): string {
  const rest = url.slice('duckdb://'.length);
  if (rest === ':memory:') return rest;
  if (rest.length === 0) throw new WarehouseConfigError(`Invalid DuckDB URL ${quote(url)}: expected duckdb://:memory: or duckdb://./path/file.duckdb`);
  if (rest.includes('?') || rest.includes('#')) {
    throw new WarehouseConfigError(`Invalid DuckDB URL ${quote(url)}: a query (?) or fragment (#) is not supported; expected duckdb://<file>`);
  }
  let location: string;
  try {
    location = decodeURIComponent(rest);
  } catch {
    throw new WarehouseConfigError(`Invalid DuckDB URL ${quote(url)}: bad percent-encoding; expected duckdb://<file>`);
  }
  if (location.includes('\0')) throw new WarehouseConfigError(`Invalid DuckDB URL ${quote(url)}: a NUL character; expected duckdb://<file>`);
  return location;
}
