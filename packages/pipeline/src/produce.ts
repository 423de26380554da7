import { runProducerCli as producerCli } from '@batchline/kinesis-producer';
import { createBatchLifecycle, openObjectStore } from '@batchline/s3-lifecycle';
import { ConfigError, ENTITIES, loadConfig } from './config.js';

export interface ProduceOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WritableStream;
}

/** Options of `produce` itself; every other argument is kinesis-producer's CLI (`batchline-producer`). */
const OWN_FLAGS = ['--store', '--pipeline-config'] as const;

function takeOwnFlags(argv: readonly string[]): { rest: string[]; store?: string; config?: string } {
  const rest: string[] = [];
  const found: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const flag = OWN_FLAGS.find((f) => arg === f || arg.startsWith(`${f}=`));
    if (!flag) {
      rest.push(arg);
      continue;
    }
    const value = arg === flag ? argv[++i] : arg.slice(flag.length + 1);
    if (value === undefined || value === '') throw new ConfigError(`${flag} needs a value`);
    found[flag] = value;
  }
  return { rest, store: found['--store'], config: found['--pipeline-config'] };
}

/** The producer picks its own sink: Firehose, a landing directory, or it only prints help. */
function ownSink(argv: readonly string[]): boolean {
  return argv.some((a, i) => a === '--landing-dir' || a.startsWith('--landing-dir=') || a === '--help' || a === '-h' || a === '--version' || a === '--sink=firehose' || (a === '--sink' && argv[i + 1] === 'firehose'));
}

/**
 * `batchline produce [--store <url>] [--pipeline-config <file>] <batchline-producer options>`: by default
 * the records land in the pipeline's configured store, under each entity's landing prefix (the layout
 * `claim` reads; the stream of an entity is `streams.<entity>` of the config); `--sink firehose` sends to
 * Amazon Data Firehose instead (whose delivery to S3 must then point at the same prefixes).
 */
export async function runProducerCli(argv: string[], options: ProduceOptions = {}): Promise<number> {
  const stderr = options.stderr ?? process.stderr;
  let own: ReturnType<typeof takeOwnFlags>;
  try {
    own = takeOwnFlags(argv);
  } catch (err) {
    stderr.write(`batchline produce: ${(err as Error).message}\n`);
    return 2;
  }
  const io = { ...(options.stdout ? { stdout: options.stdout } : {}), stderr, commandName: 'batchline produce' };
  if (ownSink(own.rest)) return producerCli(own.rest, io);
  let store: ReturnType<typeof openObjectStore>;
  let landingPrefix: (stream: string) => string | undefined;
  try {
    const { config } = loadConfig({
      ...(own.config ? { file: own.config } : {}),
      env: options.env ?? process.env,
      cwd: options.cwd ?? process.cwd(),
      overrides: { store: own.store },
    });
    store = openObjectStore(config.store);
    const lifecycle = createBatchLifecycle(store, { root: config.root });
    const entityOf = new Map<string, string>(ENTITIES.map((entity) => [config.streams[entity], entity]));
    landingPrefix = (stream) => {
      const entity = entityOf.get(stream);
      return entity ? lifecycle.landingPrefix(entity) : undefined;
    };
  } catch (err) {
    stderr.write(`batchline produce: ${(err as Error).message}\n`);
    return (err as { exitCode?: number }).exitCode === 1 ? 1 : 2;
  }
  try {
    return await producerCli(own.rest, { ...io, landingStore: store, landingPrefix });
  } finally {
    await store.close();
  }
}
