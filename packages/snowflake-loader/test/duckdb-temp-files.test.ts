import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toBatchId } from '@batchline/batch-id';
import { openWarehouse, type BatchFile } from '../src/index.js';
import { createTestStore, type TestStore } from './support/files.js';

const B1 = toBatchId('20260101T0000');

describe('DuckDB engine: files streamed from a store without local paths', () => {
  let store: TestStore;
  let tempRoot: string;
  beforeEach(async () => {
    store = await createTestStore();
    tempRoot = await mkdtemp(path.join(tmpdir(), 'batchline-temp-root-'));
  });
  afterEach(async () => {
    await store.dispose();
    await rm(tempRoot, { recursive: true, force: true });
  });

  it('downloads many files concurrently and leaves no temporary directory behind', async () => {
    // More files than the download concurrency, so several downloads start before the first temp dir exists.
    const files: BatchFile[] = [];
    for (let i = 0; i < 9; i++) {
      files.push(await store.put('customers', B1, `2026/01/01/00/customers-1-${i}`, `${100 + i},Customer#${i},addr,1,11-111-111-1111,1.00,BUILDING,c\n`));
    }
    const wh = await openWarehouse('duckdb://:memory:', { files: store.streamed, tempDir: tempRoot });
    try {
      await wh.setup();
      const result = await wh.load({ entity: 'customers', batchId: B1, files });
      expect(result.rowsLoaded).toBe(9);
      expect(await readdir(tempRoot)).toEqual([]);
      // A failed load cleans up too: a size that disagrees with the claim is refused after download.
      const wrong = files.map((f, i) => (i === 4 ? { ...f, size: f.size + 1 } : f));
      await expect(wh.load({ entity: 'customers', batchId: B1, files: wrong })).rejects.toThrow(/claim pinned/);
      expect(await readdir(tempRoot)).toEqual([]);
    } finally {
      await wh.close();
    }
  });

  it('a load sweeps the temporary directories of loads whose process is gone (a SIGKILL leaves them), and only those', async () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    const abandoned = path.join(tempRoot, `batchline-load-${gone}-AbCdEf`);
    const live = path.join(tempRoot, `batchline-load-${process.pid}-other`);
    const unrelated = path.join(tempRoot, 'someone-elses');
    for (const d of [abandoned, live, unrelated]) {
      await mkdir(d);
      await writeFile(path.join(d, '0-orders.gz'), 'partial');
    }
    const file = await store.put('customers', B1, '2026/01/01/00/customers-1-x', '200,Customer#x,addr,1,11-111-111-1111,1.00,BUILDING,c\n');
    const wh = await openWarehouse('duckdb://:memory:', { files: store.streamed, tempDir: tempRoot });
    try {
      await wh.setup();
      expect((await wh.load({ entity: 'customers', batchId: B1, files: [file] })).rowsLoaded).toBe(1);
    } finally {
      await wh.close();
    }
    expect((await readdir(tempRoot)).sort()).toEqual([path.basename(live), 'someone-elses'].sort());
  });
});
