#!/usr/bin/env node
// The robustness fuzz on demand (issue #11): the same properties as CI (test/robustness/fuzz-*.test.ts)
// with a time budget instead of a run count.
//
//   npm run fuzz                          the CI run: fixed seed, fixed run counts (≤ 60 s)
//   npm run fuzz -- --minutes 30          every fuzz file for ~30 minutes, in parallel, fresh seed
//   npm run fuzz -- --minutes 30 --seed 42 --only w2-sip-ws
//   npm run fuzz -- --runs 5000           fixed seed, 5000 runs per property
//
// A failure prints fast-check's seed, path and shrunk counterexample; replay it with
// FUZZ_SEED=<seed> npx tap test/robustness/fuzz-<file>.test.ts.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

function usage(message) {
  if (message) process.stderr.write(`run-fuzz: ${message}\n`);
  process.stderr.write('usage: npm run fuzz -- [--minutes N] [--seed S] [--runs R] [--only NAME]...\n');
  process.exit(2);
}

const args = process.argv.slice(2);
let minutes;
let seed;
let runs;
const only = [];
for (let i = 0; i < args.length; i++) {
  const flag = args[i];
  const value = args[i + 1];
  const number = () => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n <= 0) usage(`${flag} needs a positive number`);
    i++;
    return n;
  };
  if (flag === '--minutes') minutes = number();
  else if (flag === '--seed') seed = Math.trunc(number());
  else if (flag === '--runs') runs = Math.trunc(number());
  else if (flag === '--only') { if (value === undefined) usage('--only needs a name'); only.push(value); i++; }
  else if (flag === '--help' || flag === '-h') usage();
  else usage(`unknown argument ${flag}`);
}

const files = readdirSync(here)
  .filter((f) => /^fuzz-.*\.test\.ts$/.test(f))
  .filter((f) => only.length === 0 || only.some((name) => f.includes(name)))
  .map((f) => relative(root, join(here, f)));
if (files.length === 0) usage('no fuzz file matches');

const env = { ...process.env, FORCE_COLOR: '0' };
// A time-budgeted run explores: a fresh seed unless one is named (it is printed for replay).
if (seed === undefined && minutes !== undefined) seed = randomInt(1, 2 ** 31 - 1);
if (seed !== undefined) env.FUZZ_SEED = String(seed);
if (runs !== undefined) env.FUZZ_RUNS = String(runs);
if (minutes !== undefined) env.FUZZ_FILE_MS = String(Math.round(minutes * 60_000));

// Files run side by side, each for the whole budget: the run takes about `minutes` of wall time.
const timeoutSeconds = Math.ceil((minutes ?? 0) * 60) + 300;
process.stdout.write(`fuzz: ${files.length} files, seed ${env.FUZZ_SEED ?? '11011 (default)'}, ${minutes !== undefined ? `${minutes} min each` : `${runs ?? 'CI'} runs per property`}\n`);
const child = spawn('npx', ['tap', '--disable-coverage', '-j', String(files.length), '-t', String(timeoutSeconds), ...files], { cwd: root, env, stdio: 'inherit' });
child.on('close', (code) => {
  if (code !== 0) process.stdout.write(`fuzz: FAILED; replay with FUZZ_SEED=${env.FUZZ_SEED ?? '11011'} (see the counterexample above)\n`);
  process.exit(code ?? 1);
});
