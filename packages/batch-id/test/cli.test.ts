import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The test target depends on the build, so this runs the bin users get.
const bin = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('batch-id bin', () => {
  it('prints the slot id for --cron and --at', () => {
    expect(execFileSync(process.execPath, [bin, '--cron', '*/15 * * * *', '--at', '2026-11-26T03:17:00Z'], { encoding: 'utf8' })).toBe(
      '20261126T0315\n',
    );
  });

  it('prints the current minute with --at now', () => {
    const before = Date.now();
    const out = run('--at', 'now').stdout.trim();
    expect(out).toMatch(/^\d{8}T\d{4}$/);
    expect(Number(out.slice(0, 4))).toBe(new Date(before).getUTCFullYear());
  });

  it('follows the bins\' convention: --help, --version, no arguments, bad usage, closed stdout', () => {
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: batch-id');
    const version = run('--version');
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version);
    const none = run();
    expect(none.status).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('Usage: batch-id');
    // `batch-id --help | head -1`: the reader goes away after one line; no EPIPE crash.
    const piped = spawnSync('sh', ['-c', `"${process.execPath}" "${bin}" --help | head -1`], { encoding: 'utf8' });
    expect(piped.stdout).toBe('Usage: batch-id [options]\n');
    expect(piped.stderr).toBe('');
    // A reader that never reads: every write meets a closed pipe (EPIPE).
    const closed = spawnSync('sh', ['-c', `"${process.execPath}" "${bin}" --help | true`], { encoding: 'utf8' });
    expect(closed.stderr).toBe('');
  });

  it.each([
    [['--cron', 'nonsense'], /Invalid cron expression "nonsense"/],
    [['--cron', '61 * * * *'], /Invalid cron expression "61 \* \* \* \*"/],
    [['--cron', '* * * * *', '--at', '2026-11-26'], /Invalid instant "2026-11-26": not of the form/],
    [['--cron', '* * * * *', '--at', '2026-02-30T00:00Z'], /Invalid instant "2026-02-30T00:00Z": 2026-02-30 is not a date on the calendar/],
    [['--at', '2026\u001b[31m'], /Invalid instant "2026\\u001b\[31m"/],
    [['--bogus'], /unknown option '--bogus'/],
    [['--check', '20261126T0315', '--cron', '* * * * *'], /cannot be used with option '--cron/],
  ])('exits 2 (bad usage) with a message naming the value for %j', (args, message) => {
    const r = run(...args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain('\u001b');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace without --verbose
  });

  it('--check exits 1 for an invalid id, naming it', () => {
    const r = run('--check', '../x');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Invalid batch id "..\/x"/);
  });

  it('prints slots of crons whose first slot is not at the top of an hour', () => {
    for (const [cron, want] of [
      ['5 * * * *', '20261126T0205'],
      ['30 2 * * *', '20261126T0230'],
      ['0 6 * * 1', '20261123T0600'],
      ['10,40 * * * *', '20261126T0240'],
    ] as const) {
      expect(run('--cron', cron, '--at', '2026-11-26T03:01:00Z').stdout).toBe(`${want}\n`);
    }
  });

  it('validates with --check and --legacy', () => {
    expect(run('--check', '20261126T0315').stdout).toBe('2026-11-26T03:15:00.000Z\n');
    expect(run('--check', '20261126T031').status).toBe(1);
    expect(run('--check', '20261126T031', '--legacy').stdout).toBe('2026-11-26T03:10:00.000Z\n');
  });
});
