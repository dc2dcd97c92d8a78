/**
 * How long and with which seed the robustness fuzz runs (issue #11 Proof: "a seeded fuzz run
 * over the W2 and Mw entry points for a bounded time in CI and longer on demand").
 *
 *   FUZZ_SEED      the fast-check seed (default 11011: the same runs on every CI build)
 *   FUZZ_RUNS      runs per property (default: each property's own CI count, sized so the whole
 *                  robustness fuzz stays under a minute on a 2-core machine)
 *   FUZZ_FILE_MS   a time budget per test file instead (set by `npm run fuzz -- --minutes N`):
 *                  the file's properties share it and run until it is spent
 *
 * A failure prints fast-check's seed, path and shrunk counterexample; rerun it with FUZZ_SEED.
 */
import type { Parameters } from 'fast-check';

export const FUZZ_SEED = integerFromEnv('FUZZ_SEED') ?? 11011;
const RUNS_OVERRIDE = integerFromEnv('FUZZ_RUNS');
const FILE_MS = integerFromEnv('FUZZ_FILE_MS');

/** True when a time budget was asked for (the long, on-demand run). */
export const FUZZ_TIMED = FILE_MS !== undefined;

/**
 * fast-check parameters for one property: `ciRuns` runs by default, or a share of the file's
 * time budget (`propertiesInFile` properties share it) with no run limit.
 */
export function fuzzParameters<T>(ciRuns: number, propertiesInFile: number): Parameters<T> {
  if (FILE_MS !== undefined) {
    return {
      seed: FUZZ_SEED,
      numRuns: Number.MAX_SAFE_INTEGER,
      interruptAfterTimeLimit: Math.max(1000, Math.floor(FILE_MS / propertiesInFile)),
      markInterruptAsFailure: false,
    };
  }
  return { seed: FUZZ_SEED, numRuns: RUNS_OVERRIDE ?? ciRuns };
}

/** The tap timeout a fuzz file needs (seconds): its budget plus start-up and health checks. */
export function fuzzTimeoutSeconds(ciSeconds: number): number {
  return FILE_MS === undefined ? ciSeconds : Math.ceil(FILE_MS / 1000) + ciSeconds;
}

function integerFromEnv(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${JSON.stringify(text)}`);
  return value;
}
