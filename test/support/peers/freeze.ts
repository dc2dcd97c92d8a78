/**
 * Freezes a peer daemon and its children (SIGSTOP): a network outage as the P-CSCF sees it
 * (nothing answers, the peer's state is kept), thawed again with SIGCONT. Kamailio forks its
 * SIP workers, so the whole process tree is stopped.
 */
import { execFileSync } from 'node:child_process';

function processTree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch { /* no children */ }
  return [pid, ...children.flatMap(processTree)];
}

/** SIGSTOPs `pid` and its descendants; returns the idempotent thaw (SIGCONT). */
export function freezeProcessTree(pid: number): { readonly pids: readonly number[]; thaw(): void } {
  const pids = processTree(pid);
  for (const each of pids) process.kill(each, 'SIGSTOP');
  let thawed = false;
  return {
    pids,
    thaw() {
      if (thawed) return;
      thawed = true;
      for (const each of pids) {
        try { process.kill(each, 'SIGCONT'); } catch { /* already gone */ }
      }
    },
  };
}
