import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { z as Zod } from 'zod';
import { assertCron } from '@batchline/batch-id';
import { parseStoreUrl } from '@batchline/s3-lifecycle';
import { ENTITIES, type Entity, checkWarehouseUrl } from '@batchline/snowflake-loader';
import { ConfigError, quoteValue } from './errors.js';

export { ConfigError };

/** The seven tasks of a batch run, in the order a report lists them. */
export const TASK_NAMES = [
  'claim:orders',
  'claim:customers',
  'load:orders',
  'load:customers',
  'transform',
  'archive:orders',
  'archive:customers',
] as const;
export type TaskName = (typeof TASK_NAMES)[number];

// The entities are the loader's (its tables): one owner of the word.
export { ENTITIES };
export type PipelineEntity = Entity;

export const DEFAULT_CONFIG_FILE = 'batchline.config.json';

// zod loads on the first config parsed, not when the library is imported (it is most of an import's cost).
const requireHere = createRequire(import.meta.url);

function buildSchemas(z: typeof Zod) {
  // URLs are checked here, where they enter, by the packages that own them: nothing is opened or created.
  const storeUrl = z.string().superRefine((s, ctx) => {
    if (!/^(file|s3):\/\/./.test(s)) {
      ctx.addIssue({ code: 'custom', message: 'expected a store URL: file://<dir> or s3://<bucket>[/prefix]' });
      return;
    }
    try {
      parseStoreUrl(s);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });
  const warehouseUrl = z.string().superRefine((s, ctx) => {
    if (!/^(duckdb|snowflake):\/\/./.test(s)) {
      ctx.addIssue({ code: 'custom', message: 'expected a warehouse URL: duckdb://<file>|:memory: or snowflake://<account>/<database>/<schema>?warehouse=...' });
      return;
    }
    try {
      checkWarehouseUrl(s);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });
  // By its syntax only: evaluating it at some instant would refuse valid schedules (e.g. `5 * * * *` at 1970).
  const cron = z.string().superRefine((s, ctx) => {
    try {
      assertCron(s);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });
  const rootPrefix = z
    .string()
    .regex(/^$|^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/$/, 'expected "" or a key prefix ending in "/", e.g. "firehose/"')
    .refine((s) => !s.split('/').includes('..'), 'must not contain ".."');
  const streamName = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected a Firehose delivery stream name ([A-Za-z0-9._-], 1-64 chars)');

  const taskPolicy = z
    .object({
      /** Per attempt. A timed-out attempt is not retried: its work may still be running. */
      timeoutSeconds: z.number().positive().max(86_400),
      /** Further attempts after the first failure. */
      retries: z.int().min(0).max(10),
      /** First backoff; doubles per retry, with jitter. */
      backoffSeconds: z.number().min(0).max(600),
    })
    .strict();

  const taskPolicies = z
    .object(Object.fromEntries(['default', ...TASK_NAMES].map((n) => [n, taskPolicy.partial().optional()])))
    .strict();

  const configSchema = z
    .object({
      $schema: z.string().optional(),
      store: storeUrl.default('file://./.batchline/bucket'),
      warehouse: warehouseUrl.default('duckdb://./.batchline/warehouse.duckdb'),
      cron: cron.default('*/15 * * * *'),
      /** Key prefix before `<entity>/`; the old deployment used `firehose/`. */
      root: rootPrefix.default(''),
      /** Delivery stream per entity (the producer writes, the landing layout follows). */
      streams: z
        .object({ orders: streamName.default('orders'), customers: streamName.default('customers') })
        .strict()
        .default({ orders: 'orders', customers: 'customers' }),
      /** What a load does with rows it cannot parse: fail the task, or set them aside and go on. */
      onError: z.enum(['abort', 'quarantine']).default('abort'),
      /** Parallel object copies/deletes in claim and archive. */
      concurrency: z.int().min(1).max(256).default(16),
      /** How long a run's claim on a batch lasts without a heartbeat before another run may take it over. */
      leaseSeconds: z.int().min(10).max(86_400).default(600),
      /**
       * Landing files modified within this many seconds stay for the next batch: they may still be being
       * written. Default: the store's (filesystem 5, S3 0: a PUT is atomic).
       */
      settleSeconds: z.number().min(0).max(86_400).optional(),
      tasks: taskPolicies.default({}),
    })
    .strict();
  return { taskPolicy, configSchema };
}

type Schemas = ReturnType<typeof buildSchemas>;
let schemas: Schemas | undefined;
const configSchema = (): Schemas['configSchema'] => (schemas ??= buildSchemas((requireHere('zod') as typeof import('zod')).z)).configSchema;

export type TaskPolicyConfig = Zod.infer<Schemas['taskPolicy']>;

export type BatchlineConfig = Zod.infer<Schemas['configSchema']>;

export const DEFAULT_TASK_POLICY: TaskPolicyConfig = { timeoutSeconds: 1800, retries: 2, backoffSeconds: 2 };

/** The policy of one task: its own settings over `default` over the built-in default. */
export function taskPolicyFor(
  config: { readonly tasks?: Readonly<Partial<Record<string, Partial<TaskPolicyConfig> | undefined>>> | undefined },
  task: TaskName,
): TaskPolicyConfig {
  return { ...DEFAULT_TASK_POLICY, ...config.tasks?.['default'], ...config.tasks?.[task] };
}

/** Environment variables that override config keys (after the file, before CLI flags). */
export const ENV_OVERRIDES = {
  BATCHLINE_STORE: 'store',
  BATCHLINE_WAREHOUSE: 'warehouse',
  BATCHLINE_CRON: 'cron',
  BATCHLINE_ROOT: 'root',
  BATCHLINE_ON_ERROR: 'onError',
  BATCHLINE_ORDERS_STREAM: 'streams.orders',
  BATCHLINE_CUSTOMERS_STREAM: 'streams.customers',
  BATCHLINE_CONCURRENCY: 'concurrency',
  BATCHLINE_LEASE_SECONDS: 'leaseSeconds',
  BATCHLINE_SETTLE_SECONDS: 'settleSeconds',
} as const;

const NUMERIC_KEYS = new Set(['concurrency', 'leaseSeconds', 'settleSeconds']);

export interface LoadConfigOptions {
  /** Explicit config file (--config); it must exist. */
  readonly file?: string;
  /** Where to look for batchline.config.json when no file is named. Default: process.cwd(). */
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Highest precedence: CLI flags, as dotted keys (`store`, `streams.orders`). */
  readonly overrides?: Readonly<Record<string, string | number | undefined>>;
}

export interface LoadedConfig {
  readonly config: BatchlineConfig;
  /** The file the settings came from, if any. */
  readonly file?: string;
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

/** The value at a path of the raw config, shown short and escaped; undefined when absent. */
function shownValue(raw: unknown, keys: readonly PropertyKey[]): string | undefined {
  let node = raw;
  for (const key of keys) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  if (node === undefined || (typeof node === 'object' && node !== null)) return undefined;
  const text = typeof node === 'string' ? node : String(node);
  return quoteValue(text.length > 120 ? `${text.slice(0, 120)}…` : text);
}

function formatIssues(error: Zod.ZodError, source: string, raw?: unknown, origins?: ReadonlyMap<string, string>): string {
  const lines = error.issues.map((issue) => {
    const key = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    const origin = origins?.get(key);
    const got = raw === undefined ? undefined : shownValue(raw, issue.path);
    return `  - ${key}${origin ? ` (${origin})` : ''}: ${issue.message}${got === undefined ? '' : `; got ${got}`}`;
  });
  return `Invalid batchline configuration (${source}):\n${lines.join('\n')}`;
}

/** Validate an already-assembled config object; throws ConfigError naming each bad key. */
export function parseConfig(raw: unknown, source = 'config', origins?: ReadonlyMap<string, string>): BatchlineConfig {
  const result = configSchema().safeParse(raw);
  if (!result.success) throw new ConfigError(formatIssues(result.error, source, raw, origins));
  return result.data;
}

/**
 * One typed config: `batchline.config.json` (or --config / BATCHLINE_CONFIG),
 * then BATCHLINE_* environment variables, then CLI flags.
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const named = options.file ?? (env['BATCHLINE_CONFIG'] || undefined);
  const candidate = named ? path.resolve(cwd, named) : path.join(cwd, DEFAULT_CONFIG_FILE);
  let raw: Record<string, unknown> = {};
  let file: string | undefined;
  if (named && !existsSync(candidate)) {
    throw new ConfigError(`Config file ${quoteValue(named)} not found (resolved to ${quoteValue(candidate)}); expected a JSON file`);
  }
  if (existsSync(candidate)) {
    file = candidate;
    let parsed: unknown;
    try {
      // Editors on Windows save UTF-8 with a byte-order mark; it is not part of the JSON.
      parsed = JSON.parse(readFileSync(candidate, 'utf8').replace(/^\uFEFF/, ''));
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === 'EISDIR' ? 'is a directory' : `is not valid JSON: ${(err as Error).message}`;
      throw new ConfigError(`Config file ${quoteValue(candidate)} ${reason}; expected a JSON object`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(`Config file ${quoteValue(candidate)}: expected a JSON object at the top level`);
    }
    raw = parsed as Record<string, unknown>;
  }
  const sources: string[] = [file ?? 'defaults'];
  const origins = new Map<string, string>();
  for (const [name, key] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    // A number-shaped value becomes a number, so the schema's message is about its range, not its type.
    setPath(raw, key, NUMERIC_KEYS.has(key) && /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value);
    sources.push(name);
    origins.set(key, name);
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value === undefined) continue;
    setPath(raw, key, value);
    sources.push(`--${key}`);
    origins.set(key, `--${key}`);
  }
  const config = parseConfig(raw, sources.join(' + '), origins);
  return file ? { config, file } : { config };
}

/** A URL safe to print: credentials and query secrets removed. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = u.username ? '***' : '';
      u.password = '';
    }
    for (const key of [...u.searchParams.keys()]) {
      if (/pass|secret|token|key/i.test(key)) u.searchParams.set(key, '***');
    }
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}
