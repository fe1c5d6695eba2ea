#!/usr/bin/env node
// Adds up the per-package vitest JSON reports into one closing line: "tests: N passed, N failed, N skipped".
// Exits 1 when a report is missing (a package whose tests did not run) or nothing ran at all.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const dir = join(root, '.cache/test-results');
const expected = ['packages', 'apps'].flatMap((group) =>
  readdirSync(join(root, group)).filter((name) => existsSync(join(root, group, name, 'vitest.config.ts'))),
).length;
const reports = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of reports) {
  const r = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests + (r.numFailedTestSuites ?? 0) * (r.numTotalTests === 0 ? 1 : 0);
  skipped += r.numPendingTests + r.numTodoTests;
}
if (reports.length < expected) {
  console.error(`test-summary: only ${reports.length} of ${expected} packages reported results`);
  failed += expected - reports.length;
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
