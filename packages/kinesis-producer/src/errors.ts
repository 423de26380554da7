// Every error this package throws on purpose, with the shared contract: `permanent` (retrying cannot help)
// and `exitCode` (2 = usage or configuration, 1 = the work failed).

/** Bad configuration: the message names each offending value and what was expected. */
export class ConfigError extends Error {
  override readonly name: string = 'ConfigError';
  readonly permanent = true;
  readonly exitCode: 1 | 2 | 75 = 2;
}

/**
 * Delivery stopped: a refusal no retry fixes (configuration: exit 2; a refused record: exit 1), or
 * the retry budget ran out (exit 1). The checkpoint covers only acknowledged records.
 */
export class ProducerError extends Error {
  override readonly name: string = 'ProducerError';
  readonly permanent: boolean;
  readonly exitCode: 1 | 2 | 75;
  constructor(
    message: string,
    readonly stream: string,
    readonly code: string,
    options: { permanent?: boolean; exitCode?: 1 | 2 } = {},
  ) {
    super(message);
    const kind = classifyFailure(code, message);
    this.exitCode = options.exitCode ?? (kind === 'configuration' ? 2 : 1);
    this.permanent = options.permanent ?? (kind === 'configuration' || kind === 'refused');
  }
}

/**
 * What a failed record or call means:
 * - `configuration`: region, endpoint, credentials, an unknown stream, no permission: fatal at once (exit 2);
 * - `refused`: the service refused the data itself: fatal (exit 1);
 * - `network`: no answer (DNS, refused or reset connection, timeout): retried and reported;
 * - `throttled`: throttling, 5xx and anything else: retried with backoff.
 */
export type FailureKind = 'configuration' | 'refused' | 'network' | 'throttled';

const CONFIGURATION_CODES = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'AccessDeniedExceptionException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'CredentialsProviderError',
  'InvalidKMSResourceException',
  'ConfigurationError',
]);

const REFUSED_CODES = new Set(['InvalidArgumentException', 'ValidationException', 'SerializationException']);

const NETWORK_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'TimeoutError',
  'RequestTimeout',
  'NetworkingError',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export function classifyFailure(code: string, message = ''): FailureKind {
  if (CONFIGURATION_CODES.has(code)) return 'configuration';
  if (/Region is missing|Invalid region|Could not load credentials|Invalid URL|ERR_INVALID_URL/i.test(message)) return 'configuration';
  if (REFUSED_CODES.has(code)) return 'refused';
  if (NETWORK_CODES.has(code) || /socket hang up|ECONNRESET|ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN/.test(message)) return 'network';
  return 'throttled';
}

/** The code of a thrown error: its name when meaningful (SDK exceptions), else its errno code. */
export function errorCode(err: unknown): string {
  const e = err as { name?: unknown; code?: unknown; cause?: { code?: unknown } };
  if (typeof e?.code === 'string' && (e.name === 'Error' || e.name === undefined || e.name === 'TypeError')) return e.code;
  if (typeof e?.name === 'string' && e.name !== 'Error' && e.name !== 'TypeError') return e.name;
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  return 'SinkError';
}
