// The admin's part of the Snowflake setup (sql/snowflake/admin/), rendered as statement texts: for an admin to
// review and run once before \`batchline setup\`, and for tests that play the admin against a local server.
import { adminStatements, type AdminSettings } from './adapters/snowflake/statements.js';

export type SnowflakeAdminSettings = AdminSettings;

/** Each statement of sql/snowflake/admin/*.sql in order, placeholders filled and checked. */
export function snowflakeAdminSql(settings: SnowflakeAdminSettings): string[] {
  return adminStatements(settings).map((s) => s.text);
}
