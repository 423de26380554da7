// Snowflake settings: the URL names the target, the environment or a JSON file supplies the rest.
// Secrets are never accepted in the URL or the config file: only file paths to them, or environment variables.
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { WarehouseConfigError } from '../../errors.js';
import { inlineIdentifier } from '../../sql-text.js';

export const AUTHENTICATORS = ['SNOWFLAKE_JWT', 'WORKLOAD_IDENTITY', 'OAUTH', 'PROGRAMMATIC_ACCESS_TOKEN', 'SNOWFLAKE'] as const;
export type SnowflakeAuthenticator = (typeof AUTHENTICATORS)[number];

/** Snowflake settings that are not secrets, plus where to find the secret. */
export interface SnowflakeOptions {
  readonly user?: string;
  readonly authenticator?: SnowflakeAuthenticator;
  readonly warehouse?: string;
  readonly role?: string;
  /** SNOWFLAKE_JWT: path of the PKCS#8 private key (PEM). Its passphrase, if any: env SNOWFLAKE_PRIVATE_KEY_PASSPHRASE. */
  readonly privateKeyPath?: string;
  /** OAUTH / PROGRAMMATIC_ACCESS_TOKEN / WORKLOAD_IDENTITY: file holding the token, re-read for every connection. */
  readonly tokenFilePath?: string;
  /**
   * OAUTH / PROGRAMMATIC_ACCESS_TOKEN / WORKLOAD_IDENTITY: called for every connection, for a fresh token.
   * In GitHub Actions: `token: () => core.getIDToken('snowflakecomputing.com')`.
   */
  readonly token?: () => Promise<string> | string;
  /**
   * WORKLOAD_IDENTITY only: the ambient identity's token (in GitHub Actions, the job's OIDC token for
   * `snowflakecomputing.com`). Used when no explicit token (`token`, SNOWFLAKE_TOKEN, a token file) is set, and
   * ignored for every other authenticator, so it never replaces an OAuth or programmatic access token.
   */
  readonly workloadIdentityToken?: () => Promise<string> | string;
  /** Another endpoint than `https://<account>.snowflakecomputing.com`, e.g. a local test server. */
  readonly accessUrl?: string;
  /** JSON file with these settings (no secrets). Env: BATCHLINE_SNOWFLAKE_CONFIG. */
  readonly configFile?: string;
  /** setup(): S3 URL above the entity roots, e.g. `s3://bucket/firehose/`; stages are created when set. */
  readonly stageUrl?: string;
  /** setup(): storage integration name. Default S3_INTEGRATION_PRO. */
  readonly storageIntegration?: string;
  /** Kept for compatibility: the storage integration is created by the admin script (sql/snowflake/admin/), never by setup(). */
  readonly storageAwsRoleArn?: string;
  /** Session LOCK_TIMEOUT in seconds (0-43200). Env SNOWFLAKE_LOCK_TIMEOUT. Default 300. */
  readonly lockTimeoutSeconds?: number;
  /** Session STATEMENT_TIMEOUT_IN_SECONDS (1-604800). Env SNOWFLAKE_STATEMENT_TIMEOUT. Default 3600. */
  readonly statementTimeoutSeconds?: number;
}

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,254}$/, 'expected an unquoted identifier (letters, digits, _ or $)');
const nonSecretSettings = {
  user: z.string().min(1).max(255).optional(),
  authenticator: z.enum(AUTHENTICATORS).optional(),
  warehouse: identifier.optional(),
  role: identifier.optional(),
  privateKeyPath: z.string().min(1).optional(),
  tokenFilePath: z.string().min(1).optional(),
  accessUrl: z.url({ protocol: /^https?$/ }).optional(),
  stageUrl: z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s'\\]*)?\/$/, 'expected s3://bucket/prefix/ ending in "/"').optional(),
  storageIntegration: identifier.optional(),
  storageAwsRoleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'expected arn:aws:iam::<12 digits>:role/<name>').optional(),
  lockTimeoutSeconds: z.coerce.number().int('expected whole seconds').min(0).max(43_200, 'expected at most 43200 (Snowflake\'s own default, 12 h)').optional(),
  statementTimeoutSeconds: z.coerce.number().int('expected whole seconds').min(1, 'expected at least 1 (0 would mean no limit)').max(604_800, 'expected at most 604800 (7 days)').optional(),
};
const fileSchema = z.strictObject(nonSecretSettings);
const urlQuerySchema = z.strictObject({
  warehouse: nonSecretSettings.warehouse,
  role: nonSecretSettings.role,
  authenticator: nonSecretSettings.authenticator,
  user: nonSecretSettings.user,
  accessUrl: nonSecretSettings.accessUrl,
});

const SECRET_PARAMS = /^(password|passcode|token|private_?key(_?pass(phrase)?)?|secret)$/i;

export interface SnowflakeTarget {
  readonly account: string;
  readonly database: string;
  readonly schema: string;
}

export type SnowflakeCredential =
  | { readonly kind: 'key-pair'; readonly privateKeyPath: string; readonly passphrase?: string }
  | { readonly kind: 'token'; readonly getToken: () => Promise<string> }
  | { readonly kind: 'password'; readonly password: string };

export interface SnowflakeConfig extends SnowflakeTarget {
  /** Absent for WORKLOAD_IDENTITY: Snowflake identifies the service user from the token. */
  readonly user?: string;
  readonly authenticator: SnowflakeAuthenticator;
  readonly warehouse?: string;
  readonly role?: string;
  readonly accessUrl?: string;
  readonly credential: SnowflakeCredential;
  readonly stage?: { readonly url: string; readonly integration: string; readonly awsRoleArn?: string };
  /** Session LOCK_TIMEOUT (seconds): how long a statement waits for a lock another transaction holds. */
  readonly lockTimeoutSeconds: number;
  /** Session STATEMENT_TIMEOUT_IN_SECONDS: no statement runs longer. */
  readonly statementTimeoutSeconds: number;
}

/** Authenticators whose token names the user, so SNOWFLAKE_USER may be left out. */
export const USER_FROM_TOKEN: readonly SnowflakeAuthenticator[] = ['WORKLOAD_IDENTITY'];

/**
 * Defaults that fail fast instead of Snowflake's 12 h / 2 days: a lock left by a killed run blocks a rerun
 * for at most 5 minutes, and no statement of a load runs more than an hour.
 */
export const DEFAULT_LOCK_TIMEOUT_SECONDS = 300;
export const DEFAULT_STATEMENT_TIMEOUT_SECONDS = 3600;

type Env = Readonly<Record<string, string | undefined>>;

/** `snowflake://<account>/<database>/<schema>?warehouse=..&role=..&authenticator=..&user=..` */
export function parseSnowflakeUrl(url: string): SnowflakeTarget & { query: z.infer<typeof urlQuerySchema> } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WarehouseConfigError(`Invalid Snowflake URL ${JSON.stringify(url.slice(0, 120))}: expected snowflake://<account>/<database>/<schema>`);
  }
  if (parsed.username || parsed.password) {
    throw new WarehouseConfigError('Credentials do not belong in the Snowflake URL: use SNOWFLAKE_USER and a key, token or token file (see the README)');
  }
  const account = decodeURIComponent(parsed.hostname);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/.test(account)) {
    throw new WarehouseConfigError(`Invalid Snowflake account ${JSON.stringify(account)}: expected an account identifier like myorg-myaccount`);
  }
  const parts = parsed.pathname.split('/').filter((p) => p.length > 0).map(decodeURIComponent);
  if (parts.length > 2) throw new WarehouseConfigError(`Invalid Snowflake URL path ${JSON.stringify(parsed.pathname)}: expected /<database>/<schema>`);
  const database = inlineIdentifier(parts[0] ?? 'RETAIL_DB', 'database').sql;
  const schema = inlineIdentifier(parts[1] ?? 'RETAIL_SCHEMA', 'schema').sql;
  const query: Record<string, string> = {};
  for (const [key, value] of parsed.searchParams) {
    if (SECRET_PARAMS.test(key)) {
      throw new WarehouseConfigError(`Secrets do not belong in the Snowflake URL (found "${key}"): use an environment variable or a file path`);
    }
    query[key] = value;
  }
  const checked = urlQuerySchema.safeParse(query);
  if (!checked.success) throw new WarehouseConfigError(`Invalid Snowflake URL query: ${describeIssues(checked.error)}`);
  return { account, database, schema, query: checked.data };
}

async function readConfigFile(file: string): Promise<z.infer<typeof fileSchema>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new WarehouseConfigError(`Cannot read the Snowflake config file ${file}: ${(error as Error).message}`);
  }
  const checked = fileSchema.safeParse(raw);
  if (!checked.success) {
    throw new WarehouseConfigError(`Invalid Snowflake config file ${file}: ${describeIssues(checked.error)} (secrets belong in env vars or key/token files)`);
  }
  return checked.data;
}

function fromEnv(env: Env) {
  const pick = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const values = {
    user: pick('SNOWFLAKE_USER'),
    authenticator: pick('SNOWFLAKE_AUTHENTICATOR'),
    warehouse: pick('SNOWFLAKE_WAREHOUSE'),
    role: pick('SNOWFLAKE_ROLE'),
    privateKeyPath: pick('SNOWFLAKE_PRIVATE_KEY_PATH'),
    tokenFilePath: pick('SNOWFLAKE_TOKEN_FILE_PATH'),
    accessUrl: pick('SNOWFLAKE_ACCESS_URL'),
    stageUrl: pick('BATCHLINE_STAGE_URL'),
    storageIntegration: pick('BATCHLINE_STORAGE_INTEGRATION'),
    storageAwsRoleArn: pick('BATCHLINE_STORAGE_AWS_ROLE_ARN'),
    lockTimeoutSeconds: pick('SNOWFLAKE_LOCK_TIMEOUT'),
    statementTimeoutSeconds: pick('SNOWFLAKE_STATEMENT_TIMEOUT'),
  };
  const defined = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
  const checked = fileSchema.safeParse(defined);
  if (!checked.success) throw new WarehouseConfigError(`Invalid Snowflake environment: ${describeIssues(checked.error)}`);
  return checked.data;
}

/** Merge the settings (options > URL query > environment > config file) and check they are complete. */
export async function resolveSnowflakeConfig(url: string, options: SnowflakeOptions = {}, env: Env = process.env): Promise<SnowflakeConfig> {
  const target = parseSnowflakeUrl(url);
  const configFile = options.configFile ?? env.BATCHLINE_SNOWFLAKE_CONFIG;
  const file = configFile ? await readConfigFile(configFile) : {};
  const { token, workloadIdentityToken, configFile: _ignored, ...explicit } = options;
  const checkedOptions = fileSchema.safeParse(Object.fromEntries(Object.entries(explicit).filter(([, v]) => v !== undefined)));
  if (!checkedOptions.success) throw new WarehouseConfigError(`Invalid Snowflake options: ${describeIssues(checkedOptions.error)}`);
  const s = { ...file, ...fromEnv(env), ...target.query, ...checkedOptions.data };

  const tokenConfigured = token !== undefined || s.tokenFilePath !== undefined || env.SNOWFLAKE_TOKEN !== undefined;
  const authenticator: SnowflakeAuthenticator | undefined =
    s.authenticator ?? (s.privateKeyPath ? 'SNOWFLAKE_JWT' : undefined);
  if (!authenticator) {
    throw new WarehouseConfigError(
      `No Snowflake authenticator: set SNOWFLAKE_AUTHENTICATOR to one of ${AUTHENTICATORS.join(', ')}` +
        (tokenConfigured ? ' (a token is configured: WORKLOAD_IDENTITY, OAUTH or PROGRAMMATIC_ACCESS_TOKEN?)' : '') +
        ', or SNOWFLAKE_PRIVATE_KEY_PATH for key-pair authentication',
    );
  }

  if (!s.user && !USER_FROM_TOKEN.includes(authenticator)) {
    throw new WarehouseConfigError(
      `No Snowflake user: ${authenticator} needs one; set SNOWFLAKE_USER (or ?user= in the URL, or "user" in the config file). ` +
        'Only WORKLOAD_IDENTITY works without: Snowflake identifies the service user from the token',
    );
  }

  let credential: SnowflakeCredential;
  if (authenticator === 'SNOWFLAKE_JWT') {
    if (!s.privateKeyPath) throw new WarehouseConfigError('SNOWFLAKE_JWT needs a private key: set SNOWFLAKE_PRIVATE_KEY_PATH');
    const passphrase = env.SNOWFLAKE_PRIVATE_KEY_PASSPHRASE;
    await checkPrivateKey(s.privateKeyPath, passphrase);
    credential = { kind: 'key-pair', privateKeyPath: s.privateKeyPath, ...(passphrase ? { passphrase } : {}) };
  } else if (authenticator === 'SNOWFLAKE') {
    const password = env.SNOWFLAKE_PASSWORD;
    if (!password) throw new WarehouseConfigError('Authenticator SNOWFLAKE (password, for local use) needs SNOWFLAKE_PASSWORD in the environment');
    credential = { kind: 'password', password };
  } else {
    const ambient = authenticator === 'WORKLOAD_IDENTITY' ? workloadIdentityToken : undefined;
    credential = { kind: 'token', getToken: tokenSource(authenticator, token, s.tokenFilePath, env.SNOWFLAKE_TOKEN, ambient) };
  }

  const stage = s.stageUrl
    ? { url: s.stageUrl, integration: s.storageIntegration ?? 'S3_INTEGRATION_PRO', ...(s.storageAwsRoleArn ? { awsRoleArn: s.storageAwsRoleArn } : {}) }
    : undefined;
  return {
    account: target.account,
    database: target.database,
    schema: target.schema,
    ...(s.user ? { user: s.user } : {}),
    authenticator,
    ...(s.warehouse ? { warehouse: s.warehouse } : {}),
    ...(s.role ? { role: s.role } : {}),
    ...(s.accessUrl ? { accessUrl: s.accessUrl } : {}),
    credential,
    ...(stage ? { stage } : {}),
    lockTimeoutSeconds: s.lockTimeoutSeconds ?? DEFAULT_LOCK_TIMEOUT_SECONDS,
    statementTimeoutSeconds: s.statementTimeoutSeconds ?? DEFAULT_STATEMENT_TIMEOUT_SECONDS,
  };
}

/** Tokens are fetched per connection: OIDC tokens live minutes, token files are rotated in place. */
function tokenSource(
  authenticator: SnowflakeAuthenticator,
  callback: SnowflakeOptions['token'],
  tokenFilePath: string | undefined,
  envToken: string | undefined,
  ambient: SnowflakeOptions['workloadIdentityToken'],
): () => Promise<string> {
  const check = (value: unknown, from: string): string => {
    if (typeof value !== 'string' || value.trim().length === 0) throw new WarehouseConfigError(`${authenticator}: the token from ${from} is empty`);
    return value.trim();
  };
  if (callback) return async () => check(await callback(), 'the token callback');
  if (envToken !== undefined && envToken !== '') return async () => check(envToken, 'SNOWFLAKE_TOKEN');
  if (tokenFilePath) {
    return async () => {
      let text: string;
      try {
        text = await readFile(tokenFilePath, 'utf8');
      } catch (error) {
        throw new WarehouseConfigError(`${authenticator}: cannot read the token file ${tokenFilePath}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      return check(text, `the token file ${tokenFilePath}`);
    };
  }
  if (ambient) return async () => check(await ambient(), 'the workload identity provider (GitHub Actions OIDC)');
  throw new WarehouseConfigError(
    `${authenticator} needs a token: pass options.snowflake.token (a callback), set SNOWFLAKE_TOKEN, or SNOWFLAKE_TOKEN_FILE_PATH` +
      (authenticator === 'WORKLOAD_IDENTITY' ? ' (in GitHub Actions, give the job `permissions: id-token: write`)' : ''),
  );
}

/** Fail at open, naming the file, rather than at login with a driver error. Never prints key material. */
async function checkPrivateKey(file: string, passphrase: string | undefined): Promise<void> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (error) {
    throw new WarehouseConfigError(`Cannot read the private key file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    createPrivateKey(passphrase ? { key: pem, format: 'pem', passphrase } : { key: pem, format: 'pem' });
  } catch {
    throw new WarehouseConfigError(
      `The file ${file} is not a readable PEM private key${passphrase ? ' (or SNOWFLAKE_PRIVATE_KEY_PASSPHRASE is wrong)' : ' (encrypted? set SNOWFLAKE_PRIVATE_KEY_PASSPHRASE)'}`,
    );
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}
