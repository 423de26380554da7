// Public API of @batchline/s3-lifecycle: the ObjectStore port and its two adapters, and the batch
// lifecycle (claim -> archive) built on it.
export type { CopyOptions, DeleteOutcome, GetOptions, ListOptions, ObjectBody, ObjectStore, StoredObject, UnlistedEntry } from './object-store.js';
export { FileObjectStore, type FileObjectStoreOptions } from './adapters/filesystem/filesystem-store.js';
export { S3ObjectStore, createS3Client, type S3ClientSettings, type S3ObjectStoreOptions } from './adapters/s3/s3-store.js';
export { openObjectStore, parseStoreUrl, type OpenObjectStoreOptions, type StoreLocation } from './open-store.js';
export {
  type BatchLifecycle,
  type BatchLocation,
  type BatchManifest,
  type BatchState,
  type BatchSummary,
  type BatchTransition,
  type ClaimOptions,
  type EntityStatus,
  type FileChange,
  type FileVersion,
  type LifecycleOptions,
  type LoadableBatch,
  type LoadableFile,
  type ManifestFile,
  type PinPlan,
  type ProgressEvent,
  type ReleaseResult,
  type RepinResult,
  type SkippedKey,
  type StatusOptions,
  createBatchLifecycle,
} from './batch-lifecycle.js';
export { Lease, acquireLease, type LeaseOptions, type LeaseRecord } from './lease.js';
export {
  BatchDeleteError,
  BlockedPathError,
  BatchFileError,
  BatchInProgressError,
  BatchNotClaimedError,
  BatchStateError,
  CorruptObjectError,
  InvalidEntityError,
  InvalidKeyError,
  InvalidLifecycleOptionError,
  InvalidRootError,
  InvalidStoreUrlError,
  LeaseLostError,
  ObjectNotFoundError,
  PinnedFileChangedError,
  PreconditionFailedError,
  StoreConfigError,
} from './errors.js';
export {
  type StoreCheck,
  type StoreCheckOptions,
  checkStore,
  conditionalWritesMarkerKey,
  doctorScratchPrefix,
  probeConditionalWrites,
  requireConditionalWrites,
} from './store-checks.js';
export { UnsafeStoreError } from './errors.js';
