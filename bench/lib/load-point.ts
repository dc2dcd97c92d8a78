/**
 * One load point: `concurrency` virtual clients, each looping one operation back to back for a
 * fixed time (closed loop: a client starts its next operation when the last one completes).
 *   register: N connections, each repeating REGISTER → 401 → REGISTER+digest → 200.
 *   call:     N caller/callee pairs (2N connections, all registered first), each caller
 *             repeating INVITE → 200 → ACK, BYE → 200 toward its callee.
 * Operations that complete during the warm-up are not counted; the rate is completed
 * operations in the measured window divided by its length.
 */
import { LatencyRecorder, type LatencySummary } from './latency.js';
import { BenchUser } from './ws-sip-user.js';

export type Scenario = 'register' | 'call';

/** What every bench's load point is given (sip-ws, jsonrpc-ws, xmpp-ws). */
export interface PointOptionsBase {
  readonly url: string;
  readonly concurrency: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** Makes user names unique per point (`<prefix>u<index>`). */
  readonly userPrefix: string;
  readonly domain: string;
  readonly password: string;
}

/** What every bench's load point measures. */
export interface PointFigures {
  readonly seconds: number;
  readonly operations: number;
  readonly errors: number;
  readonly opsPerSecond: number;
  /** Messages (WebSocket frames) on the generator's connections per operation, both directions. */
  readonly messagesPerOperation: number;
  readonly latency: LatencySummary;
  readonly firstError?: string;
}

export interface LoadPointOptions extends PointOptionsBase {
  readonly scenario: Scenario;
  readonly timeoutMs?: number;
  /**
   * Several W2 URLs (several epcscf processes, bench/scale): user i connects to urls[i % length],
   * so clients split evenly and, with two URLs, a caller (even index) and its callee (odd) sit on
   * different nodes. Unset: every user connects to `url`.
   */
  readonly urls?: readonly string[];
  /** Called when the measured window opens and when it closes (CPU samples taken exactly over it). */
  readonly onWindow?: WindowHooks;
}

export interface WindowHooks {
  readonly start: () => void;
  readonly end: () => void;
}

export interface LoadPointResult extends PointFigures {
  readonly scenario: Scenario;
  readonly concurrency: number;
}

/** WebSocket frames (SIP messages) on the generator's connections per operation, both directions. */
const MESSAGES_PER_OPERATION: Record<Scenario, number> = {
  register: 4, // REGISTER, 401, REGISTER, 200
  call: 11, // caller: INVITE, 100, 200, ACK, BYE, 200; callee: INVITE, 200, ACK, BYE, 200
};

/** Runs `work` over `items` with at most `limit` in flight. */
export async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** Connects and registers `count` users named `<prefix>u<i>`; parallelism bounded. */
export async function registerUsers(options: Pick<LoadPointOptions, 'url' | 'urls' | 'domain' | 'password' | 'userPrefix' | 'timeoutMs'>,
  count: number, parallel = 100): Promise<BenchUser[]> {
  const users: BenchUser[] = new Array<BenchUser>(count);
  const urls = options.urls !== undefined && options.urls.length > 0 ? options.urls : [options.url];
  try {
    await forEachLimited(Array.from({ length: count }, (_, i) => i), parallel, async (i) => {
      const user = await BenchUser.connect({
        url: urls[i % urls.length] as string, user: `${options.userPrefix}u${i}`, password: options.password, domain: options.domain,
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      });
      users[i] = user;
      await user.register();
    });
  } catch (error) {
    for (const user of users) user?.close();
    throw new Error(`registering ${count} users at ${urls.join(', ')}: ${(error as Error).message}`);
  }
  return users;
}

export interface ClosedLoopOptions {
  readonly concurrency: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** One operation of client `index`; `inWindow(at)` says whether an hrtime lies in the measured window. */
  readonly operation: (index: number, inWindow: (at: bigint) => boolean) => Promise<void>;
  /** False once client `index` cannot go on (its connection died): it stops after a failure. */
  readonly connected: (index: number) => boolean;
  /** Called when the measured window opens and closes. */
  readonly onWindow?: WindowHooks;
}

export interface ClosedLoopResult {
  /** Operations that ended inside the measured window. */
  readonly latency: LatencySummary;
  /** Operations completed, warm-up included. */
  readonly completed: number;
  /** Operations that failed after starting inside the window. */
  readonly errors: number;
  readonly firstError?: string;
}

/** `concurrency` clients, each looping its operation back to back until the window closes. */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const recorder = new LatencyRecorder();
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  const startedAt = process.hrtime.bigint();
  const measureFrom = startedAt + BigInt(Math.round(options.warmupSeconds * 1e9));
  const deadline = measureFrom + BigInt(Math.round(options.seconds * 1e9));
  const inWindow = (at: bigint): boolean => at >= measureFrom && at <= deadline;
  // The window hooks fire once each, in order; a loop that ends first (every client failed)
  // still closes the window.
  let windowState: 'before' | 'open' | 'closed' = 'before';
  const openWindow = (): void => {
    if (windowState === 'before') { windowState = 'open'; options.onWindow?.start(); }
  };
  const closeWindow = (): void => {
    openWindow();
    if (windowState === 'open') { windowState = 'closed'; options.onWindow?.end(); }
  };
  const windowTimers = options.onWindow === undefined ? [] : [
    setTimeout(openWindow, options.warmupSeconds * 1000),
    setTimeout(closeWindow, (options.warmupSeconds + options.seconds) * 1000),
  ];
  const client = async (index: number): Promise<void> => {
    for (let now = process.hrtime.bigint(); now < deadline; now = process.hrtime.bigint()) {
      const start = now;
      try {
        await options.operation(index, inWindow);
        completed++;
        if (inWindow(process.hrtime.bigint())) recorder.recordSince(start);
      } catch (error) {
        if (start >= measureFrom) errors++;
        firstError ??= `client ${index}: ${(error as Error).message}`;
        // A failing client backs off briefly so that one broken pair cannot spin and dominate.
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (!options.connected(index)) return; // a dead client stops
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => client(i)));
  for (const timer of windowTimers) clearTimeout(timer);
  if (options.onWindow !== undefined) closeWindow();
  return { latency: recorder.summary(), completed, errors, ...(firstError !== undefined ? { firstError } : {}) };
}

export async function runLoadPoint(options: LoadPointOptions): Promise<LoadPointResult> {
  const { scenario, concurrency } = options;
  const users = await registerUsers(options, scenario === 'call' ? 2 * concurrency : concurrency);
  const userOf = (index: number): BenchUser => users[scenario === 'call' ? 2 * index : index] as BenchUser;
  let loop: ClosedLoopResult;
  try {
    loop = await runClosedLoop({
      concurrency, seconds: options.seconds, warmupSeconds: options.warmupSeconds,
      operation: (index) => (scenario === 'register' ? userOf(index).register() : userOf(index).call((users[2 * index + 1] as BenchUser).aor)),
      connected: (index) => userOf(index).connected,
      ...(options.onWindow !== undefined ? { onWindow: options.onWindow } : {}),
    });
  } finally {
    for (const user of users) user?.close();
  }
  const { latency, errors, firstError } = loop;
  return {
    scenario, concurrency, seconds: options.seconds, operations: latency.count, errors,
    opsPerSecond: Math.round(latency.count / options.seconds),
    messagesPerOperation: MESSAGES_PER_OPERATION[scenario],
    latency,
    ...(firstError !== undefined ? { firstError } : {}),
  };
}
