// Public API of @batchline/s3-lifecycle: the ObjectStore port and its two adapters, and the batch
// lifecycle (claim -> archive) built on it.
export type { CopyOptions, DeleteOutcome, ObjectBody, ObjectStore, StoredObject } from './object-store.js';
export { InvalidKeyError, ObjectNotFoundError, PreconditionFailedError } from './object-store.js';
export { FileObjectStore, type FileObjectStoreOptions } from './adapters/filesystem/filesystem-store.js';
export { S3ObjectStore, createS3Client, type S3ClientSettings, type S3ObjectStoreOptions } from './adapters/s3/s3-store.js';
export { InvalidStoreUrlError, openObjectStore, type OpenObjectStoreOptions } from './open-store.js';
export {
  type BatchLifecycle,
  type BatchManifest,
  type BatchState,
  type BatchTransition,
  type EntityStatus,
  type LifecycleOptions,
  type ManifestFile,
  type ProgressEvent,
  BatchDeleteError,
  BatchFileError,
  BatchInProgressError,
  BatchNotClaimedError,
  createBatchLifecycle,
} from './batch-lifecycle.js';
export { Lease, LeaseLostError, acquireLease, type LeaseOptions, type LeaseRecord } from './lease.js';
export { InvalidEntityError, InvalidRootError } from './keys.js';
export { CorruptObjectError } from './json-object.js';
