import type { CopyObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import type * as SmithyChecksum from '@smithy/core/checksum';
import type * as SmithyEndpoints from '@smithy/core/endpoints';
import type * as ProtocolHttp from '@smithy/protocol-http';
import type * as SigV4 from '@smithy/signature-v4';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';

// Loaded with the first S3 store, like the SDK itself (s3-store.ts): a file:// user never pays for them.
const requireLazily = createRequire((import.meta as { url?: string }).url ?? __filename);
type HttpRequest = ProtocolHttp.HttpRequest;
type SignatureV4 = SigV4.SignatureV4;

/**
 * CopyObject's hot path, without the SDK's per-request middleware. A small CopyObject costs the SDK about
 * 0.5 ms of CPU (serializers, middleware stack, XML parser, retry bookkeeping), which caps one thread near
 * 1,500 copies a second and, on a shared 2-core machine, takes CPU from the S3 server itself. Here the request
 * is built by hand (a PUT with `x-amz-copy-source` and an empty body), signed with `@smithy/signature-v4` (the
 * SDK's own signer, with the client's credentials provider, region, endpoint and clock offset) and sent on a
 * keep-alive agent. Only the answer the adapter expects is handled here: a 200 whose body is a
 * `<CopyObjectResult>`. Anything else (an error status, a 200 carrying an `<Error>`, a socket error) returns
 * `undefined`, and the caller sends the same copy through the SDK, which owns retries, clock-skew correction
 * and error parsing. So the SDK stays the authority on every failure; this path only makes success cheap.
 */
export class SignedCopies {
  private target: Promise<Target | undefined> | undefined;
  /** Copies sent by this path that succeeded (for diagnostics and tests). */
  copies = 0;
  /** Requests handed back to the SDK (an error answer, an unusual endpoint). */
  fallbacks = 0;
  private readonly agent: http.Agent;
  private readonly secureAgent: https.Agent;

  /** `copyCommand`: the SDK's CopyObjectCommand (its endpoint rules are resolved once, for the bucket). */
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly copyCommand: unknown,
    maxSockets: number,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
    this.secureAgent = new https.Agent({ keepAlive: true, maxSockets });
  }

  /** The bucket's URL and a signer, resolved once from the client's configuration, or undefined (use the SDK). */
  private resolve(): Promise<Target | undefined> {
    this.target ??= (async () => {
      const { getEndpointFromInstructions } = requireLazily('@smithy/core/endpoints') as typeof SmithyEndpoints;
      const { Sha256Node } = requireLazily('@smithy/core/checksum') as typeof SmithyChecksum;
      const { SignatureV4 } = requireLazily('@smithy/signature-v4') as typeof SigV4;
      const config = this.client.config;
      const probe = { Bucket: this.bucket, Key: 'k', CopySource: `${this.bucket}/k` };
      const endpoint = await getEndpointFromInstructions(probe, this.copyCommand as never, config as never);
      const scheme = (endpoint.properties?.authSchemes as { name?: string; signingRegion?: string; signingName?: string }[] | undefined)?.[0];
      // S3 Express (session auth) and SigV4a (multi-region access points) sign differently: leave them to the SDK.
      if (scheme !== undefined && scheme.name !== 'sigv4') return undefined;
      const url = endpoint.url;
      if (url.search !== '' || (url.protocol !== 'http:' && url.protocol !== 'https:')) return undefined;
      // The rules give the bucket's base URL (path style: <endpoint>/<bucket>; virtual host: <bucket>.<host>); keys go after it.
      const base = url.pathname.replace(/\/+$/, '');
      const region = scheme?.signingRegion ?? (await config.region());
      const signer = new SignatureV4({
        service: scheme?.signingName ?? 's3',
        region,
        credentials: config.credentials as never,
        sha256: Sha256Node as never,
        uriEscapePath: false, // S3 signs the path as sent (no double encoding)
        applyChecksum: true,
      });
      return { url, base, signer };
    })().catch(() => undefined);
    return this.target;
  }

  /** The copy's ETag, or undefined when the SDK must send it (see the class comment). */
  async copy(input: CopyObjectCommandInput & { Key: string; CopySource: string }): Promise<string | undefined> {
    const target = await this.resolve();
    if (target === undefined) return this.fallback();
    const { url, base, signer } = target;
    const headers: Record<string, string> = {
      host: url.host,
      'x-amz-copy-source': input.CopySource,
      'x-amz-content-sha256': EMPTY_SHA256,
      'content-length': '0',
    };
    if (input.CopySourceIfMatch !== undefined) headers['x-amz-copy-source-if-match'] = input.CopySourceIfMatch;
    const { HttpRequest } = requireLazily('@smithy/protocol-http') as typeof ProtocolHttp;
    const request = new HttpRequest({
      method: 'PUT',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port !== '' ? { port: Number(url.port) } : {}),
      path: `${base}/${encodeKey(input.Key)}`,
      headers,
    });
    const offset = (this.client.config as { systemClockOffset?: number }).systemClockOffset ?? 0;
    const signed = await signer.sign(request, { signingDate: new Date(Date.now() + offset) });
    const answer = await send(url.protocol === 'https:' ? https : http, url.protocol === 'https:' ? this.secureAgent : this.agent, signed as HttpRequest);
    if (answer === undefined || answer.status !== 200) return this.fallback();
    const etag = /<CopyObjectResult\b[\s\S]*?<ETag>([^<]*)<\/ETag>/.exec(answer.body)?.[1];
    if (etag === undefined || answer.body.includes('<Error>')) return this.fallback();
    this.copies++;
    return unescapeXml(etag);
  }

  private fallback(): undefined {
    this.fallbacks++;
    return undefined;
  }

  close(): void {
    this.agent.destroy();
    this.secureAgent.destroy();
  }
}

interface Target {
  readonly url: URL;
  readonly base: string;
  readonly signer: SignatureV4;
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Each key segment as the SDK encodes it (RFC 3986: also !'()*). */
function encodeKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}

function unescapeXml(text: string): string {
  return text.replace(/&(quot|amp|lt|gt|apos|#34|#x22);/g, (_, name: string) => ({ quot: '"', amp: '&', lt: '<', gt: '>', apos: "'", '#34': '"', '#x22': '"' })[name]!);
}

/** One request on the agent; undefined on a socket error (the SDK then retries it properly). */
function send(transport: typeof http | typeof https, agent: http.Agent, request: HttpRequest): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = transport.request(
      {
        method: request.method,
        hostname: request.hostname,
        ...(request.port !== undefined ? { port: request.port } : {}),
        path: request.path,
        headers: request.headers,
        agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('error', () => resolve(undefined));
    req.end();
  });
}
