import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Firehose PutRecordBatch limits as the service enforces them (record bytes before base64). */
export const LIMITS = { records: 500, callBytes: 4 * 1024 * 1024, recordBytes: 1000 * 1024 };

export interface EndpointCall {
  readonly stream: string;
  readonly records: number;
  readonly bytes: number;
  readonly status: number;
}

export interface FirehoseEndpointOptions {
  /** Delivery streams that exist; any name when omitted. */
  readonly streams?: readonly string[];
  /** Keep accepted record data (tests); the bench only counts. */
  readonly keepData?: boolean;
  /** DescribeDeliveryStream: each stream's S3 destination (`batchline doctor --firehose`). */
  readonly destinations?: Readonly<Record<string, { readonly bucket: string; readonly prefix: string; readonly errorPrefix?: string }>>;
}

/**
 * An in-process HTTP server speaking Firehose's PutRecordBatch JSON 1.1 protocol,
 * for the real @aws-sdk/client-firehose to talk to through `endpoint`. It records
 * what it accepted, flags any call over the service limits (and refuses it as
 * Firehose would), and can inject per-record failures, throttling and 500s.
 */
export class FirehoseEndpoint {
  url = '';
  /** Accepted records per stream, in acceptance order. */
  readonly accepted = new Map<string, Buffer[]>();
  readonly acceptedCounts = new Map<string, { records: number; bytes: number }>();
  readonly calls: EndpointCall[] = [];
  /** Limit violations seen (a correct producer leaves this empty). */
  readonly violations: string[] = [];
  /** Per-record failure injection: return an error code to fail that record. */
  failRecord: ((data: Buffer, index: number, call: number) => string | undefined) | undefined;
  /** Answer the next n calls with 503 ServiceUnavailableException (throttling). */
  throttleNext = 0;
  /** Answer the next n calls with 500 InternalFailure. */
  fail500Next = 0;
  /** Drop the connection of the next n calls without an answer (a connection reset). */
  resetNext = 0;
  /** Drop the connection of a call without an answer when this returns true. */
  resetCall: ((call: number) => boolean) | undefined;
  /** Hold each call this long before answering (a slow service). */
  delayMillis = 0;
  /** Called with each call before it is answered (e.g. to kill the producer mid-call). */
  onCall: ((call: number) => void) | undefined;
  /** Answer a call only once the returned promise settles (e.g. to hold one call while later ones are answered). */
  holdCall: ((call: number, records: readonly Buffer[]) => Promise<void> | undefined) | undefined;
  private server: Server | undefined;
  private callNo = 0;

  constructor(private readonly options: FirehoseEndpointOptions = {}) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => {
        this.violations.push(`endpoint error: ${err.message}`);
        if (!res.headersSent) reply(res, 500, { __type: 'InternalFailure', message: err.message });
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** Every accepted record of a stream, concatenated (what S3 would get). */
  data(stream: string): string {
    return Buffer.concat(this.accepted.get(stream) ?? []).toString('utf8');
  }

  /** DescribeDeliveryStream, as the service answers it for an S3 destination (the fields the doctor reads). */
  private describe(body: Buffer, res: ServerResponse): void {
    const name = (JSON.parse(body.toString('utf8')) as { DeliveryStreamName?: string }).DeliveryStreamName ?? '';
    const destination = this.options.destinations?.[name];
    if (!destination || (this.options.streams && !this.options.streams.includes(name))) {
      return reply(res, 400, { __type: 'ResourceNotFoundException', message: `Firehose ${name} under account 000000000000 not found.` });
    }
    const s3 = {
      BucketARN: `arn:aws:s3:::${destination.bucket}`,
      Prefix: destination.prefix,
      ...(destination.errorPrefix !== undefined ? { ErrorOutputPrefix: destination.errorPrefix } : {}),
      RoleARN: 'arn:aws:iam::000000000000:role/firehose',
      BufferingHints: { SizeInMBs: 5, IntervalInSeconds: 300 },
      CompressionFormat: 'UNCOMPRESSED',
      EncryptionConfiguration: { NoEncryptionConfig: 'NoEncryption' },
    };
    return reply(res, 200, {
      DeliveryStreamDescription: {
        DeliveryStreamName: name,
        DeliveryStreamARN: `arn:aws:firehose:us-east-1:000000000000:deliverystream/${name}`,
        DeliveryStreamStatus: 'ACTIVE',
        DeliveryStreamType: 'DirectPut',
        VersionId: '1',
        Destinations: [{ DestinationId: 'destinationId-000000000001', ExtendedS3DestinationDescription: s3, S3DestinationDescription: s3 }],
        HasMoreDestinations: false,
      },
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const call = ++this.callNo;
    const target = req.headers['x-amz-target'];
    if (req.method === 'POST' && target === 'Firehose_20150804.DescribeDeliveryStream') return this.describe(Buffer.concat(chunks), res);
    if (req.method !== 'POST' || target !== 'Firehose_20150804.PutRecordBatch') {
      this.violations.push(`unexpected request ${req.method} target=${String(target)}`);
      return reply(res, 400, { __type: 'UnknownOperationException', message: `unsupported target ${String(target)}` });
    }
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1') {
      this.violations.push(`unexpected content-type ${String(req.headers['content-type'])}`);
    }
    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
      this.violations.push('request is not SigV4-signed');
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      DeliveryStreamName?: string;
      Records?: Array<{ Data?: string }>;
    };
    const stream = body.DeliveryStreamName ?? '';
    const records = (body.Records ?? []).map((r) => Buffer.from(r.Data ?? '', 'base64'));
    const bytes = records.reduce((n, r) => n + r.length, 0);
    const record = (status: number) => this.calls.push({ stream, records: records.length, bytes, status });
    this.onCall?.(call);
    await this.holdCall?.(call, records);
    if (this.delayMillis > 0) await new Promise((r) => setTimeout(r, this.delayMillis));

    const problems: string[] = [];
    if (records.length < 1 || records.length > LIMITS.records) problems.push(`${records.length} records in one call`);
    if (bytes > LIMITS.callBytes) problems.push(`${bytes} bytes in one call`);
    const big = records.find((r) => r.length > LIMITS.recordBytes);
    if (big) problems.push(`a ${big.length}-byte record`);
    if (records.some((r) => r.length === 0)) problems.push('an empty record');
    if (problems.length > 0) {
      this.violations.push(...problems);
      record(400);
      return reply(res, 400, { __type: 'InvalidArgumentException', message: problems.join('; ') });
    }
    if (this.options.streams && !this.options.streams.includes(stream)) {
      record(400);
      return reply(res, 400, { __type: 'ResourceNotFoundException', message: `Firehose ${stream} under account 000000000000 not found.` });
    }
    if (this.resetNext > 0 || this.resetCall?.(call)) {
      if (this.resetNext > 0) this.resetNext--;
      record(0);
      req.socket.destroy();
      return;
    }
    if (this.throttleNext > 0) {
      this.throttleNext--;
      record(503);
      return reply(res, 503, { __type: 'ServiceUnavailableException', message: 'Slow down.' });
    }
    if (this.fail500Next > 0) {
      this.fail500Next--;
      record(500);
      return reply(res, 500, { __type: 'InternalFailure', message: 'injected 500' });
    }
    record(200);
    let failed = 0;
    const responses = records.map((data, index) => {
      const code = this.failRecord?.(data, index, call);
      if (code) {
        failed++;
        return { ErrorCode: code, ErrorMessage: `injected ${code}` };
      }
      const counts = this.acceptedCounts.get(stream) ?? { records: 0, bytes: 0 };
      counts.records++;
      counts.bytes += data.length;
      this.acceptedCounts.set(stream, counts);
      if (this.options.keepData !== false) {
        const list = this.accepted.get(stream) ?? [];
        list.push(data);
        this.accepted.set(stream, list);
      }
      return { RecordId: randomUUID() };
    });
    reply(res, 200, { FailedPutCount: failed, Encrypted: false, RequestResponses: responses });
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}
