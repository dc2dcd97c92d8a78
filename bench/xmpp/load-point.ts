/**
 * One load point of XMPP clients (bench/lib runClosedLoop: a client starts its next operation
 * when the last one completed; the rate is operations completed in the measured window divided
 * by its length), each operation bounded by `timeoutMs`:
 *   login:   N clients, each looping a whole session: WebSocket open, SASL PLAIN (the IMS
 *            REGISTER with digest behind it), restart, bind, then <close/> until the WebSocket
 *            has closed (epcscf de-registers). Logins/s = operations/s.
 *   message: N sender/receiver pairs (2N sessions, all logged in first), each sender looping a
 *            chat message to its receiver, done when the receiver's session gets it.
 *   call:    N caller/callee pairs (2N sessions, logged in first), each caller looping
 *            session-initiate → session-accept from the callee → session-terminate, done when
 *            the callee has had its session-terminate (as the jsonrpc bench's call).
 */
import { forEachLimited, runClosedLoop, type ClosedLoopResult, type PointFigures, type PointOptionsBase } from '../lib/load-point.js';
import { withTimeout, XmppUser } from './xmpp-user.js';

export type XmppScenario = 'login' | 'message' | 'call';

export interface XmppPointOptions extends PointOptionsBase {
  readonly scenario: XmppScenario;
  readonly timeoutMs: number;
  /** Called when the measured window opens and when it closes (CPU is sampled there). */
  readonly onWindow?: (edge: 'open' | 'close') => void;
}

export interface XmppPointResult extends PointFigures {
  readonly protocol: 'xmpp-ws';
  readonly scenario: XmppScenario;
  readonly concurrency: number;
}

/** Logs in `count` users named `<prefix>u<i>`; parallelism bounded. */
export async function loginUsers(options: Pick<XmppPointOptions, 'url' | 'domain' | 'password' | 'userPrefix' | 'timeoutMs'>,
  count: number, parallel = 100): Promise<XmppUser[]> {
  const users: XmppUser[] = new Array<XmppUser>(count);
  try {
    await forEachLimited(Array.from({ length: count }, (_, i) => i), parallel, async (i) => {
      users[i] = await withTimeout(XmppUser.login({ url: options.url, user: `${options.userPrefix}u${i}`, password: options.password, domain: options.domain }),
        options.timeoutMs, `login ${options.userPrefix}u${i}`);
    });
  } catch (error) {
    for (const user of users) user?.close();
    throw new Error(`logging in ${count} XMPP clients at ${options.url}: ${(error as Error).message}`);
  }
  return users;
}

export async function runXmppPoint(options: XmppPointOptions): Promise<XmppPointResult> {
  const { scenario, concurrency, timeoutMs } = options;
  const pairs = scenario !== 'login';
  const users = pairs ? await loginUsers(options, 2 * concurrency) : [];
  /** login: the frames of sessions that ended. */
  let loginFrames = 0;
  const framesBefore = users.reduce((sum, u) => sum + u.frames, 0);
  const windowTimers = options.onWindow === undefined ? [] : [
    setTimeout(() => options.onWindow?.('open'), options.warmupSeconds * 1000),
    setTimeout(() => options.onWindow?.('close'), (options.warmupSeconds + options.seconds) * 1000),
  ];
  const session = async (index: number): Promise<void> => {
    const user = await XmppUser.login({ url: options.url, user: `${options.userPrefix}u${index}`, password: options.password, domain: options.domain });
    try {
      await user.logout();
    } finally {
      loginFrames += user.frames;
      user.close();
    }
  };
  let loop: ClosedLoopResult;
  try {
    loop = await runClosedLoop({
      concurrency, seconds: options.seconds, warmupSeconds: options.warmupSeconds,
      operation: (index) => {
        if (scenario === 'login') return withTimeout(session(index), timeoutMs, 'login');
        const from = users[2 * index] as XmppUser;
        const to = users[2 * index + 1] as XmppUser;
        return withTimeout(scenario === 'message' ? from.chat(to) : from.call(to), timeoutMs, scenario);
      },
      // A login client opens a fresh session each time; a pair stops when its sessions are gone.
      connected: (index) => scenario === 'login' || ((users[2 * index] as XmppUser).connected && (users[2 * index + 1] as XmppUser).connected),
    });
  } finally {
    for (const timer of windowTimers) clearTimeout(timer);
    for (const user of users) user.close();
  }
  const frames = scenario === 'login' ? loginFrames : users.reduce((sum, u) => sum + u.frames, 0) - framesBefore;
  const { latency, completed, errors, firstError } = loop;
  return {
    protocol: 'xmpp-ws', scenario, concurrency, seconds: options.seconds, operations: latency.count, errors,
    opsPerSecond: Math.round(latency.count / options.seconds),
    messagesPerOperation: completed > 0 ? Math.round((frames / completed) * 10) / 10 : 0,
    latency,
    ...(firstError !== undefined ? { firstError } : {}),
  };
}
