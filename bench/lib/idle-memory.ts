/**
 * Memory per idle session: open `count` sessions to a target and have each registered for real
 * (sip-ws: REGISTER → 401 → REGISTER+digest → 200; xmpp-ws: SASL PLAIN + bind, the IMS REGISTER
 * behind it), leave them idle, and compare the target's resident memory before and after. The
 * sessions live in this (generator) process, so their client-side memory never counts. Run it
 * on a freshly started target: garbage left by a load run would otherwise be collected between
 * "before" and "after". The protocol is the caller's: `openSessions` opens and registers them.
 */
import { groupPssKb, groupRssKb, vmRssKb } from './proc-stats.js';

/** One open, registered client session held by the generator. */
export interface IdleSession {
  readonly connected: boolean;
  close(): void;
}

/** What is measured: one process (epcscf) or a process group (Kamailio). */
export interface MemoryTarget {
  /** The process whose memory is measured (epcscf's node process; Kamailio's main pid = pgid). */
  readonly measuredPid: number;
  /** epcscf only: full GC in the measured process, then its memoryUsage(). */
  readonly gcAndMemory?: () => Promise<NodeJS.MemoryUsage | undefined>;
}

export interface IdleConnectionsResult {
  readonly connections: number;
  /** Connections still open and registered when "after" was read. */
  readonly registeredAtEnd: number;
  readonly registerSeconds: number;
  readonly idleSeconds: number;
  /** What was read: VmRSS of one process, or Pss / RSS summed over a process group. */
  readonly metric: 'VmRSS' | 'group Pss';
  readonly beforeKb: number;
  /** After `idleSeconds` of idling (transaction state expired): the figure the target is judged on. */
  readonly afterKb: number;
  readonly kbPerConnection: number;
  /** Read right after the last registration completed (transactions still held). */
  readonly justRegisteredKb: number;
  readonly kbPerConnectionJustRegistered: number;
  /** epcscf only: V8 heap in use after a full GC, before and after. */
  readonly heapUsedBeforeKb?: number;
  readonly heapUsedAfterKb?: number;
  /** epcscf only: process.memoryUsage() after a full GC, in KiB, before and after (where RSS goes). */
  readonly processMemoryBeforeKb?: Readonly<Record<string, number>>;
  readonly processMemoryAfterKb?: Readonly<Record<string, number>>;
  /** Kamailio only: the same group summed by RSS (shared pages once per process). */
  readonly groupRssBeforeKb?: number;
  readonly groupRssAfterKb?: number;
}

export interface IdleConnectionsOptions {
  readonly target: MemoryTarget;
  /** 'process': VmRSS of target.measuredPid (epcscf); 'group': Pss of its process group (Kamailio). */
  readonly measure: 'process' | 'group';
  readonly count: number;
  readonly parallel: number;
  readonly idleSeconds: number;
  /** Connections registered and closed first (not measured). */
  readonly warmupConnections: number;
  readonly userPrefix: string;
  /** Opens and registers `count` sessions of users named after `userPrefix`, at most `parallel` at once. */
  readonly openSessions: (userPrefix: string, count: number, parallel: number) => Promise<IdleSession[]>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const kb = (bytes: number | undefined): number | undefined => bytes === undefined ? undefined : Math.round(bytes / 1024);
// The numeric fields only (the reply also carries heapSpaces, which the probe script prints).
const kbAll = (usage: NodeJS.MemoryUsage | undefined): Record<string, number> | undefined => usage === undefined ? undefined
  : Object.fromEntries(Object.entries(usage).filter((e): e is [string, number] => typeof e[1] === 'number').map(([k, v]) => [k, Math.round(v / 1024)]));

export async function measureIdleSessions(options: IdleConnectionsOptions): Promise<IdleConnectionsResult> {
  const { target } = options;
  const read = (): number => options.measure === 'process' ? vmRssKb(target.measuredPid) : groupPssKb(target.measuredPid);
  // Warm-up: code paths compiled, pools and caches sized, so "before" is a running server's
  // baseline rather than a cold one. These connections are closed again before measuring.
  const warm = await options.openSessions(`${options.userPrefix}w`, options.warmupConnections, options.parallel);
  for (const user of warm) user.close();
  await sleep(2000);
  const usageBefore = await target.gcAndMemory?.();
  const heapBefore = kb(usageBefore?.heapUsed);
  const beforeKb = read();
  const groupRssBeforeKb = options.measure === 'group' ? groupRssKb(target.measuredPid) : undefined;
  const started = Date.now();
  let users: IdleSession[] = [];
  try {
    users = await options.openSessions(options.userPrefix, options.count, options.parallel);
    const registerSeconds = (Date.now() - started) / 1000;
    // Right after the last 200 OK the transaction layers still hold the REGISTER transactions
    // (RFC 3261 §17.1.2.2 Timer K = T4 on UDP Mw, §17.2.2 Timer J): a transient, reported apart.
    await target.gcAndMemory?.();
    const justRegisteredKb = read();
    // Idle: only the W2 keep-alive pings (if any) run now.
    await sleep(options.idleSeconds * 1000);
    const usageAfter = await target.gcAndMemory?.();
    const heapAfter = kb(usageAfter?.heapUsed);
    const processMemoryBeforeKb = kbAll(usageBefore);
    const processMemoryAfterKb = kbAll(usageAfter);
    const afterKb = read();
    const groupRssAfterKb = options.measure === 'group' ? groupRssKb(target.measuredPid) : undefined;
    const registeredAtEnd = users.filter((u) => u.connected).length;
    return {
      connections: options.count, registeredAtEnd, registerSeconds, idleSeconds: options.idleSeconds,
      metric: options.measure === 'process' ? 'VmRSS' : 'group Pss',
      beforeKb, afterKb, kbPerConnection: Math.round(((afterKb - beforeKb) / options.count) * 100) / 100,
      justRegisteredKb, kbPerConnectionJustRegistered: Math.round(((justRegisteredKb - beforeKb) / options.count) * 100) / 100,
      ...(heapBefore !== undefined ? { heapUsedBeforeKb: heapBefore } : {}),
      ...(heapAfter !== undefined ? { heapUsedAfterKb: heapAfter } : {}),
      ...(processMemoryBeforeKb !== undefined ? { processMemoryBeforeKb } : {}),
      ...(processMemoryAfterKb !== undefined ? { processMemoryAfterKb } : {}),
      ...(groupRssBeforeKb !== undefined ? { groupRssBeforeKb } : {}),
      ...(groupRssAfterKb !== undefined ? { groupRssAfterKb } : {}),
    };
  } finally {
    for (const user of users) user?.close();
    await sleep(500);
  }
}
