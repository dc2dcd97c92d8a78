/**
 * Memory per idle session: open sessions to a target and have each registered for real
 * (sip-ws: REGISTER → 401 → REGISTER+digest → 200; xmpp-ws: SASL PLAIN + bind, the IMS REGISTER
 * behind it), leave them idle, and read the target's resident memory. The sessions live in this
 * (generator) process, so their client-side memory never counts. Run it on a freshly started
 * target. The protocol is the caller's: `openSessions` opens and registers them.
 *
 * Why three RSS figures. After a login burst malloc and V8 keep much of what the burst freed
 * (arenas not trimmed, heap pages committed), so "RSS after − RSS of a fresh process" swings by
 * whatever the burst left behind (6–34 KiB per session over runs of the same code). Steps:
 *   0. warm-up sessions in and out, wait; full GC; read    → fresh baseline B0
 *   1. N/2 sessions in (one login burst), idle, full GC; read → R1 (allocator grown by a burst)
 *   2. N/2 more in (same burst size), idle, full GC; read     → R2 (N held)
 *   3. the second N/2 out, wait, full GC; read                → R3
 *   4. N/2 in again, idle, full GC; read                      → R4 (N held)
 * - warm (the figure reported first) = (R2 − R1) / (N/2): what N/2 more sessions add once one burst
 *   of the same size has already grown the allocator; the burst's own leftovers are in both reads.
 * - cold = (R2 − B0) / N: the figure earlier runs printed, leftovers of both bursts included.
 * - afterLogout = (R4 − R3) / (N/2): the logged-out sessions' freed memory is still resident in
 *   R3 and the new ones may reuse it; expected low, but it swung most of all (2.5–20 KiB over three
 *   runs, bench/README.md), kept to show that this baseline alone does not settle the figure.
 * V8 heapUsed after a full GC (epcscf only) is read at the same points: live JS data, no allocator.
 * Each read waits `SETTLE_MS` after the GC: V8 unmaps freed pages on a background thread after
 * the collection, so a read right after the GC reply catches them still mapped.
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

/** One read: resident memory (VmRSS or group Pss) and, for epcscf, V8 heapUsed after a full GC. */
export interface MemoryReading {
  /** Sessions held open when read. */
  readonly sessions: number;
  readonly residentKb: number;
  readonly heapUsedKb?: number;
  /** epcscf only: process.memoryUsage() after the GC, KiB (where RSS goes). */
  readonly processMemoryKb?: Readonly<Record<string, number>>;
  /** Kamailio only: the same group summed by RSS (shared pages once per process). */
  readonly groupRssKb?: number;
}

/** A per-session figure: (to − from) / sessions added between two reads. */
export interface PerSessionFigure {
  readonly from: string;
  readonly to: string;
  readonly sessionsAdded: number;
  readonly residentKbPerSession: number;
  /** epcscf only: V8 heapUsed per session between the same two reads. */
  readonly heapKbPerSession?: number;
}

export interface IdleConnectionsResult {
  /** Sessions held at the final reads (N). */
  readonly connections: number;
  /** Sessions still open and registered at the last read. */
  readonly registeredAtEnd: number;
  /** Seconds to log in the first N/2. */
  readonly registerSeconds: number;
  readonly idleSeconds: number;
  /** What was read: VmRSS of one process, or Pss summed over a process group. */
  readonly metric: 'VmRSS' | 'group Pss';
  readonly method: string;
  /** The reads, by step name (fresh, half, full, afterLogout, fullAgain, justRegistered). */
  readonly reads: Readonly<Record<string, MemoryReading>>;
  /** Primary: N/2 sessions added after one burst of the same size grew the allocator. */
  readonly warm: PerSessionFigure;
  /** N sessions over the fresh process's baseline (burst leftovers included; the figure of earlier runs). */
  readonly cold: PerSessionFigure;
  /** N/2 sessions logged in again after N/2 logged out (may reuse their freed memory; swings most). */
  readonly afterLogout: PerSessionFigure;
  /** Right after the second burst's last registration, over the fresh baseline (transactions still held). */
  readonly justRegistered: PerSessionFigure;
}

export interface IdleConnectionsOptions {
  readonly target: MemoryTarget;
  /** 'process': VmRSS of target.measuredPid (epcscf); 'group': Pss of its process group (Kamailio). */
  readonly measure: 'process' | 'group';
  /** N: sessions held at the final reads (logged in as two bursts of N/2). */
  readonly count: number;
  readonly parallel: number;
  readonly idleSeconds: number;
  /** Connections registered and closed first (not measured). */
  readonly warmupConnections: number;
  readonly userPrefix: string;
  /** Opens and registers `count` sessions of users named after `userPrefix`, at most `parallel` at once. */
  readonly openSessions: (userPrefix: string, count: number, parallel: number) => Promise<IdleSession[]>;
}

/** After the GC reply, before reading RSS: V8's unmapper returns freed pages in the background. */
const SETTLE_MS = 1500;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const kb = (bytes: number): number => Math.round(bytes / 1024);
const round2 = (n: number): number => Math.round(n * 100) / 100;
// The numeric fields only (the reply also carries heapSpaces, which the probe script prints).
const kbAll = (usage: NodeJS.MemoryUsage): Record<string, number> =>
  Object.fromEntries(Object.entries(usage).filter((e): e is [string, number] => typeof e[1] === 'number').map(([k, v]) => [k, kb(v)]));

function perSession(reads: Record<string, MemoryReading>, from: string, to: string, sessionsAdded: number): PerSessionFigure {
  const a = reads[from];
  const b = reads[to];
  if (a === undefined || b === undefined) throw new Error(`idle-memory: no read ${a === undefined ? from : to}`);
  return {
    from, to, sessionsAdded, residentKbPerSession: round2((b.residentKb - a.residentKb) / sessionsAdded),
    ...(a.heapUsedKb !== undefined && b.heapUsedKb !== undefined ? { heapKbPerSession: round2((b.heapUsedKb - a.heapUsedKb) / sessionsAdded) } : {}),
  };
}

export async function measureIdleSessions(options: IdleConnectionsOptions): Promise<IdleConnectionsResult> {
  const { target } = options;
  const half = Math.floor(options.count / 2);
  const rest = options.count - half;
  const reads: Record<string, MemoryReading> = {};
  let held: IdleSession[] = [];
  const read = async (step: string, settle = true): Promise<void> => {
    const usage = await target.gcAndMemory?.();
    if (settle) await sleep(SETTLE_MS);
    reads[step] = {
      sessions: held.length,
      residentKb: options.measure === 'process' ? vmRssKb(target.measuredPid) : groupPssKb(target.measuredPid),
      ...(usage !== undefined ? { heapUsedKb: kb(usage.heapUsed), processMemoryKb: kbAll(usage) } : {}),
      ...(options.measure === 'group' ? { groupRssKb: groupRssKb(target.measuredPid) } : {}),
    };
  };
  const open = async (suffix: string, count: number): Promise<IdleSession[]> => {
    const sessions = await options.openSessions(`${options.userPrefix}${suffix}`, count, options.parallel);
    held = [...held, ...sessions];
    return sessions;
  };
  const idle = (): Promise<void> => sleep(options.idleSeconds * 1000); // only W2 keep-alive pings run now
  try {
    // 0. Code paths compiled, pools and caches sized: a running server's baseline, not a cold one.
    const warmup = await options.openSessions(`${options.userPrefix}w`, options.warmupConnections, options.parallel);
    for (const session of warmup) session.close();
    await idle(); // as before every other read: the process shrinks for a while after a burst
    await read('fresh');
    // 1. First burst of N/2. Idle longer than Timer K (RFC 3261 §17.1.2.2, T4 on UDP Mw) so the
    // REGISTER transactions have expired.
    const started = Date.now();
    await open('a', half);
    const registerSeconds = (Date.now() - started) / 1000;
    await idle();
    await read('half');
    // 2. Second burst of the same size, the first still held.
    const second = await open('b', rest);
    await read('justRegistered', false);
    await idle();
    await read('full');
    // 3. The second burst logs out (xmpp-ws / jsonrpc-ws de-register on close), its transactions expire.
    for (const session of second) session.close();
    held = held.filter((s) => !second.includes(s));
    await idle();
    await read('afterLogout');
    // 4. As many log in again.
    await open('c', rest);
    await idle();
    await read('fullAgain');
    return {
      connections: options.count, registeredAtEnd: held.filter((s) => s.connected).length, registerSeconds,
      idleSeconds: options.idleSeconds, metric: options.measure === 'process' ? 'VmRSS' : 'group Pss',
      method: `${options.warmupConnections} warm-up sessions in and out; then two login bursts of N/2 (${half}, ${rest}), each idle ${options.idleSeconds} s;`
        + ` warm = (full − half) / N/2, cold = (full − fresh) / N; then N/2 out, ${options.idleSeconds} s, N/2 in again: afterLogout = (fullAgain − afterLogout) / N/2;`
        + ` every read after a full GC (epcscf) and ${SETTLE_MS} ms`,
      reads,
      warm: perSession(reads, 'half', 'full', rest),
      cold: perSession(reads, 'fresh', 'full', options.count),
      afterLogout: perSession(reads, 'afterLogout', 'fullAgain', rest),
      justRegistered: perSession(reads, 'fresh', 'justRegistered', options.count),
    };
  } finally {
    for (const session of held) session.close();
    await sleep(500);
  }
}

/** One line for the printed output: each figure labelled. */
export function describeIdleMemory(result: IdleConnectionsResult): string {
  const heap = (f: PerSessionFigure): string => f.heapKbPerSession === undefined ? '' : `, V8 heap ${f.heapKbPerSession} KiB`;
  const { reads } = result;
  const mb = (step: string): number => Math.round((reads[step]?.residentKb ?? 0) / 1024);
  return `${result.metric} per session: warm ${result.warm.residentKbPerSession} KiB (${mb('half')} → ${mb('full')} MB${heap(result.warm)}),`
    + ` cold ${result.cold.residentKbPerSession} KiB (${mb('fresh')} → ${mb('full')} MB${heap(result.cold)}),`
    + ` after logout ${result.afterLogout.residentKbPerSession} KiB (reuses freed memory${heap(result.afterLogout)});`
    + ` ${result.registeredAtEnd}/${result.connections} still registered`;
}
