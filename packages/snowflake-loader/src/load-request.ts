import { assertBatchId } from '@batchline/batch-id';
import { LoadInputError } from './errors.js';
import {
  BATCH_LOCATIONS,
  ENTITIES,
  type BatchFile,
  type BatchLocation,
  type Entity,
  type LoadRequest,
  type OnErrorPolicy,
  type PinnedFileReader,
} from './warehouse-contract.js';

export interface CheckedLoadRequest {
  readonly entity: Entity;
  readonly batchId: LoadRequest['batchId'];
  readonly files: readonly BatchFile[];
  readonly onError: OnErrorPolicy;
  readonly location: BatchLocation;
  readonly pinned: PinnedFileReader | undefined;
}

/**
 * Object keys are data: any key S3 accepts and the store could claim flows through (space, #, &, ', %,
 * non-ASCII...). They reach SQL only as bound values or as string literals with quotes doubled (FILES=).
 * What no CSV line or SQL literal can carry safely is refused: control characters, backslashes
 * (Snowflake's string escape), lone surrogates.
 */
const UNSAFE_PATH = /[\u0000-\u001f\u007f\\]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Validate an untrusted load request; the error names the bad value and what was expected. */
export function checkLoadRequest(request: LoadRequest): CheckedLoadRequest {
  if (!ENTITIES.includes(request.entity)) {
    throw new LoadInputError(`Unknown entity ${JSON.stringify(request.entity)}: expected one of ${ENTITIES.join(', ')}`);
  }
  assertBatchId(request.batchId);
  const onError = request.onError ?? 'abort';
  if (onError !== 'abort' && onError !== 'quarantine') {
    throw new LoadInputError(`Unknown onError policy ${JSON.stringify(onError)}: expected 'abort' or 'quarantine'`);
  }
  const location = request.location ?? 'processing';
  if (!BATCH_LOCATIONS.includes(location)) {
    throw new LoadInputError(`Unknown batch location ${JSON.stringify(location)}: expected ${BATCH_LOCATIONS.map((l) => `'${l}'`).join(' or ')}`);
  }
  const seen = new Set<string>();
  for (const file of request.files) checkFile(file, seen, location, request.batchId);
  if (request.pinned) {
    const unpinned = request.files.find((f) => typeof f.etag !== 'string' || f.etag.length === 0);
    if (unpinned) throw new LoadInputError(`Batch file ${JSON.stringify(unpinned.path)} has no ETag; a pinned load needs the claim's size and ETag for every file`);
  }
  return { entity: request.entity, batchId: request.batchId, files: request.files, onError, location, pinned: request.pinned };
}

function checkFile(file: BatchFile, seen: Set<string>, location: BatchLocation, batchId: string): void {
  const path = file.path;
  const bad = (why: string) =>
    new LoadInputError(`Invalid batch file path ${JSON.stringify(path)}: ${why}; expected a relative path like 2026/11/26/03/orders-1-....gz`);
  if (typeof path !== 'string' || path.length === 0) throw bad('empty');
  if (path.length > 1024) throw bad('longer than 1024 characters');
  if (UNSAFE_PATH.test(path)) throw bad('contains a control character, a backslash or malformed Unicode');
  if (path.startsWith('/')) throw bad('absolute');
  if (path.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw bad('has an empty, "." or ".." segment');
  }
  if (seen.has(path)) throw bad('listed twice in the request');
  seen.add(path);
  if (typeof file.key !== 'string' || file.key.length === 0) {
    throw new LoadInputError(`Batch file ${JSON.stringify(path)} has no object key`);
  }
  // Snowflake reads <stage>/<location>/<BATCH_ID>/<path>, DuckDB reads the key: they must name the same object.
  const located = locatedFileName(location, batchId, path);
  if (file.key !== located && !file.key.endsWith(`/${located}`)) {
    throw new LoadInputError(
      `Batch file ${JSON.stringify(path)} has object key ${JSON.stringify(file.key.slice(0, 1100))}; expected a key ending in ${JSON.stringify(located)} (location '${location}')`,
    );
  }
  // s3-lifecycle owns the layout: a stage path it handed over must be where both engines read.
  if (file.stagePath !== undefined && file.stagePath !== located) {
    throw new LoadInputError(
      `Batch file ${JSON.stringify(path)} has stage path ${JSON.stringify(file.stagePath.slice(0, 1100))}; expected ${JSON.stringify(located)} (location '${location}')`,
    );
  }
  if (!Number.isSafeInteger(file.size) || file.size < 0) {
    throw new LoadInputError(`Batch file ${JSON.stringify(path)} has size ${String(file.size)}; expected a non-negative integer`);
  }
}

/**
 * SOURCE_FILE: the file's name relative to its stage as the claim placed it (`processing/<BATCH_ID>/<path>`),
 * whichever location it is loaded from, so a replay of an archived batch stores the same rows.
 */
export function stageFileName(batchId: string, path: string): string {
  return locatedFileName('processing', batchId, path);
}

/** Where the file is now, relative to its stage: Snowflake's METADATA$FILENAME while it is read. */
export function locatedFileName(location: BatchLocation, batchId: string, path: string): string {
  return `${location}/${batchId}/${path}`;
}
