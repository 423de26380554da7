// Every code block of README.md, run or checked as written (see test-support/readme-examples.ts). The examples
// run against the built package from a scratch directory holding data/*.csv; Firehose is a local PutRecordBatch
// endpoint on 127.0.0.1 (the real @aws-sdk/client-firehose finds it through AWS_ENDPOINT_URL_FIREHOSE).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CodeBlock, readmeBlocks, runExample, unclaimedBlocks } from '../../../test-support/readme-examples.js';
import { FirehoseEndpoint } from './support/firehose-endpoint.js';

const packageDir = path.resolve(import.meta.dirname, '..');
const blocks = readmeBlocks(path.join(packageDir, 'README.md'));
const claimed = new Set<CodeBlock>();
const scratch = path.join(packageDir, 'test-results', 'readme');
const bin = path.join(packageDir, 'bin', 'batchline-producer.js');
const find = (test: (b: CodeBlock) => boolean, what: string) => {
  const found = blocks.find(test);
  if (!found) throw new Error(`README.md has no ${what}`);
  claimed.add(found);
  return found;
};

const HEADER = 'O_ORDERKEY,O_CUSTKEY,O_ORDERSTATUS,O_TOTALPRICE\n';
const ORDERS = '1,7,F,100.50\n2,8,O,20.00\n3,7,F,5.25\n';
const CUSTOMERS = '7,Customer#000000007\n';

/** A fresh project directory with data/orders.csv and data/customers.csv (each with a header line). */
function project(name: string): string {
  const dir = path.join(scratch, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  writeFileSync(path.join(dir, 'data', 'orders.csv'), HEADER + ORDERS);
  writeFileSync(path.join(dir, 'data', 'customers.csv'), `C_CUSTKEY,C_NAME\n${CUSTOMERS}`);
  return dir;
}

/** Everything written under `dir`, concatenated in file-name order. */
function landed(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort()
    .map((f) => readFileSync(f, 'utf8'))
    .join('');
}

let endpoint: FirehoseEndpoint;
beforeAll(async () => {
  endpoint = await new FirehoseEndpoint().start();
});
afterAll(async () => {
  await endpoint?.stop();
});

it('the install line names this package (scripts/check-packages.mjs installs its packed tarball)', () => {
  const block = find((b) => b.lang === 'sh' && b.code.startsWith('npm install'), 'install block');
  expect(block.code.split('#')[0]!.trim()).toBe('npm install @batchline/kinesis-producer');
});

it('the CLI block: local mode lands every record; the AWS lines need an agent.json and an account', () => {
  const block = find((b) => b.heading === 'CLI' && b.lang === 'sh', 'CLI block');
  const commands = block.code.replace(/\\\n\s*/g, '').split('\n').filter((l) => l.startsWith('batchline-producer'));
  const local = commands.find((c) => c.includes('--landing-dir'))!;
  const dir = project('cli');
  execFileSync(process.execPath, [bin, ...local.split(/\s+/).slice(1)], { cwd: dir, encoding: 'utf8' });
  expect(landed(path.join(dir, 'lake', 'firehose', 'orders', 'landing'))).toBe(ORDERS);
  // The other two deliver to real Firehose (/etc/aws-kinesis/agent.json, and /tmp/orders.csv followed forever).
  expect(commands.filter((c) => c !== local)).toHaveLength(2);
});

it('embedding the CLI lands the file in the store under <stream>/landing/ and exits 0', async () => {
  const dir = project('embed');
  const run = await runExample(find((b) => b.heading.startsWith('Embedding the CLI') && b.lang === 'ts', 'embedding example'), { dir: scratch, cwd: dir });
  expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null });
  expect(landed(path.join(dir, '.batchline', 'store', 'orders', 'landing'))).toBe(ORDERS);
});

it('the library example delivers both files to Firehose (a local endpoint) and exits by itself', async () => {
  const dir = project('library');
  const run = await runExample(find((b) => b.heading === 'Library' && b.lang === 'ts', 'library example'), {
    dir: scratch,
    cwd: dir,
    // Generated at run time: the endpoint checks no signature, the SDK only needs some credentials.
    env: { AWS_ENDPOINT_URL_FIREHOSE: endpoint.url, AWS_ACCESS_KEY_ID: `test-${randomUUID()}`, AWS_SECRET_ACCESS_KEY: randomUUID() },
  });
  expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null });
  const records = (stream: string) => (endpoint.accepted.get(stream) ?? []).map((b) => b.toString()).join('');
  expect(records('orders')).toBe(ORDERS);
  expect(records('customers')).toBe(CUSTOMERS);
});

it('the RecordSink in the README names the same members as the port (src/producer-contract.ts)', () => {
  const block = find((b) => b.lang === 'ts' && b.code.startsWith('interface RecordSink'), 'RecordSink interface');
  const members = (text: string) => [...text.matchAll(/^\s*(?:readonly )?([a-zA-Z]+)\??[(:]/gm)].map((m) => m[1]).sort();
  const port = readFileSync(path.join(packageDir, 'src', 'producer-contract.ts'), 'utf8');
  const body = /export interface RecordSink \{([\s\S]*?)\n\}/.exec(port)![1]!.replace(/\/\*\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  expect(members(block.code.slice(0, block.code.indexOf('\n}')))).toEqual(members(body));
});

it('the typed config, saved as producer.config.mjs, drives the bin into ./lake', () => {
  const block = find((b) => b.lang === 'js' && b.code.includes('defineProducerConfig'), 'typed config');
  const dir = project('typed-config');
  writeFileSync(path.join(dir, 'producer.config.mjs'), block.code);
  execFileSync(process.execPath, [bin, '--config', 'producer.config.mjs', '--drain'], { cwd: dir, encoding: 'utf8' });
  expect(landed(path.join(dir, 'lake', 'firehose', 'orders', 'landing'))).toBe(ORDERS);
});

it('no README block goes unchecked', () => {
  expect(unclaimedBlocks(blocks, claimed)).toEqual([]);
});
