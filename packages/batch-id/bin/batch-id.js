#!/usr/bin/env node
// The `batch-id` bin. A small committed file, so npm links the bin in a fresh clone before dist/ is built.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('batch-id: dist/cli.js is not built yet: run `npm start` or `npm run build` in the repository first\n');
  process.exit(2);
}
await import(cli.href);
