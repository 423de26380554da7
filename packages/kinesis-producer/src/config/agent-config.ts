import { readFile } from 'node:fs/promises';
import type { Flow } from '../producer-contract.js';
import { ConfigError, parseFlow } from './producer-config.js';

/** An agent.json option this producer does not act on, and why. */
export interface UnsupportedOption {
  /** Where it is, e.g. `flows[1].dataProcessingOptions` or `assumeRoleARN`. */
  readonly option: string;
  readonly reason: string;
}

export interface AgentConfig {
  readonly flows: Flow[];
  readonly checkpointFile?: string;
  /** From `firehose.endpoint` (with `https://` added when it has no scheme). */
  readonly endpoint?: string;
  /** Taken from a regional `firehose.endpoint` host, e.g. firehose.eu-west-1.amazonaws.com. */
  readonly region?: string;
  /** Options found and not supported: report them, never ignore them silently. */
  readonly unsupported: UnsupportedOption[];
  /** Flows that cannot run here (a kinesisStream flow), described for a warning; they are not in `flows`. */
  readonly skippedFlows: string[];
}

const FLOW_SUPPORTED = new Set([
  'filePattern',
  'deliveryStream',
  'initialPosition',
  'maxBufferAgeMillis',
  'maxBufferSizeBytes',
  'maxBufferSizeRecords',
  'skipHeaderLines',
  'aggregatedRecordSizeBytes',
  'minTimeBetweenFilePollsMillis',
]);

const FLOW_UNSUPPORTED: Record<string, string> = {
  kinesisStream: 'Kinesis Data Streams are not supported; only Firehose delivery streams (deliveryStream)',
  partitionKeyOption: 'applies to Kinesis Data Streams only',
  dataProcessingOptions: 'records are sent as they are in the file (no CSVTOJSON, LOGTOJSON, ...)',
  multiLineStartPattern: 'records are CSV records: quoted fields may span lines, and no pattern is needed or used',
};

const GLOBAL_UNSUPPORTED: Record<string, string> = {
  awsAccessKeyId: 'credentials come only from the AWS SDK default chain; remove keys from the file',
  awsSecretAccessKey: 'credentials come only from the AWS SDK default chain; remove keys from the file',
  assumeRoleARN: 'use an AWS profile with role_arn (SDK default chain) instead',
  assumeRoleExternalId: 'use an AWS profile with external_id (SDK default chain) instead',
  'sts.endpoint': 'STS is configured through the SDK default chain',
  'userDefinedCredentialsProvider.classname': 'Java credential providers cannot be loaded',
  'userDefinedCredentialsProvider.location': 'Java credential providers cannot be loaded',
  'cloudwatch.endpoint': 'no CloudWatch metrics are emitted; counters are printed and exposed by metrics()',
  'kinesis.endpoint': 'Kinesis Data Streams are not supported',
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Read a Kinesis Agent agent.json. */
export async function loadAgentConfig(file: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read agent config ${JSON.stringify(file)}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    // Editors on Windows save UTF-8 with a byte-order mark; it is not part of the JSON.
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new ConfigError(`Agent config ${JSON.stringify(file)} is not valid JSON: ${(err as Error).message}`);
  }
  return parseAgentConfig(json, file);
}

/** Validate an agent.json document; supported options are checked, the rest reported in `unsupported`. */
export function parseAgentConfig(json: unknown, source = 'agent.json'): AgentConfig {
  if (!isObject(json)) throw new ConfigError(`${source}: expected a JSON object with "flows", got ${JSON.stringify(json)?.slice(0, 80)}`);
  const unsupported: UnsupportedOption[] = [];
  let checkpointFile: string | undefined;
  let endpoint: string | undefined;
  let region: string | undefined;
  for (const [key, value] of Object.entries(json)) {
    if (key === 'flows') continue;
    // The agent's installed default writes "" for endpoints it leaves to the region: unset.
    if (key.endsWith('.endpoint') && value === '') continue;
    if (key === 'checkpointFile') {
      if (typeof value !== 'string' || value === '') {
        throw new ConfigError(`${source}: checkpointFile must be a file path, got ${JSON.stringify(value)}`);
      }
      checkpointFile = value;
    } else if (key === 'firehose.endpoint') {
      if (typeof value !== 'string' || value === '') {
        throw new ConfigError(`${source}: firehose.endpoint must be a host or URL, got ${JSON.stringify(value)}`);
      }
      endpoint = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`;
      let host: string;
      try {
        host = new URL(endpoint).hostname;
      } catch {
        throw new ConfigError(`${source}: firehose.endpoint is not a valid host or URL: ${JSON.stringify(value)}`);
      }
      region = /^firehose(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(host)?.[1];
    } else if (key === 'cloudwatch.emitMetrics') {
      if (typeof value !== 'boolean') {
        throw new ConfigError(`${source}: cloudwatch.emitMetrics must be true or false, got ${JSON.stringify(value)}`);
      }
      if (value) {
        unsupported.push({
          option: key,
          reason: 'no CloudWatch metrics are emitted; counters are printed and exposed by metrics(); set it to false',
        });
      }
    } else {
      unsupported.push({ option: key, reason: GLOBAL_UNSUPPORTED[key] ?? 'not a Kinesis Agent option this producer knows' });
    }
  }
  const flowsValue = json.flows;
  if (!Array.isArray(flowsValue) || flowsValue.length === 0) {
    throw new ConfigError(`${source}: "flows" must be a non-empty array, got ${JSON.stringify(flowsValue)?.slice(0, 80)}`);
  }
  const skippedFlows: string[] = [];
  const flows: Flow[] = [];
  flowsValue.forEach((raw, i) => {
    const where = `flows[${i}]`;
    if (!isObject(raw)) throw new ConfigError(`${source}: ${where} must be an object, got ${JSON.stringify(raw)?.slice(0, 80)}`);
    if (raw.deliveryStream === undefined && raw.kinesisStream !== undefined) {
      // A Kinesis Data Streams flow: reported as unsupported, and skipped when the operator says so.
      unsupported.push({
        option: `${where}.kinesisStream`,
        reason: `Kinesis Data Streams are not supported (only Firehose deliveryStream flows); with --ignore-unsupported this flow (${JSON.stringify(raw.filePattern)} -> kinesisStream ${JSON.stringify(raw.kinesisStream)}) is skipped`,
      });
      skippedFlows.push(`${where} (${JSON.stringify(raw.filePattern)} -> kinesisStream ${JSON.stringify(raw.kinesisStream)}): Kinesis Data Streams are not supported`);
      return;
    }
    const supported: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
      if (FLOW_SUPPORTED.has(key)) supported[key] = value;
      else if (key === 'truncatedRecordTerminator') {
        // Accepted for compatibility; records over the limit are dead-lettered whole, never truncated.
        if (typeof value !== 'string') {
          throw new ConfigError(`${source}: ${where}.truncatedRecordTerminator must be a string, got ${JSON.stringify(value)}`);
        }
      } else {
        unsupported.push({ option: `${where}.${key}`, reason: FLOW_UNSUPPORTED[key] ?? 'not a Kinesis Agent flow option this producer knows' });
      }
    }
    // The agent's own default, so an existing agent.json behaves as it did.
    supported.initialPosition ??= 'END_OF_FILE';
    flows.push(parseFlow(supported, `${source} ${where}`));
  });
  return { flows, checkpointFile, endpoint, region, unsupported, skippedFlows };
}
