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
export { ProducerError } from './producer/producer.js';
export { FLOW_DEFAULTS } from './producer/flow-settings.js';
export { FIREHOSE_LIMITS } from './records/limits.js';
