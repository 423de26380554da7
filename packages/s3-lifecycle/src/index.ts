// Public API of @batchline/s3-lifecycle. The foundation issue drew this seam;
// the s3-lifecycle issue fills it in (S3 adapter, manifests, crash-safe moves).
export type { DeleteOutcome, ObjectBody, ObjectStore, StoredObject } from './object-store.js';
export { ObjectNotFoundError } from './object-store.js';
