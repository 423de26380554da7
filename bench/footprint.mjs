#!/usr/bin/env node
// Footprint of what users install: the packed tarballs installed into empty projects, as another team would.
// - install size of @batchline/pipeline with its siblings (target <= 160 MB) and of @batchline/batch-id alone
//   (target <= 1 MB): bytes on disk of the project's node_modules (du), and the apparent size;
// - cold import of @batchline/pipeline (a fresh process each time) and opening a file:// store (target <= 150 ms),
//   against peers measured in the same run, interleaved: a bare `node -e ''` start and importing only
//   @batchline/batch-id. Medians of N runs; no figure is asserted (machines are noisy).
// Usage: npm run bench:footprint [-- --runs 21]
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { installInto, packAll, publishedPackages } from '../scripts/packed-install.mjs';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg === -1 ? 21 : Number(process.argv[runsArg + 1]);
if (!Number.isInteger(RUNS) || RUNS < 3) throw new Error(`--runs ${JSON.stringify(process.argv[runsArg + 1])}: expected an integer >= 3`);

const MB = 1_000_000;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (bytes) => `${(bytes / MB).toFixed(1)} MB`;

function sizeOf(dir) {
  const disk = Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]) * 1024;
  const apparent = Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
  return { disk, apparent };
}

/** Wall time of a fresh process (ms), and the import's wall and CPU time it measured itself (ms), if it printed them. */
function timeProcess(cwd, script) {
  const started = process.hrtime.bigint();
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd, encoding: 'utf8' }).trim();
  const wall = Number(process.hrtime.bigint() - started) / 1e6;
  const [inner, cpu] = out === '' ? [] : out.split(' ').map(Number);
  return { wall, inner, cpu };
}

const work = mkdtempSync(path.join(tmpdir(), 'batchline-footprint-'));
try {
  const published = publishedPackages();
  const packed = packAll(published, work);
  const tarball = (name) => packed.get(name).tarball;

  const pipelineProject = path.join(work, 'pipeline-user');
  mkdirSync(pipelineProject);
  installInto(pipelineProject, published.map((p) => tarball(p.name))); // the pipeline's siblings come from their tarballs
  const batchIdProject = path.join(work, 'batch-id-user');
  mkdirSync(batchIdProject);
  installInto(batchIdProject, [tarball('@batchline/batch-id')]);

  const pipelineSize = sizeOf(path.join(pipelineProject, 'node_modules'));
  const batchIdSize = sizeOf(path.join(batchIdProject, 'node_modules'));
  const biggest = execFileSync('sh', ['-c', 'du -sk node_modules/* node_modules/@*/* 2>/dev/null | sort -rn | head -8'], {
    cwd: pipelineProject,
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .map((line) => {
      const [kb, name] = line.split('\t');
      return `${name.replace('node_modules/', '')} ${fmt(Number(kb) * 1024)}`;
    });

  const storeDir = path.join(work, 'store');
  // CPU time (user + system) as well as wall time: on a loaded machine the CPU time is the steadier figure.
  const timed = (body) =>
    `const t0 = performance.now(), c0 = process.cpuUsage(); ${body} const c = process.cpuUsage(c0); ` +
    'process.stdout.write(`${performance.now() - t0} ${(c.user + c.system) / 1000}`);';
  const cases = {
    'node -e "" (bare start)': '',
    'import @batchline/batch-id': timed(`await import('@batchline/batch-id');`),
    'import @batchline/pipeline + open file:// store': timed(
      `await import('@batchline/pipeline'); const { openObjectStore } = await import('@batchline/s3-lifecycle'); openObjectStore(${JSON.stringify(`file://${storeDir}`)});`,
    ),
  };
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, { wall: [], inner: [], cpu: [] }]));
  timeProcess(pipelineProject, cases['import @batchline/pipeline + open file:// store']); // not counted: fills the OS file cache
  for (let i = 0; i < RUNS; i++) {
    for (const [name, script] of Object.entries(cases)) {
      const { wall, inner, cpu } = timeProcess(pipelineProject, script);
      samples[name].wall.push(wall);
      if (inner !== undefined) samples[name].inner.push(inner);
      if (cpu !== undefined) samples[name].cpu.push(cpu);
    }
  }

  const bare = median(samples['node -e "" (bare start)'].wall);
  const batchIdImport = median(samples['import @batchline/batch-id'].inner);
  const pipelineImport = median(samples['import @batchline/pipeline + open file:// store'].inner);
  const pipelineCpu = median(samples['import @batchline/pipeline + open file:// store'].cpu);
  console.log(`batchline footprint (Node ${process.version}, ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})`);
  console.log('');
  console.log('install size (packed tarballs into an empty project; du of node_modules: on disk / apparent)');
  console.log(`  @batchline/pipeline + siblings  ${fmt(pipelineSize.disk)} / ${fmt(pipelineSize.apparent)}   (target <= 160 MB)`);
  console.log(`  @batchline/batch-id             ${fmt(batchIdSize.disk)} / ${fmt(batchIdSize.apparent)}   (target <= 1 MB)`);
  console.log(`  largest in the pipeline install: ${biggest.join(', ')}`);
  console.log('');
  console.log(`cold start, median of ${RUNS} fresh processes each, interleaved`);
  for (const [name, s] of Object.entries(samples)) {
    const inner = s.inner.length ? `, import ${median(s.inner).toFixed(1)} ms (CPU ${median(s.cpu).toFixed(1)} ms)` : '';
    console.log(`  ${name.padEnd(48)} process ${median(s.wall).toFixed(1)} ms${inner}`);
  }
  console.log('');
  console.log(`  import @batchline/pipeline + file:// store: ${pipelineImport.toFixed(1)} ms, CPU ${pipelineCpu.toFixed(1)} ms (target <= 150 ms)`);
  console.log(`  ratio to importing @batchline/batch-id: ${(pipelineImport / batchIdImport).toFixed(1)}x`);
  console.log(`  ratio of the whole process to a bare node start: ${(median(samples['import @batchline/pipeline + open file:// store'].wall) / bare).toFixed(2)}x`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
