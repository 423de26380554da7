import { toBatchId } from '@batchline/batch-id';
import pMap from 'p-map';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BatchManifest, createBatchLifecycle } from '../../src/index.js';
import { type LandedFile, firehosePath, land, makeLandingFiles, snapshot } from './batches.js';
import { InjectedFailure, InstrumentedStore, type Method } from './instrumented-store.js';
import { type StoreFixture, md5Etag } from './store-contract.js';

const BATCH = toBatchId('20260102T0400');
const ENTITY = 'orders';
const FILES = 50;
/** One runner identity across the crashed run and its re-run, as a retried pipeline task has. */
const OWNER = 'crash-test-runner';

type Mode = 'before' | 'after';
/** How final states are compared: MD5 of downloaded bytes, or the store's single-part ETag (an MD5 the server computed). */
type Compare = 'bytes' | 'etag';

interface Outcome {
  /** Data objects (everything outside _batchline/), keyed relative to the scenario's root, with the MD5 of their bytes. */
  readonly data: Map<string, string>;
  readonly manifest: BatchManifest | undefined;
  readonly requests: number;
}

function isManifestWrite(method: Method, args: readonly unknown[], result: unknown): boolean {
  return method === 'putIfAbsent' && result === true && String(args[0]).includes('/_batchline/manifests/');
}

/**
 * Land 50 files, then claim + archive through a store that fails request number `failAt` (before
 * it reaches the store, or after the store applied it), then re-run claim + archive to completion.
 * A late file lands right after the manifest is written, whichever run writes it.
 */
async function scenario(
  fixture: StoreFixture,
  root: string,
  files: readonly LandedFile[],
  late: LandedFile,
  compare: Compare,
  failAt?: { n: number; mode: Mode },
): Promise<Outcome & { failed: boolean }> {
  const { store } = fixture;
  const landing = `${root}${ENTITY}/landing/`;
  if (fixture.seed) for (const f of files) fixture.seed(landing + f.path, f.bytes);
  else await land(store, landing, files);
  const lateArrives = async (method: Method, args: readonly unknown[], result: unknown) => {
    if (isManifestWrite(method, args, result)) await store.put(landing + late.path, late.bytes);
  };
  const faulty = new InstrumentedStore(store, {
    before(_method, _args, ordinal) {
      if (failAt?.mode === 'before' && ordinal === failAt.n) throw new InjectedFailure(`request ${ordinal} failed before reaching the store`);
    },
    async after(method, args, result, ordinal) {
      await lateArrives(method, args, result);
      if (failAt?.mode === 'after' && ordinal === failAt.n) throw new InjectedFailure(`request ${ordinal} applied, then the runner died`);
    },
  });
  const options = { root, concurrency: 8, settleSeconds: 0, lease: { owner: OWNER } };
  let failed = false;
  try {
    const first = createBatchLifecycle(faulty, options);
    await first.claim(ENTITY, BATCH);
    await first.archive(ENTITY, BATCH);
  } catch (error) {
    if (!(error instanceof InjectedFailure)) throw error;
    failed = true;
  }
  if (failed) {
    const rerun = createBatchLifecycle(new InstrumentedStore(store, { after: lateArrives }), options);
    await rerun.claim(ENTITY, BATCH);
    await rerun.archive(ENTITY, BATCH);
  }
  const data = new Map<string, string>();
  if (compare === 'bytes') {
    const all = await snapshot(store, root, (key) => key.startsWith(`${root}_batchline/`));
    for (const [key, bytes] of all) data.set(key.slice(root.length), md5Etag(bytes));
  } else {
    // The server's MD5 of what it stores (single-part ETag), read from its memory rather than downloaded again.
    for (const [key, etag] of fixture.etags!(root)) if (!key.startsWith(`${root}_batchline/`)) data.set(key.slice(root.length), etag);
  }
  const manifest = await createBatchLifecycle(store, { root }).readManifest(ENTITY, BATCH);
  return { data, manifest, requests: faulty.requests, failed };
}

function withoutTimes(manifest: BatchManifest | undefined) {
  return manifest && { ...manifest, transitions: manifest.transitions.map((t) => t.state) };
}

export function describeCrashInjection(name: string, open: () => Promise<StoreFixture>, compare: Compare = 'bytes', timeoutMs = 240_000): void {
  const modes: readonly Mode[] = ['before', 'after'];
  describe(`crash injection: ${name}`, () => {
    let fixture: StoreFixture;
    const files = makeLandingFiles(FILES - 5, { awkward: true });
    const late: LandedFile = { path: firehosePath('orders-stream', new Date(Date.UTC(2026, 0, 2, 4, 1))), bytes: Buffer.from('9999,late,arrival\n') };
    let clean: Outcome;
    let scenarios = 0;

    beforeAll(async () => {
      fixture = await open();
      clean = await scenario(fixture, `clean-${Date.now().toString(36)}/`, files, late, 'bytes');
    });
    afterAll(async () => fixture?.close());

    it('the clean run ends as the issue requires: every file once in processed/<id>/, the late file still in landing/', () => {
      expect(files).toHaveLength(FILES);
      // Expected state built from the test's own data, not from the code under test.
      const expected = new Map<string, string>(files.map((f) => [`${ENTITY}/processed/${BATCH}/${f.path}`, md5Etag(f.bytes)]));
      expected.set(`${ENTITY}/landing/${late.path}`, md5Etag(late.bytes));
      expect(new Map([...clean.data].sort())).toEqual(new Map([...expected].sort()));
      expect(clean.manifest?.state).toBe('archived');
      expect(clean.manifest?.files.map((f) => f.path).sort()).toEqual(files.map((f) => f.path).sort());
      expect(clean.requests).toBeGreaterThan(2 * FILES);
    });

    for (const mode of modes) {
      it(`failing request N ${mode === 'before' ? 'before it reaches the store' : 'after the store applied it'}, for every N from 1 to the clean run's total, then re-running, ends in exactly the clean state`, async () => {
        const mismatches: string[] = [];
        // Scenarios are independent (each has its own root and its own request counter), so a few run at once.
        const points = Array.from({ length: clean.requests }, (_, i) => i + 1);
        await pMap(points, async (n) => {
          const result = await scenario(fixture, `crash-${mode}-${n}-${Date.now().toString(36)}/`, files, late, compare, { n, mode });
          scenarios++;
          if (!result.failed) mismatches.push(`N=${n}: the injected failure never fired`);
          const keys = [...result.data.keys()].sort();
          if (JSON.stringify(keys) !== JSON.stringify([...clean.data.keys()].sort())) {
            mismatches.push(`N=${n}: keys differ: ${JSON.stringify(keys.filter((k) => !clean.data.has(k)))} extra, ${JSON.stringify([...clean.data.keys()].filter((k) => !result.data.has(k)))} missing`);
          }
          for (const [key, digest] of clean.data) {
            const got = result.data.get(key);
            if (got !== undefined && got !== digest) mismatches.push(`N=${n}: ${key} content differs`);
          }
          if (JSON.stringify(withoutTimes(result.manifest)) !== JSON.stringify(withoutTimes(clean.manifest))) {
            mismatches.push(`N=${n}: manifest differs: ${JSON.stringify(withoutTimes(result.manifest)).slice(0, 300)}`);
          }
        }, { concurrency: 2 });
        expect(mismatches).toEqual([]);
        expect(scenarios).toBeGreaterThanOrEqual(clean.requests);
      }, timeoutMs);
    }
  });
}
