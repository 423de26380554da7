#!/usr/bin/env node
import { runProducerCli } from './cli/run-producer-cli.js';

// `batchline-producer --help | head` closes the pipe early: not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

runProducerCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`batchline-producer: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
