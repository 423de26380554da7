import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, createProducer, loadAgentConfig, parseAgentConfig, parseProducerConfig } from '../src/index.js';
import { MemoryLandingStore } from './support/memory-store.js';
import { createLandingSink } from '../src/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kp-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('agent.json', () => {
  it('reads an agent.json saved with a UTF-8 byte-order mark', async () => {
    const file = path.join(dir, 'agent-bom.json');
    await writeFile(file, `\uFEFF${JSON.stringify({ flows: [{ filePattern: '/tmp/orders.csv', deliveryStream: 'orders' }] })}`);
    const cfg = await loadAgentConfig(file);
    expect(cfg.flows.map((f) => [f.filePattern, f.deliveryStream])).toEqual([['/tmp/orders.csv', 'orders']]);
  });

  it('takes the supported options and reports every other one by name', async () => {
    const file = path.join(dir, 'agent.json');
    await writeFile(
      file,
      JSON.stringify({
        checkpointFile: '/var/lib/batchline/checkpoints.json',
        'cloudwatch.emitMetrics': false,
        'firehose.endpoint': 'firehose.eu-west-1.amazonaws.com',
        assumeRoleARN: 'arn:aws:iam::000000000000:role/x',
        flows: [
          {
            filePattern: '/tmp/orders.csv*',
            deliveryStream: 'orders',
            initialPosition: 'START_OF_FILE',
            skipHeaderLines: 1,
            maxBufferAgeMillis: 5000,
            maxBufferSizeBytes: 1048576,
            maxBufferSizeRecords: 100,
            truncatedRecordTerminator: '\n',
          },
          {
            filePattern: '/tmp/customers.csv',
            deliveryStream: 'customers',
            dataProcessingOptions: [{ optionName: 'CSVTOJSON' }],
            multiLineStartPattern: '^\\d',
            someFutureOption: 1,
          },
        ],
      }),
    );
    const cfg = await loadAgentConfig(file);
    expect(cfg.checkpointFile).toBe('/var/lib/batchline/checkpoints.json');
    expect(cfg.endpoint).toBe('https://firehose.eu-west-1.amazonaws.com');
    expect(cfg.region).toBe('eu-west-1');
    expect(cfg.flows).toEqual([
      {
        filePattern: '/tmp/orders.csv*',
        deliveryStream: 'orders',
        initialPosition: 'START_OF_FILE',
        skipHeaderLines: 1,
        maxBufferAgeMillis: 5000,
        maxBufferSizeBytes: 1048576,
        maxBufferSizeRecords: 100,
      },
      { filePattern: '/tmp/customers.csv', deliveryStream: 'customers', initialPosition: 'END_OF_FILE' },
    ]);
    expect(cfg.unsupported.map((u) => u.option)).toEqual([
      'assumeRoleARN',
      'flows[1].dataProcessingOptions',
      'flows[1].multiLineStartPattern',
      'flows[1].someFutureOption',
    ]);
  });

  it('names the bad value and the expectation', () => {
    expect(() => parseAgentConfig({ flows: [] })).toThrow(/"flows" must be a non-empty array, got \[\]/);
    expect(() => parseAgentConfig({ flows: [{ filePattern: '/x', deliveryStream: 'o', maxBufferSizeRecords: 501 }] })).toThrow(
      ConfigError,
    );
    expect(() => parseAgentConfig({ flows: [{ filePattern: '/x', deliveryStream: 'o', maxBufferSizeRecords: 501 }] })).toThrow(
      /maxBufferSizeRecords/,
    );
    expect(() => parseAgentConfig({ flows: [{ filePattern: '/x', deliveryStream: 'o', initialPosition: 'MIDDLE' }] })).toThrow(
      /initialPosition/,
    );
    const kinesisOnly = parseAgentConfig({ flows: [{ filePattern: '/x', kinesisStream: 'k' }] });
    expect(kinesisOnly.flows).toEqual([]);
    expect(kinesisOnly.unsupported.map((u) => u.option)).toEqual(['flows[0].kinesisStream']);
    expect(kinesisOnly.skippedFlows[0]).toMatch(/flows\[0\] \("\/x" -> kinesisStream "k"\)/);
    expect(() => parseAgentConfig({ 'cloudwatch.emitMetrics': 'yes', flows: [{ filePattern: '/x', deliveryStream: 'o' }] })).toThrow(
      /cloudwatch.emitMetrics must be true or false, got "yes"/,
    );
  });

  it('refuses a Kinesis Agent SQLite checkpoint file with a clear message', async () => {
    const cp = path.join(dir, 'checkpoints');
    await writeFile(cp, Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(100)]));
    await writeFile(path.join(dir, 'a.csv'), '1\n');
    const producer = createProducer({
      flows: [{ filePattern: path.join(dir, 'a.csv'), deliveryStream: 's' }],
      sink: createLandingSink({ store: new MemoryLandingStore(), prefixes: { s: 's/' } }),
      checkpointFile: cp,
    });
    await expect(producer.drain()).rejects.toThrow(/Kinesis Agent SQLite database.*new path/);
  });
});

describe('typed config', () => {
  it('accepts a full config', () => {
    const cfg = parseProducerConfig({
      checkpointFile: 'cp.json',
      flows: [{ filePattern: 'orders.csv', deliveryStream: 'orders', aggregatedRecordSizeBytes: 0 }],
      sink: { kind: 'landing', directory: './lake', prefixes: { orders: 'firehose/orders/landing/' }, gzip: true },
      maxInFlightCalls: 2,
    });
    expect(cfg.sink).toEqual({ kind: 'landing', directory: './lake', prefixes: { orders: 'firehose/orders/landing/' }, gzip: true });
  });

  it('lists every problem with its path', () => {
    let message = '';
    try {
      parseProducerConfig({ checkpointFile: '', flows: [{ filePattern: 'x', deliveryStream: 'bad name!', typo: 1 }], sink: { kind: 's3' } });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/checkpointFile/);
    expect(message).toMatch(/flows\[0\]\.deliveryStream/);
    expect(message).toMatch(/typo/);
    expect(message).toMatch(/sink\.kind/);
  });

  it('createProducer checks its options too', () => {
    const sink = createLandingSink({ store: new MemoryLandingStore(), prefixes: {} });
    expect(() => createProducer({ flows: [], sink, checkpointFile: 'x' })).toThrow(/at least one flow/);
    expect(() =>
      createProducer({ flows: [{ filePattern: 'x', deliveryStream: 's', aggregatedRecordSizeBytes: 2_000_000 }], sink, checkpointFile: 'x' }),
    ).toThrow(/aggregatedRecordSizeBytes must be an integer from 0 to 1024000, got 2000000/);
    expect(() => createProducer({ flows: [{ filePattern: 'x', deliveryStream: 's' }], sink, checkpointFile: '' })).toThrow(/checkpointFile/);
  });
});
