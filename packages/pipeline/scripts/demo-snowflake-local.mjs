// `batchline demo` with the snowflake:// warehouse, against snowflake-local (the repository's
// Snowflake-protocol test server on 127.0.0.1): the real snowflake-sdk logs in with a key pair made
// here, COPYs from a stage over the demo's file store, and the report matches the DuckDB demo's.
// From a clone, after `npm run build`: node packages/pipeline/scripts/demo-snowflake-local.mjs [--scale N]
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { demo, renderDemo } from '@batchline/pipeline/demo';
import { FileObjectStore } from '@batchline/s3-lifecycle';
import { openWarehouse, snowflakeAdminSql } from '@batchline/snowflake-loader';
import { startSnowflakeLocal } from '@batchline/snowflake-local';

const { values } = parseArgs({ options: { scale: { type: 'string', default: '0.01' }, dir: { type: 'string', default: '.batchline/demo-snowflake-local' } } });
const scale = Number(values.scale);
const base = path.resolve(values.dir);
const bucket = path.join(base, `scale-${scale}`, 'bucket');
const STAGE_URL = 's3://batchline-demo/';
const started = Date.now();

// A throwaway key pair for the local service user: generated per run, never stored beyond it.
const keys = await mkdtemp(path.join(tmpdir(), 'batchline-sfl-keys-'));
const { publicKey, privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const keyPath = path.join(keys, 'rsa_key.p8');
await writeFile(keyPath, privateKey, { mode: 0o600 });

// The server keeps its tables in memory: each demo run starts it fresh, so use a fresh demo directory too.
await rm(base, { recursive: true, force: true });
const server = await startSnowflakeLocal({ objectStore: new FileObjectStore(bucket), stageUrls: { [STAGE_URL]: '' }, users: { BATCHLINE_SVC: { publicKey } } });
const url = `snowflake://${server.account}/RETAIL_DB/RETAIL_SCHEMA?warehouse=LOAD_WH&accessUrl=${encodeURIComponent(server.accessUrl)}`;
// Play the admin (sql/snowflake/admin/): database, schema and storage integration; `setup` then does the loader's part.
await server.runAdmin(snowflakeAdminSql({ database: 'RETAIL_DB', schema: 'RETAIL_SCHEMA', stageUrl: STAGE_URL, storageAwsRoleArn: 'arn:aws:iam::123456789012:role/batchline-demo' }));
const warehouse = await openWarehouse(url, {
  files: new FileObjectStore(bucket),
  snowflake: { stageUrl: STAGE_URL },
  env: { SNOWFLAKE_USER: 'batchline_svc', SNOWFLAKE_PRIVATE_KEY_PATH: keyPath },
});
let ok = false;
try {
  await warehouse.setup();
  const result = await demo({
    scale,
    dir: base,
    warehouse,
    warehouseLabel: `snowflake-local ${server.accessUrl} (snowflake-sdk, key-pair login)`,
    onLine: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${renderDemo(result)}\ndemo on snowflake-local finished in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  ok = result.batches.length === 2 && result.batches.every((b) => b.report.status === 'succeeded');
} finally {
  await warehouse.close();
  await server.stop();
  await rm(keys, { recursive: true, force: true });
}
process.exitCode = ok ? 0 : 1;
