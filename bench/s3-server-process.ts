// Starts bench/s3-lifecycle-server.ts (the S3 test server on 127.0.0.1) as a process of its own, for the S3 benches.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

export async function startS3ServerProcess(): Promise<{ endpoint: string; child: ChildProcess }> {
  const script = path.join(import.meta.dirname, 's3-lifecycle-server.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`S3 server exited with ${code}`)));
  });
  return { endpoint: (JSON.parse(first) as { endpoint: string }).endpoint, child };
}
