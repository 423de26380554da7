import { z } from 'zod';
import type { Flow } from '../producer-contract.js';
import { ConfigError } from '../errors.js';
import { FIREHOSE_LIMITS } from '../records/limits.js';

export { ConfigError };

const int = (min: number, max: number) => z.number().int().min(min).max(max);

export const flowSchema = z
  .object({
    filePattern: z.string().trim().min(1, 'filePattern needs a path or glob'),
    deliveryStream: z
      .string()
      .regex(/^[a-zA-Z0-9_.-]{1,64}$/, 'deliveryStream is a Firehose stream name: 1-64 characters of [a-zA-Z0-9_.-]'),
    initialPosition: z.enum(['START_OF_FILE', 'END_OF_FILE']).optional(),
    skipHeaderLines: int(0, 1_000_000).optional(),
    maxBufferAgeMillis: int(1, 900_000).optional(),
    maxBufferSizeBytes: int(1, FIREHOSE_LIMITS.maxBytesPerCall).optional(),
    maxBufferSizeRecords: int(1, FIREHOSE_LIMITS.maxRecordsPerCall).optional(),
    aggregatedRecordSizeBytes: int(0, FIREHOSE_LIMITS.maxRecordBytes).optional(),
    minTimeBetweenFilePollsMillis: int(1, 3_600_000).optional(),
  })
  .strict();

const firehoseSinkSchema = z
  .object({
    kind: z.literal('firehose'),
    region: z.string().min(1).optional(),
    endpoint: z.url().optional(),
    maxAttempts: int(1, 20).optional(),
  })
  .strict();

const landingSinkSchema = z
  .object({
    kind: z.literal('landing'),
    /** A local directory used as the object store. */
    directory: z.string().min(1),
    /** Landing prefix per stream; default `<stream>/landing/`. */
    prefixes: z.record(z.string(), z.string()).optional(),
    gzip: z.boolean().optional(),
    bufferSizeBytes: int(1, 128 * 1024 * 1024).optional(),
    bufferIntervalMillis: int(0, 900_000).optional(),
  })
  .strict();

/** The typed configuration (a `.js`/`.mjs` module's default export, or built in code). */
export const producerConfigSchema = z
  .object({
    flows: z.array(flowSchema).min(1, 'at least one flow is needed'),
    checkpointFile: z.string().min(1),
    deadLetterFile: z.string().min(1).optional(),
    sink: z.discriminatedUnion('kind', [firehoseSinkSchema, landingSinkSchema]).optional(),
    maxInFlightCalls: int(1, 64).optional(),
    retryBaseDelayMillis: int(1, 60_000).optional(),
    retryMaxDelayMillis: int(1, 600_000).optional(),
    shutdownTimeoutMillis: int(0, 3_600_000).optional(),
    rotationGraceMillis: int(0, 3_600_000).optional(),
    retryBudgetMillis: int(0, 86_400_000).optional(),
    metricsIntervalMillis: int(0, 3_600_000).optional(),
  })
  .strict();

export type ProducerConfig = z.infer<typeof producerConfigSchema>;
export type SinkConfig = NonNullable<ProducerConfig['sink']>;


/** Identity, for type checking a config module: `export default defineProducerConfig({ ... })`. */
export function defineProducerConfig(config: ProducerConfig): ProducerConfig {
  return config;
}

/** Validate an untrusted value as a ProducerConfig; throws ConfigError listing every problem. */
export function parseProducerConfig(input: unknown, source = 'producer config'): ProducerConfig {
  const parsed = producerConfigSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(`Invalid ${source}:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function parseFlow(input: unknown, source = 'flow'): Flow {
  const parsed = flowSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(`Invalid ${source}:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
