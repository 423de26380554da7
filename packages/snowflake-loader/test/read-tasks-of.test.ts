// readTasksOf: the task rows of many batches in one query, the same as reading each batch on its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidBatchIdError, formatBatchId, type BatchId } from '@batchline/batch-id';
import { openWarehouse, type TaskAudit, type Warehouse } from '../src/index.js';
import { tempDbPath } from './support/warehouse.js';

const TASKS = ['claim:orders', 'load:orders', 'transform', 'archive:orders'] as const;

describe('readTasksOf (DuckDB)', () => {
  let db: Awaited<ReturnType<typeof tempDbPath>>;
  let wh: Warehouse;
  const ids: BatchId[] = Array.from({ length: 30 }, (_, i) => formatBatchId(new Date(Date.UTC(2026, 0, 1, 0, 15 * i))));
  beforeAll(async () => {
    db = await tempDbPath();
    wh = await openWarehouse(db.url);
    await wh.setup();
    // Batch i records the first (i % 5) tasks; odd ones failed at their last, with an error.
    for (const [i, batchId] of ids.entries()) {
      for (const [t, task] of TASKS.slice(0, i % 5).entries()) {
        const at = new Date(Date.UTC(2026, 0, 1, 0, 15 * i, t));
        const failed = i % 2 === 1 && t === (i % 5) - 1;
        await wh.recordTask({ batchId, task, state: failed ? 'failed' : 'succeeded', attempt: 1, startedAt: at, finishedAt: at, ...(failed ? { error: `boom ${i}` } : { files: i }) });
      }
    }
  });
  afterAll(async () => {
    await wh?.close();
    await db?.dispose();
  });

  it('maps every requested id to exactly what readTasks gives for it (empty when none), in one transaction', async () => {
    const wanted = [ids[29]!, ids[3]!, ids[0]!, ids[14]!, ids[3]!, '20300101T0000' as BatchId];
    const got = await wh.readTasksOf(wanted);
    expect([...got.keys()].sort()).toEqual([...new Set(wanted)].sort());
    for (const id of new Set(wanted)) expect({ id, rows: got.get(id) }).toEqual({ id, rows: await wh.readTasks(id) });
    // The oracle for the counts: batch i recorded i % 5 tasks.
    expect(got.get(ids[14]!)!.map((t: TaskAudit) => t.task)).toEqual([...TASKS.slice(0, 4)].sort());
    expect(got.get(ids[0]!)).toEqual([]);
    expect(got.get('20300101T0000' as BatchId)).toEqual([]);
  });

  it('reads more ids than one statement takes (1000 a statement), and none without a query', async () => {
    const many = Array.from({ length: 2100 }, (_, i) => formatBatchId(new Date(Date.UTC(2025, 0, 1, 0, i))));
    const got = await wh.readTasksOf([...many, ...ids]);
    expect(got.size).toBe(2100 + ids.length);
    expect([...got.values()].flat().length).toBe(ids.reduce((sum, _id, i) => sum + (i % 5), 0));
    expect((await wh.readTasksOf([])).size).toBe(0);
  });

  it('refuses a value that is not a batch id before any SQL, naming it', async () => {
    await expect(wh.readTasksOf([ids[0]!, "20260101T0000') OR (1=1" as BatchId])).rejects.toBeInstanceOf(InvalidBatchIdError);
  });
});
