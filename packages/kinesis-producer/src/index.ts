export type {
  DrainOptions,
  Flow,
  LandingSinkOptions,
  LandingStore,
  Producer,
  ProducerEvent,
  ProducerMetrics,
  ProducerOptions,
  PutOutcome,
  RecordSink,
} from './producer-contract.js';
export { createLandingSink, createProducer } from './producer-contract.js';
export { ConfigError, ProducerError, classifyFailure, type FailureKind } from './errors.js';
export { FLOW_DEFAULTS } from './producer/flow-settings.js';
export { FIREHOSE_LIMITS } from './records/limits.js';
export { createFirehoseSink, type FirehoseSinkOptions } from './sinks/firehose/firehose-sink.js';
export { describeLandingDestination, type LandingDestination } from './sinks/firehose/landing-destination.js';
export { createDirectoryLandingStore } from './sinks/landing/directory-store.js';
export { loadAgentConfig, parseAgentConfig, type AgentConfig, type UnsupportedOption } from './config/agent-config.js';
export {
  defineProducerConfig,
  parseProducerConfig,
  type ProducerConfig,
  type SinkConfig,
} from './config/producer-config.js';
export { runProducerCli, DEFAULT_CHECKPOINT_FILE, type ProducerCliIo } from './cli/run-producer-cli.js';
