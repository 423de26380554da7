import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileObjectStore } from '../src/index.js';
import { describeMultiBatch } from './support/multi-batch-suite.js';

describeMultiBatch('filesystem', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'batchline-multi-'));
  return { store: new FileObjectStore(dir, { fsync: false }), close: () => rm(dir, { recursive: true, force: true }) };
});
