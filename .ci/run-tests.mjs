#!/usr/bin/env node
// Runs the tap suite and prints, as its last line, `N passed, N failed` counted from the TAP
// stream itself (tap's own summary is not a format CI reads). A test is one `t.test()` inside
// a test file; a file that fails outside any subtest (crash, timeout) counts as one failure.
// Extra arguments go to tap (e.g. `npm test -- test/unit/sip`).
//
// Coverage is not collected here (collecting it slows every test process, and its report is
// not a test result): `npm run coverage` runs the same suite with it and fails below the
// thresholds in package.json "tap" (statements/branches/functions/lines: what the project holds).
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

// package.json "tap" swaps tap's TypeScript plugin (ts-node) for the tsx loader. tap rebuilds its
// plugin set when the config changes, but the run that notices the change still uses the old
// loaders: build it first (≈ 10 s, beside the type check) so this run already loads through tsx.
const tapBuild = new Promise((resolve) => {
  const build = spawn('npx', ['tap', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  build.on('close', resolve);
});

// The whole tree (tests and benches included) must type-check under strict settings: a type
// error counts as one failed test, reported first.
const typecheck = spawnSync('npx', ['tsc', '-p', 'tsconfig.test.json'], { encoding: 'utf8' });
const typecheckFailed = typecheck.status !== 0;
process.stdout.write(typecheckFailed ? `not ok - typecheck (tsc -p tsconfig.test.json)\n${typecheck.stdout}${typecheck.stderr}\n` : 'ok - typecheck (tsc -p tsconfig.test.json)\n');

// tap finds `.ts` test files in a folder only through its TypeScript plugin, which this project
// replaces with the tsx loader (package.json "tap"): a folder argument is expanded here.
const testFilesUnder = (dir) => readdirSync(dir, { recursive: true }).map(String)
  .filter((name) => name.endsWith('.test.ts')).sort().map((name) => join(dir, name));
const isDirectory = (arg) => { try { return statSync(arg).isDirectory(); } catch { return false; } };
const extra = process.argv.slice(2).flatMap((arg) => (!arg.startsWith('-') && isDirectory(arg) ? testFilesUnder(arg) : [arg]));
const args = ['tap', '-R', 'tap', '--disable-coverage', ...extra];
await tapBuild;
const child = spawn('npx', args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FORCE_COLOR: '0' } });

let passed = typecheckFailed ? 0 : 1;
let failed = typecheckFailed ? 1 : 0;
let skipped = 0;
let fileFailures = 0; // failures seen inside the current top-level file
const failures = typecheckFailed ? ['typecheck: tsc -p tsconfig.test.json reported errors'] : [];
let currentFile = '';

const lines = createInterface({ input: child.stdout });
lines.on('line', (line) => {
  process.stdout.write(line + '\n');
  const sub = /^# Subtest: (.*)$/.exec(line);
  if (sub) { currentFile = sub[1]; fileFailures = 0; return; }
  const depth1 = /^ {4}(not ok|ok) \d+ - (.*?)(?: # (SKIP|TODO)\b.*)?$/.exec(line);
  if (depth1) {
    if (depth1[3]) skipped++;
    else if (depth1[1] === 'ok') passed++;
    else { failed++; fileFailures++; failures.push(`${currentFile}: ${depth1[2]}`); }
    return;
  }
  const top = /^(not ok|ok) \d+ - (\S+)/.exec(line);
  if (top) {
    if (top[1] === 'not ok' && fileFailures === 0) { failed++; failures.push(`${top[2]}: file failed outside any test`); }
    fileFailures = 0;
  }
});

child.on('close', (code) => {
  if (failures.length) {
    process.stdout.write('\nFailed:\n' + failures.map((f) => `  - ${f}`).join('\n') + '\n');
  }
  if (code !== 0 && failed === (typecheckFailed ? 1 : 0)) failed++; // tap itself failed (bad config, no tests): never report green
  process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  process.exit(failed > 0 ? 1 : 0);
});
