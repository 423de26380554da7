// One real call per published package, run by scripts/check-packages.mjs inside an empty project where the packed
// tarballs are installed. `load` is `import()` or `require()` of the consumer's entry file, so the same calls go
// through the ESM build and through the CommonJS build. Prints what came out; the caller compares it with what
// it works out on its own from the input below.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { randomUUID } = require('node:crypto');
const { pathToFileURL } = require('node:url');

/** Headerless records, as Firehose delivers them: one order (fulfilled) of one customer. */
const ORDERS = '1,7,F,100.50,2026-11-26,1-URGENT,Clerk#000000001,0,first order\n2,7,O,20.00,2026-11-26,2-HIGH,Clerk#000000001,0,open\n';
const CUSTOMERS = '7,Customer#000000007,Some street,3,25-989-741-2988,711.56,BUILDING,a customer\n';

/** A landing object at Firehose's key layout. */
function land(storeDir, entity, body) {
  const dir = path.join(storeDir, entity, 'landing', '2026', '11', '26', '03');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${entity}-1-2026-11-26-03-10-00-0b5e3c52-4f3e-4f59-9b7e-3f1d2c9a6b01`), body);
}

async function calls(load, work) {
  const out = {};

  // @batchline/batch-id: the id of a cron slot
  const { batchIdForSchedule, isBatchId } = await load('@batchline/batch-id');
  const batchId = batchIdForSchedule('*/15 * * * *', new Date('2026-11-26T03:17:00Z'));
  out.batchId = `${batchId} ${isBatchId(batchId)} ${isBatchId('../x')}`;

  // @batchline/s3-lifecycle: claim on a file store
  const { createBatchLifecycle, openObjectStore } = await load('@batchline/s3-lifecycle');
  const storeDir = path.join(work, 'store');
  land(storeDir, 'orders', ORDERS);
  land(storeDir, 'customers', CUSTOMERS);
  const store = openObjectStore(pathToFileURL(storeDir).href);
  const lifecycle = createBatchLifecycle(store, { settleSeconds: 0 }); // the files were complete before the claim
  const claimed = { orders: await lifecycle.claim('orders', batchId), customers: await lifecycle.claim('customers', batchId) };
  out.claimed = `${claimed.orders.files.length + claimed.customers.files.length} files, ${claimed.orders.bytes + claimed.customers.bytes} bytes`;

  // @batchline/snowflake-loader: load and transform on DuckDB, from the claimed files
  const { openWarehouse } = await load('@batchline/snowflake-loader');
  const warehouse = await openWarehouse('duckdb://:memory:', { files: store });
  try {
    await warehouse.setup();
    let rows = 0;
    for (const entity of ['orders', 'customers']) {
      const files = claimed[entity].files.map((f) => ({ path: f.path, key: lifecycle.processingKey(entity, batchId, f.path), size: f.size }));
      const result = await warehouse.load({ entity, batchId, files });
      rows += result.files.reduce((sum, f) => sum + f.rowsLoaded, 0);
    }
    const t = await warehouse.transform(batchId);
    out.warehouse = `${rows} rows loaded, ${t.curatedRows} curated, ${t.fulfilledOrders} fulfilled`;
  } finally {
    await warehouse.close();
  }

  // snowflake-sdk is an optional peer, not installed here: a snowflake:// warehouse says what to install.
  const snowflake = await openWarehouse('snowflake://myorg-myaccount/RETAIL_DB/RETAIL_SCHEMA?authenticator=OAUTH&user=BATCHLINE', {
    env: {},
    snowflake: { token: async () => randomUUID() }, // never sent: the driver is missing
  });
  try {
    await snowflake.setup();
    out.snowflakeWithoutDriver = 'setup ran without snowflake-sdk';
  } catch (error) {
    out.snowflakeWithoutDriver = `${error.name}: ${error.message}`;
  } finally {
    await snowflake.close();
  }

  // ... and the archive, back on s3-lifecycle
  const archived = await lifecycle.archive('orders', batchId);
  out.archived = `${archived.state} ${fs.readdirSync(path.join(storeDir, 'orders', 'processed', batchId, '2026', '11', '26', '03')).length}`;
  await store.close();

  // The AWS SDK loads lazily (require) in both builds: an s3:// store with copy threads, and a Firehose sink, made
  // and closed (nothing is sent).
  const s3 = openObjectStore('s3://smoke-bucket/prefix', { region: 'us-east-1', copyThreads: 2 });
  await s3.close();
  out.s3Store = s3.location;

  // @batchline/kinesis-producer: drain a CSV file (with a header line) into a landing directory
  const { createDirectoryLandingStore, createFirehoseSink, createLandingSink, createProducer } = await load('@batchline/kinesis-producer');
  await createFirehoseSink({ region: 'us-east-1' }).close();
  const csv = path.join(work, 'orders.csv');
  fs.writeFileSync(csv, `O_ORDERKEY,O_CUSTKEY,O_ORDERSTATUS,O_TOTALPRICE,O_ORDERDATE,O_ORDERPRIORITY,O_CLERK,O_SHIPPRIORITY,O_COMMENT\n${ORDERS}`);
  const landingDir = path.join(work, 'lake');
  const sink = createLandingSink({ store: createDirectoryLandingStore(landingDir), prefixes: { orders: 'orders/landing/' } });
  const producer = createProducer({
    flows: [{ filePattern: csv, deliveryStream: 'orders', skipHeaderLines: 1 }],
    sink,
    checkpointFile: path.join(work, 'producer-checkpoint.json'),
  });
  await producer.drain();
  await sink.close();
  const landed = fs
    .readdirSync(landingDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => fs.readFileSync(path.join(e.parentPath, e.name), 'utf8'))
    .join('');
  out.producer = `${landed.length} bytes landed, same as the records: ${landed === ORDERS}`;
  return out;
}

/** Runs the calls in a fresh directory and prints them as one JSON line. */
async function main(load) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'batchline-smoke-'));
  try {
    process.stdout.write(`${JSON.stringify(await calls(load, work))}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

module.exports = { main, ORDERS, CUSTOMERS };
