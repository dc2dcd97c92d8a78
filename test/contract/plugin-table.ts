/**
 * Every W2 plugin the conformance suite runs against, one row each. A new plugin (xmpp-ws) is
 * one more row: how to load it, one exchange proving a session serves, and — for plugins that
 * reach the IMS — how its client registers (the suite then checks the cleanup on a drop).
 */
import type { W2Plugin } from '../../core/contract/index.js';
import {
  answerChallenge, authValues, formatAuth, generateCallId, generateTag, parseMessage, pickChallenge,
} from '../../core/sip/index.js';
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
  /** Both registered: `caller` calls `callee`'s user, who answers; resolves once confirmed. */
  call?(caller: ConformanceClient, callee: ConformanceClient, calleeUser: DevUser): Promise<void>;
}

/** A tiny audio offer/answer (RFC 4566); media is off in the conformance bed. */
export const TEST_SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

interface RpcMessage { id?: unknown; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: unknown }
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
    async call(caller, callee, calleeUser) {
      caller.send(JSON.stringify({ jsonrpc: '2.0', method: 'call.invite', params: { to: `sip:${calleeUser.user}@ims.test`, sdp: TEST_SDP }, id: 'invite' }));
      const incoming = rpc(await callee.next((text) => rpc(text).method === 'call.incoming'));
      callee.send(JSON.stringify({ jsonrpc: '2.0', method: 'call.answer', params: { callId: incoming.params?.['callId'], sdp: TEST_SDP }, id: 'answer' }));
      await caller.next((text) => rpc(text).method === 'call.answered');
    },
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

/** A REGISTER with digest (RFC 3261 §22, R-REG-*) as a SIP-over-WebSocket client sends it. */
async function registerOverSipWs(client: ConformanceClient, user: DevUser): Promise<void> {
  const host = `${generateTag()}.invalid`;
  const callId = generateCallId();
  const send = (cseq: number, extra: string[] = []): void => client.send([
    'REGISTER sip:ims.test SIP/2.0', `Via: SIP/2.0/WS ${host};branch=z9hG4bK${generateTag()}`, 'Max-Forwards: 70',
    `From: <sip:${user.user}@ims.test>;tag=${generateTag()}`, `To: <sip:${user.user}@ims.test>`, `Call-ID: ${callId}`,
    `CSeq: ${cseq} REGISTER`, `Contact: <sip:${user.user}@${host};transport=ws>;+sip.instance="<urn:uuid:${crypto.randomUUID()}>";reg-id=1`,
    'Supported: path, outbound', 'Expires: 300', ...extra, 'Content-Length: 0', '', ''].join('\r\n'));
  const final = async (): Promise<ReturnType<typeof parseMessage>> => {
    for (;;) {
      const message = parseMessage(Buffer.from(await client.next()), { datagram: true });
      if (message.kind === 'response' && message.status >= 200) return message;
    }
  };
  send(1);
  const challenged = await final();
  const challenge = challenged.kind === 'response' ? pickChallenge(authValues(challenged, 'WWW-Authenticate')) : undefined;
  if (challenge === undefined) throw new Error('expected a 401 with a challenge');
  const credentials = answerChallenge(challenge, { method: 'REGISTER', uri: 'sip:ims.test', username: user.user, password: user.password });
  send(2, [`Authorization: ${formatAuth(credentials)}`]);
  const ok = await final();
  if (ok.kind !== 'response' || ok.status !== 200) throw new Error(`REGISTER answered ${ok.kind === 'response' ? ok.status : '?'}`);
}
