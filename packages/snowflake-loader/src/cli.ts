#!/usr/bin/env node
import { runSetupCommand } from './setup-command.js';

process.exitCode = await runSetupCommand(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
