import { describe, expect, it } from 'vitest';
import { runSoak } from './support/soak.js';

// The short soak of `npm test` (the long one, 200k records and 20 kills, is `npx tsx bench/producer-soak.ts`).
const RECORDS = Number(process.env.SOAK_RECORDS ?? 20_000);
const KILLS = Number(process.env.SOAK_KILLS ?? 6);
const SEED = Number(process.env.SOAK_SEED ?? Date.now() % 1_000_000);

describe('soak', () => {
  it(`quoted newlines, rotations of both kinds, faults and SIGKILL/restart cycles end with nothing lost and no fragment (seed ${SEED})`, async () => {
    const r = await runSoak({ records: RECORDS, kills: KILLS, seed: SEED });
    console.log(`soak: ${JSON.stringify(r)}`);
    expect(r.records).toBe(RECORDS);
    expect(r.finalExitCode).toBe(0);
    expect(r.lost).toBe(0);
    expect(r.foreign).toBe(0);
    expect(r.brokenFirehoseRecords).toBe(0);
    expect(r.violations).toEqual([]);
  });
});
