import { toBatchId } from '@batchline/batch-id';
import pMap from 'p-map';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BatchLifecycle, type BatchManifest, createBatchLifecycle } from '../../src/index.js';
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

type Operation = 'release' | 'repin';

interface OperationOutcome {
  readonly data: Map<string, string>;
  /** The manifests left (A, and B for release), with transition times dropped and repin changes kept. */
  readonly manifests: string;
  readonly requests: number;
}

const NEXT = toBatchId('20260102T0405');

function stable(manifest: BatchManifest | undefined) {
  return manifest && { ...manifest, transitions: manifest.transitions.map((t) => ({ state: t.state, repinned: t.repinned })) };
}

/**
 * Claim a batch of 30 files cleanly, then run `release` (followed by a clean claim of the next batch, which must
 * take every file) or `repin` (after changing, removing and adding files in processing/<id>/, followed by a clean
 * archive) through a store that fails request N, re-run the operation, and return the final state.
 */
async function operationScenario(
  fixture: StoreFixture,
  root: string,
  operation: Operation,
  files: readonly LandedFile[],
  compare: Compare,
  failAt?: { n: number; mode: Mode },
): Promise<OperationOutcome & { failed: boolean }> {
  const { store } = fixture;
  const landing = `${root}${ENTITY}/landing/`;
  if (fixture.seed) for (const f of files) fixture.seed(landing + f.path, f.bytes);
  else await land(store, landing, files);
  const options = { root, concurrency: 8, settleSeconds: 0, lease: { owner: OWNER } };
  const clean = createBatchLifecycle(store, options);
  await clean.claim(ENTITY, BATCH);
  if (operation === 'repin') {
    const at = (path: string) => clean.processingKey(ENTITY, BATCH, path);
    const changed = Buffer.from(files[0]!.bytes);
    changed[0] = changed[0] === 0x30 ? 0x31 : 0x30;
    await store.put(at(files[0]!.path), changed);
    await store.deleteMany([at(files[1]!.path)]);
    await store.put(at('fixed/added by hand.csv'), '9,added\n');
  }
  const faulty = new InstrumentedStore(store, {
    before(_method, _args, ordinal) {
      if (failAt?.mode === 'before' && ordinal === failAt.n) throw new InjectedFailure(`request ${ordinal} failed before reaching the store`);
    },
    after(_method, _args, _result, ordinal) {
      if (failAt?.mode === 'after' && ordinal === failAt.n) throw new InjectedFailure(`request ${ordinal} applied, then the runner died`);
    },
  });
  const run = (life: BatchLifecycle) => (operation === 'release' ? life.release(ENTITY, BATCH) : life.repin(ENTITY, BATCH));
  let failed = false;
  try {
    await run(createBatchLifecycle(faulty, options));
  } catch (error) {
    if (!(error instanceof InjectedFailure)) throw error;
    failed = true;
  }
  if (failed) await run(clean);
  if (operation === 'release') await clean.claim(ENTITY, NEXT);
  else await clean.archive(ENTITY, BATCH);
  const data = new Map<string, string>();
  if (compare === 'bytes') {
    const all = await snapshot(store, root, (key) => key.startsWith(`${root}_batchline/`));
    for (const [key, bytes] of all) data.set(key.slice(root.length), md5Etag(bytes));
  } else {
    for (const [key, etag] of fixture.etags!(root)) if (!key.startsWith(`${root}_batchline/`)) data.set(key.slice(root.length), etag);
  }
  const manifests = JSON.stringify([stable(await clean.readManifest(ENTITY, BATCH)), stable(await clean.readManifest(ENTITY, NEXT))]);
  return { data, manifests, requests: faulty.requests, failed };
}

export function describeOperationCrashInjection(name: string, open: () => Promise<StoreFixture>, compare: Compare = 'bytes', timeoutMs = 240_000): void {
  const modes: readonly Mode[] = ['before', 'after'];
  for (const operation of ['release', 'repin'] as const) {
    describe(`crash injection, ${operation}: ${name}`, () => {
      let fixture: StoreFixture;
      const files = makeLandingFiles(25, { awkward: true });
      let clean: OperationOutcome;
      beforeAll(async () => {
        fixture = await open();
        clean = await operationScenario(fixture, `clean-${operation}-${Date.now().toString(36)}/`, operation, files, 'bytes');
      });
      afterAll(async () => fixture?.close());

      it(`the clean ${operation} ends as required`, () => {
        // Expected state from the test's own data.
        const expected = new Map<string, string>();
        if (operation === 'release') {
          for (const f of files) expected.set(`${ENTITY}/processing/${NEXT}/${f.path}`, md5Etag(f.bytes));
          expect(JSON.parse(clean.manifests)[0]).toBeNull();
          expect(JSON.parse(clean.manifests)[1].files.map((f: { path: string }) => f.path).sort()).toEqual(files.map((f) => f.path).sort());
        } else {
          const changed = Buffer.from(files[0]!.bytes);
          changed[0] = changed[0] === 0x30 ? 0x31 : 0x30;
          expected.set(`${ENTITY}/processed/${BATCH}/${files[0]!.path}`, md5Etag(changed));
          for (const f of files.slice(2)) expected.set(`${ENTITY}/processed/${BATCH}/${f.path}`, md5Etag(f.bytes));
          expected.set(`${ENTITY}/processed/${BATCH}/fixed/added by hand.csv`, md5Etag('9,added\n'));
          const manifest = JSON.parse(clean.manifests)[0];
          expect(manifest.state).toBe('archived');
          expect(manifest.transitions.map((t: { state: string }) => t.state)).toEqual(['claiming', 'claimed', 'claimed', 'archiving', 'archived']);
          expect(manifest.transitions[2].repinned).toHaveLength(3);
        }
        expect(new Map([...clean.data].sort())).toEqual(new Map([...expected].sort()));
        expect(clean.requests).toBeGreaterThan(operation === 'release' ? files.length : 3);
      });

      for (const mode of modes) {
        it(`failing request N ${mode === 'before' ? 'before it reaches the store' : 'after the store applied it'}, for every N, then re-running ${operation}, ends in the clean state`, async () => {
          const mismatches: string[] = [];
          const points = Array.from({ length: clean.requests }, (_, i) => i + 1);
          await pMap(
            points,
            async (n) => {
              const result = await operationScenario(fixture, `crash-${operation}-${mode}-${n}-${Date.now().toString(36)}/`, operation, files, compare, { n, mode });
              if (!result.failed) mismatches.push(`N=${n}: the injected failure never fired`);
              if (JSON.stringify([...result.data].sort()) !== JSON.stringify([...clean.data].sort())) mismatches.push(`N=${n}: data differs`);
              if (result.manifests !== clean.manifests) mismatches.push(`N=${n}: manifests differ: ${result.manifests.slice(0, 300)}`);
            },
            { concurrency: 2 },
          );
          expect(mismatches).toEqual([]);
        }, timeoutMs);
      }
    });
  }
}
