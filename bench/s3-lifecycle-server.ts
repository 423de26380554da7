// The S3 test server of @batchline/s3-lifecycle (fauxqs on 127.0.0.1, port 0, with the package's test
// layer for conditional writes), in its own process (it stops when its stdin closes) so every client in bench/s3-lifecycle.ts talks
// to it over loopback on equal terms. Prints `{"endpoint": "..."}` on stdout, stops on SIGTERM.
import { startS3Server } from '../packages/s3-lifecycle/test/support/s3-server.js';

const server = await startS3Server();
process.stdout.write(`${JSON.stringify({ endpoint: server.endpoint })}\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Stop with the parent, however it ends: it holds our stdin open while it lives.
process.stdin.on('end', stop).resume();
