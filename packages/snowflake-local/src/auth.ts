import { createHash, createPublicKey, timingSafeEqual, verify, type KeyObject } from 'node:crypto';

/** What a login request presented (secrets are not kept in the server's log). */
export interface LoginAttempt {
  readonly account: string;
  readonly user: string;
  readonly authenticator: string;
  readonly password: string | undefined;
  readonly token: string | undefined;
  readonly provider: string | undefined;
  readonly clientApp: string | undefined;
}

/**
 * A user the server knows. Give the credential the test's connection uses:
 * a password, the public half of a key pair (SNOWFLAKE_JWT), or a token
 * (OAUTH, PROGRAMMATIC_ACCESS_TOKEN, WORKLOAD_IDENTITY).
 */
export interface LocalUser {
  readonly password?: string;
  readonly publicKey?: string | KeyObject;
  readonly token?: string;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function base64url(text: string): Buffer {
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** Verifies the driver's key-pair JWT: RS256 signature, subject and public-key fingerprint. */
export function verifyKeyPairJwt(jwt: string, account: string, user: string, publicKey: string | KeyObject): boolean {
  const parts = jwt.split('.');
  if (parts.length !== 3) return false;
  const [header, payload, signature] = parts as [string, string, string];
  let claims: { iss?: string; sub?: string; exp?: number };
  try {
    const head = JSON.parse(base64url(header).toString('utf8')) as { alg?: string };
    if (head.alg !== 'RS256') return false;
    claims = JSON.parse(base64url(payload).toString('utf8')) as typeof claims;
  } catch {
    return false;
  }
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  if (!verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), key, base64url(signature))) return false;
  const fingerprint = `SHA256:${createHash('sha256').update(key.export({ format: 'der', type: 'spki' })).digest('base64')}`;
  const who = `${account.toUpperCase()}.${user.toUpperCase()}`;
  if (claims.sub !== who || claims.iss !== `${who}.${fingerprint}`) return false;
  // The driver writes exp in milliseconds; accept either unit, reject an expired token.
  const exp = typeof claims.exp === 'number' ? (claims.exp > 1e11 ? claims.exp : claims.exp * 1000) : 0;
  return exp > Date.now();
}

/** Checks a login against the configured users; with no users configured, any login succeeds. */
export function checkLogin(attempt: LoginAttempt, users: Readonly<Record<string, LocalUser>> | undefined): boolean {
  if (!users) return true;
  const entry = Object.entries(users).find(([name]) => name.toUpperCase() === attempt.user.toUpperCase());
  if (!entry) return false;
  const [, user] = entry;
  switch (attempt.authenticator.toUpperCase()) {
    case 'SNOWFLAKE':
    case 'USERNAME_PASSWORD_MFA':
      return user.password !== undefined && attempt.password !== undefined && same(user.password, attempt.password);
    case 'SNOWFLAKE_JWT':
      return user.publicKey !== undefined && attempt.token !== undefined && verifyKeyPairJwt(attempt.token, attempt.account, attempt.user, user.publicKey);
    case 'OAUTH':
    case 'PROGRAMMATIC_ACCESS_TOKEN':
    case 'WORKLOAD_IDENTITY':
      return user.token !== undefined && attempt.token !== undefined && same(user.token, attempt.token);
    default:
      return false;
  }
}

/** The user a login without LOGIN_NAME identifies by its token (WORKLOAD_IDENTITY, OAUTH). */
export function userForToken(attempt: LoginAttempt, users: Readonly<Record<string, LocalUser>>): string | undefined {
  if (!['WORKLOAD_IDENTITY', 'OAUTH'].includes(attempt.authenticator.toUpperCase()) || attempt.token === undefined) return undefined;
  const token = attempt.token;
  return Object.entries(users).find(([, user]) => user.token !== undefined && same(user.token, token))?.[0];
}
