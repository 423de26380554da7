import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { LandingSinkOptions, PutOutcome, RecordSink } from '../../producer-contract.js';
import { ConfigError } from '../../errors.js';
import { FIREHOSE_LIMITS } from '../../records/limits.js';

const gzip = promisify(gzipCallback);

/** A putRecordBatch call's wait for the objects that hold its records. */
interface PendingPut {
  readonly outcomes: PutOutcome[];
  remaining: number;
  resolve(outcomes: PutOutcome[]): void;
}

/** Where one record went: the call and the index in its outcomes. */
interface Slot {
  readonly put: PendingPut;
  readonly index: number;
}

interface ObjectBuffer {
  readonly parts: Uint8Array[];
  readonly slots: Slot[];
  bytes: number;
  /** Arrival of the oldest record: names the object, as Firehose does. */
  readonly firstArrival: Date;
  timer?: NodeJS.Timeout;
}

/**
 * Writes objects the way Firehose delivers to S3: records of a delivery stream are
 * concatenated (no delimiter added) into an object under the stream's prefix, keyed
 * `YYYY/MM/DD/HH/<stream>-<version>-YYYY-MM-DD-HH-MM-SS-<uuid>` (UTC, `.gz` when
 * gzipped), flushed by size or by the age of its oldest record.
 *
 * Acknowledgement: a putRecordBatch call resolves only once every object holding one
 * of its records has been written by `store.put` (a record whose object failed gets a
 * `LandingWriteFailed` outcome and is resent by the producer). So the producer's
 * checkpoint never passes a record that is not in the store. Objects never cut a
 * record: they break only between records.
 */
export function createLandingSink(options: LandingSinkOptions): RecordSink {
  const bufferSizeBytes = options.bufferSizeBytes ?? 5 * 1024 * 1024;
  const bufferIntervalMillis = options.bufferIntervalMillis ?? 300_000;
  const version = options.streamVersion ?? 1;
  const now = options.now ?? (() => new Date());
  if (!Number.isInteger(bufferSizeBytes) || bufferSizeBytes < 1) {
    throw new RangeError(`bufferSizeBytes must be a positive integer, got ${String(options.bufferSizeBytes)}`);
  }
  if (!Number.isInteger(bufferIntervalMillis) || bufferIntervalMillis < 0) {
    throw new RangeError(`bufferIntervalMillis must be a non-negative integer, got ${String(options.bufferIntervalMillis)}`);
  }
  if (!Number.isInteger(version) || version < 1) {
    throw new RangeError(`streamVersion must be a positive integer, got ${String(options.streamVersion)}`);
  }
  for (const [stream, prefix] of Object.entries(options.prefixes)) {
    if (prefix !== '' && !prefix.endsWith('/')) {
      throw new ConfigError(`Landing prefix for stream ${JSON.stringify(stream)} must end with "/", got ${JSON.stringify(prefix)}`);
    }
    if (prefix.startsWith('/') || prefix.split('/').some((part) => part === '..' || part === '.')) {
      throw new ConfigError(`Landing prefix for stream ${JSON.stringify(stream)} must be a relative key prefix, got ${JSON.stringify(prefix)}`);
    }
  }

  const buffers = new Map<string, ObjectBuffer>();
  const writes = new Set<Promise<void>>();
  let closed = false;

  function objectKey(stream: string, at: Date): string {
    const p = (n: number, w = 2) => String(n).padStart(w, '0');
    const [y, mo, d, h, mi, s] = [
      p(at.getUTCFullYear(), 4),
      p(at.getUTCMonth() + 1),
      p(at.getUTCDate()),
      p(at.getUTCHours()),
      p(at.getUTCMinutes()),
      p(at.getUTCSeconds()),
    ];
    const gz = options.gzip ? '.gz' : '';
    return `${options.prefixes[stream]}${y}/${mo}/${d}/${h}/${stream}-${version}-${y}-${mo}-${d}-${h}-${mi}-${s}-${randomUUID()}${gz}`;
  }

  function settle(slot: Slot, outcome: PutOutcome): void {
    slot.put.outcomes[slot.index] = outcome;
    slot.put.remaining--;
    if (slot.put.remaining === 0) slot.put.resolve(slot.put.outcomes);
  }

  function seal(stream: string): void {
    const buffer = buffers.get(stream);
    if (!buffer) return;
    buffers.delete(stream);
    if (buffer.timer) clearTimeout(buffer.timer);
    const key = objectKey(stream, buffer.firstArrival);
    const write = (async () => {
      let outcome: PutOutcome;
      try {
        const raw = Buffer.concat(buffer.parts, buffer.bytes);
        await options.store.put(key, options.gzip ? await gzip(raw) : raw);
        outcome = { ok: true };
      } catch (err) {
        outcome = { ok: false, code: 'LandingWriteFailed', message: `writing ${key}: ${(err as Error).message}` };
      }
      for (const slot of buffer.slots) settle(slot, outcome);
    })();
    writes.add(write);
    void write.finally(() => writes.delete(write));
  }

  function append(stream: string, record: Uint8Array, slot: Slot): void {
    let buffer = buffers.get(stream);
    if (buffer && buffer.bytes + record.length > bufferSizeBytes) {
      seal(stream);
      buffer = undefined;
    }
    if (!buffer) {
      buffer = { parts: [], slots: [], bytes: 0, firstArrival: now() };
      buffers.set(stream, buffer);
      // Not unref'd: calls wait for this object, so it is work pending that must keep the process alive.
      buffer.timer = setTimeout(() => seal(stream), bufferIntervalMillis);
    }
    // Copy: the caller may reuse its buffers once the call settles, but this object may be written later.
    buffer.parts.push(Uint8Array.prototype.slice.call(record));
    buffer.slots.push(slot);
    buffer.bytes += record.length;
    if (buffer.bytes >= bufferSizeBytes) seal(stream);
  }

  return {
    // A call resolves when its object is written, and an object is written when full.
    minPendingBytes: bufferSizeBytes,
    putRecordBatch(stream, records) {
      if (closed) return Promise.reject(new Error('The landing sink is closed'));
      const failAll = (code: string, message: string): Promise<PutOutcome[]> =>
        Promise.resolve(records.map(() => ({ ok: false as const, code, message })));
      if (!Object.hasOwn(options.prefixes, stream)) {
        return failAll('ResourceNotFoundException', `No landing prefix is configured for delivery stream ${JSON.stringify(stream)}`);
      }
      const total = records.reduce((sum, r) => sum + r.length, 0);
      if (records.length === 0 || records.length > FIREHOSE_LIMITS.maxRecordsPerCall || total > FIREHOSE_LIMITS.maxBytesPerCall) {
        return failAll(
          'InvalidArgumentException',
          `A call carries 1 to ${FIREHOSE_LIMITS.maxRecordsPerCall} records and at most ${FIREHOSE_LIMITS.maxBytesPerCall} bytes; got ${records.length} records, ${total} bytes`,
        );
      }
      return new Promise<PutOutcome[]>((resolve) => {
        const put: PendingPut = { outcomes: new Array<PutOutcome>(records.length), remaining: 0, resolve };
        records.forEach((record, index) => {
          if (record.length > FIREHOSE_LIMITS.maxRecordBytes || record.length === 0) {
            put.outcomes[index] = {
              ok: false,
              code: 'InvalidArgumentException',
              message: `A record holds 1 to ${FIREHOSE_LIMITS.maxRecordBytes} bytes; got ${record.length}`,
            };
          } else {
            put.remaining++;
          }
        });
        if (put.remaining === 0) {
          resolve(put.outcomes);
          return;
        }
        records.forEach((record, index) => {
          if (put.outcomes[index] === undefined) append(stream, record, { put, index });
        });
      });
    },
    async flush() {
      for (const stream of [...buffers.keys()]) seal(stream);
      while (writes.size > 0) await Promise.all([...writes]);
    },
    async close() {
      await this.flush!();
      closed = true;
    },
  };
}
