import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileObjectStore } from '../src/index.js';
import { describeCrashInjection, describeOperationCrashInjection } from './support/crash-suite.js';

// fsync is off here only to keep ~250 scenarios quick; it does not change which requests happen.
describeCrashInjection('filesystem', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'batchline-crash-'));
  return { store: new FileObjectStore(dir, { fsync: false }), close: () => rm(dir, { recursive: true, force: true }) };
});

describeOperationCrashInjection('filesystem', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'batchline-crash-op-'));
  return { store: new FileObjectStore(dir, { fsync: false }), close: () => rm(dir, { recursive: true, force: true }) };
});
