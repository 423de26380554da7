export type SnowflakeAuthenticator =
  | 'SNOWFLAKE_JWT'
  | 'WORKLOAD_IDENTITY'
  | 'OAUTH'
  | 'PROGRAMMATIC_ACCESS_TOKEN'
  | 'SNOWFLAKE';

/** Snowflake settings that are not secrets, plus where to find the secret. Never a secret value in code. */
export interface SnowflakeOptions {
  readonly user?: string;
  readonly authenticator?: SnowflakeAuthenticator;
  readonly warehouse?: string;
  readonly role?: string;
  /** Key-pair JWT: path of the PKCS#8 private key (PEM). */
  readonly privateKeyPath?: string;
  /** OAUTH / PROGRAMMATIC_ACCESS_TOKEN / WORKLOAD_IDENTITY: file holding the token (re-read per connection). */
  readonly tokenFilePath?: string;
  /** WORKLOAD_IDENTITY / OAUTH: called per connection for a fresh token, e.g. `() => core.getIDToken('snowflakecomputing.com')`. */
  readonly token?: () => Promise<string> | string;
  /** For tests against a local server: `http://127.0.0.1:PORT`. */
  readonly accessUrl?: string;
  /** JSON file with these settings (no secrets), read when present. */
  readonly configFile?: string;
  /** Stage setup: S3 URL of the entity roots' parent, e.g. `s3://bucket/firehose/`. */
  readonly stageUrl?: string;
  /** Storage integration name (default S3_INTEGRATION_PRO). */
  readonly storageIntegration?: string;
  /** IAM role Snowflake assumes to read the bucket; setup creates the integration only when set. */
  readonly storageAwsRoleArn?: string;
}
