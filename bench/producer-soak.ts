// Soak of @batchline/kinesis-producer (issue 12): 200,000 CSV records with quoted newlines, rotations of
// both kinds (rename, copytruncate; live and while down), per-record failures, throttling, dropped
// connections and 20 SIGKILL/restart cycles of the CLI, then one final --drain. Compared with an
// independent CSV parse (csv-parse): it must end with 0 records lost and no fragment.
//
//   npx tsx bench/producer-soak.ts [--records 200000] [--kills 20] [--seed N]
import os from 'node:os';
import { parseArgs } from 'node:util';
import { runSoak } from '../packages/kinesis-producer/test/support/soak.ts';

const { values } = parseArgs({
  options: { records: { type: 'string', default: '200000' }, kills: { type: 'string', default: '20' }, seed: { type: 'string' } },
});
const seed = Number(values.seed ?? Date.now() % 1_000_000);
const started = Date.now();
const result = await runSoak({ records: Number(values.records), kills: Number(values.kills), seed, log: (l) => console.error(l) });
const seconds = (Date.now() - started) / 1000;
console.log(JSON.stringify({ seed, seconds, cores: os.cpus().length, load: os.loadavg().map((l) => l.toFixed(2)), ...result }, null, 1));
const ok = result.lost === 0 && result.foreign === 0 && result.brokenFirehoseRecords === 0 && result.finalExitCode === 0 && result.violations.length === 0;
console.log(ok ? 'PASS: 0 lost, no fragment' : 'FAIL');
process.exitCode = ok ? 0 : 1;
