/**
 * What every bench's run.ts needs around its measurements: command-line options, the versions
 * and limits of the machine it ran on, building dist/, and waiting for a quiet machine (other
 * work on the 2 cores skews every figure).
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';

export function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

export const flag = (name: string): boolean => process.argv.includes(`--${name}`);

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function kamailioVersion(): string {
  try {
    return execFileSync('kamailio', ['-v'], { encoding: 'utf8' }).split('\n')[0]?.replace(/^version:\s*/, '').trim() ?? 'unknown';
  } catch {
    return 'not installed';
  }
}

export function openFilesLimit(): string {
  try {
    return execFileSync('bash', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** `tsc -p tsconfig.json` into dist/ (the benches run the compiled epcscf). */
export function buildDist(repoRoot: string): void {
  process.stdout.write('building dist/ (tsc -p tsconfig.json)...\n');
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    // tsc still emits on type errors; run what was built but say so.
    process.stdout.write(`warning: tsc reported errors; running the emitted build anyway\n${String((error as { stdout?: Buffer }).stdout ?? '')}\n`);
  }
}

/** Waits (bounded) for the 1-minute load average to drop below 1; returns the load it started at. */
export async function waitForQuietMachine(maxSeconds: number): Promise<number> {
  const deadline = Date.now() + maxSeconds * 1000;
  while (loadavg()[0] as number > 1 && Date.now() < deadline) {
    process.stdout.write(`load average ${(loadavg()[0] as number).toFixed(2)}: waiting for the machine to be quiet...\n`);
    await sleep(10_000);
  }
  return loadavg()[0] as number;
}

/** The commit the build came from, and how many tracked files differed from it (others' work in progress is built too). */
export function sourceState(repoRoot: string): { commit: string; modifiedTrackedFiles: number } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const modified = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repoRoot, encoding: 'utf8' }).split('\n').filter(Boolean).length;
    return { commit, modifiedTrackedFiles: modified };
  } catch {
    return { commit: 'unknown', modifiedTrackedFiles: -1 };
  }
}
