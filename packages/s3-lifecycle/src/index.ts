// Public API of @batchline/s3-lifecycle: the ObjectStore port and its two adapters, and the batch
// lifecycle (claim -> archive) built on it.
export type { CopyOptions, DeleteOutcome, ObjectBody, ObjectStore, StoredObject } from './object-store.js';
export { FileObjectStore, type FileObjectStoreOptions } from './adapters/filesystem/filesystem-store.js';
export { S3ObjectStore, createS3Client, type S3ClientSettings, type S3ObjectStoreOptions } from './adapters/s3/s3-store.js';
export { openObjectStore, type OpenObjectStoreOptions } from './open-store.js';
export {
  type BatchLifecycle,
  type BatchManifest,
  type BatchState,
  type BatchTransition,
  type EntityStatus,
  type LifecycleOptions,
  type ManifestFile,
  type ProgressEvent,
  createBatchLifecycle,
} from './batch-lifecycle.js';
export { Lease, acquireLease, type LeaseOptions, type LeaseRecord } from './lease.js';
export {
  BatchDeleteError,
  BatchFileError,
  BatchInProgressError,
  BatchNotClaimedError,
  CorruptObjectError,
  InvalidEntityError,
  InvalidKeyError,
  InvalidRootError,
  InvalidStoreUrlError,
  LeaseLostError,
  ObjectNotFoundError,
  PreconditionFailedError,
  StoreConfigError,
} from './errors.js';
