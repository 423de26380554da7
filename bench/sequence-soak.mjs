// The long version of the randomized sequence test (packages/pipeline/test/sequence-random.test.ts): many seeds
// of six batches with late customers, re-deliveries, renames and a bad record, run in shuffled orders with
// concurrent pairs and SIGKILLs of the built CLI; each seed must end equal to an independent oracle of the
// in-order run. Not a speed benchmark: it prints seeds passed and the time per seed.
//   node bench/sequence-soak.mjs [--seeds 50] [--first 100]     (build first: npm run build)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { seeds: { type: 'string', default: '50' }, first: { type: 'string', default: '100' } } });
const pipelineDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'packages', 'pipeline');
const started = Date.now();
const result = spawnSync('npx', ['vitest', 'run', 'test/sequence-random.test.ts'], {
  cwd: pipelineDir,
  env: { ...process.env, SEQUENCE_SEEDS: values.seeds, SEQUENCE_FIRST_SEED: values.first },
  stdio: 'inherit',
});
const seconds = (Date.now() - started) / 1000;
console.log(`sequence soak: ${values.seeds} seed(s) from ${values.first}: ${result.status === 0 ? 'all passed' : 'FAILED'} in ${seconds.toFixed(0)} s (${(seconds / Number(values.seeds)).toFixed(1)} s per seed)`);
process.exit(result.status ?? 1);
