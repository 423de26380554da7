// `@batchline/pipeline/demo`: the demo for your own tests and benchmarks. A separate entry point, because the
// demo drives the producer (and the Firehose SDK behind it) and the CLI's output, which the library never needs.
export { type DemoDataset, type DemoOptions, type DemoPart, type DemoResult, demo, demoBatchIds, demoDataset, renderDemo } from './demo.js';
