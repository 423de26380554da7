import { FirehoseClient, PutRecordBatchCommand, type FirehoseClientConfig } from '@aws-sdk/client-firehose';
import type { PutOutcome, RecordSink } from '../../producer-contract.js';

export interface FirehoseSinkOptions {
  /** AWS region; the SDK's default chain (AWS_REGION, profile) when omitted. */
  readonly region?: string;
  /** Endpoint override, e.g. a VPC endpoint or a local test endpoint. */
  readonly endpoint?: string;
  /**
   * Credentials come from the SDK's default provider chain (environment, SSO, profile,
   * container or instance role). Pass a provider only to supply them from elsewhere
   * at run time (tests do); never a literal key.
   */
  readonly credentials?: FirehoseClientConfig['credentials'];
  /** SDK attempts per call for call-level errors (throttling, 5xx, network); default 3. */
  readonly maxAttempts?: number;
  /** Use this client instead of building one (its configuration wins). */
  readonly client?: FirehoseClient;
}

/**
 * The real sink: PutRecordBatch through @aws-sdk/client-firehose. Per-record
 * failures come back as outcomes in request order (the producer resends only
 * those); a call that fails as a whole (after the SDK's own retries) becomes a
 * failed outcome for each record, with the error's name as the code.
 */
export function createFirehoseSink(options: FirehoseSinkOptions = {}): RecordSink {
  const owned = !options.client;
  const client =
    options.client ??
    new FirehoseClient({
      ...(options.region ? { region: options.region } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      maxAttempts: options.maxAttempts ?? 3,
    });
  return {
    async putRecordBatch(stream, records) {
      let response;
      try {
        response = await client.send(
          new PutRecordBatchCommand({ DeliveryStreamName: stream, Records: records.map((Data) => ({ Data })) }),
        );
      } catch (err) {
        const e = err as Error & { $metadata?: { httpStatusCode?: number } };
        const status = e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : '';
        const failed: PutOutcome = { ok: false, code: e.name || 'FirehoseError', message: `${e.message}${status}` };
        return records.map(() => failed);
      }
      const answers = response.RequestResponses ?? [];
      if (answers.length !== records.length) {
        const failed: PutOutcome = {
          ok: false,
          code: 'MalformedResponse',
          message: `PutRecordBatch answered ${answers.length} RequestResponses for ${records.length} records`,
        };
        return records.map(() => failed);
      }
      return answers.map((a): PutOutcome =>
        a.ErrorCode ? { ok: false, code: a.ErrorCode, message: a.ErrorMessage ?? a.ErrorCode } : { ok: true },
      );
    },
    async close() {
      if (owned) client.destroy();
    },
  };
}
