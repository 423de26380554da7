// The CLI side of the sequence, in process (runCli with captured output): exit codes, the messages that name
// the way out, and the repin / release commands, on a file store and a DuckDB file.
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batchIdForSchedule } from '@batchline/batch-id';
import { runCli } from '../src/cli-program.js';
import { orderLine } from './sequence-support.js';

let dir: string;
let flags: string[];
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'batchline-seq-cli-'));
  flags = ['--store', pathToFileURL(path.join(dir, 'bucket')).href, '--warehouse', `duckdb://${path.join(dir, 'w.duckdb')}`];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    env: { BATCHLINE_SETTLE_SECONDS: '0' },
    cwd: dir,
  });
  return { code, out, err };
}

async function land(entity: string, name: string, lines: string[]): Promise<void> {
  const file = path.join(dir, 'bucket', entity, 'landing', name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, lines.map((l) => `${l}\n`).join(''));
}

describe('batchline CLI: the sequence and its ways out', () => {
  it('a far-future id exits 2 before any I/O, naming the current slot', async () => {
    const r = await cli('run', '--batch', '99991231T2359', ...flags);
    expect(r.code).toBe(2);
    const current = batchIdForSchedule('*/15 * * * *', new Date());
    // The slot may tick over between the run and this line: either neighbour is the one named.
    expect(r.err).toMatch(new RegExp(`current slot (${current.slice(0, 11)}\\d\\d)`));
    expect(existsSync(path.join(dir, 'bucket'))).toBe(false);
    expect(existsSync(path.join(dir, 'w.duckdb'))).toBe(false);
  });

  it('a later batch waiting for a failed one exits 75 naming it; release frees it; status shows who holds the sequence', async () => {
    await land('customers', 'a/c', ['1,Ann,street,7,10-100-100-1000,1.00,BUILDING,ok']);
    await land('orders', 'a/o', [orderLine({ key: 1, cust: 1, status: 'F', cents: 100, date: '2026-01-04', bad: true })]);
    const a = await cli('run', '--batch', '20260105T0000', ...flags);
    expect(a.code).toBe(1);
    expect(a.out).toContain('batchline repin --batch 20260105T0000');

    await land('orders', 'b/o', [orderLine({ key: 2, cust: 1, status: 'F', cents: 200, date: '2026-01-04' })]);
    const b = await cli('run', '--batch', '20260105T0015', ...flags);
    expect(b.code).toBe(75);
    expect(b.out).toContain('WAITING for batch 20260105T0000');
    expect(b.out).toContain('batchline release --batch 20260105T0000');

    const status = await cli('status', ...flags);
    expect(status.code).toBe(0);
    expect(status.out).toContain('sequence: batch 20260105T0000 holds 1 later batch(es) back (20260105T0015)');
    expect(status.out).toContain('next: fix the cause');

    const refused = await cli('repin', '--batch', '20260105T0015', ...flags);
    expect(refused.code).toBe(0);
    expect(refused.out).toContain('nothing changed');

    const released = await cli('release', '--batch', '20260105T0000', ...flags);
    expect(released.code).toBe(0);
    expect(released.out).toContain('released: 1 orders file(s), 1 customers file(s) back in landing/');
    const again = await cli('release', '--batch', '20260105T0000', ...flags);
    expect(again.out).toContain('nothing to release');

    // B's run now transforms; the released files wait in landing for the next slot, whose run quarantines the bad record.
    const b2 = await cli('run', '--batch', '20260105T0015', ...flags);
    expect(b2.code).toBe(0);
    const c = await cli('run', '--batch', '20260105T0030', ...flags);
    expect(c.code).toBe(1);
    const archived = await cli('release', '--batch', '20260105T0015', ...flags);
    expect(archived.code).toBe(2);
    expect(archived.err).toContain('batchline replay --batch 20260105T0015');
  });
});

describe('batchline plan', () => {
  it('refuses a dispatched id after the current slot (exit 2), and accepts the current one', async () => {
    const at = '2026-11-30T17:20:00Z';
    const future = await cli('plan', '--batch', '20261130T1730', '--at', at);
    expect(future.code).toBe(2);
    expect(future.err).toContain('current slot 20261130T1715');
    const current = await cli('plan', '--batch', '20261130T1715', '--at', at);
    expect(current.code).toBe(0);
    expect(current.out.trim()).toBe('20261130T1715');
  });
});
