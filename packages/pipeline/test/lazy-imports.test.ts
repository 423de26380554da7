import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// What a consumer's process loads, through the built packages (dist/), as an installed package is used.
// A child process records every module Node loads (import and require alike) with a load hook.
const packageDir = path.resolve(import.meta.dirname, '..');

/** The packages (by name) among the modules loaded while `script` runs (an ES module body). */
function loadedPackages(script: string): string[] {
  const hook = `
    import { registerHooks } from 'node:module';
    const loaded = new Set();
    registerHooks({ load(url, context, next) {
      const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(url) ?? /\\/packages\\/([^/]+)\\/dist\\//.exec(url);
      if (m) loaded.add(m[1].startsWith('@') || url.includes('node_modules') ? m[1] : '@batchline/' + m[1]);
      return next(url, context);
    } });
    ${script}
    process.stdout.write(JSON.stringify([...loaded].sort()));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', hook], { cwd: packageDir, encoding: 'utf8' });
  return JSON.parse(out) as string[];
}

const heavy = [
  '@aws-sdk/client-s3',
  '@aws-sdk/client-firehose',
  'snowflake-sdk',
  '@duckdb/node-api',
  '@batchline/kinesis-producer',
  'commander',
  '@actions/core',
  'cli-table3', // loads when a table is rendered
  'proper-lockfile', // loads on a file store's first conditional write
  'zod', // loads on the first config parsed
];

describe('importing the library loads only what the call needs', () => {
  it('@batchline/pipeline: no AWS SDK, Snowflake driver, DuckDB, producer or CLI parser', () => {
    const loaded = loadedPackages(`await import('@batchline/pipeline');`);
    expect(loaded).toContain('@batchline/s3-lifecycle'); // the check sees the packages it does load
    expect(loaded.filter((name) => heavy.includes(name))).toEqual([]);
  });

  it('@batchline/pipeline/demo does load the producer (the demo runs it)', () => {
    expect(loadedPackages(`await import('@batchline/pipeline/demo');`)).toContain('@batchline/kinesis-producer');
  });

  it('s3-lifecycle loads the S3 SDK when an s3:// store is opened, never for file://', () => {
    const open = (url: string) => `
      const { openObjectStore } = await import('@batchline/s3-lifecycle');
      const store = openObjectStore(${JSON.stringify(url)}, { region: 'us-east-1', copyThreads: 0 });
      await store.close();`;
    expect(loadedPackages(open('file:///tmp/batchline-lazy-import-check'))).not.toContain('@aws-sdk/client-s3');
    expect(loadedPackages(open('s3://bucket/prefix'))).toContain('@aws-sdk/client-s3');
  });

  it('kinesis-producer loads the Firehose SDK when a Firehose sink is made, not for the landing sink', () => {
    const landing = loadedPackages(`
      const { createDirectoryLandingStore, createLandingSink } = await import('@batchline/kinesis-producer');
      await createLandingSink({ store: createDirectoryLandingStore('/tmp/batchline-lazy-import-check'), prefixes: {} }).close();`);
    expect(landing).toContain('@batchline/kinesis-producer');
    expect(landing).not.toContain('@aws-sdk/client-firehose');
    const firehose = loadedPackages(`
      const { createFirehoseSink } = await import('@batchline/kinesis-producer');
      await createFirehoseSink({ region: 'us-east-1' }).close();`);
    expect(firehose).toContain('@aws-sdk/client-firehose');
  });

  it('snowflake-loader loads neither snowflake-sdk nor DuckDB until a warehouse of that kind is opened', () => {
    const loaded = loadedPackages(`await import('@batchline/snowflake-loader');`);
    expect(loaded).toContain('@batchline/snowflake-loader');
    expect(loaded.filter((name) => name === 'snowflake-sdk' || name === '@duckdb/node-api')).toEqual([]);
  });
});
