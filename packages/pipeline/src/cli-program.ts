import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type BatchId, batchIdForSchedule, parseIsoInstant, toBatchId } from '@batchline/batch-id';
import { BatchInProgressError, FileObjectStore, createBatchLifecycle, openObjectStore, requireConditionalWrites } from '@batchline/s3-lifecycle';
import { type Warehouse, WarehouseBusyError, WarehouseMissingError, openWarehouse } from '@batchline/snowflake-loader';
import { EXIT as BIN_EXIT, commanderExitCode, oneLineSafe, packageVersion, reportFailure, terminalSafe, wantsStack } from '@batchline/cli-kit';
import { UsageError } from './errors.js';
import { type BatchlineConfig, ENTITIES, loadConfig, redactUrl } from './config.js';
import { firehoseChecks, renderDoctor, runDoctor } from './doctor.js';
import { githubOidcTokenProvider, inGitHubActions, publishPlan, publishToGitHubActions } from './github-actions.js';
import { progressPrinter } from './progress.js';
import { type RunReport, renderReport } from './report.js';
import { type HookPoint, assertNotFuture, runBatch } from './run-batch.js';
import { pipelineStatus, renderStatus } from './status.js';
import { releaseBatch, repinBatch } from './ways-out.js';
import { writeStatusPage } from './status-page/index.js';
import { watchStatus } from './status-watch.js';
import type { TaskName } from './config.js';

/** Exit codes: 0 done, 1 failed, 2 bad usage or config, 75 the batch is in progress elsewhere (EX_TEMPFAIL). */
export const EXIT = { ok: 0, failed: 1, usage: 2, inProgress: 75 } as const;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** @internal test hook, see cli.ts */
  readonly hook?: (task: TaskName, point: HookPoint) => void | Promise<void>;
  /** Delegate for `produce` (kinesis-producer's CLI). */
  readonly produce?: (argv: string[]) => Promise<number>;
  /** Delegate for `demo`. */
  readonly demo?: (options: DemoCliOptions, io: CliIo) => Promise<number>;
  /** Aborted on SIGINT/SIGTERM: the run stops starting tasks, aborts running ones and releases its lease. */
  readonly signal?: AbortSignal;
  /** stdout is a terminal (`status --watch` clears the screen between refreshes). */
  readonly isTTY?: boolean;
  /** The signal that interrupted the process, if one did (the exit code becomes 130 or 143). */
  readonly interruptedBy?: () => NodeJS.Signals | undefined;
}

export interface DemoCliOptions {
  readonly scale: number;
  readonly warehouse?: string;
  readonly dir: string;
  readonly json: boolean;
}

export { UsageError };

/** Validate --batch while parsing, so a bad id never reaches the store, the warehouse or a log line unquoted. */
function parseBatchOption(value: string): BatchId {
  try {
    return toBatchId(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function parseWatchSeconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0.2 || n > 3600) {
    throw new InvalidArgumentError(`expected seconds between 0.2 and 3600, got ${JSON.stringify(value)}`);
  }
  return n;
}

function parseScale(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 100) {
    throw new InvalidArgumentError(`expected a number > 0 and <= 100 (1 = 1.5M orders), got ${JSON.stringify(value)}`);
  }
  return n;
}

interface CommonFlags {
  config?: string;
  store?: string;
  warehouse?: string;
  cron?: string;
  json?: boolean;
}

function withConfigFlags(cmd: Command, options: { cron?: boolean } = {}): Command {
  cmd
    .option('--config <file>', 'config file (default: ./batchline.config.json if present; env BATCHLINE_CONFIG)')
    .option('--store <url>', 'object store: file://<dir> or s3://<bucket>[/prefix] (env BATCHLINE_STORE)')
    .option('--warehouse <url>', 'warehouse: duckdb://<file> or snowflake://<account>/<db>/<schema>?warehouse=<wh> (env BATCHLINE_WAREHOUSE)');
  if (options.cron) cmd.option('--cron <expr>', 'schedule the batch id derives from, UTC (env BATCHLINE_CRON)');
  return cmd;
}

/**
 * Warehouse options from the environment: in GitHub Actions, the job's OIDC token is offered for Snowflake workload
 * identity only (the loader ignores it for OAUTH and PROGRAMMATIC_ACCESS_TOKEN, and an explicit token wins).
 */
function warehouseOptions(io: CliIo): { snowflake?: { workloadIdentityToken: () => Promise<string> } } {
  const token = githubOidcTokenProvider(io.env);
  return token ? { snowflake: { workloadIdentityToken: token } } : {};
}

const UNSAFE_STORE_OPTION = [
  '--unsafe-ignore-conditional-writes',
  'run even on a store that ignores conditional writes (claims and leases are then not exclusive): only when a single runner can ever touch this store',
] as const;

/** Claims, leases and locks rely on conditional writes: refuse a store that ignores them (checked once per store). */
async function guardStore(config: BatchlineConfig, flags: { unsafeIgnoreConditionalWrites?: boolean }, io: CliIo): Promise<void> {
  if (flags.unsafeIgnoreConditionalWrites) {
    io.stderr('warning: --unsafe-ignore-conditional-writes: the store is not checked for conditional writes; never run two runners on it\n');
    return;
  }
  const store = openObjectStore(config.store);
  try {
    await requireConditionalWrites(store, { root: config.root });
  } finally {
    await (store as { close?: () => Promise<void> }).close?.();
  }
}

function configFrom(flags: CommonFlags, io: CliIo): BatchlineConfig {
  return loadConfig({
    ...(flags.config ? { file: flags.config } : {}),
    cwd: io.cwd,
    env: io.env,
    overrides: { store: flags.store, warehouse: flags.warehouse, cron: flags.cron },
  }).config;
}

async function emitReport(report: RunReport, flags: CommonFlags, io: CliIo): Promise<number> {
  if (flags.json) io.stdout(`${JSON.stringify(report)}\n`);
  else io.stdout(`${renderReport(report)}\n`);
  if (inGitHubActions(io.env)) await publishToGitHubActions(report);
  return report.exitCode ?? (report.status === 'succeeded' ? EXIT.ok : EXIT.failed);
}

async function runCommand(batchId: BatchId, flags: CommonFlags & { force?: boolean; wait?: boolean; unsafeIgnoreConditionalWrites?: boolean }, io: CliIo): Promise<number> {
  const config = configFrom(flags, io);
  // A future id is refused before anything touches the store (the store check below writes probes).
  assertNotFuture(batchId, config.cron);
  await guardStore(config, flags, io);
  const progress = progressPrinter((line) => io.stderr(`${line}\n`));
  for (;;) {
    try {
      const report = await runBatch({
        store: config.store,
        warehouse: config.warehouse,
        batchId,
        force: flags.force ?? false,
        root: config.root,
        onError: config.onError,
        concurrency: config.concurrency,
        tasks: config.tasks,
        leaseSeconds: config.leaseSeconds,
        // A batch id after the schedule's current slot is refused before any I/O (exit 2).
        cron: config.cron,
        ...(config.settleSeconds !== undefined ? { settleSeconds: config.settleSeconds } : {}),
        warehouseOptions: warehouseOptions(io),
        onEvent: progress,
        ...(io.hook ? { hook: io.hook } : {}),
        ...(io.signal ? { signal: io.signal } : {}),
      });
      // The transform waits for an earlier batch that another run is working on: --wait waits with it.
      if (report.status === 'waiting' && flags.wait && report.sequence?.waitingFor?.reason.startsWith('in progress')) {
        io.stderr(`batch ${batchId} waits for batch ${report.sequence.waitingFor.batchId} (${report.sequence.waitingFor.reason}); waiting (--wait)\n`);
        await sleep(2000);
        continue;
      }
      return await emitReport(report, flags, io);
    } catch (err) {
      if (err instanceof BatchInProgressError && flags.wait) {
        io.stderr(`${err.message}; waiting for it to finish (--wait)\n`);
        await sleep(2000);
        continue;
      }
      throw err;
    }
  }
}

export function createProgram(io: CliIo, state: { code: number } = { code: 0 }): Command {
  const program = new Command('batchline')
    .description('Claim, load, transform and archive e-commerce batches: Firehose -> S3 -> Snowflake, replayable, one run per batch.')
    .version(packageVersion('@batchline/pipeline', import.meta.url), '-V, --version')
    .showHelpAfterError('(run batchline --help for usage)')
    // commander echoes bad arguments in its messages: escape what a terminal would act on.
    .configureOutput({ writeOut: io.stdout, writeErr: (text) => io.stderr(terminalSafe(text)), outputError: (text, write) => write(oneLineSafe(text)) })
    .exitOverride();

  withConfigFlags(
    program
      .command('run')
      .description('Run a batch: claim ∥ claim -> load ∥ load -> transform -> archive ∥ archive. Skips tasks that already succeeded.'),
    { cron: true },
  )
    .addOption(new Option('--batch <id>', 'batch id YYYYMMDDTHHMM (UTC); default: the latest slot of the cron schedule').argParser(parseBatchOption))
    .option('--force', 'rerun every task, also those that succeeded (all tasks are idempotent)', false)
    .option('--wait', 'if another run holds the batch, wait for it instead of exiting with code 75', false)
    .option('--json', 'print one machine-readable run report on stdout instead of the table', false)
    .option(...UNSAFE_STORE_OPTION)
    .action(async (flags: CommonFlags & { batch?: BatchId; force: boolean; wait: boolean; unsafeIgnoreConditionalWrites?: boolean }) => {
      const batchId = flags.batch ?? batchIdForSchedule(configFrom(flags, io).cron, new Date());
      state.code = await runCommand(batchId, flags, io);
    });

  withConfigFlags(
    program
      .command('replay')
      .description('Rerun every task of a batch that already ran; idempotent: a finished batch comes out unchanged.'),
  )
    .addOption(new Option('--batch <id>', 'batch id YYYYMMDDTHHMM (UTC)').argParser(parseBatchOption).makeOptionMandatory())
    .option('--json', 'print one machine-readable run report on stdout instead of the table', false)
    .option(...UNSAFE_STORE_OPTION)
    .action(async (flags: CommonFlags & { batch: BatchId; unsafeIgnoreConditionalWrites?: boolean }) => {
      const config = configFrom(flags, io);
      const lifecycle = createBatchLifecycle(openObjectStore(config.store), { root: config.root });
      const manifests = await Promise.all(ENTITIES.map((e) => lifecycle.readManifest(e, flags.batch)));
      if (manifests.every((m) => m === undefined)) {
        throw new UsageError(`batch ${flags.batch} was never claimed, so there is nothing to replay; to run it for the first time: batchline run --batch ${flags.batch}`);
      }
      state.code = await runCommand(flags.batch, { ...flags, force: true }, io);
    });

  // The two ways out take the same flags and the same request: the batch, the store and the warehouse.
  const wayOutCommand = (name: string, description: string) =>
    withConfigFlags(program.command(name).description(description))
      .addOption(new Option('--batch <id>', 'batch id YYYYMMDDTHHMM (UTC)').argParser(parseBatchOption).makeOptionMandatory())
      .option('--json', 'print the outcome as JSON', false);
  const wayOutRequest = (flags: CommonFlags & { batch: BatchId }) => {
    const config = configFrom(flags, io);
    return {
      store: config.store,
      warehouse: config.warehouse,
      warehouseOptions: warehouseOptions(io),
      batchId: flags.batch,
      root: config.root,
      leaseSeconds: config.leaseSeconds,
    };
  };

  wayOutCommand('repin', 'Pin a claimed, not yet archived batch to the files now in processing/<id>/ (after fixing one there); its loads run again.')
    .action(async (flags: CommonFlags & { batch: BatchId; json?: boolean }) => {
      const outcome = await repinBatch(wayOutRequest(flags));
      if (flags.json) io.stdout(`${JSON.stringify(outcome)}\n`);
      else {
        const lines = ENTITIES.flatMap((e) =>
          outcome.changes[e].map((c) => {
            const v = (x?: { size: number; etag: string }) => (x ? `${x.size} bytes, ETag ${x.etag}` : 'none');
            return `  ${e} ${JSON.stringify(c.path)}: ${v(c.before)} -> ${v(c.after)}`;
          }),
        );
        io.stdout(
          lines.length === 0
            ? `batch ${outcome.batchId}: processing/ already holds exactly the pinned files; nothing changed\n`
            : `batch ${outcome.batchId} re-pinned:\n${lines.join('\n')}\nnext: ${outcome.next}\n`,
        );
      }
    });

  wayOutCommand('release', 'Give a failed, never transformed batch back: its raw rows go, its files return to landing/ for the next batch.')
    .action(async (flags: CommonFlags & { batch: BatchId; json?: boolean }) => {
      const outcome = await releaseBatch(wayOutRequest(flags));
      if (flags.json) io.stdout(`${JSON.stringify(outcome)}\n`);
      else if (outcome.alreadyReleased) io.stdout(`batch ${outcome.batchId}: nothing to release (released before, or never claimed)\n`);
      else {
        io.stdout(
          `batch ${outcome.batchId} released: ${ENTITIES.map((e) => `${outcome.files[e]} ${e} file(s)`).join(', ')} back in landing/; ` +
            `its raw rows and task state are gone; the next batch takes the files\n`,
        );
      }
    });

  withConfigFlags(program.command('status').description('Batches by state, and files waiting in landing.'))
    .addOption(new Option('--batch <id>', 'show one batch, with its task states').argParser(parseBatchOption))
    .option('--limit <n>', 'newest batches to show', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got ${JSON.stringify(v)}`);
      return n;
    }, 20)
    .option('--json', 'print the status as JSON', false)
    .option('--html <file>', 'write a self-contained HTML status page (grid, charts, Gantt chart) to <file>, or - for stdout; --limit defaults to 100 here')
    .option('--watch [seconds]', 'show the table again every <seconds> (default 2) until Ctrl-C', parseWatchSeconds)
    .action(async (flags: CommonFlags & { batch?: BatchId; limit: number; html?: string; watch?: number | true; json?: boolean }, command: Command) => {
      if (flags.watch !== undefined) {
        if (flags.html !== undefined || flags.json) throw new UsageError('--watch shows the table; it does not go with --html or --json');
        // Each refresh is a plain `status` of its own: the warehouse is opened and closed every time.
        const again = ['status', ...(flags.config ? ['--config', flags.config] : []), ...(flags.store ? ['--store', flags.store] : []),
          ...(flags.warehouse ? ['--warehouse', flags.warehouse] : []), ...(flags.batch ? ['--batch', flags.batch] : []), '--limit', String(flags.limit)];
        await watchStatus({
          render: async () => {
            const out: string[] = [];
            const code = await runCli(again, { ...io, stdout: (t) => out.push(t), stderr: (t) => out.push(t) });
            return code === EXIT.ok ? out.join('') : `${out.join('')}(status exited ${code})\n`;
          },
          everySeconds: flags.watch === true ? 2 : flags.watch,
          write: io.stdout,
          clear: io.isTTY ?? false,
          ...(io.signal ? { signal: io.signal } : {}),
        });
        return;
      }
      const config = configFrom(flags, io);
      const store = openObjectStore(config.store);
      // A typo'd file:// path is not an empty store: say so instead of "no batches yet".
      if (store instanceof FileObjectStore && !existsSync(store.root)) {
        throw new UsageError(`the store directory ${JSON.stringify(store.root)} (from ${JSON.stringify(redactUrl(config.store))}) does not exist; check the store URL`);
      }
      const lifecycle = createBatchLifecycle(store, { root: config.root });
      // status only reads: the warehouse is opened read-only (nothing created, no setup). When a run holds
      // the DuckDB file, or no run has made it yet, the store's view is still shown, with a line saying so.
      let warehouse: Warehouse | undefined;
      let note: { state: 'busy' | 'missing'; message: string } | undefined;
      try {
        warehouse = await openWarehouse(config.warehouse, { ...warehouseOptions(io), files: store, readOnly: true });
      } catch (err) {
        if (err instanceof WarehouseBusyError) note = { state: 'busy', message: `warehouse busy: ${err.message}; task states are not shown` };
        else if (err instanceof WarehouseMissingError) note = { state: 'missing', message: `${err.message}; task states are not shown` };
        else throw err;
      }
      try {
        if (note && flags.html !== undefined) throw new UsageError(`status --html needs the warehouse's task states: ${note.message}`);
        if (warehouse && flags.html !== undefined) {
          const limit = command.getOptionValueSource('limit') === 'default' ? 100 : flags.limit;
          const page = await writeStatusPage({
            lifecycle, warehouse, target: flags.html, cwd: io.cwd, limit, ...(flags.batch ? { batchId: flags.batch } : {}),
            storeLabel: redactUrl(config.store), warehouseLabel: redactUrl(config.warehouse), stdout: io.stdout,
          });
          if (page.file) io.stderr(`status page with ${page.batches} batch${page.batches === 1 ? '' : 'es'} written to ${page.file}\n`);
          return;
        }
        const status = await pipelineStatus(lifecycle, warehouse, { ...(flags.batch ? { batchId: flags.batch } : {}), limit: flags.limit });
        if (flags.json) io.stdout(`${JSON.stringify(note ? { ...status, warehouse: note } : status)}\n`);
        else io.stdout(`${renderStatus(status, flags.batch !== undefined)}\n${note ? `${terminalSafe(note.message)}\n` : ''}`);
      } finally {
        await warehouse?.close();
      }
    });

  withConfigFlags(
    program
      .command('doctor')
      .description(
        'Check the store and the warehouse against every assumption the pipeline makes (pass/fail, with the fix); ' +
          'safe at any time: scratch keys under _batchline/doctor/ only, rolled-back transactions. Exit 1 when a check fails.',
      ),
  )
    .option('--json', 'print the checks as JSON on stdout instead of the table', false)
    .option('--firehose', 'also check each Firehose delivery stream exists and writes to the landing layout', false)
    .action(async (flags: CommonFlags & { firehose: boolean }) => {
      const config = configFrom(flags, io);
      const report = await runDoctor({
        store: config.store,
        warehouse: config.warehouse,
        root: config.root,
        warehouseOptions: warehouseOptions(io),
        ...(flags.firehose ? { extraChecks: () => firehoseChecks(config, io.env) } : {}),
      });
      io.stdout(flags.json ? `${JSON.stringify(report)}\n` : `${renderDoctor(report)}\n`);
      state.code = report.ok ? EXIT.ok : EXIT.failed;
    });

  withConfigFlags(program.command('setup').description('Apply the warehouse DDL (tables, BATCH_AUDIT); safe to repeat.')).action(
    async (flags: CommonFlags) => {
      const config = configFrom(flags, io);
      const warehouse = await openWarehouse(config.warehouse, warehouseOptions(io));
      try {
        await warehouse.setup();
        io.stderr(`warehouse ready: ${redactUrl(config.warehouse)}\n`);
      } finally {
        await warehouse.close();
      }
    },
  );

  withConfigFlags(
    program
      .command('plan')
      .description('Print the batch id a run would use (the cron slot, or a validated --batch); sets job outputs in GitHub Actions.'),
    { cron: true },
  )
    .addOption(new Option('--batch <id>', 'validate this id instead of deriving one').argParser(parseBatchOption))
    .addOption(
      new Option('--at <iso>', 'derive the slot at this instant instead of now (ISO-8601 with a zone)').argParser((value: string) => {
        try {
          return parseIsoInstant(value);
        } catch (err) {
          throw new InvalidArgumentError((err as Error).message);
        }
      }),
    )
    .addOption(new Option('--mode <mode>', 'what the run job will do').choices(['run', 'replay']).default('run'))
    .action((flags: CommonFlags & { batch?: BatchId; at?: Date; mode: string }) => {
      let batchId = flags.batch;
      if (!batchId) batchId = batchIdForSchedule(configFrom(flags, io).cron, flags.at ?? new Date());
      if (flags.mode === 'replay' && !flags.batch) throw new UsageError('--mode replay needs --batch: a replay names the batch it repeats');
      // A dispatched id after the current slot fails here, before the run job gets any credential.
      if (flags.batch) assertNotFuture(flags.batch, configFrom(flags, io).cron, flags.at ?? new Date());
      io.stdout(`${batchId}\n`);
      if (inGitHubActions(io.env)) publishPlan(batchId, flags.mode);
    });

  program
    .command('produce')
    .description(
      "Tail CSV files into the pipeline's store, under each entity's landing/ prefix where claim reads (--store <url> or the config's store), " +
        "or into Amazon Data Firehose with --sink firehose (kinesis-producer's CLI; see `batchline produce --help`).",
    )
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]')
    .action(async (args: string[]) => {
      if (!io.produce) throw new UsageError('produce is not available in this build');
      state.code = await io.produce(args);
    });

  program
    .command('demo')
    .description('The embedded default: generate sample data, produce it into a local landing sink, run two batches on files + DuckDB, print the report.')
    .addOption(new Option('--scale <n>', 'TPC-H scale factor (0.01 = 15,000 orders)').argParser(parseScale).default(0.01))
    .option('--warehouse <url>', 'warehouse URL (default: duckdb file in the demo directory)')
    .option('--dir <path>', 'demo data directory', '.batchline/demo')
    .option('--json', 'print the run reports as JSON on stdout', false)
    .action(async (flags: { scale: number; warehouse?: string; dir: string; json: boolean }) => {
      if (!io.demo) throw new UsageError('demo is not available in this build');
      state.code = await io.demo({ scale: flags.scale, dir: flags.dir, json: flags.json, ...(flags.warehouse ? { warehouse: flags.warehouse } : {}) }, io);
    });

  // Every command but `produce` (whose arguments are the producer's) takes --verbose: stack traces of failures.
  for (const command of program.commands) {
    if (command.name() !== 'produce') command.option('--verbose', 'print the stack trace of a failure (also DEBUG=1)');
  }
  return program;
}

/**
 * Parse and run; returns the exit code. Errors are printed, never thrown: 0 done, 1 the work failed, 2 usage or
 * configuration, 75 busy elsewhere (from the error's `exitCode`), 130/143 after SIGINT/SIGTERM.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const state = { code: EXIT.ok as number };
  const program = createProgram(io, state);
  const interrupted = () => {
    const signal = io.interruptedBy?.();
    return signal === undefined ? undefined : signal === 'SIGINT' ? BIN_EXIT.sigint : BIN_EXIT.sigterm;
  };
  try {
    await program.parseAsync(argv, { from: 'user' });
    return interrupted() ?? state.code;
  } catch (err) {
    const fromCommander = commanderExitCode(err);
    if (fromCommander !== undefined) return fromCommander;
    const code = reportFailure('batchline', err, { stderr: io.stderr, stack: wantsStack(argv, io.env) });
    if (inGitHubActions(io.env)) {
      const core = await import('@actions/core');
      core.setFailed(terminalSafe((err as Error)?.message ?? String(err)));
    }
    return interrupted() ?? code;
  }
}

