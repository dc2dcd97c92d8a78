/**
 * Every W2 plugin the conformance suite runs against, one row each. A new plugin (xmpp-ws) is
 * one more row: how to load it, one exchange proving a session serves, and — for plugins that
 * reach the IMS — how its client registers (the suite then checks the cleanup on a drop).
 */
import type { W2Plugin } from '../../core/contract/index.js';
import {
  answerChallenge, authValues, formatAuth, generateCallId, generateTag, getHeader, getHeaders, parseMessage, pickChallenge,
  type SipMessage, type SipResponse,
} from '../../core/sip/index.js';
import { sdpToJingle } from '../../plugins/xmpp-ws/jingle/sdp-to-jingle.js';
import { xmlElement, type XmlElement } from '../../plugins/xmpp-ws/xml/element.js';
import { FrameParser } from '../../plugins/xmpp-ws/xml/frame-parser.js';
import { serializeElement } from '../../plugins/xmpp-ws/xml/serialize.js';
import type { ConformanceClient } from './conformance-client.js';

export interface DevUser {
  readonly user: string;
  readonly password: string;
}

export interface PluginRow {
  /** meta.name of the plugin. */
  readonly name: string;
  load(): Promise<W2Plugin>;
  /** One exchange that proves the session serves; resolves when the answer came. */
  probe(client: ConformanceClient): Promise<void>;
  /** Registers `user` of the dev IMS core (domain ims.test) through the plugin. */
  register?(client: ConformanceClient, user: DevUser): Promise<void>;
  /**
   * Both registered: `caller` calls `callee`'s user, who answers. Resolves once confirmed, with
   * the callee's side of a release: resolves when the callee saw the call end (answering the
   * BYE where the client speaks SIP). `sdp` is the offer and answer the clients send (default
   * TEST_SDP both ways; WebRTC SDP when the bed has a media gateway).
   */
  call?(caller: ConformanceClient, callee: ConformanceClient, calleeUser: DevUser, sdp?: CallSdp): Promise<() => Promise<void>>;
}

export interface CallSdp {
  readonly offer: string;
  readonly answer: string;
}

const XMPP_OPEN = '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="ims.test" version="1.0"/>';

/** A tiny audio offer/answer (RFC 4566); media is off in the conformance bed. */
export const TEST_SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

interface RpcMessage { id?: unknown; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: unknown }
const PLAIN_CALL: CallSdp = { offer: TEST_SDP, answer: TEST_SDP };

const rpc = (text: string): RpcMessage => JSON.parse(text) as RpcMessage;

const defaultOf = async (specifier: Promise<{ default: unknown }>): Promise<W2Plugin> => (await specifier).default as W2Plugin;

export const PLUGIN_TABLE: readonly PluginRow[] = [
  {
    name: 'sip-ws',
    load: () => defaultOf(import('../../plugins/sip-ws/index.js')),
    // RFC 5626 §4.4.1: a CRLFCRLF ping is answered with a CRLF pong.
    async probe(client) {
      client.send('\r\n\r\n');
      await client.next((text) => text === '\r\n');
    },
    register: registerOverSipWs,
    call: callOverSipWs,
  },
  {
    name: 'jsonrpc-ws',
    load: () => defaultOf(import('../../plugins/jsonrpc-ws/index.js')),
    // JSON-RPC 2.0 §5.1: an unknown method is answered -32601.
    async probe(client) {
      client.send(JSON.stringify({ jsonrpc: '2.0', method: 'conformance.none', id: 'probe' }));
      await client.next((text) => (JSON.parse(text) as { id?: unknown; error?: { code?: number } }).error?.code === -32601);
    },
    async register(client, user) {
      client.send(JSON.stringify({ jsonrpc: '2.0', method: 'session.register', params: { impu: `sip:${user.user}@ims.test`, password: user.password }, id: 'reg' }));
      const answer = JSON.parse(await client.next((text) => (JSON.parse(text) as { id?: unknown }).id === 'reg')) as { result?: unknown; error?: unknown };
      if (answer.result === undefined) throw new Error(`session.register failed: ${JSON.stringify(answer.error)}`);
    },
    async call(caller, callee, calleeUser, sdp = PLAIN_CALL) {
      caller.send(JSON.stringify({ jsonrpc: '2.0', method: 'call.invite', params: { to: `sip:${calleeUser.user}@ims.test`, sdp: sdp.offer }, id: 'invite' }));
      const incoming = rpc(await callee.next((text) => rpc(text).method === 'call.incoming'));
      callee.send(JSON.stringify({ jsonrpc: '2.0', method: 'call.answer', params: { callId: incoming.params?.['callId'], sdp: sdp.answer }, id: 'answer' }));
      await caller.next((text) => rpc(text).method === 'call.answered');
      return async () => { await callee.next((text) => rpc(text).method === 'call.ended'); };
    },
  },
  {
    name: 'xmpp-ws',
    load: () => defaultOf(import('../../plugins/xmpp-ws/index.js')),
    // RFC 7395 §3.3.2: an <open/> is answered with an <open/> (then the stream features); on a
    // bound stream (register below) an XEP-0199 ping is answered with a result instead.
    async probe(client) {
      if (xmppJids.has(client)) {
        client.send('<iq xmlns="jabber:client" type="get" id="probe"><ping xmlns="urn:xmpp:ping"/></iq>');
        await client.next((text) => text.includes('id="probe"') && text.includes('type="result"'));
        return;
      }
      client.send(XMPP_OPEN);
      await client.next((text) => text.startsWith('<open'));
    },
    register: registerOverXmpp,
    call: callOverXmpp,
  },
  {
    name: 'echo',
    load: () => defaultOf(import('../../examples/plugin-echo/index.js')),
    async probe(client) {
      client.send('conformance');
      await client.next((text) => text === 'conformance');
    },
  },
  {
    name: 'text-chat',
    load: () => defaultOf(import('../../examples/plugin-text-chat/index.js')),
    async probe(client) {
      client.send('help');
      await client.next((text) => text.startsWith('error '));
    },
    async register(client, user) {
      client.send(`login sip:${user.user}@ims.test ${user.password}`);
      const answer = await client.next();
      if (answer !== 'registered 200 registered') throw new Error(`login answered "${answer}"`);
    },
  },
];

/** What a SIP-over-WebSocket client of this table keeps after its REGISTER. */
const sipWsClients = new WeakMap<ConformanceClient, { host: string; user: string; serviceRoute: string }>();

const sipOf = (text: string): SipMessage => parseMessage(Buffer.from(text), { datagram: true });

async function finalResponse(client: ConformanceClient): Promise<SipResponse> {
  for (;;) {
    const message = sipOf(await client.next());
    if (message.kind === 'response' && message.status >= 200) return message;
  }
}

/** A REGISTER with digest (RFC 3261 §22, R-REG-*) as a SIP-over-WebSocket client sends it. */
async function registerOverSipWs(client: ConformanceClient, user: DevUser): Promise<void> {
  const host = `${generateTag()}.invalid`;
  const callId = generateCallId();
  const send = (cseq: number, extra: string[] = []): void => client.send([
    'REGISTER sip:ims.test SIP/2.0', `Via: SIP/2.0/WS ${host};branch=z9hG4bK${generateTag()}`, 'Max-Forwards: 70',
    `From: <sip:${user.user}@ims.test>;tag=${generateTag()}`, `To: <sip:${user.user}@ims.test>`, `Call-ID: ${callId}`,
    `CSeq: ${cseq} REGISTER`, `Contact: <sip:${user.user}@${host};transport=ws>;+sip.instance="<urn:uuid:${crypto.randomUUID()}>";reg-id=1`,
    'Supported: path, outbound', 'Expires: 300', ...extra, 'Content-Length: 0', '', ''].join('\r\n'));
  send(1);
  const challenge = pickChallenge(authValues(await finalResponse(client), 'WWW-Authenticate'));
  if (challenge === undefined) throw new Error('expected a 401 with a challenge');
  const credentials = answerChallenge(challenge, { method: 'REGISTER', uri: 'sip:ims.test', username: user.user, password: user.password });
  send(2, [`Authorization: ${formatAuth(credentials)}`]);
  const ok = await finalResponse(client);
  if (ok.status !== 200) throw new Error(`REGISTER answered ${ok.status}`);
  sipWsClients.set(client, { host, user: user.user, serviceRoute: getHeader(ok, 'Service-Route') ?? '' });
}

/** INVITE/200/ACK between two registered SIP-over-WebSocket clients (RFC 3261 §13, §12.1). */
async function callOverSipWs(caller: ConformanceClient, callee: ConformanceClient, calleeUser: DevUser, sdp = PLAIN_CALL): Promise<() => Promise<void>> {
  const from = sipWsClients.get(caller);
  const to = sipWsClients.get(callee);
  if (from === undefined || to === undefined) throw new Error('both clients register first');
  const callId = generateCallId();
  const fromTag = generateTag();
  const body = (lines: string[], sdp = ''): string => [...lines, `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n');
  caller.send(body([`INVITE sip:${calleeUser.user}@ims.test SIP/2.0`, `Via: SIP/2.0/WS ${from.host};branch=z9hG4bK${generateTag()}`,
    'Max-Forwards: 70', `Route: ${from.serviceRoute}`, `From: <sip:${from.user}@ims.test>;tag=${fromTag}`, `To: <sip:${calleeUser.user}@ims.test>`,
    `Call-ID: ${callId}`, 'CSeq: 1 INVITE', `Contact: <sip:${from.user}@${from.host};transport=ws;ob>`, 'Content-Type: application/sdp'], sdp.offer));
  let invite: SipMessage;
  do invite = sipOf(await callee.next()); while (invite.kind !== 'request' || invite.method !== 'INVITE');
  const toTag = generateTag();
  callee.send(body(['SIP/2.0 200 OK', ...getHeaders(invite, 'Via').map((v) => `Via: ${v}`), ...getHeaders(invite, 'Record-Route').map((r) => `Record-Route: ${r}`),
    `From: ${getHeader(invite, 'From') ?? ''}`, `To: ${getHeader(invite, 'To') ?? ''};tag=${toTag}`, `Call-ID: ${callId}`, 'CSeq: 1 INVITE',
    `Contact: <sip:${to.user}@${to.host};transport=ws;ob>`, 'Content-Type: application/sdp'], sdp.answer));
  const ok = await finalResponse(caller);
  if (ok.status !== 200) throw new Error(`INVITE answered ${ok.status}`);
  // RFC 3261 §12.1.2: the route set is the Record-Route reversed.
  caller.send(body([`ACK sip:${to.user}@${to.host};transport=ws;ob SIP/2.0`, `Via: SIP/2.0/WS ${from.host};branch=z9hG4bK${generateTag()}`,
    'Max-Forwards: 70', ...getHeaders(ok, 'Record-Route').reverse().map((r) => `Route: ${r}`), `From: <sip:${from.user}@ims.test>;tag=${fromTag}`,
    `To: <sip:${calleeUser.user}@ims.test>;tag=${toTag}`, `Call-ID: ${callId}`, 'CSeq: 1 ACK']));
  await callee.next((text) => { const m = sipOf(text); return m.kind === 'request' && m.method === 'ACK'; });
  return async () => {
    const bye = sipOf(await callee.next((text) => { const m = sipOf(text); return m.kind === 'request' && m.method === 'BYE'; }));
    callee.send(body(['SIP/2.0 200 OK', ...getHeaders(bye, 'Via').map((v) => `Via: ${v}`), `From: ${getHeader(bye, 'From') ?? ''}`,
      `To: ${getHeader(bye, 'To') ?? ''}`, `Call-ID: ${callId}`, `CSeq: ${getHeader(bye, 'CSeq') ?? ''}`]));
  };
}

/** The bound full JID of each XMPP client of this table. */
const xmppJids = new WeakMap<ConformanceClient, string>();
const xmppParser = new FrameParser({ maxBytes: 1 << 20 });
const JINGLE = 'urn:xmpp:jingle:1';

function xmppOf(text: string): XmlElement | undefined {
  const parsed = xmppParser.parseDocument(text);
  return parsed.ok ? parsed.element : undefined;
}

/** An IQ set from the server carrying <jingle action=…/>. */
function jingleSet(text: string, action: string): XmlElement | undefined {
  const iq = xmppOf(text);
  return iq?.name === 'iq' && iq.attrs['type'] === 'set' && iq.children.some((c) => c.ns === JINGLE && c.attrs['action'] === action) ? iq : undefined;
}

/** RFC 6120 §8.2.3: every IQ set is answered. */
function iqResultTo(client: ConformanceClient, iq: XmlElement): void {
  client.send(serializeElement(xmlElement('iq', 'jabber:client', { type: 'result', id: iq.attrs['id'] ?? '', ...(iq.attrs['from'] !== undefined ? { to: iq.attrs['from'] } : {}) })));
}

/**
 * RFC 6120 §6-7 with SASL PLAIN (RFC 4616): <success/> only once the IMS REGISTER succeeded;
 * then the stream restart and resource binding, so the client may send stanzas.
 */
async function registerOverXmpp(client: ConformanceClient, user: DevUser): Promise<void> {
  client.send(XMPP_OPEN);
  await client.next((text) => text.includes('<mechanisms'));
  client.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">${Buffer.from(`\0${user.user}\0${user.password}`).toString('base64')}</auth>`);
  const answer = await client.next((text) => text.startsWith('<success') || text.startsWith('<failure'));
  if (!answer.startsWith('<success')) throw new Error(`SASL PLAIN answered ${answer}`);
  client.send(XMPP_OPEN);
  await client.next((text) => text.includes('xmpp-bind'));
  client.send('<iq xmlns="jabber:client" type="set" id="bind"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>conformance</resource></bind></iq>');
  const bound = /<jid>([^<]+)<\/jid>/.exec(await client.next((text) => text.includes('id="bind"')))?.[1];
  if (bound === undefined) throw new Error('resource binding failed');
  xmppJids.set(client, bound);
}

/**
 * XEP-0166/0167 between two bound clients: session-initiate (to the callee's bare JID, i.e. an
 * INVITE), the callee (no jingle-message advertised) gets a direct session-initiate and accepts.
 */
async function callOverXmpp(caller: ConformanceClient, callee: ConformanceClient, calleeUser: DevUser, sdp = PLAIN_CALL): Promise<() => Promise<void>> {
  const callerJid = xmppJids.get(caller);
  const calleeJid = xmppJids.get(callee);
  if (callerJid === undefined || calleeJid === undefined) throw new Error('both clients register first');
  const sid = `conf-${generateTag()}`;
  const offer = sdpToJingle(sdp.offer, { role: 'initiator', action: 'session-initiate', sid, initiator: callerJid }).jingle;
  caller.send(serializeElement(xmlElement('iq', 'jabber:client', { type: 'set', id: 'initiate', to: `${calleeUser.user}@ims.test` }, [offer])));
  let incoming: XmlElement | undefined;
  await callee.next((text) => (incoming = jingleSet(text, 'session-initiate')) !== undefined);
  if (incoming === undefined) throw new Error('no session-initiate');
  iqResultTo(callee, incoming);
  const incomingSid = incoming.children.find((c) => c.ns === JINGLE)?.attrs['sid'] ?? '';
  const answer = sdpToJingle(sdp.answer, { role: 'responder', action: 'session-accept', sid: incomingSid, responder: calleeJid }).jingle;
  callee.send(serializeElement(xmlElement('iq', 'jabber:client', { type: 'set', id: 'accept', to: incoming.attrs['from'] ?? '' }, [answer])));
  let accepted: XmlElement | undefined;
  await caller.next((text) => (accepted = jingleSet(text, 'session-accept')) !== undefined);
  if (accepted === undefined) throw new Error('no session-accept');
  iqResultTo(caller, accepted);
  return async () => {
    let terminate: XmlElement | undefined;
    await callee.next((text) => (terminate = jingleSet(text, 'session-terminate')) !== undefined);
    if (terminate !== undefined) iqResultTo(callee, terminate);
  };
}
