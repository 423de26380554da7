#!/usr/bin/env node
import { exitQuietlyOnClosedPipe, reportFailure, wantsStack } from '@batchline/cli-kit';
import { runProducerCli } from './cli/run-producer-cli.js';

// `batchline-producer --help | head` closes the pipe early: not an error.
exitQuietlyOnClosedPipe();

const argv = process.argv.slice(2);
runProducerCli(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // A stack trace only when asked for (-v/--verbose or DEBUG); the exit code comes from the error.
    process.exitCode = reportFailure('batchline-producer', err, {
      stderr: (text) => process.stderr.write(text),
      stack: argv.includes('-v') || wantsStack(argv, process.env),
    });
  },
);
