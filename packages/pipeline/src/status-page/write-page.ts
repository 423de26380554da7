import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BatchId } from '@batchline/batch-id';
import type { BatchLifecycle } from '@batchline/s3-lifecycle';
import type { Warehouse } from '@batchline/snowflake-loader';
import { collectStatusPage } from './page-data.js';
import { renderStatusPage } from './render-page.js';

export interface WriteStatusPageOptions {
  readonly lifecycle: BatchLifecycle;
  readonly warehouse: Warehouse;
  /** A file path (relative to `cwd`), or `-` for stdout. */
  readonly target: string;
  readonly cwd: string;
  readonly limit: number;
  readonly batchId?: BatchId;
  /** How the page names the store and warehouse (no credentials: redacted URLs). */
  readonly storeLabel: string;
  readonly warehouseLabel: string;
  readonly stdout: (text: string) => void;
}

/**
 * `batchline status --html FILE`: collect, render and write the page. The file is replaced atomically
 * (temporary file + rename), so a browser or an upload step never sees half a page; missing parent
 * directories are created. Returns where it went and how many batches it shows.
 */
export async function writeStatusPage(options: WriteStatusPageOptions): Promise<{ file?: string; batches: number }> {
  const data = await collectStatusPage(options.lifecycle, options.warehouse, {
    limit: options.limit,
    store: options.storeLabel,
    warehouse: options.warehouseLabel,
    ...(options.batchId ? { batchId: options.batchId } : {}),
  });
  const html = renderStatusPage(data);
  if (options.target === '-') {
    options.stdout(html);
    return { batches: data.batches.length };
  }
  const file = path.resolve(options.cwd, options.target);
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, html);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { file, batches: data.batches.length };
}
