// Where a delivery stream writes: for `batchline doctor --firehose`, which compares it with the store's landing layout.
import type * as FirehoseSdk from '@aws-sdk/client-firehose';
import { createRequire } from 'node:module';

const requireSdk = createRequire((import.meta as { url?: string }).url ?? __filename);

export interface LandingDestination {
  readonly stream: string;
  readonly status: string | undefined;
  /** The S3 destination's bucket (from its ARN). */
  readonly bucket: string | undefined;
  /** The S3 key prefix Firehose writes under (it then adds YYYY/MM/DD/HH/ by default). */
  readonly prefix: string;
  readonly errorPrefix: string | undefined;
}

/** DescribeDeliveryStream, reduced to its S3 destination. Rejects with the SDK's error (e.g. ResourceNotFoundException). */
export async function describeLandingDestination(stream: string, options: { region?: string; endpoint?: string } = {}): Promise<LandingDestination> {
  const sdk = requireSdk('@aws-sdk/client-firehose') as typeof FirehoseSdk;
  const client = new sdk.FirehoseClient({ ...(options.region ? { region: options.region } : {}), ...(options.endpoint ? { endpoint: options.endpoint } : {}), maxAttempts: 3 });
  try {
    const out = await client.send(new sdk.DescribeDeliveryStreamCommand({ DeliveryStreamName: stream }));
    const description = out.DeliveryStreamDescription;
    const destination = description?.Destinations?.[0];
    const s3 = destination?.ExtendedS3DestinationDescription ?? destination?.S3DestinationDescription;
    return {
      stream,
      status: description?.DeliveryStreamStatus,
      bucket: s3?.BucketARN?.replace(/^arn:aws[a-z-]*:s3:::/, ''),
      prefix: s3?.Prefix ?? '',
      errorPrefix: s3?.ErrorOutputPrefix,
    };
  } finally {
    client.destroy();
  }
}
