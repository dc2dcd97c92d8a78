/**
 * What a process (or a process group: Kamailio forks its workers into one group) costs, read
 * from Linux /proc: resident memory and CPU time. PSS (proportional set size) is used for a
 * group because its workers share memory (Kamailio's shm), which RSS would count once per
 * process.
 */
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux x86_64

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the process ended between listing and reading
  }
}

function statusField(pid: number, field: string): number | undefined {
  const status = readOrUndefined(`/proc/${pid}/status`);
  const match = status === undefined ? null : new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : undefined;
}

/** VmRSS of one process in KiB. */
export function vmRssKb(pid: number): number {
  const rss = statusField(pid, 'VmRSS');
  if (rss === undefined) throw new Error(`no VmRSS for pid ${pid} (has it exited?)`);
  return rss;
}

/** The fields of /proc/PID/stat after the command name (which may contain spaces). */
function statFields(pid: number): string[] | undefined {
  const stat = readOrUndefined(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Pids whose process group is `pgid` (the leader included). */
export function groupPids(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    // After the command: state(0) ppid(1) pgrp(2)
    if (fields !== undefined && Number(fields[2]) === pgid) pids.push(Number(entry));
  }
  return pids;
}

/** Sum of Pss over the group's processes, in KiB (smaps_rollup, Linux ≥ 4.14). */
export function groupPssKb(pgid: number): number {
  let total = 0;
  for (const pid of groupPids(pgid)) {
    const rollup = readOrUndefined(`/proc/${pid}/smaps_rollup`);
    const match = rollup === undefined ? null : /^Pss:\s+(\d+) kB/m.exec(rollup);
    if (match) total += Number(match[1]);
  }
  return total;
}

/** Sum of VmRSS over the group's processes, in KiB (counts shared pages once per process). */
export function groupRssKb(pgid: number): number {
  return groupPids(pgid).reduce((sum, pid) => sum + (statusField(pid, 'VmRSS') ?? 0), 0);
}

/** CPU seconds split into user space and kernel (system calls, and on loopback the receiver's softirq work). */
export interface CpuSplit {
  readonly user: number;
  readonly system: number;
}

/** User and system CPU seconds used so far by the group's live processes. */
export function groupCpuSplit(pgid: number): CpuSplit {
  let user = 0;
  let system = 0;
  for (const pid of groupPids(pgid)) {
    const fields = statFields(pid);
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the command.
    if (fields !== undefined) {
      user += Number(fields[11]);
      system += Number(fields[12]);
    }
  }
  return { user: user / CLOCK_TICKS_PER_SECOND, system: system / CLOCK_TICKS_PER_SECOND };
}

/** User + system CPU seconds used so far by the group's live processes. */
export function groupCpuSeconds(pgid: number): number {
  const { user, system } = groupCpuSplit(pgid);
  return user + system;
}

/** User and system CPU seconds this (generator) process used so far. */
export function ownCpuSplit(): CpuSplit {
  const usage = process.cpuUsage();
  return { user: usage.user / 1e6, system: usage.system / 1e6 };
}

/** CPU seconds this (generator) process used so far. */
export function ownCpuSeconds(): number {
  const { user, system } = ownCpuSplit();
  return user + system;
}
