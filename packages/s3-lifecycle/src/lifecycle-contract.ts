// CONTRACT STUB written by the foundation; the s3-lifecycle issue replaces this file
// with the real implementation, keeping these exported names and shapes (it may add more).
import type { BatchId } from '@batchline/batch-id';
import type { ObjectStore } from './object-store.js';

/** A file pinned by a claim: its path relative to `landing/` (and to `processing/<id>/`). */
export interface ManifestFile {
  readonly path: string;
  readonly size: number;
  readonly etag: string;
}

export type BatchState = 'claimed' | 'archived';

export interface BatchManifest {
  readonly version: 1;
  readonly entity: string;
  readonly batchId: BatchId;
  readonly state: BatchState;
  readonly files: readonly ManifestFile[];
  readonly transitions: readonly { readonly state: string; readonly at: string }[];
}

export interface LifecycleOptions {
  /** Prefix before `<entity>/`, e.g. `firehose/`. Default: none. */
  readonly root?: string;
  /** Parallel copies/deletes. */
  readonly concurrency?: number;
  /** Called as files move, for progress output. */
  readonly onProgress?: (event: { entity: string; batchId: BatchId; step: string; done: number; total: number }) => void;
}

export interface EntityStatus {
  readonly entity: string;
  readonly landing: { readonly files: number; readonly bytes: number };
  readonly processing: { readonly batches: number; readonly files: number; readonly bytes: number };
  readonly processed: { readonly batches: number; readonly files: number; readonly bytes: number };
  readonly batches: readonly { readonly batchId: BatchId; readonly state: BatchState; readonly files: number; readonly bytes: number }[];
}

export class BatchInProgressError extends Error {
  override readonly name = 'BatchInProgressError';
}

export interface BatchLifecycle {
  readonly store: ObjectStore;
  claim(entity: string, batchId: BatchId): Promise<BatchManifest>;
  archive(entity: string, batchId: BatchId): Promise<BatchManifest>;
  readManifest(entity: string, batchId: BatchId): Promise<BatchManifest | undefined>;
  status(entity: string): Promise<EntityStatus>;
  /** Full object key of a pinned file while the batch is in processing. */
  processingKey(entity: string, batchId: BatchId, path: string): string;
  /** The landing prefix producers write to, e.g. `firehose/orders/landing/`. */
  landingPrefix(entity: string): string;
}

export declare function createBatchLifecycle(store: ObjectStore, options?: LifecycleOptions): BatchLifecycle;
export declare function openObjectStore(url: string): ObjectStore;
