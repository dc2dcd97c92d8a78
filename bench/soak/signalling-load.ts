/**
 * The soak's signalling mix over the two epcscf nodes, every lane a closed loop with a pause:
 *  - sip-ws registrars (bench/lib BenchUser, raw RFC 7118 clients), user i on node i mod 2: a
 *    REGISTER refresh with digest, then a pager MESSAGE (RFC 3428) to user i+1 (on the other node:
 *    the MESSAGE crosses Kamailio and node 1's cluster forwarding), then a pause;
 *  - sip-ws call pairs, caller and callee on different nodes: INVITE/200/ACK, BYE/200;
 *  - jsonrpc-ws pairs (bench/jsonrpc RpcUser, core/ua underneath), caller and callee on different
 *    nodes: call.invite … call.ended; every 10th round both de-register and register again;
 *  - churn, the abrupt disconnects: a fresh sip-ws or jsonrpc-ws client connects to a random node,
 *    registers and has its socket destroyed without a WebSocket close or a de-REGISTER
 *    (ws terminate); every 4th churn round a fresh sip-ws caller calls a fresh callee and both
 *    sockets are destroyed a few ms into the call (mid-INVITE or mid-dialog: the node must clean up).
 * Operations are timed in OpStats by name; a lane whose connection died reconnects.
 */
import { randomInt } from 'node:crypto';
import { BenchUser, SipOutcomeError } from '../lib/ws-sip-user.js';
import { RpcUser } from '../jsonrpc/rpc-user.js';
import type { OpStats } from './op-stats.js';

const DOMAIN = 'ims.test';
const PASSWORD = 'secret'; // ims-core-standin.cfg: every user but alice
const TIMEOUT_MS = 8000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface SignallingMix {
  /** sip-ws users refreshing their registration and sending MESSAGEs. */
  readonly sipUsers: number;
  /** Seconds between a registrar's rounds. */
  readonly refreshSeconds: number;
  readonly sipCallPairs: number;
  readonly rpcCallPairs: number;
  /** Pause between calls of one pair, seconds. */
  readonly callPauseSeconds: number;
  /** Abrupt disconnects per second (all churn lanes together). */
  readonly churnPerSecond: number;
}

/** What a call-pair lane needs of a client (BenchUser, RpcUser). */
interface PairClient {
  readonly connected: boolean;
  register(): Promise<unknown>;
  close(): void;
}

interface CallPairLane<U extends PairClient> {
  /** Names the connect+register operation in OpStats. */
  readonly kind: string;
  /** Letter of the lane's user names (`<prefix><letter><i>a|b`). */
  readonly letter: string;
  readonly connect: (name: string, node: number) => Promise<U>;
  /** One round of the pair: timed calls (and whatever else) in OpStats. */
  readonly round: (from: U, to: U) => Promise<void>;
}

export class SignallingLoad {
  readonly #urls: readonly string[];
  readonly #stats: OpStats;
  readonly #prefix = `soak${Date.now().toString(36)}`;
  #running = false;
  #lanes: Promise<void>[] = [];
  #churnIndex = 0;
  /** Registrars whose first REGISTER succeeded (a MESSAGE goes only to a peer in here: no 404 for a peer not registered yet). */
  readonly #registered = new Set<number>();
  /** Every client a lane holds (closed at stop). */
  readonly #held = new Set<{ close(): void }>();

  /** `baseUrls`: ws://host:port of each node. */
  constructor(baseUrls: readonly string[], stats: OpStats) {
    this.#urls = baseUrls;
    this.#stats = stats;
  }

  start(mix: SignallingMix): void {
    this.#running = true;
    const lanes: Promise<void>[] = [];
    for (let i = 0; i < mix.sipUsers; i++) lanes.push(this.#registrar(i, mix));
    for (let i = 0; i < mix.sipCallPairs; i++) lanes.push(this.#sipCaller(i, mix));
    for (let i = 0; i < mix.rpcCallPairs; i++) lanes.push(this.#rpcCaller(i, mix));
    if (mix.churnPerSecond > 0) lanes.push(this.#churn(mix.churnPerSecond));
    this.#lanes = lanes;
  }

  /** Stops every lane after its current operation and closes its clients. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#lanes);
    for (const client of this.#held) client.close();
    this.#held.clear();
  }

  #url(node: number, path: 'sip' | 'jsonrpc'): string {
    return `${this.#urls[node % this.#urls.length] ?? ''}/${path}`;
  }

  async #sipUser(name: string, node: number): Promise<BenchUser> {
    const user = await BenchUser.connect({ url: this.#url(node, 'sip'), user: name, password: PASSWORD, domain: DOMAIN, timeoutMs: TIMEOUT_MS });
    this.#held.add(user);
    return user;
  }

  #release(client: { close(): void } | undefined): void {
    if (client === undefined) return;
    client.close();
    this.#held.delete(client);
  }

  /** Pauses `seconds` (jittered ±20 % so lanes do not beat in step), waking early on stop. */
  async #pause(seconds: number): Promise<void> {
    const until = Date.now() + seconds * 1000 * (0.8 + Math.random() * 0.4);
    while (this.#running && Date.now() < until) await sleep(Math.min(250, until - Date.now()));
  }

  async #registrar(i: number, mix: SignallingMix): Promise<void> {
    const peer = `sip:${this.#prefix}r${(i + 1) % mix.sipUsers}@${DOMAIN}`;
    let user: BenchUser | undefined;
    while (this.#running) {
      if (user === undefined || !user.connected) {
        this.#release(user);
        user = undefined;
        try {
          user = await this.#sipUser(`${this.#prefix}r${i}`, i);
        } catch (error) {
          this.#stats.fail('sip-ws connect', error);
          await this.#pause(1);
          continue;
        }
      }
      const current = user;
      if (await this.#stats.time('sip-ws REGISTER+digest', () => current.register())) this.#registered.add(i);
      if (mix.sipUsers > 1 && this.#registered.has((i + 1) % mix.sipUsers)) {
        await this.#stats.time('sip-ws MESSAGE', async () => {
          const status = await current.message(peer, `soak ${Date.now()}`);
          if (status < 200 || status >= 300) throw new SipOutcomeError(status, 'MESSAGE');
        });
      }
      await this.#pause(mix.refreshSeconds);
    }
  }

  #sipCaller(i: number, mix: SignallingMix): Promise<void> {
    return this.#callPair<BenchUser>({
      kind: 'sip-ws call pair', letter: 'c', connect: (name, node) => this.#sipUser(name, node),
      round: (from, to) => this.#stats.time('sip-ws call (INVITE…BYE)', () => from.call(to.aor)).then(() => undefined),
    }, i, mix);
  }

  async #rpcUser(name: string, node: number): Promise<RpcUser> {
    const user = await RpcUser.connect({ url: this.#url(node, 'jsonrpc'), impu: `sip:${name}@${DOMAIN}`, password: PASSWORD, timeoutMs: TIMEOUT_MS });
    this.#held.add(user);
    return user;
  }

  #rpcCaller(i: number, mix: SignallingMix): Promise<void> {
    let round = 0;
    return this.#callPair<RpcUser>({
      kind: 'jsonrpc-ws pair', letter: 'j', connect: (name, node) => this.#rpcUser(name, node),
      round: async (from, to) => {
        if (++round % 10 === 0) {
          await this.#stats.time('jsonrpc-ws unregister+register', async () => {
            await Promise.all([from.unregister(), to.unregister()]);
            await Promise.all([from.register(), to.register()]);
          });
        }
        await this.#stats.time('jsonrpc-ws call (invite…ended)', () => from.call(to));
      },
    }, i, mix);
  }

  /**
   * One call-pair lane: caller on node i, callee on node i+1 (the other node), both registered;
   * a pair whose connection died is connected again; `round` runs one call, then a pause.
   */
  async #callPair<U extends PairClient>(lane: CallPairLane<U>, i: number, mix: SignallingMix): Promise<void> {
    let pair: { from: U; to: U } | undefined;
    while (this.#running) {
      if (pair === undefined || !pair.from.connected || !pair.to.connected) {
        this.#release(pair?.from);
        this.#release(pair?.to);
        pair = undefined;
        const held: U[] = [];
        const ok = await this.#stats.time(`${lane.kind} connect+register`, async () => {
          held.push(await lane.connect(`${this.#prefix}${lane.letter}${i}a`, i));
          held.push(await lane.connect(`${this.#prefix}${lane.letter}${i}b`, i + 1));
          await Promise.all(held.map((user) => user.register()));
        });
        const [from, to] = held;
        if (!ok || from === undefined || to === undefined) {
          for (const user of held) this.#release(user);
          await this.#pause(1);
          continue;
        }
        pair = { from, to };
      }
      await lane.round(pair.from, pair.to);
      await this.#pause(mix.callPauseSeconds);
    }
    this.#release(pair?.from);
    this.#release(pair?.to);
  }

  async #churn(perSecond: number): Promise<void> {
    while (this.#running) {
      const started = Date.now();
      const n = this.#churnIndex++;
      const node = randomInt(this.#urls.length);
      if (n % 4 === 3) await this.#churnMidCall(n, node);
      else if (n % 2 === 0) {
        let user: BenchUser | undefined;
        await this.#stats.time('churn sip-ws connect+register', async () => {
          user = await this.#sipUser(`${this.#prefix}x${n}`, node);
          await user.register();
        });
        this.#release(user); // ws terminate: no close frame, no de-REGISTER
      } else {
        let user: RpcUser | undefined;
        await this.#stats.time('churn jsonrpc-ws connect+register', async () => {
          user = await this.#rpcUser(`${this.#prefix}y${n}`, node);
          await user.register();
        });
        this.#release(user);
      }
      await sleep(Math.max(0, 1000 / perSecond - (Date.now() - started)));
    }
  }

  /** A fresh caller calls a fresh callee on the other node; both sockets are destroyed 5-80 ms in. */
  async #churnMidCall(n: number, node: number): Promise<void> {
    let caller: BenchUser | undefined;
    let callee: BenchUser | undefined;
    const ok = await this.#stats.time('churn call pair connect+register', async () => {
      caller = await this.#sipUser(`${this.#prefix}m${n}a`, node);
      callee = await this.#sipUser(`${this.#prefix}m${n}b`, node + 1);
      await Promise.all([caller.register(), callee.register()]);
    });
    if (ok && caller !== undefined && callee !== undefined) {
      // The call's own outcome is not the point (it is cut on purpose): its rejection is swallowed.
      const call = caller.call(callee.aor).catch(() => undefined);
      await sleep(5 + randomInt(75));
      const [a, b] = [caller, callee];
      await this.#stats.time('churn abrupt disconnect mid-call', async () => { this.#release(a); this.#release(b); });
      await call;
    } else {
      this.#release(caller);
      this.#release(callee);
    }
  }
}
