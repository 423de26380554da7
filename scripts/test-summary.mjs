#!/usr/bin/env node
// One closing line for the whole repository, summed from each package's vitest JSON report
// (written by the reporter configured in vitest.shared.ts, restored by Nx on a cache hit).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
let passed = 0;
let failed = 0;
let skipped = 0;
let missing = 0;
for (const dir of readdirSync(path.join(root, 'packages')).sort()) {
  const report = path.join(root, 'packages', dir, 'test-results', 'vitest.json');
  const manifest = path.join(root, 'packages', dir, 'package.json');
  if (!existsSync(manifest)) continue;
  // A package with no test script has no report to miss; one that has a script and no report does.
  if (!JSON.parse(readFileSync(manifest, 'utf8')).scripts?.test) continue;
  if (!existsSync(report)) {
    missing++;
    console.log(`${dir}: no test report`);
    continue;
  }
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  console.log(`${dir}: ${r.numPassedTests} passed, ${r.numFailedTests} failed in ${r.numTotalTestSuites} suites`);
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed === 0 && missing === 0 && passed > 0 ? 0 : 1);
