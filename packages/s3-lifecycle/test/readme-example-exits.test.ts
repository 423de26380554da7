// The README's usage example, run as written in a process of its own against the S3 test server: it must
// finish its claim, archive and status, and then the process must exit by itself (no copy thread, socket
// or message port keeping it alive).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createS3Client } from '../src/index.js';
import { type S3Server, startS3Server, useGeneratedCredentials } from './support/s3-server.js';

const packageDir = path.resolve(import.meta.dirname, '..');
const FILES = 12;

/** The first ```ts block under "## Usage", with the package imports pointed at the sources. */
function usageExample(): string {
  const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');
  const usage = readme.slice(readme.indexOf('## Usage'));
  const block = /```ts\n([\s\S]*?)```/.exec(usage)?.[1];
  if (!block) throw new Error('README.md has no ```ts block under "## Usage"');
  const source = (pkg: string) => pathToFileURL(path.resolve(packageDir, '..', pkg, 'src', 'index.ts')).href;
  return block
    .replaceAll("'@batchline/s3-lifecycle'", JSON.stringify(source('s3-lifecycle')))
    .replaceAll("'@batchline/batch-id'", JSON.stringify(source('batch-id')));
}

let server: S3Server;
let dir: string;

beforeAll(async () => {
  useGeneratedCredentials();
  server = await startS3Server();
  dir = mkdtempSync(path.join(tmpdir(), 'batchline-readme-'));
});
afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Seed a batch, run `example` in a child process, and require a clean exit and a finished archive. */
async function runExample(example: string, root: string, bucket: string): Promise<void> {
  for (let i = 0; i < FILES; i++) server.direct.put(bucket, `${root}orders/landing/2026/01/02/03/orders-${i}.csv`, Buffer.from(`${i},a\n`));
  const file = path.join(dir, `example-${Math.random().toString(36).slice(2)}.mts`);
  writeFileSync(file, example);
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: packageDir,
    // Nx forces colour on its tasks; the example's output is compared as the plain text a reader sees.
    env: { ...withoutForcedColour(process.env), NO_COLOR: '1', AWS_ENDPOINT_URL_S3: server.endpoint },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // A process that hangs after its work is the bug; 45 s only bounds the test.
  const hung = setTimeout(() => child.kill('SIGKILL'), 45_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  clearTimeout(hung);
  expect({ code, signal }, `the example's output:\n${output}`).toEqual({ code: 0, signal: null });

  // The example did its work: every file in processed/<id>/, none left in landing/ or processing/.
  expect(server.direct.etags(bucket, `${root}orders/processed/20260102T0310/`).size).toBe(FILES);
  expect(server.direct.etags(bucket, `${root}orders/landing/`).size).toBe(0);
  expect(server.direct.etags(bucket, `${root}orders/processing/`).size).toBe(0);
  expect(output).toContain("state: 'archived'");
}

it('the S3 usage example claims, archives and exits by itself, with and without store.close(), with copy threads too', async () => {
  const example = usageExample();
  const bucket = /openObjectStore\('s3:\/\/([a-z0-9.-]+)/.exec(example)?.[1];
  const root = /root: '([^']*)'/.exec(example)?.[1] ?? '';
  expect(bucket, 'the example opens an s3:// store').toBeDefined();
  expect(example).toContain('await store.close()');
  const client = createS3Client({ endpoint: server.endpoint });
  await client.send(new CreateBucketCommand({ Bucket: bucket! }));
  await client.send(new CreateBucketCommand({ Bucket: `${bucket!}-unclosed` }));
  await client.send(new CreateBucketCommand({ Bucket: `${bucket!}-threads` }));
  client.destroy();

  await runExample(example, root, bucket!);
  // Forgetting close() must not hang a script either: idle copy threads and kept-alive sockets are unref'd.
  const unclosed = example.replace(/^await store\.close\(\).*$/m, '').replace(`openObjectStore('s3://${bucket!}'`, `openObjectStore('s3://${bucket!}-unclosed'`);
  expect(unclosed).not.toContain('store.close()');
  expect(unclosed).toContain(`s3://${bucket!}-unclosed`);
  await runExample(unclosed, root, `${bucket!}-unclosed`);
  // Nor do copy threads (opt-in): idle workers are unref'd, and their message listeners do not ref them again.
  const threaded = unclosed.replace(`openObjectStore('s3://${bucket!}-unclosed'`, `openObjectStore('s3://${bucket!}-threads', { copyThreads: 2 }`);
  expect(threaded).toContain('copyThreads: 2');
  await runExample(threaded, root, `${bucket!}-threads`);
});

function withoutForcedColour(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { FORCE_COLOR: _forcedColour, ...rest } = env;
  return rest;
}
