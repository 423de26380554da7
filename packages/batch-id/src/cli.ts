#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { EXIT, exitQuietlyOnClosedPipe, oneLineSafe, packageVersion, reportFailure, terminalSafe, wantsStack } from '@batchline/cli-kit';
import { assertBatchId, batchIdForSchedule, formatBatchId, parseBatchId, parseIsoInstant } from './index.js';

function instant(value: string): Date {
  if (value === 'now') return new Date();
  try {
    return parseIsoInstant(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** Parse and run; resolves to the exit code. */
export async function main(argv: readonly string[], io: { out: (s: string) => void; err: (s: string) => void; env: NodeJS.ProcessEnv }): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('batch-id')
    .description('Print the batchline BATCH_ID (YYYYMMDDTHHMM, UTC) of a schedule slot, or check one.')
    .version(packageVersion('@batchline/batch-id', import.meta.url), '-V, --version')
    .addOption(new Option('--cron <expr>', 'five-field cron, UTC; prints the latest slot at or before --at'))
    .addOption(new Option('--at <iso>', 'the instant to use instead of now, e.g. 2026-11-26T03:17:00Z ("now" for now)').argParser(instant))
    .addOption(new Option('--check <id>', 'validate an id; prints its instant, exits 1 if invalid').conflicts(['cron', 'at']))
    .option('--legacy', 'with --check: also accept the old 12-character YYYYMMDDTHHM form')
    .option('--verbose', 'print the stack trace of an unexpected failure')
    .addHelpText(
      'after',
      `
Without --cron, prints the id of the minute of --at. With no arguments, prints this help (exit 2).

Examples:
  batch-id --cron "*/15 * * * *"
  batch-id --cron "0 * * * *" --at 2026-11-26T03:17:00Z   # 20261126T0300
  batch-id --at now                                         # the current minute
  batch-id --check 20261126T0315

Exit codes: 0 done, 1 --check found the id invalid, 2 bad usage (unknown option, bad --cron or --at).`,
    )
    .showHelpAfterError('(run batch-id --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: (s) => io.err(terminalSafe(s)), outputError: (s, write) => write(oneLineSafe(s)) })
    .exitOverride()
    .action((opts: { cron?: string; at?: Date; check?: string; legacy?: boolean }) => {
      if (opts.check !== undefined) {
        const legacy = opts.legacy === true;
        try {
          assertBatchId(opts.check, { legacy });
        } catch (err) {
          io.err(`batch-id: ${(err as Error).message}\n`);
          code = EXIT.failed;
          return;
        }
        io.out(`${parseBatchId(opts.check, { legacy }).toISOString()}\n`);
        return;
      }
      const at = opts.at ?? new Date();
      io.out(`${opts.cron !== undefined ? batchIdForSchedule(opts.cron, at) : formatBatchId(at)}\n`);
    });
  if (argv.length === 0) {
    io.err(program.helpInformation());
    return EXIT.usage;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    return reportFailure('batch-id', err, { stderr: io.err, stack: wantsStack(argv, io.env) });
  }
}

exitQuietlyOnClosedPipe();
process.exitCode = await main(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  env: process.env,
});
