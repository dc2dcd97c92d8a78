/**
 * The "before" build of bench/hotpath: a detached git worktree of the baseline commit in a
 * temporary directory, with the main checkout's node_modules symlinked in (no install: the
 * dependencies are the ones this checkout already has) and its dist/ compiled by that commit's
 * own `tsc -p tsconfig.json`. `remove()` deletes the worktree (git worktree remove --force) and
 * prunes its record.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BaselineTree {
  readonly commit: string;
  readonly dir: string;
  remove(): void;
}

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

export function buildBaselineTree(repoRoot: string, commit: string): BaselineTree {
  const fullCommit = git(repoRoot, 'rev-parse', '--verify', `${commit}^{commit}`);
  const dir = join(mkdtempSync(join(tmpdir(), 'epcscf-hotpath-')), 'baseline');
  git(repoRoot, 'worktree', 'add', '--detach', dir, fullCommit);
  const remove = (): void => {
    try { git(repoRoot, 'worktree', 'remove', '--force', dir); } catch { /* already gone */ }
    rmSync(join(dir, '..'), { recursive: true, force: true });
    try { git(repoRoot, 'worktree', 'prune'); } catch { /* nothing to prune */ }
  };
  try {
    const modules = join(repoRoot, 'node_modules');
    if (!existsSync(modules)) throw new Error(`no ${modules} to link into the baseline tree`);
    symlinkSync(realpathSync(modules), join(dir, 'node_modules'), 'dir');
    process.stdout.write(`building the baseline ${fullCommit.slice(0, 7)} in ${dir} (tsc -p tsconfig.json)...\n`);
    try {
      execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      // tsc emits on type errors too (a newer @types in node_modules than the commit had): say so, run it.
      process.stdout.write(`warning: tsc reported errors in the baseline; running the emitted build anyway\n${String((error as { stdout?: Buffer }).stdout ?? '').slice(0, 2000)}\n`);
    }
    if (!existsSync(join(dir, 'dist/core/cli/main.js'))) throw new Error(`the baseline build left no dist/core/cli/main.js in ${dir}`);
  } catch (error) {
    remove();
    throw error;
  }
  return { commit: fullCommit, dir, remove };
}
