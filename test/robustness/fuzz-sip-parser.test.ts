// Issue #11 Proof, entry point 1: the SIP parser itself (core/sip/codec), fuzzed with a fixed
// seed (test/robustness/fuzz-budget.ts). Arbitrary octets and grammar-aware mutations of the
// RFC 4475/5118 torture messages and of real WebRTC-client and IMS-core messages:
//   - parseMessage throws nothing but SipParseError (RFC 3261 §18.1.2 / §21.4.1: the transport
//     answers 400 or drops, it never crashes);
//   - every header accessor the P-CSCF calls on a parsed message throws nothing but
//     SipParseError either (headers are parsed lazily, on first use);
//   - a parsed message serializes and parses back to the same message, and the canonical form
//     is a fixed point;
//   - buildMalformedReply never throws, and its answer carries the parser's status.
import t from 'tap';
import fc from 'fast-check';
import {
  SipParseError, authValues, buildMalformedReply, callId, chargingVector, contacts, contentType, cseq, expires, formatUri, from,
  getHeaders, maxForwards, nameAddrList, optionTags, parseMessage, parseUri, privacy, serializeMessage, to, topVia, vias,
  type SipMessage,
} from '../../core/sip/index.js';
import { FUZZ_SEED, fuzzParameters, fuzzTimeoutSeconds } from './fuzz-budget.js';
import { mutate, sipMutations } from './sip-mutations.js';
import { mwMessages, tortureMessages, wicMessages } from './sip-seeds.js';

t.setTimeout(fuzzTimeoutSeconds(60) * 1000);
const PROPERTIES = 4;

const ids = { id: 'fz1' };
const seeds = [
  ...tortureMessages(),
  ...Object.entries(wicMessages(ids, 'sip:127.0.0.1:8080;transport=ws', '127.0.0.1:5070')).map(([name, text]) => ({ name: `wic ${name}`, bytes: Buffer.from(text, 'latin1') })),
  ...Object.entries(mwMessages(ids, { host: '127.0.0.1', port: 5070, transport: 'UDP' }, '127.0.0.1:5060')).map(([name, text]) => ({ name: `mw ${name}`, bytes: Buffer.from(text, 'latin1') })),
];
const seed = fc.constantFrom(...seeds);

/** Headers the P-CSCF reads as name-addr lists. */
const NAME_ADDR_LISTS = ['Route', 'Record-Route', 'Path', 'Service-Route', 'P-Asserted-Identity', 'P-Preferred-Identity', 'P-Associated-URI'];

/** Every lazy view the P-CSCF uses, read once: only SipParseError may come out. */
function readEveryView(m: SipMessage): void {
  vias(m); topVia(m); from(m); to(m); callId(m); cseq(m); maxForwards(m);
  for (const step of [
    () => contacts(m), () => contentType(m), () => expires(m), () => privacy(m), () => chargingVector(m),
    () => authValues(m, 'Authorization'), () => authValues(m, 'WWW-Authenticate'), () => authValues(m, 'Proxy-Authorization'),
    () => optionTags(m, 'Require'), () => optionTags(m, 'Proxy-Require'), () => optionTags(m, 'Supported'),
    ...NAME_ADDR_LISTS.map((name) => () => nameAddrList(m, name)),
  ]) {
    try {
      step();
    } catch (error) {
      if (!(error instanceof SipParseError)) throw error;
    }
  }
}

function comparable(m: SipMessage) {
  const start = m.kind === 'request' ? { method: m.method, uri: m.uri } : { status: m.status, reason: m.reason };
  return { kind: m.kind, ...start, headers: m.headers, body: Buffer.from(m.body).toString('hex') };
}

/** The whole contract on one input: a description of the first broken rule, or undefined. */
function checkParser(bytes: Buffer, datagram: boolean): string | undefined {
  let message: SipMessage;
  try {
    message = parseMessage(bytes, { datagram });
  } catch (error) {
    if (!(error instanceof SipParseError)) return `parseMessage threw ${(error as Error).name}: ${(error as Error).message}`;
    let reply;
    try {
      reply = buildMalformedReply(bytes, error, { sameConnection: !datagram });
    } catch (replyError) {
      return `buildMalformedReply threw ${(replyError as Error).name}: ${(replyError as Error).message}`;
    }
    if (reply !== undefined) {
      if (error.status === 'drop') return 'a dropped message got an answer';
      if (reply.status !== error.status) return `answer ${reply.status} instead of the parser's ${error.status}`;
      if (reply.reason.trim().length === 0) return 'an answer without a reason phrase';
      serializeMessage(reply);
    }
    return undefined;
  }
  try {
    readEveryView(message);
  } catch (error) {
    return `a header view threw ${(error as Error).name}: ${(error as Error).message}`;
  }
  if (message.kind === 'request') {
    try { parseUri(formatUri(message.uri)); } catch (error) { if (!(error instanceof SipParseError)) return `parseUri(formatUri(Request-URI)) threw ${(error as Error).message}`; }
  }
  const wire = serializeMessage(message);
  let again: SipMessage;
  try {
    again = parseMessage(wire);
  } catch (error) {
    return `the serialized message does not parse again: ${(error as Error).message}\n${wire.toString('latin1')}`;
  }
  if (JSON.stringify(comparable(again)) !== JSON.stringify(comparable(message))) {
    return `serialize → parse changed the message\nfirst:  ${JSON.stringify(comparable(message))}\nsecond: ${JSON.stringify(comparable(again))}`;
  }
  if (!serializeMessage(again).equals(wire)) return 'the canonical form is not a fixed point';
  return undefined;
}

/** fast-check property body: fail with the broken rule in the message. */
function holds(bytes: Buffer, datagram: boolean): void {
  const problem = checkParser(bytes, datagram);
  if (problem !== undefined) throw new Error(problem);
}

t.comment(`fuzz seed ${FUZZ_SEED} (FUZZ_SEED to change, FUZZ_RUNS / npm run fuzz -- --minutes N for longer)`);

t.test('issue 11 fuzz: arbitrary octets never make the parser throw anything but SipParseError', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), (bytes, datagram) => holds(Buffer.from(bytes), datagram)),
    fuzzParameters(1000, PROPERTIES));
  t.pass('held');
});

t.test('issue 11 fuzz: SIP-looking text (start line, headers, CRLFs) never breaks the parser', async (t) => {
  const line = fc.oneof(
    fc.constantFrom('INVITE sip:a@b SIP/2.0', 'SIP/2.0 200 OK', 'ACK sip:a@b SIP/2.0', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'From: <sip:a@b>;tag=1',
      'To: <sip:b@c>', 'Call-ID: x@y', 'CSeq: 1 INVITE', 'Content-Length: 3', 'Max-Forwards: 70', 'Contact: *', '', ' folded'),
    fc.string({ maxLength: 40 }),
  );
  fc.assert(fc.property(fc.array(line, { maxLength: 12 }), fc.string({ maxLength: 20 }), fc.boolean(), (lines, body, datagram) =>
    holds(Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'utf8'), datagram)), fuzzParameters(1000, PROPERTIES));
  t.pass('held');
});

t.test('issue 11 fuzz: mutated torture and IMS messages: only SipParseError, and what parses round-trips unchanged', async (t) => {
  fc.assert(fc.property(seed, sipMutations, fc.boolean(), (s, mutations, datagram) => holds(mutate(s.bytes, mutations), datagram)),
    fuzzParameters(2000, PROPERTIES));
  t.pass('held');
});

t.test('issue 11 fuzz: unmutated seeds hold the same contract (the baseline the mutations start from)', async (t) => {
  t.ok(seeds.length > 60, `${seeds.length} seed messages`);
  t.same(seeds.flatMap((s) => { const p = checkParser(s.bytes, true); return p === undefined ? [] : [`${s.name}: ${p}`]; }), [], 'every seed as a datagram');
  fc.assert(fc.property(seed, fc.boolean(), (s, datagram) => holds(s.bytes, datagram)), fuzzParameters(200, PROPERTIES));
});
