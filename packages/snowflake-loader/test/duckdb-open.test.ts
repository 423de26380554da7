// Opening the embedded warehouse: a file that is not DuckDB, a held file, a read-only open of a missing
// one, and a kill at the moment the file is created (issue 11).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, watch } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WarehouseBusyError, WarehouseConfigError, WarehouseMissingError, openWarehouse } from '../src/index.js';

// Children run the built library (what users get), so a kill hits real code, not a test double.
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
if (!existsSync(dist)) throw new Error(`${dist} is missing: build first (npx tsup in packages/snowflake-loader)`);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'batchline-duck-open-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function child(script: string): ChildProcess {
  return spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
}

async function tablesOf(file: string): Promise<number> {
  const wh = await openWarehouse(`duckdb://${file}`);
  try {
    await wh.setup();
    return (await wh.readTasks('20261126T0300' as never)).length;
  } finally {
    await wh.close();
  }
}

describe('opening the DuckDB warehouse', () => {
  it('a file that is not a DuckDB database is a configuration error naming it, and is left as it was', async () => {
    const file = path.join(dir, 'notes.duckdb');
    await writeFile(file, 'these are my notes, not a database\n'.repeat(200));
    const error = await openWarehouse(`duckdb://${file}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WarehouseConfigError);
    expect((error as WarehouseConfigError).exitCode).toBe(2);
    expect((error as Error).message).toContain(JSON.stringify(file));
    expect((error as Error).message).toMatch(/is not a DuckDB database file; expected/);
    expect(await readFile(file, 'utf8')).toBe('these are my notes, not a database\n'.repeat(200));
  });

  it('a 0-byte file (a kill while an older release created it) is started afresh', async () => {
    const file = path.join(dir, 'empty.duckdb');
    await writeFile(file, '');
    expect(await tablesOf(file)).toBe(0);
    expect((await stat(file)).size).toBeGreaterThan(0);
  });

  it('a read-only open (status) of a warehouse that does not exist creates nothing', async () => {
    const file = path.join(dir, 'never', 'made', 'w.duckdb');
    const error = await openWarehouse(`duckdb://${file}`, { readOnly: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WarehouseMissingError);
    expect((error as Error).message).toContain(JSON.stringify(file));
    expect(existsSync(path.join(dir, 'never'))).toBe(false);
  });

  it('a file another process holds is WarehouseBusyError (exit 75), for writing and for reading', async () => {
    const file = path.join(dir, 'held.duckdb');
    expect(await tablesOf(file)).toBe(0);
    const holder = child(`import { openWarehouse } from ${JSON.stringify(dist)}; const w = await openWarehouse(${JSON.stringify(`duckdb://${file}`)}); console.log('holding'); setInterval(() => {}, 1000);`);
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.once('data', () => resolve());
        holder.once('exit', (code) => reject(new Error(`holder exited ${code}`)));
      });
      for (const readOnly of [false, true]) {
        const error = await openWarehouse(`duckdb://${file}`, { readOnly }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WarehouseBusyError);
        expect((error as WarehouseBusyError).exitCode).toBe(75);
        expect((error as Error).message).toMatch(new RegExp(`in use by another process \\(PID ${holder.pid}\\)`));
      }
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('survives SIGKILL at the moment the file is created, at every step of the creation', async () => {
    // Kill the opener when the n-th entry appears in its directory (the temporary file, its WAL, the
    // linked file): whatever is left, the next open works and setup succeeds.
    const outcomes: string[] = [];
    for (let round = 0; round < 9; round++) {
      const sub = path.join(dir, `kill-${round}`);
      await mkdir(sub);
      const file = path.join(sub, 'warehouse.duckdb');
      const killAt = (round % 3) + 1;
      const opener = child(`import { openWarehouse } from ${JSON.stringify(dist)}; const w = await openWarehouse(${JSON.stringify(`duckdb://${file}`)}); await w.setup(); await w.close();`);
      let seen = 0;
      const watcher = watch(sub, () => {
        seen += 1;
        if (seen === killAt) opener.kill('SIGKILL');
      });
      await new Promise((resolve) => opener.once('exit', resolve));
      watcher.close();
      outcomes.push(readdirSync(sub).sort().join(','));
      expect(await tablesOf(file)).toBe(0);
    }
    // The kills landed at different moments (not all after the opener had finished).
    expect(new Set(outcomes).size).toBeGreaterThan(1);
  });
});
