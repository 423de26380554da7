import { execFileSync, spawnSync } from 'node:child_process';
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

  it('prints the current minute without --cron', () => {
    const before = Date.now();
    const out = run().stdout.trim();
    expect(out).toMatch(/^\d{8}T\d{4}$/);
    const y = Number(out.slice(0, 4));
    expect(y).toBe(new Date(before).getUTCFullYear());
  });

  it('prints --help', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: batch-id');
  });

  it.each([
    [['--cron', 'nonsense'], /Invalid cron expression "nonsense"/],
    [['--cron', '* * * * *', '--at', '2026-11-26'], /invalid --at "2026-11-26": expected an ISO-8601 instant with a zone/],
    [['--check', '../x'], /Invalid batch id "..\/x"/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('exits non-zero with a message for %j', (args, message) => {
    const r = run(...args);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('validates with --check and --legacy', () => {
    expect(run('--check', '20261126T0315').stdout).toBe('2026-11-26T03:15:00.000Z\n');
    expect(run('--check', '20261126T031').status).toBe(1);
    expect(run('--check', '20261126T031', '--legacy').stdout).toBe('2026-11-26T03:10:00.000Z\n');
  });
});
