// Benchmark of @batchline/kinesis-producer: tail a 1 GB CSV into a local Firehose
// endpoint, with aggregation on, and a peer run with aggregation off (one CSV record
// per Firehose record, what the Kinesis Agent does by default) for ratios.
//
//   npx tsx bench/producer.ts [--gib 1] [--peer-mib 256]
//
// The peer reads the first --peer-mib of the same kind of data (default 256 MiB: at one record
// per line it is ~10x slower, and a ratio of rates needs no full gigabyte).
//
// The CSV is generated once under bench/.data/ (gitignored) and reused.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const { values } = parseArgs({ options: { gib: { type: 'string', default: '1' }, 'peer-mib': { type: 'string' } } });
const totalBytes = Math.round(Number(values.gib) * 1024 ** 3);
const peerBytes = Math.min(totalBytes, Number(values['peer-mib'] ?? 256) * 1024 ** 2);
const here = import.meta.dirname;
const dataDir = path.join(here, '.data');
const MiB = 1024 * 1024;

/** Deterministic TPC-H-shaped orders rows; about 1 in 500 has a quoted comment spanning two lines. */
async function generate(file: string, bytes: number): Promise<number> {
  const out = createWriteStream(file, { highWaterMark: 4 * MiB });
  const statuses = ['O', 'F', 'P'];
  const priorities = ['1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW'];
  const words = ['furiously', 'regular', 'deposits', 'sleep', 'quickly', 'final', 'packages', 'boost', 'carefully', 'ironic'];
  let written = 0;
  let rows = 0;
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const header = 'o_orderkey,o_custkey,o_orderstatus,o_totalprice,o_orderdate,o_orderpriority,o_clerk,o_shippriority,o_comment\n';
  out.write(header);
  written += header.length;
  while (written < bytes) {
    let block = '';
    for (let i = 0; i < 20_000 && written + block.length < bytes; i++) {
      rows++;
      const w = Array.from({ length: 3 + Math.floor(rnd() * 6) }, () => words[Math.floor(rnd() * words.length)]).join(' ');
      const comment = rows % 500 === 0 ? `"${w},\n${w} ""quoted"""` : rows % 7 === 0 ? `"${w}, ${w}"` : w;
      const day = 1 + Math.floor(rnd() * 28);
      block +=
        `${rows},${1 + Math.floor(rnd() * 150_000)},${statuses[rows % 3]},${(rnd() * 500_000).toFixed(2)},` +
        `1996-${String(1 + (rows % 12)).padStart(2, '0')}-${String(day).padStart(2, '0')},${priorities[rows % 5]},` +
        `Clerk#${String(1 + Math.floor(rnd() * 1000)).padStart(9, '0')},0,${comment}\n`;
    }
    written += block.length;
    if (!out.write(block)) await new Promise((r) => out.once('drain', r));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return rows;
}

function tsx(script: string, args: string[]): ChildProcess {
  return node(['--import', 'tsx', path.join(here, script), ...args]);
}

function node(args: string[]): ChildProcess {
  return spawn(process.execPath, args, {
    stdio: ['pipe', 'pipe', 'inherit'],
    cwd: path.join(here, '..'),
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
}

async function firstLine(child: ChildProcess): Promise<Record<string, unknown>> {
  for await (const line of createInterface({ input: child.stdout! })) return JSON.parse(line) as Record<string, unknown>;
  throw new Error('child ended without output');
}

async function main(): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, `orders-${values.gib}gib.csv`);
  const peerFile = peerBytes === totalBytes ? file : path.join(dataDir, `orders-${peerBytes / MiB}mib.csv`);
  const rowsOf = new Map<string, number>();
  for (const [f, bytes] of [[file, totalBytes], [peerFile, peerBytes]] as const) {
    if (rowsOf.has(f)) continue;
    const existing = await stat(f).catch(() => undefined);
    const marker = `${f}.rows`;
    const { readFile, writeFile } = await import('node:fs/promises');
    if (existing && existing.size >= bytes) {
      rowsOf.set(f, Number(await readFile(marker, 'utf8')));
    } else {
      process.stderr.write(`generating ${(bytes / MiB).toFixed(0)} MiB of CSV in ${f} ...\n`);
      const rows = await generate(f, bytes);
      await writeFile(marker, String(rows));
      rowsOf.set(f, rows);
    }
  }

  // The producer runs as plain bundled JavaScript, as it does when installed (tsx alone would add ~50 MB of RSS).
  const runner = path.join(dataDir, 'producer-run.mjs');
  await build({
    entryPoints: [path.join(here, 'producer-run.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    outfile: runner,
    logLevel: 'warning',
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });

  const endpoint = tsx('producer-endpoint.ts', []);
  const { url } = (await firstLine(endpoint)) as { url: string };
  const endpointLines = createInterface({ input: endpoint.stdout! })[Symbol.asyncIterator]();
  const endpointStats = async () => {
    endpoint.stdin!.write('stats\n');
    return JSON.parse((await endpointLines.next()).value as string) as {
      counts: Record<string, { records: number; bytes: number }>;
      calls: number;
      maxCallBytes: number;
      violations: string[];
    };
  };

  async function run(label: string, f: string, aggregate: number) {
    const stream = `bench-${label}`;
    const child = node([runner, f, url, stream, String(aggregate), String(rowsOf.get(f))]);
    const r = (await firstLine(child)) as {
      recordsSent: number;
      bytesSent: number;
      calls: number;
      seconds: number;
      maxRssKiB: number;
      cpuSeconds: number;
    };
    await new Promise((resolve) => child.once('exit', resolve));
    const mib = r.bytesSent / MiB;
    return {
      label,
      lines: r.recordsSent,
      mib,
      seconds: r.seconds,
      linesPerSecond: r.recordsSent / r.seconds,
      mibPerSecond: mib / r.seconds,
      calls: r.calls,
      callsPerMiB: r.calls / mib,
      peakRssMiB: r.maxRssKiB / 1024,
      cpuSeconds: r.cpuSeconds,
    };
  }

  const aggregated = await run('aggregated', file, 1_024_000);
  const peer = await run('one-record-per-line', peerFile, 0);
  const stats = await endpointStats();
  endpoint.stdin!.end();
  await new Promise((resolve) => endpoint.once('exit', resolve));

  const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  console.log(
    `\n@batchline/kinesis-producer bench: ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, Node ${process.version}, ` +
      `load average ${os.loadavg()[0]!.toFixed(1)} at the end`,
  );
  console.log('run                   lines      MiB     s   lines/s   MiB/s  calls  calls/MiB  peak RSS MB  CPU s');
  for (const r of [aggregated, peer]) {
    console.log(
      `${r.label.padEnd(20)} ${fmt(r.lines).padStart(10)} ${fmt(r.mib).padStart(6)} ${fmt(r.seconds, 1).padStart(5)} ${fmt(r.linesPerSecond).padStart(9)} ` +
        `${fmt(r.mibPerSecond, 1).padStart(6)} ${fmt(r.calls).padStart(6)} ${fmt(r.callsPerMiB, 3).padStart(10)} ${fmt(r.peakRssMiB * 1.048576).padStart(12)} ${fmt(r.cpuSeconds, 1).padStart(6)}`,
    );
  }
  console.log(
    `\naggregation on vs off: ${fmt(aggregated.linesPerSecond / peer.linesPerSecond, 2)}x lines/s, ` +
      `${fmt(peer.callsPerMiB / aggregated.callsPerMiB, 1)}x fewer calls per MiB`,
  );
  console.log(
    `calls per MiB with aggregation: ${fmt(aggregated.callsPerMiB, 4)} (minimum 0.25; ${fmt((aggregated.callsPerMiB / 0.25 - 1) * 100, 1)}% above)`,
  );
  console.log(`endpoint: largest call ${fmt(stats.maxCallBytes)} bytes (limit 4,194,304), limit violations: ${stats.violations.length}`);
  console.log(
    `targets: >= 200k lines/s ${aggregated.linesPerSecond >= 200_000 ? 'met' : 'MISSED'}; RSS < 150 MB ${aggregated.peakRssMiB * 1.048576 < 150 ? 'met' : 'MISSED'}; ` +
      `calls/MiB within 10% of 0.25 ${aggregated.callsPerMiB <= 0.275 ? 'met' : 'MISSED'}`,
  );
}

await main();
