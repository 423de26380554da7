import { assertBatchId } from '@batchline/batch-id';
import { LoadInputError } from './errors.js';
import { ENTITIES, type BatchFile, type Entity, type LoadRequest, type OnErrorPolicy } from './warehouse-contract.js';

export interface CheckedLoadRequest {
  readonly entity: Entity;
  readonly batchId: LoadRequest['batchId'];
  readonly files: readonly BatchFile[];
  readonly onError: OnErrorPolicy;
}

// Printable characters only, no backslash or quote: object keys are untrusted and end up in SQL text (FILES=).
const SAFE_PATH = /^[A-Za-z0-9._\-+=@,:~!()* /]+$/;

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
  const seen = new Set<string>();
  for (const file of request.files) checkFile(file, seen);
  return { entity: request.entity, batchId: request.batchId, files: request.files, onError };
}

function checkFile(file: BatchFile, seen: Set<string>): void {
  const path = file.path;
  const bad = (why: string) =>
    new LoadInputError(`Invalid batch file path ${JSON.stringify(path)}: ${why}; expected a relative path like 2026/11/26/03/orders-1-....gz`);
  if (typeof path !== 'string' || path.length === 0) throw bad('empty');
  if (path.length > 1024) throw bad('longer than 1024 characters');
  if (!SAFE_PATH.test(path)) throw bad('contains characters outside letters, digits, space and ._-+=@,:~!()*/');
  if (path.startsWith('/')) throw bad('absolute');
  if (path.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw bad('has an empty, "." or ".." segment');
  }
  if (seen.has(path)) throw bad('listed twice in the request');
  seen.add(path);
  if (typeof file.key !== 'string' || file.key.length === 0) {
    throw new LoadInputError(`Batch file ${JSON.stringify(path)} has no object key`);
  }
  if (!Number.isSafeInteger(file.size) || file.size < 0) {
    throw new LoadInputError(`Batch file ${JSON.stringify(path)} has size ${String(file.size)}; expected a non-negative integer`);
  }
}

/** The file's name relative to its stage, as Snowflake's METADATA$FILENAME reports it: SOURCE_FILE. */
export function stageFileName(batchId: string, path: string): string {
  return `processing/${batchId}/${path}`;
}
