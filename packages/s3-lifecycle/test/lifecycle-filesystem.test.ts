import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FileObjectStore } from '../src/index.js';
import { describeLifecycle } from './support/lifecycle-suite.js';

describeLifecycle('filesystem', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'batchline-lifecycle-'));
  return { store: new FileObjectStore(dir), close: () => rm(dir, { recursive: true, force: true }) };
});
