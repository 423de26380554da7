import type * as FirehoseSdk from '@aws-sdk/client-firehose';
import type { FirehoseClient, FirehoseClientConfig } from '@aws-sdk/client-firehose';
import { createRequire } from 'node:module';
import { errorCode, ProducerError } from '../../errors.js';
import type { PutOutcome, RecordSink } from '../../producer-contract.js';

// The Firehose SDK loads when a Firehose sink is made, not when the package is imported (the landing sink and
// the pipeline's library never need it). The CommonJS build has no import.meta (it is emptied), but has __filename.
const requireSdk = createRequire((import.meta as { url?: string }).url ?? __filename);
let firehoseSdk: typeof FirehoseSdk | undefined;
const sdk = (): typeof FirehoseSdk => (firehoseSdk ??= requireSdk('@aws-sdk/client-firehose') as typeof FirehoseSdk);

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
    new (sdk().FirehoseClient)({
      ...(options.region ? { region: options.region } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      maxAttempts: options.maxAttempts ?? 3,
    });
  return {
    async check() {
      // The SDK only notices a missing region at the first call, and would then fail every call alike.
      let region: string | undefined;
      try {
        region = await client.config.region();
      } catch (err) {
        region = undefined;
        if (!/region is missing/i.test((err as Error).message)) throw err;
      }
      if (!region) {
        throw new ProducerError(
          'No AWS region for Firehose: set AWS_REGION (or a profile region), --region, or a regional firehose.endpoint in agent.json',
          '',
          'ConfigurationError',
        );
      }
    },
    async putRecordBatch(stream, records, options) {
      let response;
      try {
        response = await client.send(
          new (sdk().PutRecordBatchCommand)({ DeliveryStreamName: stream, Records: records.map((Data) => ({ Data })) }),
          options?.signal ? { abortSignal: options.signal } : {},
        );
      } catch (err) {
        const e = err as Error & { $metadata?: { httpStatusCode?: number } };
        const status = e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : '';
        const failed: PutOutcome = { ok: false, code: errorCode(e) || 'FirehoseError', message: `${e.message}${status}` };
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
