/**
 * The `npm start` demo path in one process: two SIP-over-WebSocket clients register through
 * epcscf (sip-ws + Pcscf) with the embedded dev IMS core and call each other.
 */
import t from 'tap';
import { pino } from 'pino';
import WebSocket from 'ws';
import { resolveConfig } from '../../core/config/index.js';
import { startRuntime } from '../../core/cli/runtime.js';
import {
  answerChallenge, authValues, formatAuth, generateCallId, generateTag, getHeader, getHeaders, parseMessage,
  pickChallenge, type SipMessage, type SipRequest, type SipResponse,
} from '../../core/sip/index.js';
import { allocatePorts } from '../support/peers/ports.js';

class WsUe {
  readonly #queue: SipMessage[] = [];
  readonly #waiters: ((m: SipMessage) => void)[] = [];
  readonly host = `${generateTag()}.invalid`;
  constructor(readonly ws: WebSocket, readonly user: string) {
    ws.on('message', (data: Buffer) => {
      const message = parseMessage(data, { datagram: true });
      const waiter = this.#waiters.shift();
      if (waiter) waiter(message); else this.#queue.push(message);
    });
  }

  static async connect(url: string, user: string): Promise<WsUe> {
    const ws = new WebSocket(url, 'sip');
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    return new WsUe(ws, user);
  }

  next(timeoutMs = 5000): Promise<SipMessage> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.user}: nothing within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push((m) => { clearTimeout(timer); resolve(m); });
    });
  }

  /** The next final response (provisional ones are skipped). */
  async final(): Promise<SipResponse> {
    for (;;) {
      const m = await this.next();
      if (m.kind === 'response' && m.status >= 200) return m;
    }
  }

  send(lines: string[], body = ''): void {
    this.ws.send([...lines, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n'));
  }

  via(): string {
    return `Via: SIP/2.0/WS ${this.host};branch=z9hG4bK${generateTag()}`;
  }

  async register(password: string): Promise<SipResponse> {
    const callId = generateCallId();
    const lines = (cseq: number): string[] => [
      'REGISTER sip:ims.test SIP/2.0', this.via(), 'Max-Forwards: 70', `From: <sip:${this.user}@ims.test>;tag=${generateTag()}`,
      `To: <sip:${this.user}@ims.test>`, `Call-ID: ${callId}`, `CSeq: ${cseq} REGISTER`,
      `Contact: <sip:${this.user}@${this.host};transport=ws>;+sip.instance="<urn:uuid:00000000-0000-4000-8000-${this.user.padStart(12, '0')}>";reg-id=1`,
      'Supported: path, outbound', 'Expires: 300'];
    this.send(lines(1));
    const challenged = await this.final();
    const challenge = pickChallenge(authValues(challenged, 'WWW-Authenticate'));
    if (challenge === undefined) throw new Error(`${this.user}: expected a challenge, got ${challenged.status}`);
    const credentials = answerChallenge(challenge, { method: 'REGISTER', uri: 'sip:ims.test', username: this.user, password });
    this.send([...lines(2), `Authorization: ${formatAuth(credentials)}`]);
    return this.final();
  }
}

t.test('npm start demo: alice and bob register over WebSocket with the dev core and complete INVITE/200/ACK/BYE', async (t) => {
  const [w2Port, mwPort] = await allocatePorts(2);
  const config = resolveConfig({
    w2: { listen: `127.0.0.1:${w2Port}` }, plugins: [{ name: 'sip-ws' }], mw: { listen: [`udp:127.0.0.1:${mwPort}`] },
    // Signalling only: these WebSocket UEs offer plain RTP, which the IMS-ALG would refuse (488);
    // the demo's media path is proven by test/interop/browser-media.test.ts.
    media: { mode: 'off' },
  }, { configDir: process.cwd(), env: {} });
  const runtime = await startRuntime(config, { logger: pino({ level: 'silent' }), devCorePort: 0 });
  t.teardown(() => runtime.close());
  t.ok(runtime.devCore, 'no mw.nextHop: the dev core runs');
  t.equal(runtime.config.mw.nextHop, runtime.devCore?.uri, 'and is the next hop');

  const url = `ws://127.0.0.1:${w2Port}/sip`;
  const alice = await WsUe.connect(url, 'alice');
  const bob = await WsUe.connect(url, 'bob');
  t.teardown(() => { alice.ws.terminate(); bob.ws.terminate(); });
  const aliceOk = await alice.register('alicepw');
  t.equal(aliceOk.status, 200);
  t.equal((await bob.register('bobpw')).status, 200);
  const serviceRoute = getHeader(aliceOk, 'Service-Route') as string;

  const callId = generateCallId();
  const fromTag = generateTag();
  const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';
  alice.send(['INVITE sip:bob@ims.test SIP/2.0', alice.via(), 'Max-Forwards: 70', `Route: ${serviceRoute}`,
    `From: <sip:alice@ims.test>;tag=${fromTag}`, 'To: <sip:bob@ims.test>', `Call-ID: ${callId}`, 'CSeq: 1 INVITE',
    `Contact: <sip:alice@${alice.host};transport=ws;ob>`, 'Content-Type: application/sdp'], sdp);

  const invite = await bob.next();
  t.equal(invite.kind === 'request' && invite.method, 'INVITE', 'bob receives the INVITE over his WebSocket');
  const inviteAtBob = invite as SipRequest;
  t.equal(getHeader(inviteAtBob, 'Call-ID'), callId);
  const toTag = generateTag();
  // Bob answers as a browser UA would: Via, Record-Route, From, To copied (RFC 3261 §8.2.6.2, §12.1.1).
  const rrs = getHeaders(inviteAtBob, 'Record-Route');
  const okLines = [
    'SIP/2.0 200 OK', ...getHeaders(inviteAtBob, 'Via').map((v) => `Via: ${v}`), ...rrs.map((rr) => `Record-Route: ${rr}`),
    `From: ${getHeader(inviteAtBob, 'From')}`, `To: ${getHeader(inviteAtBob, 'To')};tag=${toTag}`, `Call-ID: ${callId}`, 'CSeq: 1 INVITE',
    `Contact: <sip:bob@${bob.host};transport=ws;ob>`, 'Content-Type: application/sdp'];
  bob.send(okLines, sdp);
  const ok = await alice.final();
  t.equal(ok.status, 200, 'alice gets the 200 OK');

  // RFC 3261 §12.1.2: route set = Record-Route reversed; remote target = Contact.
  const routeSet = getHeaders(ok, 'Record-Route').reverse();
  const dialog = (method: string, seq: number): string[] => [
    `${method} sip:bob@${bob.host};transport=ws;ob SIP/2.0`, alice.via(), 'Max-Forwards: 70', ...routeSet.map((r) => `Route: ${r}`),
    `From: <sip:alice@ims.test>;tag=${fromTag}`, `To: <sip:bob@ims.test>;tag=${toTag}`, `Call-ID: ${callId}`, `CSeq: ${seq} ${method}`];
  alice.send(dialog('ACK', 1));
  const ack = await bob.next();
  t.equal(ack.kind === 'request' && ack.method, 'ACK', 'the ACK reaches bob');
  alice.send(dialog('BYE', 2));
  const bye = await bob.next() as SipRequest;
  t.equal(bye.method, 'BYE', 'the BYE reaches bob');
  bob.send(['SIP/2.0 200 OK', ...getHeaders(bye, 'Via').map((v) => `Via: ${v}`), `From: ${getHeader(bye, 'From')}`,
    `To: ${getHeader(bye, 'To')}`, `Call-ID: ${callId}`, 'CSeq: 2 BYE']);
  t.equal((await alice.final()).status, 200, 'BYE answered end to end');
});
