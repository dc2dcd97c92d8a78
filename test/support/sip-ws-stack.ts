/**
 * The full W2 stack on loopback for guard tests (issue 11): raw SIP-over-WebSocket clients
 * (RFC 7118) → W2 server with sip-ws → P-CSCF → a fake IMS core on UDP, with a recording media
 * gateway behind the IMS-ALG and the metrics fed from the P-CSCF's `refused` events.
 */
import type { Test } from 'tap';
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { resolveConfig } from '../../core/config/index.js';
import { createEpcscfMetrics } from '../../core/admin/index.js';
import { InProcessMediaControl } from '../../core/pcscf/alg/media-control.js';
import { Pcscf } from '../../core/pcscf/index.js';
import type { W2ObserverEvents } from '../../core/contract/host.js';
import { createEpcscfServer } from '../../core/server/epcscf-server.js';
import { getHeader, parseMessage, type SipMessage, type SipResponse } from '../../core/sip/index.js';
import { BUILTIN_PLUGINS } from '../../core/cli/builtin-plugins.js';
import { FakeImsCore } from './fake-ims-core.js';
import { allocatePort, releasePort } from './peers/ports.js';
import { FakeGateway } from '../unit/ng/fake-gateway.js';

/** `limits`: w2.limits keys; `more`: other w2 keys (maxFrameBytes...) and mw keys (overload, failover...). */
export async function startStack(t: Test, limits: Record<string, unknown>, more: { w2?: Record<string, unknown>; mw?: Record<string, unknown> } = {}) {
  const core = await FakeImsCore.start();
  const w2Port = await allocatePort();
  const config = resolveConfig({
    w2: { listen: `127.0.0.1:${w2Port}`, pingIntervalSeconds: 0, limits, ...more.w2 },
    plugins: [{ name: 'sip-ws' }],
    mw: { listen: ['udp:127.0.0.1:0'], nextHop: `sip:127.0.0.1:${core.port};transport=udp`, domain: 'ims.test', visitedNetworkId: 'epcscf.test', ...more.mw },
    log: { level: 'silent' },
  }, { configDir: process.cwd(), env: {} });
  const gateway = new FakeGateway();
  const pcscf = await Pcscf.start({ config, nodeId: 'node1', flowSecret: 'test-secret', media: new InProcessMediaControl(gateway) });
  const observer = new EventEmitter<W2ObserverEvents>();
  const server = await createEpcscfServer(config, { sip: pcscf, observer, builtins: BUILTIN_PLUGINS });
  await server.listen();
  const metrics = createEpcscfMetrics();
  pcscf.observer.on('refused', (reason) => metrics.refused(reason));
  observer.on('refused', (info) => metrics.refused(info.reason));
  t.teardown(async () => {
    await server.close();
    await pcscf.close();
    core.close();
    releasePort(w2Port);
  });
  return { core, gateway, pcscf, metrics, url: `ws://127.0.0.1:${w2Port}/sip` };
}

/** A SIP-over-WebSocket client speaking raw RFC 7118 frames. */
export class RawSipWsClient {
  readonly #ws: WebSocket;
  readonly #inbox: SipMessage[] = [];
  #wake: (() => void) | undefined;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data: Buffer) => {
      this.#inbox.push(parseMessage(data, { datagram: true }));
      this.#wake?.();
    });
  }

  /** `origin`: the Origin header of the handshake (a browser page's, RFC 6454). */
  static async open(t: Test, url: string, options: { origin?: string } = {}): Promise<RawSipWsClient> {
    const ws = new WebSocket(url, 'sip', options.origin !== undefined ? { origin: options.origin } : {});
    t.teardown(() => ws.terminate());
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    return new RawSipWsClient(ws);
  }

  close(): void {
    this.#ws.close();
  }

  send(lines: string[], body = ''): void {
    this.#ws.send([...lines, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n'));
  }

  async response(callId: string, method: string, final = true): Promise<SipResponse> {
    const deadline = Date.now() + 3_000;
    for (;;) {
      const index = this.#inbox.findIndex((m) => m.kind === 'response' && getHeader(m, 'Call-ID') === callId
        && (getHeader(m, 'CSeq') ?? '').endsWith(method) && m.status >= (final ? 200 : 101));
      if (index >= 0) return this.#inbox.splice(index, 1)[0] as SipResponse;
      if (Date.now() > deadline) throw new Error(`no ${method} response for ${callId}`);
      await new Promise<void>((resolve) => { this.#wake = resolve; setTimeout(resolve, 50); });
    }
  }
}

export async function registerOver(client: RawSipWsClient, core: FakeImsCore, user: string): Promise<void> {
  const callId = `reg-${user}`;
  client.send([
    'REGISTER sip:ims.test SIP/2.0', `Via: SIP/2.0/WSS ${user}.invalid;branch=z9hG4bKreg${user}`, 'Max-Forwards: 70',
    `From: <sip:${user}@ims.test>;tag=r${user}`, `To: <sip:${user}@ims.test>`, `Call-ID: ${callId}`, 'CSeq: 1 REGISTER',
    `Contact: <sip:${user}@${user}.invalid;transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-1000-8000-00000000000${user.length}>"`,
    'Expires: 600', 'Supported: path, outbound, gruu',
  ]);
  const atCore = await core.request('REGISTER');
  core.answer(atCore, 200, { headers: [
    ['Contact', `<sip:${user}@${user}.invalid;transport=ws>;expires=600`], ['Service-Route', `<sip:orig@127.0.0.1:${core.port};lr>`],
    ['P-Associated-URI', `<sip:${user}@ims.test>`], ['Path', getHeader(atCore, 'Path') ?? ''],
  ] });
  const ok = await client.response(callId, 'REGISTER');
  if (ok.status !== 200) throw new Error(`REGISTER of ${user}: ${ok.status}`);
}
