#!/usr/bin/env node
import { exitQuietlyOnClosedPipe } from '@batchline/cli-kit';
import { runSetupCommand } from './setup-command.js';

// `batchline-warehouse print-setup duckdb | head` closes the pipe early: not an error.
exitQuietlyOnClosedPipe();

process.exitCode = await runSetupCommand(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
});
