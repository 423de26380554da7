// `batchline-warehouse`: apply or print the DDL for an engine. Kept apart from cli.ts so tests run it in process.
import { parseArgs } from 'node:util';
import { adminStatements, setupStatements } from './adapters/snowflake/statements.js';
import { duckdb as duckSql } from './sql-files.js';
import { renderStatements } from './sql-text.js';
import { openWarehouse, type OpenWarehouseOptions } from './warehouse-contract.js';

export const HELP = `Usage: batchline-warehouse <command> [options]

Commands:
  setup <url>           apply the engine's DDL (idempotent), e.g.
                          batchline-warehouse setup duckdb://./.batchline/warehouse.duckdb
                          batchline-warehouse setup 'snowflake://myorg-myacct/RETAIL_DB/RETAIL_SCHEMA?warehouse=LOAD_WH'
  print-setup <engine>  print the DDL for review: duckdb, snowflake (what \`setup\` runs as the loader role:
                        file format, stages, tables) or snowflake-admin (what an admin runs once before:
                        database, schema, storage integration, the loader role and its grants, the service user)

Options for print-setup snowflake / snowflake-admin (no secrets: the integration assumes an IAM role):
  --database <name>             default RETAIL_DB (admin)
  --schema <name>               default RETAIL_SCHEMA (admin)
  --stage-url <s3://b/p/>       S3 URL above the entity roots; adds the stages (and the integration, admin)
  --storage-integration <name>  default S3_INTEGRATION_PRO
  --role-arn <arn>              IAM role Snowflake assumes; adds the storage integration (admin)
  --role <name>, --warehouse <name>       adds the loader role and its grants (admin)
  --user <name>, --github-subject <sub>   adds the workload-identity service user (admin)

Snowflake credentials for setup come from the environment (SNOWFLAKE_USER, SNOWFLAKE_AUTHENTICATOR,
SNOWFLAKE_PRIVATE_KEY_PATH, SNOWFLAKE_TOKEN / SNOWFLAKE_TOKEN_FILE_PATH); stage settings from
BATCHLINE_STAGE_URL, BATCHLINE_STORAGE_INTEGRATION, BATCHLINE_STORAGE_AWS_ROLE_ARN.
`;

export interface CommandIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly options?: OpenWarehouseOptions;
}

/** Returns the exit code. */
export async function runSetupCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        database: { type: 'string' },
        schema: { type: 'string' },
        'stage-url': { type: 'string' },
        'storage-integration': { type: 'string' },
        'role-arn': { type: 'string' },
        role: { type: 'string' },
        warehouse: { type: 'string' },
        user: { type: 'string' },
        'github-subject': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    io.err(`batchline-warehouse: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, target] = positionals;
  if (values.help || !command) {
    io.out(HELP);
    return values.help ? 0 : 2;
  }
  try {
    if (command === 'setup' && target && positionals.length === 2) {
      const warehouse = await openWarehouse(target, io.options);
      try {
        await warehouse.setup();
      } finally {
        await warehouse.close();
      }
      io.out(`batchline-warehouse: ${warehouse.engine} setup applied (${target.split('?')[0]})\n`);
      return 0;
    }
    if (command === 'print-setup' && (target === 'snowflake' || target === 'snowflake-admin' || target === 'duckdb') && positionals.length === 2) {
      const integration = values['storage-integration'] ?? 'S3_INTEGRATION_PRO';
      const statements =
        target === 'duckdb'
          ? renderStatements(duckSql.setup)
          : target === 'snowflake-admin'
            ? adminStatements({
                database: values.database ?? 'RETAIL_DB',
                schema: values.schema ?? 'RETAIL_SCHEMA',
                storageIntegration: integration,
                ...(values['stage-url'] ? { stageUrl: values['stage-url'] } : {}),
                ...(values['role-arn'] ? { storageAwsRoleArn: values['role-arn'] } : {}),
                ...(values.role ? { role: values.role } : {}),
                ...(values.warehouse ? { warehouse: values.warehouse } : {}),
                ...(values.user ? { user: values.user } : {}),
                ...(values['github-subject'] ? { githubOidcSubject: values['github-subject'] } : {}),
              })
            : setupStatements(values['stage-url'] ? { stage: { url: values['stage-url'], integration } } : {});
      io.out(statements.map((s) => `${s.text};\n`).join('\n'));
      return 0;
    }
    io.err(`batchline-warehouse: unknown command ${JSON.stringify(positionals.join(' '))}\n\n${HELP}`);
    return 2;
  } catch (error) {
    io.err(`batchline-warehouse: ${(error as Error).message}\n`);
    return 1;
  }
}
