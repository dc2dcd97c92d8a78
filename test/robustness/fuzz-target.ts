/**
 * The epcscf the robustness fuzz attacks: the `npm start` runtime (core/cli/runtime.ts) in this
 * process, with the embedded dev IMS core, sip-ws and jsonrpc-ws on W2, the admin routes, and Mw
 * listening on UDP and TCP. Around it, what the properties judge by:
 *   - every SIP message the P-CSCF sent or received on Mw (its observer tap), and a black-hole
 *     UDP socket standing in for any other IMS hop a message could be relayed to;
 *   - process faults: `unhandledRejection` / `uncaughtException` while the target runs;
 *   - plugin faults (a W2 hook that threw: the session closed 1011) and error-level log lines;
 *   - `healthCheck()`: /health answers, and fresh sip-ws and JSON-RPC clients can register.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import type { Test } from 'tap';
import { pino } from 'pino';
import WebSocket from 'ws';
import { startRuntime, type EpcscfRuntime } from '../../core/cli/runtime.js';
import { resolveConfig } from '../../core/config/index.js';
import {
  DigestClient, authValues, createRequest, formatAuth, parseMessage, serializeMessage, type SipMessage, type SipResponse,
} from '../../core/sip/index.js';
import { RpcWsClient } from '../support/jsonrpc-client.js';
import { XmppJsUser } from '../support/xmpp-clients.js';
import { allocatePorts, releasePort } from '../support/peers/ports.js';

export interface MwEntry {
  readonly direction: 'in' | 'out';
  readonly message: SipMessage;
  readonly peer: string;
}

export interface FuzzTarget {
  readonly runtime: EpcscfRuntime;
  readonly w2Port: number;
  /** ws://127.0.0.1:port (plugins add /sip, /jsonrpc). */
  readonly wsBase: string;
  readonly mwUdpPort: number;
  readonly mwTcpPort: number;
  /** host:port of a socket that stands for "some other IMS hop": nothing may ever reach it. */
  readonly blackHole: string;
  /** Datagrams the black hole received. */
  readonly blackHoleTraffic: Buffer[];
  readonly mw: MwEntry[];
  /** unhandledRejection / uncaughtException seen while the target ran. */
  readonly processFaults: string[];
  /** Log lines at error level or above. */
  readonly errorLogs: string[];
  pluginFaults(): Readonly<Record<string, number>>;
  /** Asserts the target is unhurt: /health, a sip-ws and a JSON-RPC registration, no faults. */
  healthCheck(t: Test, after: string): Promise<void>;
}

export interface FuzzTargetOptions {
  /**
   * Also load xmpp-ws on /xmpp (its flood guard opened wide: the fuzz sends as fast as the
   * server answers; the guard has its own test) and check an XMPP login in healthCheck.
   */
  readonly xmpp?: boolean;
}

export async function startFuzzTarget(t: Test, options: FuzzTargetOptions = {}): Promise<FuzzTarget> {
  const processFaults: string[] = [];
  const onRejection = (reason: unknown): void => { processFaults.push(`unhandledRejection: ${describe(reason)}`); };
  const onException = (error: unknown): void => { processFaults.push(`uncaughtException: ${describe(error)}`); };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  t.teardown(() => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  });

  const blackHoleSocket: Socket = createSocket('udp4');
  blackHoleSocket.bind(0, '127.0.0.1');
  await once(blackHoleSocket, 'listening');
  const blackHoleTraffic: Buffer[] = [];
  blackHoleSocket.on('message', (data) => blackHoleTraffic.push(data));
  t.teardown(() => blackHoleSocket.close());

  const UNLIMITED = { ratePerSecond: 1_000_000, burst: 1_000_000 };
  const [w2Port, mwUdpPort, mwTcpPort] = await allocatePorts(3) as [number, number, number];
  t.teardown(() => { releasePort(w2Port); releasePort(mwUdpPort); releasePort(mwTcpPort); });
  const errorLogs: string[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => { errorLogs.push(line); } });
  const config = resolveConfig({
    // The fuzz judges what the P-CSCF does with each message, not issue #15's request rates: lifted.
    w2: { listen: `127.0.0.1:${w2Port}`, limits: { registrationRatePerClient: UNLIMITED, registrationRatePerIp: UNLIMITED, callRatePerClient: UNLIMITED, callRatePerIp: UNLIMITED, framesPerConnection: UNLIMITED, connectionRatePerIp: UNLIMITED } },
    mw: { listen: [`udp:127.0.0.1:${mwUdpPort}`, `tcp:127.0.0.1:${mwTcpPort}`] },
    media: { mode: 'off' },
    ...(options.xmpp === true ? { plugins: [
      { name: 'sip-ws' }, { name: 'jsonrpc-ws' }, { name: 'xmpp-ws', options: { floodRatePerSecond: 100_000, floodBurst: 100_000 } },
    ] } : {}),
  }, { configDir: process.cwd(), env: {} });
  const runtime = await startRuntime(config, { logger, devCorePort: 0 });
  t.teardown(() => runtime.close());

  const mw: MwEntry[] = [];
  runtime.pcscf.observer.on('mw', (e) => mw.push(e));
  const wsBase = `ws://127.0.0.1:${w2Port}`;
  let checks = 0;
  // Retransmissions of one relayed request (RFC 3261 §17.1.2.2 Timer E) are the same bytes:
  // each health check reports only messages it has not reported before.
  const blackHoleReported = new Set<string>();

  const target: FuzzTarget = {
    runtime, w2Port, wsBase, mwUdpPort, mwTcpPort, mw, processFaults, errorLogs, blackHoleTraffic,
    blackHole: `127.0.0.1:${(blackHoleSocket.address()).port}`,
    pluginFaults: () => runtime.server.w2.stats().faults,
    async healthCheck(t, after) {
      checks += 1;
      const health = await fetch(`http://127.0.0.1:${w2Port}/health`);
      t.equal(health.status, 200, `after ${after}: /health answers 200`);
      t.equal(await registerOverSipWs(wsBase, 'bob', 'bobpw', `hc${checks}`), 200, `after ${after}: a fresh sip-ws client registers`);
      const rpc = await RpcWsClient.connect(`${wsBase}/jsonrpc`);
      try {
        const registered = await rpc.request('session.register', { impu: 'sip:carol@ims.test', password: 'carolpw' });
        t.equal(registered['state'], 'registered', `after ${after}: a fresh JSON-RPC client registers`);
        await rpc.request('session.unregister');
      } finally {
        await rpc.close();
      }
      if (options.xmpp === true) {
        const xmpp = await XmppJsUser.login({ service: `${wsBase}/xmpp`, domain: 'ims.test', username: 'alice', password: 'alicepw' });
        t.ok(xmpp.jid.startsWith('alice@ims.test'), `after ${after}: a fresh XMPP client logs in (${xmpp.jid})`);
        await xmpp.stop();
      }
      t.same(processFaults, [], `after ${after}: no unhandledRejection / uncaughtException`);
      t.same(target.pluginFaults(), {}, `after ${after}: no plugin hook threw (no session closed 1011)`);
      t.same(errorLogs, [], `after ${after}: nothing logged at error level`);
      const relayed = [...new Set(blackHoleTraffic.map((b) => b.toString('latin1')))].filter((m) => !blackHoleReported.has(m));
      for (const m of relayed) blackHoleReported.add(m);
      t.same(relayed.map((m) => m.split('\r\n', 1)[0]), [], `after ${after}: nothing new was relayed to another IMS hop`);
    },
  };
  return target;
}

/** A WebRTC client's registration over sip-ws (RFC 7118, RFC 5626 outbound), digest included: the final status. */
export async function registerOverSipWs(wsBase: string, user: string, password: string, tag: string): Promise<number> {
  const client = await SipWsClient.connect(wsBase, tag);
  try {
    return (await client.register(user, password)).status;
  } finally {
    client.close();
  }
}

/** One WebRTC client on its own sip-ws connection: registers (digest), then sends what it is told to. */
export class SipWsClient {
  private constructor(readonly ws: WebSocket, readonly tag: string) {}

  static async connect(wsBase: string, tag: string): Promise<SipWsClient> {
    const ws = new WebSocket(`${wsBase}/sip`, 'sip');
    await once(ws, 'open');
    return new SipWsClient(ws, tag);
  }

  /** The final response to REGISTER (after one digest round). */
  async register(user: string, password: string): Promise<SipResponse> {
    const tag = this.tag;
    const digest = new DigestClient({ username: user, password });
    let authorization: string | undefined;
    let response: SipResponse | undefined;
    for (let seq = 1; seq <= 3; seq++) {
      const register = createRequest({ method: 'REGISTER', uri: 'sip:ims.test', headers: [
        ['Via', `SIP/2.0/WSS ${tag}.invalid;branch=z9hG4bK${tag}r${seq}`], ['Max-Forwards', '70'],
        ['To', `<sip:${user}@ims.test>`], ['From', `<sip:${user}@ims.test>;tag=${tag}`], ['Call-ID', `${tag}-reg`],
        ['CSeq', `${seq} REGISTER`], ['Expires', '600'], ['Supported', 'path, gruu, outbound'],
        ['Contact', `<sip:${tag}@${tag}.invalid;transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-4000-8000-${tag.padStart(12, '0').slice(-12)}>"`],
        ...(authorization !== undefined ? [['Authorization', authorization] as [string, string]] : []),
      ] });
      response = await this.request(serializeMessage(register).toString('utf8'));
      if (response.status !== 401) return response;
      const credentials = digest.respond(authValues(response, 'WWW-Authenticate'), { method: 'REGISTER', uri: 'sip:ims.test' });
      if (credentials === undefined) return response;
      authorization = formatAuth(credentials);
    }
    return response as SipResponse;
  }

  /** Sends one frame and resolves with the next final response on this connection. */
  request(frame: string | Buffer, timeoutMs = 5000): Promise<SipResponse> {
    const answer = nextFinalResponse(this.ws, timeoutMs);
    this.ws.send(frame, { binary: typeof frame !== 'string' });
    return answer;
  }

  close(): void {
    this.ws.close();
  }
}

function nextFinalResponse(ws: WebSocket, timeoutMs = 5000): Promise<SipResponse> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { ws.off('message', onMessage); reject(new Error('no final response')); }, timeoutMs);
    function onMessage(data: WebSocket.RawData): void {
      const text = String(data);
      if (!text.startsWith('SIP/2.0 ')) return;
      let message: SipMessage;
      try { message = parseMessage(text, { datagram: true }); } catch { return; }
      if (message.kind !== 'response' || message.status < 200) return;
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve(message);
    }
    ws.on('message', onMessage);
  });
}

function describe(value: unknown): string {
  return value instanceof Error ? `${value.name}: ${value.message}\n${value.stack ?? ''}` : String(value);
}
