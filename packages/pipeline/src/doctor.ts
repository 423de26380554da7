// `batchline doctor`: the configured store and warehouse checked against every assumption the pipeline makes,
// as a pass/fail table with the fix for each failure. Safe at any time: scratch keys only under _batchline/doctor/
// (deleted again), warehouse checks in rolled-back transactions.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { FileObjectStore, checkStore, openObjectStore, type ObjectStore, type StoreCheck } from '@batchline/s3-lifecycle';
import { ENTITIES, checkWarehouse, warehouseProbeRecord, type OpenWarehouseOptions, type WarehouseCheck } from '@batchline/snowflake-loader';

export type DoctorArea = 'store' | 'warehouse' | 'firehose';

export interface DoctorCheck {
  readonly area: DoctorArea;
  readonly id: string;
  readonly title: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly fix?: string;
}

export interface DoctorReport {
  readonly ok: boolean;
  readonly store: string;
  readonly warehouse: string;
  readonly checks: readonly DoctorCheck[];
}

export interface DoctorOptions {
  /** Store URL or an open ObjectStore. */
  readonly store: string | ObjectStore;
  readonly warehouse: string;
  /** Key prefix before `<entity>/`. */
  readonly root?: string;
  readonly warehouseOptions?: OpenWarehouseOptions;
  /** Extra checks (e.g. the Firehose delivery streams), run after the store and warehouse. */
  readonly extraChecks?: () => Promise<readonly DoctorCheck[]>;
}


export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const store = typeof options.store === 'string' ? openObjectStore(options.store) : options.store;
  const root = options.root ?? '';
  // A typo'd file:// path is reported, never created (the store's first write would make the folder).
  if (store instanceof FileObjectStore && !existsSync(store.root)) {
    if (typeof options.store === 'string') await store.close?.();
    const missing: DoctorCheck = {
      area: 'store',
      id: 'exists',
      title: 'store directory exists',
      ok: false,
      detail: `the store directory ${JSON.stringify(store.root)} does not exist (nothing was created; the other checks need it)`,
      fix: 'Check the store URL for a typo, or create the directory (mkdir -p) if this is a new store',
    };
    return { ok: false, store: store.location, warehouse: options.warehouse.split('?')[0]!, checks: [missing] };
  }
  const tag = (area: DoctorArea) => (c: StoreCheck | WarehouseCheck): DoctorCheck => ({ area, ...c });
  const checks: DoctorCheck[] = (await checkStore(store, { root })).map(tag('store'));

  // The stage check needs a scratch file inside each entity's stage: <root><entity>/_batchline/doctor/<id>/probe.csv
  // (never under landing/, so no claim can take it).
  const folder = `_batchline/doctor/${randomUUID()}/`;
  const file = 'probe.csv';
  const storeWrites = checks.find((c) => c.id === 'put')?.ok === true;
  const written: string[] = [];
  try {
    if (storeWrites) {
      for (const entity of ENTITIES) {
        const key = `${root}${entity}/${folder}${file}`;
        await store.put(key, await warehouseProbeRecord(entity));
        written.push(key);
      }
    }
    const warehouseChecks = await checkWarehouse(options.warehouse, {
      ...options.warehouseOptions,
      files: store,
      ...(storeWrites ? { stageProbe: { folder, file } } : {}),
    });
    checks.push(...warehouseChecks.map(tag('warehouse')));
  } finally {
    if (written.length > 0) await store.deleteMany(written).catch(() => undefined);
  }
  if (options.extraChecks) checks.push(...(await options.extraChecks()));
  // A store opened here from its URL is closed here (an S3 store may hold copy threads and sockets).
  if (typeof options.store === 'string') await (store as { close?: () => Promise<void> }).close?.();
  return { ok: checks.every((c) => c.ok), store: store.location, warehouse: options.warehouse.split('?')[0]!, checks };
}

/** The report as a table: one line per check, and the fix under each failure. */
export function renderDoctor(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((c) => `${c.area}: ${c.title}`.length), 10);
  const lines = [`batchline doctor: store ${report.store}, warehouse ${report.warehouse}`, ''];
  for (const c of report.checks) {
    lines.push(`${c.ok ? 'PASS' : 'FAIL'}  ${`${c.area}: ${c.title}`.padEnd(width)}  ${c.detail.replace(/\s+/g, ' ')}`);
    if (!c.ok && c.fix) lines.push(`      fix: ${c.fix}`);
  }
  const failed = report.checks.filter((c) => !c.ok).length;
  lines.push('', failed === 0 ? `all ${report.checks.length} checks passed` : `${failed} of ${report.checks.length} checks failed`);
  return lines.join('\n');
}

/** --firehose: each delivery stream exists and writes whole objects under the store's landing prefix. */
export async function firehoseChecks(
  config: { store: string; root: string; streams: { orders: string; customers: string } },
  env: NodeJS.ProcessEnv = process.env,
): Promise<DoctorCheck[]> {
  const { describeLandingDestination } = await import('@batchline/kinesis-producer');
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(config.store);
  const checks: DoctorCheck[] = [];
  for (const entity of ENTITIES) {
    const stream = config.streams[entity];
    const title = `delivery stream ${JSON.stringify(stream)} exists and writes to the ${entity} landing prefix`;
    if (!s3) {
      checks.push({ area: 'firehose', id: `firehose-${entity}`, title, ok: false, detail: `the store ${config.store} is not an S3 bucket: Firehose cannot write to it`, fix: 'Set BATCHLINE_STORE to s3://<bucket>[/<prefix>]' });
      continue;
    }
    const bucket = s3[1]!;
    const storePrefix = s3[2] ? (s3[2].endsWith('/') ? s3[2] : `${s3[2]}/`) : '';
    const expected = `${storePrefix}${config.root}${entity}/landing/`;
    try {
      const found = await describeLandingDestination(stream, { ...(env.AWS_ENDPOINT_URL_FIREHOSE ? { endpoint: env.AWS_ENDPOINT_URL_FIREHOSE } : {}) });
      const problems: string[] = [];
      if (found.bucket !== bucket) problems.push(`it writes to bucket ${JSON.stringify(found.bucket)}, not ${JSON.stringify(bucket)}`);
      if (found.prefix !== expected) problems.push(`its S3 prefix is ${JSON.stringify(found.prefix)}, expected ${JSON.stringify(expected)}`);
      if (found.errorPrefix !== undefined && found.errorPrefix.startsWith(expected)) problems.push(`its error output prefix ${JSON.stringify(found.errorPrefix)} is inside landing/, where claims would take failed records as data`);
      checks.push({
        area: 'firehose',
        id: `firehose-${entity}`,
        title,
        ok: problems.length === 0,
        detail: problems.length === 0 ? `s3://${found.bucket}/${found.prefix} (${found.status ?? 'status unknown'})` : problems.join('; '),
        ...(problems.length === 0 ? {} : { fix: `Set the stream's S3 destination to bucket ${bucket}, prefix ${expected} (Firehose then adds YYYY/MM/DD/HH/), and an error output prefix outside landing/` }),
      });
    } catch (error) {
      const e = error as { name?: string; message?: string };
      checks.push({
        area: 'firehose',
        id: `firehose-${entity}`,
        title,
        ok: false,
        detail: `${e.name ?? 'Error'}: ${e.message ?? String(error)}`,
        fix: e.name === 'ResourceNotFoundException'
          ? `Create the delivery stream ${stream}, or set BATCHLINE_${entity.toUpperCase()}_STREAM to its name`
          : 'Grant the pipeline role firehose:DescribeDeliveryStream on the stream (docs/iam.md) and check AWS_REGION',
      });
    }
  }
  return checks;
}
