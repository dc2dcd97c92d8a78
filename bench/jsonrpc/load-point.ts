/**
 * One load point of JSON-RPC clients, closed loop (a client starts its next operation when the
 * last one completed), measured after a warm-up:
 *   register: N clients, one WebSocket each, each looping session.register → session.unregister
 *             (a new virtual UE per registration, so a fresh digest challenge every time, as
 *             bench/sip-ws's REGISTER → 401 → REGISTER → 200 loop).
 *   call:     N caller/callee pairs (2N WebSockets, all registered first), each caller looping
 *             call.invite → (callee: call.incoming → call.answer) → call.answered → call.hangup
 *             → call.ended on both sides.
 * The rate is operations completed inside the measured window divided by its length.
 */
import { forEachLimited, runClosedLoop, type ClosedLoopResult, type PointFigures, type PointOptionsBase } from '../lib/load-point.js';
import { LatencyRecorder, type LatencySummary } from '../lib/latency.js';
import { RpcUser } from './rpc-user.js';

export type JsonRpcScenario = 'register' | 'call';

export interface JsonRpcPointOptions extends PointOptionsBase {
  readonly scenario: JsonRpcScenario;
  readonly timeoutMs: number;
  /** Called when the measured window opens and when it closes (CPU is sampled there). */
  readonly onWindow?: (edge: 'open' | 'close') => void;
}

export interface JsonRpcPointResult extends PointFigures {
  readonly scenario: JsonRpcScenario;
  readonly concurrency: number;
  /** register only: the session.register part of the operation (REGISTER → 401 → REGISTER → 200 on Mw). */
  readonly registerLatency?: LatencySummary;
}

/** Connects `count` clients named `<prefix>u<i>`, registering each when asked; parallelism bounded. */
export async function connectUsers(options: JsonRpcPointOptions, count: number, register: boolean, parallel = 100): Promise<RpcUser[]> {
  const users: RpcUser[] = new Array<RpcUser>(count);
  try {
    await forEachLimited(Array.from({ length: count }, (_, i) => i), parallel, async (i) => {
      const user = await RpcUser.connect({
        url: options.url, impu: `sip:${options.userPrefix}u${i}@${options.domain}`, password: options.password, timeoutMs: options.timeoutMs,
      });
      users[i] = user;
      if (register) await user.register();
    });
  } catch (error) {
    for (const user of users) user?.close();
    throw new Error(`connecting ${count} JSON-RPC clients at ${options.url}: ${(error as Error).message}`);
  }
  return users;
}

export async function runJsonRpcPoint(options: JsonRpcPointOptions): Promise<JsonRpcPointResult> {
  const { scenario, concurrency } = options;
  const users = await connectUsers(options, scenario === 'call' ? 2 * concurrency : concurrency, scenario === 'call');
  const userOf = (index: number): RpcUser => users[scenario === 'call' ? 2 * index : index] as RpcUser;
  const framesBefore = users.reduce((sum, u) => sum + u.frames, 0);
  const registerRecorder = new LatencyRecorder();
  const windowTimers = options.onWindow === undefined ? [] : [
    setTimeout(() => options.onWindow?.('open'), options.warmupSeconds * 1000),
    setTimeout(() => options.onWindow?.('close'), (options.warmupSeconds + options.seconds) * 1000),
  ];
  let loop: ClosedLoopResult;
  try {
    loop = await runClosedLoop({
      concurrency, seconds: options.seconds, warmupSeconds: options.warmupSeconds,
      operation: async (index, inWindow) => {
        const user = userOf(index);
        if (scenario === 'call') return user.call(users[2 * index + 1] as RpcUser);
        const start = process.hrtime.bigint();
        await user.register();
        if (inWindow(process.hrtime.bigint())) registerRecorder.recordSince(start);
        await user.unregister();
      },
      connected: (index) => userOf(index).connected,
    });
  } finally {
    for (const timer of windowTimers) clearTimeout(timer);
    for (const user of users) user?.close();
  }
  const frames = users.reduce((sum, u) => sum + u.frames, 0) - framesBefore;
  const { latency, completed, errors, firstError } = loop;
  return {
    scenario, concurrency, seconds: options.seconds, operations: latency.count, errors,
    opsPerSecond: Math.round(latency.count / options.seconds),
    messagesPerOperation: completed > 0 ? Math.round((frames / completed) * 10) / 10 : 0,
    latency,
    ...(scenario === 'register' ? { registerLatency: registerRecorder.summary() } : {}),
    ...(firstError !== undefined ? { firstError } : {}),
  };
}
