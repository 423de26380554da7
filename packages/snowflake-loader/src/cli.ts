#!/usr/bin/env node
import { exitQuietlyOnClosedPipe } from './cli-convention.js';
import { runSetupCommand } from './setup-command.js';

// `batchline-warehouse print-setup duckdb | head` closes the pipe early: not an error.
exitQuietlyOnClosedPipe();

process.exitCode = await runSetupCommand(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
});
