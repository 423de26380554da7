import { randomUUID } from 'node:crypto';
import { createFirehoseSink } from '../../src/index.js';
import { referenceRecords } from './csv-reference.js';

/** Credentials made up at run time: the local endpoint checks the signature's shape, not its key. */
export const testCredentials = async () => ({ accessKeyId: `test-${randomUUID()}`, secretAccessKey: randomUUID() });

export function firehoseSinkFor(url: string) {
  return createFirehoseSink({ region: 'us-east-1', endpoint: url, credentials: testCredentials, maxAttempts: 1 });
}

/** CSV records of a text, sorted (delivery order across concurrent calls is not fixed). */
export function sortedRecords(text: string): string[] {
  const { records, rest } = referenceRecords(Buffer.from(text));
  if (rest.length > 0) throw new Error(`delivered data ends inside a record: ${JSON.stringify(rest.toString().slice(0, 80))}`);
  return records.map((r) => r.toString('utf8')).sort();
}
