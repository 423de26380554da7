#!/usr/bin/env node
import { runProducerCli } from './cli/run-producer-cli.js';

runProducerCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`batchline-producer: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
