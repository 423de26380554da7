import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { oneLineSafe, packageVersion, terminalSafe } from '@batchline/cli-kit';
import { loadAgentConfig, type UnsupportedOption } from '../config/agent-config.js';
import { ConfigError, parseFlow, parseProducerConfig, type ProducerConfig } from '../config/producer-config.js';
import type { Flow, LandingStore, ProducerEvent, ProducerMetrics, RecordSink } from '../producer-contract.js';
import { createProducer } from '../producer/producer.js';
import { createDirectoryLandingStore } from '../sinks/landing/directory-store.js';
import { createLandingSink } from '../sinks/landing/landing-sink.js';
import { createFirehoseSink } from '../sinks/firehose/firehose-sink.js';

export interface ProducerCliIo {
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WritableStream;
  /**
   * The object store for `--sink landing` (an embedding program such as the pipeline
   * passes its own ObjectStore); without it, `--landing-dir` names a local directory.
   */
  readonly landingStore?: LandingStore;
  /**
   * The landing prefix of a delivery stream when `--landing-prefix` does not name it (the pipeline
   * maps its entities' streams to `<root><entity>/landing/`); undefined refuses the stream. Default:
   * `<stream>/landing/`.
   */
  readonly landingPrefix?: (stream: string) => string | undefined;
  /** The command as the user typed it, for usage and hints (the pipeline passes `batchline produce`). Default `batchline-producer`. */
  readonly commandName?: string;
  /** Install SIGTERM/SIGINT handlers: first signal stops gracefully, a second exits at once (default true). */
  readonly handleSignals?: boolean;
  /** Aborting stops a follow run gracefully, like a first SIGTERM. */
  readonly signal?: AbortSignal;
}

export const DEFAULT_CHECKPOINT_FILE = '.batchline/producer-checkpoint.json';

const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
/** After a first signal, the process exits at shutdownTimeout plus this, even if stopping is stuck. */
const HARD_EXIT_GRACE_MILLIS = 5_000;

function int(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

interface CliOptions {
  config?: string;
  file?: string[];
  stream?: string;
  initialPosition?: 'START_OF_FILE' | 'END_OF_FILE';
  skipHeaderLines?: number;
  aggregateBytes?: number;
  maxBufferAge?: number;
  maxBufferBytes?: number;
  maxBufferRecords?: number;
  checkpointFile?: string;
  deadLetterFile?: string;
  sink?: 'firehose' | 'landing';
  region?: string;
  endpoint?: string;
  landingDir?: string;
  landingPrefix?: string[];
  gzip?: boolean;
  landingBufferBytes?: number;
  landingIntervalMs?: number;
  drain?: boolean;
  includePartial?: boolean;
  maxInFlight?: number;
  metricsInterval?: number;
  ignoreUnsupported?: boolean;
  verbose?: boolean;
  retryBudget?: number;
  retryMaxDelay?: number;
  rotationGrace?: number;
  shutdownTimeout?: number;
}

function program(name = 'batchline-producer'): Command {
  return new Command(name)
    .version(packageVersion('@batchline/kinesis-producer', import.meta.url ?? __filename), '-V, --version')
    .showHelpAfterError(`(run ${name} --help for usage)`)
    .description(
      'Tail CSV files into Amazon Data Firehose (or a local landing directory): a Node replacement for the Kinesis Agent.\n' +
        'Records are CSV records (a quoted field may span lines, a record is never cut), checkpoints pass only acknowledged records.',
    )
    .option('-c, --config <file>', 'a Kinesis Agent agent.json, or a .js/.mjs module whose default export is a typed producer config')
    .option('-f, --file <pattern>', 'file path or glob to follow (repeatable)', collect)
    .option('-s, --stream <name>', 'delivery stream for --file')
    .addOption(new Option('--initial-position <position>', 'for files never seen before (default START_OF_FILE; END_OF_FILE for agent.json flows without one)').choices(['START_OF_FILE', 'END_OF_FILE']))
    .option('--skip-header-lines <n>', 'records to drop at the start of each file', int('--skip-header-lines', 0, 1_000_000))
    .option('--aggregate-bytes <n>', 'pack records into Firehose records up to n bytes; 0 = one record each (default 1024000)', int('--aggregate-bytes', 0, 1_024_000))
    .option('--max-buffer-age <ms>', 'send a partial call after this long (default 60000)', int('--max-buffer-age', 1, 900_000))
    .option('--max-buffer-bytes <n>', 'bytes per call, at most 4 MiB (default 4194304)', int('--max-buffer-bytes', 1, 4 * 1024 * 1024))
    .option('--max-buffer-records <n>', 'Firehose records per call, at most 500 (default 500)', int('--max-buffer-records', 1, 500))
    .option('--checkpoint-file <path>', `where progress is kept (default ${DEFAULT_CHECKPOINT_FILE})`)
    .option('--dead-letter-file <path>', 'where records over 1,000 KiB go (default <checkpoint-file>.dead-letter.csv)')
    .addOption(new Option('--sink <kind>', 'firehose, or landing (objects as Firehose writes them to S3)').choices(['firehose', 'landing']))
    .option('--region <region>', 'AWS region (default: the SDK default chain)')
    .option('--endpoint <url>', 'Firehose endpoint override')
    .option('--landing-dir <dir>', 'with --sink landing: a local directory used as the object store')
    .option('--landing-prefix <stream=prefix>', 'landing prefix of a stream (repeatable; default <stream>/landing/)', collect)
    .option('--gzip', 'landing objects are GZIP-compressed (.gz)')
    .option('--landing-buffer-bytes <n>', 'landing object size that triggers a write (default 5 MiB)', int('--landing-buffer-bytes', 1, 128 * 1024 * 1024))
    .option('--landing-interval-ms <ms>', 'landing buffer age that triggers a write (default 300000)', int('--landing-interval-ms', 0, 900_000))
    .option('--drain', 'read every file to its current end, deliver, checkpoint and exit (no following)')
    .option('--include-partial', 'with --drain: also send a last record that lacks its newline')
    .option('--max-in-flight <n>', 'concurrent calls per flow (default 1)', int('--max-in-flight', 1, 64))
    .option(
      '--retry-budget <ms>',
      'give up (exit 1) when deliveries keep failing this long with nothing acknowledged; 0 = never (default: never when following, 300000 with --drain)',
      int('--retry-budget', 0, 86_400_000),
    )
    .option('--retry-max-delay <ms>', 'longest backoff between resends (full jitter from 100 ms; default 10000)', int('--retry-max-delay', 1, 600_000))
    .option('--rotation-grace <ms>', 'how long a renamed or deleted file is still read for late appends (default 2000)', int('--rotation-grace', 0, 3_600_000))
    .option('--shutdown-timeout <ms>', 'on SIGTERM/SIGINT, how long in-flight calls are waited for before they are abandoned (default 30000)', int('--shutdown-timeout', 0, 3_600_000))
    .option('--metrics-interval <ms>', 'print counters to stderr this often; 0 = never (default 10000)', int('--metrics-interval', 0, 3_600_000))
    .option('--ignore-unsupported', 'run although agent.json has options this producer does not support (they are still listed)')
    .option('-v, --verbose', 'also print file openings and retries')
    .addHelpText(
      'after',
      `
Examples:
  batchline-producer --config /etc/aws-kinesis/agent.json
  batchline-producer --file '/tmp/orders.csv' --stream orders --skip-header-lines 1 --initial-position START_OF_FILE
  batchline-producer --file data/orders.csv --stream orders --sink landing --landing-dir ./lake \\
      --landing-prefix orders=firehose/orders/landing/ --drain

Credentials come only from the AWS SDK default chain (environment, SSO, profile, container or instance role).
Exit codes: 0 done (following: stopped by a signal with everything read acknowledged), 1 delivery failed or gave up
(the last line says how many records were not delivered; the checkpoint keeps them), 2 bad usage or configuration
(including a missing region or credentials and an unknown delivery stream), 130/143 a --drain stopped by SIGINT/SIGTERM.
On SIGTERM/SIGINT it exits within --shutdown-timeout plus a few seconds, whatever the endpoint does; a second signal exits at once.`,
    );
}

interface Plan {
  flows: Flow[];
  checkpointFile: string;
  deadLetterFile?: string;
  sink: () => RecordSink;
  unsupported: UnsupportedOption[];
  /** agent.json flows this producer cannot run (kinesisStream), skipped with --ignore-unsupported. */
  skipped: string[];
  typed?: ProducerConfig;
}

async function loadTypedModule(file: string): Promise<ProducerConfig> {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(path.resolve(file)).href)) as { default?: unknown };
  } catch (err) {
    throw new ConfigError(`Cannot load config module ${JSON.stringify(file)}: ${(err as Error).message}`);
  }
  return parseProducerConfig(mod.default, `config module ${file}`);
}

function parsePrefixes(values: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--landing-prefix must look like stream=prefix/, got ${JSON.stringify(v)}`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

async function plan(opts: CliOptions, io: ProducerCliIo): Promise<Plan> {
  let flows: Flow[] = [];
  let checkpointFile: string | undefined;
  let deadLetterFile: string | undefined;
  let unsupported: UnsupportedOption[] = [];
  let skipped: string[] = [];
  let endpoint = opts.endpoint === '' ? undefined : opts.endpoint;
  let region = opts.region === '' ? undefined : opts.region;
  if (endpoint !== undefined && !URL.canParse(endpoint)) {
    throw new ConfigError(`--endpoint must be a URL such as https://firehose.eu-west-1.amazonaws.com, got ${JSON.stringify(endpoint)}`);
  }
  let typed: ProducerConfig | undefined;
  if (opts.config && opts.file) throw new ConfigError('Use either --config or --file/--stream, not both');
  if (opts.config) {
    if (/\.(c|m)?js$/i.test(opts.config)) {
      typed = await loadTypedModule(opts.config);
      flows = typed.flows;
      checkpointFile = typed.checkpointFile;
      deadLetterFile = typed.deadLetterFile;
      if (typed.sink?.kind === 'firehose') {
        endpoint ??= typed.sink.endpoint;
        region ??= typed.sink.region;
      }
    } else {
      const agent = await loadAgentConfig(opts.config);
      flows = agent.flows;
      checkpointFile = agent.checkpointFile;
      unsupported = agent.unsupported;
      skipped = agent.skippedFlows;
      endpoint ??= agent.endpoint;
      region ??= agent.region;
    }
  } else {
    if (!opts.file || opts.file.length === 0) throw new ConfigError('Give --config <agent.json> or --file <pattern> with --stream <name> (see --help)');
    if (!opts.stream) throw new ConfigError('--file needs --stream <delivery stream name>');
    flows = opts.file.map((filePattern, i) => parseFlow({ filePattern, deliveryStream: opts.stream }, `--file #${i + 1}`));
  }
  // Command-line values override the file's.
  const override: Partial<Flow> = {
    ...(opts.initialPosition ? { initialPosition: opts.initialPosition } : {}),
    ...(opts.skipHeaderLines !== undefined ? { skipHeaderLines: opts.skipHeaderLines } : {}),
    ...(opts.aggregateBytes !== undefined ? { aggregatedRecordSizeBytes: opts.aggregateBytes } : {}),
    ...(opts.maxBufferAge !== undefined ? { maxBufferAgeMillis: opts.maxBufferAge } : {}),
    ...(opts.maxBufferBytes !== undefined ? { maxBufferSizeBytes: opts.maxBufferBytes } : {}),
    ...(opts.maxBufferRecords !== undefined ? { maxBufferSizeRecords: opts.maxBufferRecords } : {}),
  };
  flows = flows.map((f) => ({ ...f, ...override }));
  checkpointFile = opts.checkpointFile ?? checkpointFile ?? DEFAULT_CHECKPOINT_FILE;
  deadLetterFile = opts.deadLetterFile ?? deadLetterFile;

  const landingConfig = typed?.sink?.kind === 'landing' ? typed.sink : undefined;
  const kind = opts.sink ?? typed?.sink?.kind ?? (opts.landingDir || io.landingStore ? 'landing' : 'firehose');
  const sink = (): RecordSink => {
    if (kind === 'firehose') return createFirehoseSink({ region, endpoint });
    const directory = opts.landingDir ?? landingConfig?.directory;
    const store = io.landingStore ?? (directory ? createDirectoryLandingStore(directory) : undefined);
    if (!store) throw new ConfigError('--sink landing needs --landing-dir <dir>');
    const prefixes: Record<string, string> = {};
    const given = { ...landingConfig?.prefixes, ...parsePrefixes(opts.landingPrefix) };
    for (const f of flows) {
      const prefix = given[f.deliveryStream] ?? (io.landingPrefix ? io.landingPrefix(f.deliveryStream) : `${f.deliveryStream}/landing/`);
      if (prefix === undefined) {
        throw new ConfigError(
          `Delivery stream ${JSON.stringify(f.deliveryStream)} is not one the pipeline claims from; name its landing prefix with --landing-prefix ${f.deliveryStream}=<prefix>/ or use a stream of the pipeline's config`,
        );
      }
      prefixes[f.deliveryStream] = prefix;
    }
    return createLandingSink({
      store,
      prefixes,
      gzip: opts.gzip ?? landingConfig?.gzip ?? false,
      bufferSizeBytes: opts.landingBufferBytes ?? landingConfig?.bufferSizeBytes,
      bufferIntervalMillis: opts.landingIntervalMs ?? landingConfig?.bufferIntervalMillis,
    });
  };
  return { flows, checkpointFile, deadLetterFile, sink, unsupported, skipped, typed };
}

function describeEvent(e: ProducerEvent): string {
  const where = e.path ? ` ${e.path}` : '';
  const at = e.offset !== undefined ? ` at byte ${e.offset}` : '';
  const detail = e.code && e.type !== 'delivery-failing' ? ` ${e.code}: ${e.message ?? ''}` : e.message ? ` ${e.message}` : '';
  const records = e.records !== undefined && e.type !== 'delivery-failing' ? ` ${e.records} records` : '';
  return `[${e.stream || 'producer'}] ${e.type}${where}${at}${records}${detail}`;
}

/**
 * The `batchline-producer` command as a function: parses argv (without node and
 * script), runs, and resolves to the exit code. The pipeline's `produce` command
 * delegates here, passing its ObjectStore as `io.landingStore`.
 */
export async function runProducerCli(argv: readonly string[], io: ProducerCliIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  // Messages carry paths, stream names and file contents: escape what a terminal would act on.
  const say = (s: string) => stderr.write(`batchline-producer: ${terminalSafe(s)}\n`);
  const cmd = program(io.commandName)
    .exitOverride()
    .configureOutput({ writeOut: (s) => stdout.write(s), writeErr: (s) => stderr.write(terminalSafe(s)), outputError: (s, write) => write(oneLineSafe(s)) });
  // The convention of every batchline bin: no arguments prints the help on stderr and exits 2.
  if (argv.length === 0) {
    stderr.write(cmd.helpInformation());
    return EXIT.usage;
  }
  try {
    await cmd.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    throw err;
  }
  const opts = cmd.opts<CliOptions>();

  let p: Plan;
  let sink: RecordSink;
  try {
    p = await plan(opts, io);
    for (const u of p.unsupported) say(`unsupported agent.json option ${u.option}: ${u.reason}`);
    if (p.unsupported.length > 0 && !opts.ignoreUnsupported) {
      say(`refusing to start with ${p.unsupported.length} unsupported option(s); remove them or pass --ignore-unsupported`);
      return EXIT.usage;
    }
    for (const flow of p.skipped) say(`warning: skipping ${flow} (--ignore-unsupported)`);
    if (p.flows.length === 0) throw new ConfigError('No flow left to run: every flow of the config sends to a Kinesis Data Stream (kinesisStream); only Firehose delivery streams (deliveryStream) are supported');
    sink = p.sink();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof RangeError) {
      say(err.message);
      return EXIT.usage;
    }
    throw err;
  }

  const verbose = opts.verbose === true;
  let producer;
  try {
    producer = createProducer({
      flows: p.flows,
      sink,
      checkpointFile: p.checkpointFile,
      deadLetterFile: p.deadLetterFile,
      maxInFlightCalls: opts.maxInFlight ?? p.typed?.maxInFlightCalls,
      retryBaseDelayMillis: p.typed?.retryBaseDelayMillis,
      retryMaxDelayMillis: opts.retryMaxDelay ?? p.typed?.retryMaxDelayMillis,
      retryBudgetMillis: opts.retryBudget ?? p.typed?.retryBudgetMillis,
      shutdownTimeoutMillis: opts.shutdownTimeout ?? p.typed?.shutdownTimeoutMillis,
      rotationGraceMillis: opts.rotationGrace ?? p.typed?.rotationGraceMillis,
      onEvent: (e) => {
        if (!verbose && (e.type === 'file-opened' || e.type === 'retry' || e.type === 'file-finished')) return;
        say(describeEvent(e));
      },
    });
  } catch (err) {
    say((err as Error).message);
    await sink.close();
    return EXIT.usage;
  }

  const printMetrics = (label: string, m: ProducerMetrics, out: NodeJS.WritableStream) =>
    out.write(`${JSON.stringify({ event: label, at: new Date().toISOString(), ...m })}\n`);
  const interval = opts.metricsInterval ?? p.typed?.metricsIntervalMillis ?? 10_000;
  const timer = interval > 0 ? setInterval(() => printMetrics('metrics', producer.metrics(), stderr), interval) : undefined;
  timer?.unref();

  const shutdownTimeout = opts.shutdownTimeout ?? p.typed?.shutdownTimeoutMillis ?? 30_000;
  let signalled: NodeJS.Signals | undefined;
  let hardExit: NodeJS.Timeout | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) {
      say(`${sig} again: exiting now (the checkpoint only lags; records may be sent again)`);
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    signalled = sig;
    say(`${sig}: flushing, waiting up to ${shutdownTimeout} ms for in-flight calls, checkpointing (send ${sig} again to exit at once)`);
    // The bound holds whatever the endpoint or the disk does: the checkpoint on disk is always consistent.
    hardExit = setTimeout(() => {
      say(`still stopping ${shutdownTimeout + HARD_EXIT_GRACE_MILLIS} ms after ${sig}: exiting now (the checkpoint only lags)`);
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }, shutdownTimeout + HARD_EXIT_GRACE_MILLIS);
    hardExit.unref();
    void producer.stop();
  };
  const onAbort = () => void producer.stop();
  if (io.handleSignals !== false) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  io.signal?.addEventListener('abort', onAbort, { once: true });
  const unsent = (m: ProducerMetrics) =>
    `${(m.recordsPending ?? 0).toLocaleString('en-US')} record(s) read and not delivered, ${m.lagBytes.toLocaleString('en-US')} byte(s) after the checkpoint ` +
    `(kept in ${JSON.stringify(p.checkpointFile)}: the next run sends them)`;
  try {
    if (opts.drain) {
      const m = await producer.drain({ includePartialLastRecord: opts.includePartial === true });
      printMetrics('drained', m, stdout);
      if (signalled) {
        say(`stopped by ${signalled} before the drain finished: ${unsent(m)}`);
        return signalled === 'SIGINT' ? 130 : 143;
      }
      if ((m.recordsPending ?? 0) > 0) {
        say(`drain ended with records not delivered: ${unsent(m)}`);
        return EXIT.failed;
      }
    } else {
      say(`following ${p.flows.map((f) => `${f.filePattern} -> ${f.deliveryStream}`).join(', ')}; checkpoints in ${p.checkpointFile}`);
      if (!io.signal?.aborted) await producer.start();
      const m = producer.metrics();
      printMetrics('stopped', m, stdout);
      if ((m.recordsPending ?? 0) > 0) {
        say(`stopped with records not delivered (in-flight calls abandoned at the shutdown timeout): ${unsent(m)}`);
        return EXIT.failed;
      }
    }
    return EXIT.ok;
  } catch (err) {
    const m = producer.metrics();
    printMetrics('failed', m, stderr);
    say((err as Error).message);
    say(`${(err as { permanent?: boolean }).permanent === false ? 'gave up' : 'stopped'}: ${unsent(m)}`);
    const code = (err as { exitCode?: unknown }).exitCode;
    return code === 2 || code === 75 ? code : EXIT.failed;
  } finally {
    if (timer) clearInterval(timer);
    if (hardExit) clearTimeout(hardExit);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    io.signal?.removeEventListener('abort', onAbort);
    await sink.close().catch(() => undefined);
  }
}
