import type { Flow } from '../producer-contract.js';
import { FIREHOSE_LIMITS } from '../records/limits.js';

/** A flow with every default filled in and every value checked. */
export interface FlowSettings {
  /** Checkpoint key of the flow: the same file may feed two flows independently. */
  readonly id: string;
  readonly filePattern: string;
  readonly deliveryStream: string;
  readonly initialPosition: 'START_OF_FILE' | 'END_OF_FILE';
  readonly skipHeaderLines: number;
  readonly maxBufferAgeMillis: number;
  /** Bytes per call: min(maxBufferSizeBytes, 4 MiB). */
  readonly callBytes: number;
  /** Firehose records per call: min(maxBufferSizeRecords, 500). */
  readonly callRecords: number;
  /** 0 = no aggregation. */
  readonly aggregatedRecordSizeBytes: number;
  readonly pollMillis: number;
}

/**
 * Defaults follow the Kinesis Agent's except two: aggregation is on (it is what keeps
 * calls per MiB at the minimum), and a file never seen before is read from its start
 * (skipping existing data must be asked for; agent.json flows keep the agent's END_OF_FILE).
 */
export const FLOW_DEFAULTS = Object.freeze({
  initialPosition: 'START_OF_FILE' as const,
  skipHeaderLines: 0,
  maxBufferAgeMillis: 60_000,
  maxBufferSizeBytes: FIREHOSE_LIMITS.maxBytesPerCall,
  maxBufferSizeRecords: FIREHOSE_LIMITS.maxRecordsPerCall,
  aggregatedRecordSizeBytes: FIREHOSE_LIMITS.maxRecordBytes,
  minTimeBetweenFilePollsMillis: 100,
});

function integer(flow: Flow, name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(
      `Flow ${JSON.stringify(flow.deliveryStream)}: ${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return v;
}

export function resolveFlow(flow: Flow): FlowSettings {
  if (typeof flow.filePattern !== 'string' || flow.filePattern.trim() === '') {
    throw new Error(`A flow needs a filePattern (a path or glob), got ${JSON.stringify(flow.filePattern)}`);
  }
  if (typeof flow.deliveryStream !== 'string' || !/^[a-zA-Z0-9_.-]{1,64}$/.test(flow.deliveryStream)) {
    throw new Error(
      `Flow for ${JSON.stringify(flow.filePattern)}: deliveryStream must be 1-64 characters [a-zA-Z0-9_.-] (a Firehose stream name), got ${JSON.stringify(flow.deliveryStream)}`,
    );
  }
  const initialPosition = flow.initialPosition ?? FLOW_DEFAULTS.initialPosition;
  if (initialPosition !== 'START_OF_FILE' && initialPosition !== 'END_OF_FILE') {
    throw new Error(
      `Flow ${JSON.stringify(flow.deliveryStream)}: initialPosition must be START_OF_FILE or END_OF_FILE, got ${JSON.stringify(flow.initialPosition)}`,
    );
  }
  const aggregated = integer(
    flow,
    'aggregatedRecordSizeBytes',
    flow.aggregatedRecordSizeBytes,
    FLOW_DEFAULTS.aggregatedRecordSizeBytes,
    0,
    FIREHOSE_LIMITS.maxRecordBytes,
  );
  return {
    id: `${flow.deliveryStream}|${flow.filePattern}`,
    filePattern: flow.filePattern,
    deliveryStream: flow.deliveryStream,
    initialPosition,
    skipHeaderLines: integer(flow, 'skipHeaderLines', flow.skipHeaderLines, FLOW_DEFAULTS.skipHeaderLines, 0, 1_000_000),
    maxBufferAgeMillis: integer(flow, 'maxBufferAgeMillis', flow.maxBufferAgeMillis, FLOW_DEFAULTS.maxBufferAgeMillis, 1, 900_000),
    callBytes: integer(
      flow,
      'maxBufferSizeBytes',
      flow.maxBufferSizeBytes,
      FLOW_DEFAULTS.maxBufferSizeBytes,
      1,
      FIREHOSE_LIMITS.maxBytesPerCall,
    ),
    callRecords: integer(
      flow,
      'maxBufferSizeRecords',
      flow.maxBufferSizeRecords,
      FLOW_DEFAULTS.maxBufferSizeRecords,
      1,
      FIREHOSE_LIMITS.maxRecordsPerCall,
    ),
    aggregatedRecordSizeBytes: aggregated,
    pollMillis: integer(
      flow,
      'minTimeBetweenFilePollsMillis',
      flow.minTimeBetweenFilePollsMillis,
      FLOW_DEFAULTS.minTimeBetweenFilePollsMillis,
      1,
      3_600_000,
    ),
  };
}
