/**
 * A P-CSCF on real sockets with an in-memory W2 session (the plugin side) and a fake IMS core on
 * UDP (test/support/fake-ims-core.ts): the rig of the procedure tests, which pin each rule on the
 * exact messages. `registered()` leaves alice registered over connection conn-1.
 */
import type { Test } from 'tap';
import { resolveConfig } from '../../core/config/index.js';
import { Pcscf, type PcscfOptions } from '../../core/pcscf/index.js';
import type { SessionCloseReason, W2Connection, W2Session } from '../../core/contract/session.js';
import { createRequest, getHeader, type SipMessage, type SipRequest, type SipResponse } from '../../core/sip/index.js';
import { FakeImsCore } from './fake-ims-core.js';

export class FakeWic implements W2Session {
  readonly received: SipMessage[] = [];
  readonly #waiters: { match: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }[] = [];
  readonly connection: W2Connection;
  constructor(id: string) {
    this.connection = {
      id, subprotocol: 'sip', path: '/sip', remote: { address: '127.0.0.1', port: 40000 }, origin: undefined, secure: false,
      send: async () => undefined, close: () => undefined,
    };
  }
  onFrame(): void {}
  onClose(_reason: SessionCloseReason): void {}
  onSipRequest(request: SipRequest): void { this.#push(request); }
  onSipResponse(response: SipResponse): void { this.#push(response); }
  #push(m: SipMessage): void {
    // Round-trip through the wire format, as the sip-ws plugin would.
    const i = this.#waiters.findIndex((w) => w.match(m));
    if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(m);
    else this.received.push(m);
  }
  next<M extends SipMessage>(match: (m: SipMessage) => boolean): Promise<M> {
    const seen = this.received.find(match);
    if (seen) { this.received.splice(this.received.indexOf(seen), 1); return Promise.resolve(seen as M); }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('WIC: timed out')), 3000);
      this.#waiters.push({ match, resolve: (m) => { clearTimeout(timer); resolve(m as M); } });
    });
  }
  response(status: number, method: string): Promise<SipResponse> {
    return this.next((m) => m.kind === 'response' && m.status === status && (getHeader(m, 'CSeq') ?? '').endsWith(method));
  }
}

export const wicVia = (branch: string) => `SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK${branch}`;
export const contact = '<sip:alice@df7jal23ls0d.invalid;transport=ws>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000000000001>"';

export function register(cseq: number, extra: [string, string][] = []): SipRequest {
  return createRequest({ method: 'REGISTER', uri: 'sip:ims.test;transport=ws', headers: [
    ['Via', wicVia(`reg${cseq}`)], ['Max-Forwards', '70'], ['From', '<sip:alice@ims.test>;tag=wic1'], ['To', '<sip:alice@ims.test>'],
    ['Call-ID', 'reg-call-1'], ['CSeq', `${cseq} REGISTER`], ['Contact', contact], ['Expires', '600'],
    ['Supported', 'path, outbound, gruu'], ['Security-Client', 'digest'], ['Require', 'sec-agree'], ['Proxy-Require', 'sec-agree'],
    ['P-Asserted-Identity', '<sip:admin@ims.test>'], ...extra,
  ] });
}

/** What a test may change in the rig's configuration (everything else as below). */
export interface RigSettings {
  /** mw.listen (default one UDP listener). */
  readonly mwListen?: readonly string[];
  /** The `media` section (the gateway itself is passed as PcscfOptions.media). */
  readonly media?: Record<string, unknown>;
  /** The Service-Route the fake core returns at registration (default: the core itself over UDP). */
  readonly serviceRoute?: (corePort: number) => string;
  /** mw.nextHopProbe (default: no OPTIONS keep-alives, so the fake core sees only the test's traffic). */
  readonly nextHopProbe?: Record<string, unknown>;
}

export async function setup(t: Test, options: Partial<PcscfOptions> = {}, settings: RigSettings = {}) {
  const core = await FakeImsCore.start();
  const config = resolveConfig({
    w2: { listen: '127.0.0.1:18080' },
    mw: { listen: settings.mwListen ?? ['udp:127.0.0.1:0'], nextHop: `sip:127.0.0.1:${core.port};transport=udp`, domain: 'ims.test', visitedNetworkId: 'epcscf.test', nextHopProbe: settings.nextHopProbe ?? { intervalSeconds: 0 } },
    ...(settings.media ? { media: settings.media } : {}),
    log: { level: 'silent' },
  }, { configDir: process.cwd(), env: {} });
  const pcscf = await Pcscf.start({ config, nodeId: 'node1', flowSecret: 'test-secret', ...options });
  const wic = new FakeWic('conn-1');
  pcscf.sessionOpened(wic.connection, wic);
  // The calls a test leaves up are ended by close() with BYEs the core answers (no 2 s wait each).
  t.teardown(async () => { core.answerByes(); await pcscf.close(); core.close(); });
  return { core, pcscf, wic };
}

export async function registered(t: Test, options: Partial<PcscfOptions> = {}, settings: RigSettings = {}) {
  const env = await setup(t, options, settings);
  const { core, pcscf, wic } = env;
  await pcscf.fromClient('conn-1', register(1));
  const atCore = await core.request('REGISTER');
  core.answer(atCore, 200, { headers: [
    ['Contact', `${contact};expires=600`], ['Service-Route', settings.serviceRoute?.(core.port) ?? `<sip:orig@127.0.0.1:${core.port};lr>`],
    ['P-Associated-URI', '<sip:alice@ims.test>, <sip:+15550100@ims.test;user=phone>'], ['Path', getHeader(atCore, 'Path') ?? ''],
  ] });
  await wic.response(200, 'REGISTER');
  return { ...env, registerAtCore: atCore };
}


/** An INVITE from alice (call-a, tag a1) with a placeholder SDP body. */
export function invite(from = '<sip:alice@ims.test>;tag=a1', extra: [string, string][] = []): SipRequest {
  return createRequest({ method: 'INVITE', uri: 'sip:bob@ims.test', headers: [
    ['Via', wicVia('inv-a')], ['Max-Forwards', '70'], ['From', from], ['To', '<sip:bob@ims.test>'], ['Call-ID', 'call-a'],
    ['CSeq', '10 INVITE'], ['Contact', '<sip:alice@df7jal23ls0d.invalid;transport=ws;ob>'], ['Route', '<sip:127.0.0.1:18080;transport=ws;lr>'],
    ['Content-Type', 'application/sdp'], ...extra,
  ], body: 'v=0\r\n' });
}
