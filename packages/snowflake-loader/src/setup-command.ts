// `batchline-warehouse`: apply or print the DDL for an engine. Kept apart from cli.ts so tests run it in process.
import { Argument, Command, Option } from 'commander';
import { adminStatements, setupStatements } from './adapters/snowflake/statements.js';
import { EXIT, commanderExitCode, oneLineSafe, packageVersion, reportFailure, terminalSafe, wantsStack } from '@batchline/cli-kit';
import { duckdb as duckSql } from './sql-files.js';
import { renderStatements } from './sql-text.js';
import { openWarehouse, type OpenWarehouseOptions } from './warehouse-contract.js';

const AFTER_HELP = `
Examples:
  batchline-warehouse setup duckdb://./.batchline/warehouse.duckdb
  batchline-warehouse setup 'snowflake://myorg-myacct/RETAIL_DB/RETAIL_SCHEMA?warehouse=LOAD_WH'
  batchline-warehouse print-setup snowflake-admin --stage-url s3://bucket/firehose/ --role-arn <arn> --role BATCHLINE

Snowflake credentials for setup come from the environment (SNOWFLAKE_USER, SNOWFLAKE_AUTHENTICATOR,
SNOWFLAKE_PRIVATE_KEY_PATH, SNOWFLAKE_TOKEN / SNOWFLAKE_TOKEN_FILE_PATH); stage settings from
BATCHLINE_STAGE_URL, BATCHLINE_STORAGE_INTEGRATION, BATCHLINE_STORAGE_AWS_ROLE_ARN.

Exit codes: 0 done, 1 the work failed, 2 bad usage or configuration (an unknown URL, a file that is not a
DuckDB database, an unsafe identifier), 75 the DuckDB file is held by another process.`;

export interface CommandIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly options?: OpenWarehouseOptions;
  readonly env?: NodeJS.ProcessEnv;
}

interface PrintSetupFlags {
  database?: string;
  schema?: string;
  stageUrl?: string;
  storageIntegration?: string;
  roleArn?: string;
  role?: string;
  warehouse?: string;
  user?: string;
  githubSubject?: string;
}

function program(io: CommandIo): Command {
  const root = new Command('batchline-warehouse')
    .description("Apply or print the warehouse DDL of batchline's loader (Snowflake or embedded DuckDB).")
    .version(packageVersion('@batchline/snowflake-loader', import.meta.url ?? __filename), '-V, --version')
    .showHelpAfterError('(run batchline-warehouse --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: (text) => io.err(terminalSafe(text)), outputError: (text, write) => write(oneLineSafe(text)) })
    .exitOverride()
    .addHelpText('after', AFTER_HELP);

  root
    .command('setup')
    .description("apply the engine's DDL (idempotent)")
    .argument('<url>', 'duckdb://<file> or snowflake://<account>/<database>/<schema>?warehouse=<wh>')
    .option('--verbose', 'print the stack trace of a failure (also DEBUG=1)')
    .action(async (url: string) => {
      const warehouse = await openWarehouse(url, io.options);
      try {
        await warehouse.setup();
      } finally {
        await warehouse.close();
      }
      io.out(`batchline-warehouse: ${warehouse.engine} setup applied (${terminalSafe(url.split('?')[0]!)})\n`);
    });

  root
    .command('print-setup')
    .description(
      'print the DDL for review: duckdb, snowflake (what `setup` runs as the loader role: file format, stages, tables) ' +
        'or snowflake-admin (what an admin runs once before: database, schema, storage integration, the loader role and its grants, the service user)',
    )
    .addArgument(new Argument('<engine>', 'duckdb, snowflake or snowflake-admin').choices(['duckdb', 'snowflake', 'snowflake-admin']))
    .addOption(new Option('--database <name>', 'database (admin)').default('RETAIL_DB'))
    .addOption(new Option('--schema <name>', 'schema (admin)').default('RETAIL_SCHEMA'))
    .option('--stage-url <s3://b/p/>', 'S3 URL above the entity roots; adds the stages (and the integration, admin)')
    .addOption(new Option('--storage-integration <name>', 'storage integration').default('S3_INTEGRATION_PRO'))
    .option('--role-arn <arn>', 'IAM role Snowflake assumes; adds the storage integration (admin)')
    .option('--role <name>', 'adds the loader role and its grants (admin)')
    .option('--warehouse <name>', 'the virtual warehouse the loader role may use (admin)')
    .option('--user <name>', 'adds the workload-identity service user (admin)')
    .option('--github-subject <sub>', "the service user's GitHub OIDC subject (admin)")
    .option('--verbose', 'print the stack trace of a failure (also DEBUG=1)')
    .action((engine: 'duckdb' | 'snowflake' | 'snowflake-admin', flags: PrintSetupFlags) => {
      const integration = flags.storageIntegration ?? 'S3_INTEGRATION_PRO';
      const statements =
        engine === 'duckdb'
          ? renderStatements(duckSql.setup)
          : engine === 'snowflake-admin'
            ? adminStatements({
                database: flags.database ?? 'RETAIL_DB',
                schema: flags.schema ?? 'RETAIL_SCHEMA',
                storageIntegration: integration,
                ...(flags.stageUrl ? { stageUrl: flags.stageUrl } : {}),
                ...(flags.roleArn ? { storageAwsRoleArn: flags.roleArn } : {}),
                ...(flags.role ? { role: flags.role } : {}),
                ...(flags.warehouse ? { warehouse: flags.warehouse } : {}),
                ...(flags.user ? { user: flags.user } : {}),
                ...(flags.githubSubject ? { githubOidcSubject: flags.githubSubject } : {}),
              })
            : setupStatements(flags.stageUrl ? { stage: { url: flags.stageUrl, integration } } : {});
      io.out(statements.map((s) => `${s.text};\n`).join('\n'));
    });
  return root;
}

/**
 * Returns the exit code, following the convention of every batchline bin: 0 done, 1 the work failed,
 * 2 usage or configuration (no arguments prints the help on stderr), 75 busy elsewhere.
 */
export async function runSetupCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const cmd = program(io);
  if (argv.length === 0) {
    io.err(cmd.helpInformation());
    return EXIT.usage;
  }
  try {
    await cmd.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    return commanderExitCode(error) ?? reportFailure('batchline-warehouse', error, { stderr: io.err, stack: wantsStack(argv, io.env ?? process.env) });
  }
}
