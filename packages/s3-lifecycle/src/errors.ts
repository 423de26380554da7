// Every error @batchline/s3-lifecycle throws on purpose. Each says whether another attempt could help
// (`permanent`) and which exit code a CLI should use (`exitCode`: 1 the work failed, 2 usage or
// configuration, 75 busy elsewhere); the pipeline's task runner reads `permanent`, never the name.

/** Quote an untrusted value for a message: JSON escaping, plus C1 controls, line separators and bidi overrides. */
export function quote(value: unknown): string {
  const text = JSON.stringify(typeof value === 'string' ? value : String(value));
  return text.replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function shownKey(key: unknown): string {
  return typeof key === 'string' ? quote(key.length > 200 ? `${key.slice(0, 200)}…` : key) : `of type ${typeof key}`;
}

export class ObjectNotFoundError extends Error {
  override readonly name = 'ObjectNotFoundError';
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 1;
  constructor(readonly key: string) {
    super(`Object not found: ${quote(key)}`);
  }
}

/** A conditional request (copy with `ifMatch`) found a different version than expected. */
export class PreconditionFailedError extends Error {
  override readonly name = 'PreconditionFailedError';
  /** The pinned file was replaced: the batch is not what was claimed, and no retry changes that. */
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 1;
  constructor(
    readonly key: string,
    readonly expectedEtag: string,
  ) {
    super(`Object ${quote(key)} no longer has ETag ${quote(expectedEtag)}: it was replaced after it was read`);
  }
}

/** A key that is not a safe, well-formed object key. */
export class InvalidKeyError extends Error {
  override readonly name = 'InvalidKeyError';
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 1;
  constructor(
    readonly key: unknown,
    readonly reason: string,
  ) {
    super(`Invalid object key ${shownKey(key)}: ${reason}; expected a relative '/'-separated key without '.', '..' or empty segments, backslashes or NUL`);
  }
}

/** A manifest or lease object that cannot be read as one: a configuration problem to look at, not to retry. */
export class CorruptObjectError extends Error {
  override readonly name = 'CorruptObjectError';
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 2;
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`Object ${quote(key)} is not a valid batchline record: ${reason}`);
  }
}

/** archive() (or reading a batch's files) of a batch that has no finished claim. */
export class BatchNotClaimedError extends Error {
  override readonly name = 'BatchNotClaimedError';
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 1;
  constructor(
    readonly entity: string,
    readonly batchId: string,
    reason: string,
    action = 'be archived',
  ) {
    super(`Batch ${entity}/${batchId} cannot ${action}: ${reason}`);
  }
}

/** A pinned file is in neither the source nor the target prefix, or not as pinned: never skipped silently. */
export class BatchFileError extends Error {
  override readonly name: string = 'BatchFileError';
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 1;
  constructor(
    readonly entity: string,
    readonly batchId: string,
    readonly path: string,
    message: string,
  ) {
    super(`Batch ${entity}/${batchId}, file ${quote(path)}: ${message}`);
  }
}

/** Some deletes were refused by the store; the keys are listed, and a re-run retries them. */
export class BatchDeleteError extends Error {
  override readonly name = 'BatchDeleteError';
  readonly permanent: boolean = false;
  readonly exitCode: 1 | 2 | 75 = 1;
  constructor(readonly failures: readonly { key: string; code: string; message: string }[]) {
    const shown = failures
      .slice(0, 5)
      .map((f) => `${quote(f.key)} (${f.code}: ${f.message})`)
      .join(', ');
    super(`The store refused to delete ${failures.length} key(s): ${shown}${failures.length > 5 ? ', …' : ''}; re-run to finish`);
  }
}

export class InvalidStoreUrlError extends Error {
  override readonly name = 'InvalidStoreUrlError';
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 2;
  constructor(url: unknown, reason: string) {
    super(`Invalid object store URL ${quote(url)}: ${reason}; expected file://<dir> (relative or absolute) or s3://<bucket>[/<prefix>]`);
  }
}

/** The store URL names something that cannot be a store (a regular file, for example). */
export class StoreConfigError extends Error {
  override readonly name = 'StoreConfigError';
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 2;
}

export class InvalidEntityError extends Error {
  override readonly name = 'InvalidEntityError';
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 2;
  constructor(readonly entity: unknown) {
    const shown = typeof entity === 'string' ? quote(entity.slice(0, 80)) : `of type ${typeof entity}`;
    super(`Invalid entity ${shown}: expected a lowercase name matching ^[a-z][a-z0-9_-]{0,62}$, e.g. "orders"`);
  }
}

export class InvalidRootError extends Error {
  override readonly name = 'InvalidRootError';
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 2;
  constructor(root: string, reason: string) {
    super(`Invalid lifecycle root ${quote(root)}: ${reason}; expected '' or a prefix ending in '/', e.g. "firehose/"`);
  }
}

/** Someone else holds the batch (or lease) right now. */
export class BatchInProgressError extends Error {
  override readonly name = 'BatchInProgressError';
  /** Busy now, free later: worth waiting for (`--wait`), never a failure of the work itself. */
  readonly permanent: boolean = false;
  readonly exitCode: 1 | 2 | 75 = 75;
  constructor(
    message: string,
    readonly details: { readonly key?: string; readonly owner?: string; readonly purpose?: string; readonly expiresAt?: string } = {},
  ) {
    super(message);
  }
}

/** The lease expired and someone else took it over while this holder was still working. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
  /** Another holder works on the batch now: retrying here would make two. */
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 1;
  constructor(readonly key: string) {
    super(`Lease ${quote(key)} was lost (not renewed in time and taken over); stopping so two runs never work at once`);
  }
}

/**
 * An operation the batch's state does not allow (repin of an archived batch, release of one being
 * archived, claim of one being released). The message says what to run instead.
 */
export class BatchStateError extends Error {
  override readonly name = 'BatchStateError';
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 2;
  constructor(
    readonly entity: string,
    readonly batchId: string,
    readonly state: string,
    readonly operation: string,
    advice: string,
  ) {
    super(`Cannot ${operation} batch ${entity}/${batchId}: it is ${state}; ${advice}`);
  }
}

/**
 * A read of a batch file found it missing, or not the size and ETag the claim pinned: the batch would
 * load other bytes than it claimed. Never retried.
 */
export class PinnedFileChangedError extends BatchFileError {
  override readonly name: string = 'PinnedFileChangedError';
  constructor(
    entity: string,
    batchId: string,
    path: string,
    readonly key: string,
    readonly expected: { readonly size: number; readonly etag: string },
    readonly found: { readonly size?: number; readonly etag?: string } | undefined,
  ) {
    const what =
      found === undefined
        ? `${quote(key)} is missing`
        : `${quote(key)} is ${found.size ?? '?'} bytes with ETag ${quote(found.etag ?? '?')}, but the claim pinned ${expected.size} bytes with ETag ${quote(expected.etag)}`;
    super(
      entity,
      batchId,
      path,
      `${what}; refusing to load other bytes than the batch claimed. Put the pinned file back, or, if the change is ` +
        `intended and the batch is not archived yet, run \`batchline repin --batch ${batchId}\` to pin what is there now`,
    );
  }
}

/**
 * The filesystem refused a write for a reason no retry changes (a file where a folder must be, a folder
 * where a file must be, no permission, a read-only filesystem): never retried, and it names what blocks.
 */
export class BlockedPathError extends Error {
  override readonly name = 'BlockedPathError';
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 1;
  constructor(
    readonly key: string,
    readonly path: string,
    readonly code: string,
    detail: string,
  ) {
    super(`The store cannot write ${quote(key)} at ${quote(path)}: ${code}, ${detail}; remove or fix what blocks that path, then re-run`);
  }
}

/** A lifecycle option out of range (concurrency, settleSeconds): a configuration problem. */
export class InvalidLifecycleOptionError extends Error {
  override readonly name = 'InvalidLifecycleOptionError';
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 2;
  constructor(option: string, value: unknown, expected: string) {
    super(`Invalid ${option} ${typeof value === 'number' ? String(value) : quote(value)}: expected ${expected}`);
  }
}

/**
 * The store ignores conditional writes (If-None-Match / If-Match): claims, leases and locks would stop being
 * exclusive, so `run` refuses it. A configuration problem, found late: exit 2, never retried.
 */
export class UnsafeStoreError extends Error {
  override readonly name = 'UnsafeStoreError';
  readonly permanent: boolean = true;
  readonly exitCode: 1 | 2 | 75 = 2;
  constructor(
    readonly location: string,
    readonly detail: string,
  ) {
    super(
      `The object store ${quote(location)} does not enforce conditional writes (${detail}): two runners could both claim a batch. ` +
        'Run `batchline doctor` for the full check and the fix; only if a single runner can ever touch this store, pass --unsafe-ignore-conditional-writes.',
    );
  }
}
