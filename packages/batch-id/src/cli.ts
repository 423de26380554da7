#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { assertBatchId, batchIdForSchedule, formatBatchId, parseBatchId } from './index.js';

const HELP = `Usage: batch-id [options]

Print the batchline BATCH_ID (YYYYMMDDTHHMM, UTC) of a schedule slot.

Options:
  --cron <expr>     five-field cron, UTC; prints the latest slot at or before --at
  --at <iso>        the instant to use instead of now, e.g. 2026-11-26T03:17:00Z
  --check <id>      validate an id; prints its instant, exits 1 if invalid
  --legacy          with --check: also accept the old 12-character YYYYMMDDTHHM form
  -h, --help        show this help

Without --cron, prints the id of the minute of --at (or now).

Examples:
  batch-id --cron "*/15 * * * *"
  batch-id --cron "0 * * * *" --at 2026-11-26T03:17:00Z   # 20261126T0300
  batch-id --check 20261126T0315
`;

function fail(message: string): never {
  process.stderr.write(`batch-id: ${message}\n`);
  process.exit(1);
}

function main(argv: string[]): void {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        cron: { type: 'string' },
        at: { type: 'string' },
        check: { type: 'string' },
        legacy: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    fail(`${(err as Error).message}\n\n${HELP}`);
  }
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  try {
    if (values.check !== undefined) {
      const legacy = values.legacy === true;
      assertBatchId(values.check, { legacy });
      process.stdout.write(`${parseBatchId(values.check, { legacy }).toISOString()}\n`);
      return;
    }
    let at = new Date();
    if (values.at !== undefined) {
      // Only full ISO-8601 instants with an explicit zone: a bare date would silently use local time.
      if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(values.at)) {
        fail(`invalid --at ${JSON.stringify(values.at)}: expected an ISO-8601 instant with a zone, e.g. 2026-11-26T03:17:00Z`);
      }
      at = new Date(values.at);
      if (!Number.isFinite(at.getTime())) fail(`invalid --at ${JSON.stringify(values.at)}: not a real instant`);
    }
    const id = values.cron !== undefined ? batchIdForSchedule(values.cron, at) : formatBatchId(at);
    process.stdout.write(`${id}\n`);
  } catch (err) {
    fail((err as Error).message);
  }
}

main(process.argv.slice(2));
