// Issue #11 Proof, entry point 2: W2 sip-ws over a real WebSocket into a running epcscf (the
// in-process runtime of test/robustness/fuzz-target.ts: dev IMS core on Mw, UDP and TCP), with a
// fixed seed (fuzz-budget.ts). Each run is one unregistered WebRTC client on a fresh connection
// sending one mutated (or intact) REGISTER / INVITE / MESSAGE / ACK / mid-dialog request /
// response. Properties:
//   - the server stays up: the keep-alive ping sent behind the message is answered in order;
//   - every request gets a final response, except an ACK (RFC 3261 §17.2.1, never answered);
//     a malformed request gets the parser's status (400, 505, 501 ...) with a reason phrase
//     (RFC 3261 §21.4.1, R-SIPWS-2), or nothing when it cannot be read as a request at all
//     (core/sip/transport/malformed-reply.ts says when); a malformed response is dropped (§18.1.2);
//   - R-ORIG-1 / R-ORIG-10: a message from an unregistered client never produces traffic on Mw
//     except REGISTER (asserted on the P-CSCF's Mw tap and on a black-hole IMS hop): no
//     mid-dialog request for a dialog it never saw, no stray ACK, no stray response relayed;
//   - R-ORIG-2 / TS 24.229 5.2.6.3.3: whatever P-Asserted-Identity / P-Preferred-Identity a
//     registered client writes, in any spelling, the request on Mw carries one PAI, and it is
//     one of the client's associated URIs;
//   - no plugin hook fault, no unhandled rejection, nothing logged at error level; afterwards
//     /health answers and fresh clients register (fuzz-target.ts healthCheck).
import t from 'tap';
import fc from 'fast-check';
import { SipParseError, buildMalformedReply, callId, getHeaders, nameAddrList, parseMessage, type SipMessage } from '../../core/sip/index.js';
import { FUZZ_SEED, fuzzParameters, fuzzTimeoutSeconds } from './fuzz-budget.js';
import { SipWsClient, startFuzzTarget, type FuzzTarget } from './fuzz-target.js';
import { asWebSocketFrame, hostileText, mutate, sipMutations } from './sip-mutations.js';
import { wicMessages } from './sip-seeds.js';
import { eventually, exchange } from './ws-exchange.js';

t.setTimeout(fuzzTimeoutSeconds(120) * 1000);
const PROPERTIES = 3;

const target = await startFuzzTarget(t);
t.comment(`fuzz seed ${FUZZ_SEED} (FUZZ_SEED to change, FUZZ_RUNS / npm run fuzz -- --minutes N for longer)`);

const SEED_NAMES = Object.keys(wicMessages({ id: 'x' }, 'sip:x', 'x')) as (keyof ReturnType<typeof wicMessages>)[];
/** Requests an unregistered client may cause on Mw (R-ORIG-1: everything else is refused at the P-CSCF). */
const ALLOWED_ON_MW_UNREGISTERED = new Set(['REGISTER']);
/** How long an answer that crosses Mw may take (dev core on loopback). */
const MW_ANSWER_MS = 3000;

let runs = 0;
const runId = (): string => String(++runs).padStart(6, '0');

function localParse(bytes: Buffer): { message?: SipMessage; error?: SipParseError } {
  try {
    return { message: parseMessage(bytes, { datagram: true }) };
  } catch (error) {
    return { error: error as SipParseError };
  }
}

const statusOf = (frame: string): number | undefined => {
  const m = /^SIP\/2\.0 (\d{3})(?: (.*))?\r\n/.exec(frame);
  return m ? Number(m[1]) : undefined;
};
const reasonOf = (frame: string): string => /^SIP\/2\.0 \d{3} ([^\r]*)\r\n/.exec(frame)?.[1] ?? '';

/** One run: the message built from `seedName`, mutated, sent by a fresh unregistered client. */
async function oneRun(target: FuzzTarget, seedName: (typeof SEED_NAMES)[number], mutations: Parameters<typeof mutate>[1] | null): Promise<void> {
  const pcscfRoute = `sip:127.0.0.1:${target.w2Port};transport=ws`;
  const text = wicMessages({ id: runId() }, pcscfRoute, target.blackHole, `127.0.0.1:${target.w2Port}`)[seedName];
  const bytes = mutations === null ? Buffer.from(text, 'latin1') : mutate(text, mutations);
  const mwBefore = target.mw.length;
  const blackHoleBefore = target.blackHoleTraffic.length;
  const conv = await exchange({
    url: `${target.wsBase}/sip`, subprotocol: 'sip', frames: [asWebSocketFrame(bytes)],
    marker: '\r\n\r\n', isMarkerAnswer: (f) => f === '\r\n',
  });
  try {
    if (!conv.markerAnswered) {
      throw new Error(`the server stopped answering: no pong behind the message (close code ${conv.closeCode ?? 'none'})`);
    }
    const { message, error } = localParse(bytes);
    const finals = (): string[] => [...conv.received, ...conv.later].filter((f) => (statusOf(f) ?? 0) >= 200);
    // Answered at the P-CSCF (403, 481 ...) before the pong, or after a round trip on Mw.
    const wantsAnswer = message?.kind === 'request' && message.method !== 'ACK';
    const answered = wantsAnswer ? await eventually(() => finals().length > 0, MW_ANSWER_MS) : true;

    const leaked = target.mw.slice(mwBefore).filter((e) => e.direction === 'out'
      && (e.message.kind === 'response' || !ALLOWED_ON_MW_UNREGISTERED.has(e.message.method)));
    if (leaked.length > 0) {
      const first = leaked[0]!.message;
      throw new Error(`an unregistered client's message reached Mw: ${first.kind === 'request' ? first.method : first.status} (R-ORIG-1/R-ORIG-10: only REGISTER may)`);
    }
    if (target.blackHoleTraffic.length > blackHoleBefore) {
      throw new Error(`relayed to another IMS hop: ${target.blackHoleTraffic[blackHoleBefore]?.toString('latin1').split('\r\n', 1)[0]}`);
    }

    if (error !== undefined) {
      if (!(error instanceof SipParseError)) throw error;
      const expected = buildMalformedReply(bytes, error, { sameConnection: true });
      if (expected === undefined) {
        if (finals().length > 0) throw new Error(`a message that cannot be answered got ${finals()[0]?.split('\r\n', 1)[0]}`);
      } else {
        const answer = conv.received.find((f) => statusOf(f) !== undefined);
        if (answer === undefined) throw new Error(`malformed request (${error.reason}) was not answered ${expected.status}`);
        if (statusOf(answer) !== expected.status) throw new Error(`malformed request (${error.reason}) answered ${statusOf(answer)}, expected ${expected.status}`);
        if (reasonOf(answer).trim().length === 0) throw new Error(`the ${expected.status} to a malformed request has no reason phrase`);
      }
    } else if (wantsAnswer) {
      if (!answered) throw new Error(`${message?.kind === 'request' ? message.method : ''} was never answered`);
      const reason = reasonOf(finals()[0] ?? '');
      if (reason.trim().length === 0) throw new Error(`the answer has no reason phrase: ${finals()[0]?.split('\r\n', 1)[0]}`);
    }
    if (Object.keys(target.pluginFaults()).length > 0) throw new Error(`a plugin hook threw: ${JSON.stringify(target.pluginFaults())}`);
    if (target.processFaults.length > 0) throw new Error(target.processFaults[0]);
  } finally {
    await conv.close();
  }
}

t.test('issue 11 fuzz, W2 sip-ws: intact client messages from an unregistered client: answered, nothing but REGISTER on Mw (R-ORIG-1, R-ORIG-10)', async (t) => {
  // The intact seeds include the open-relay shapes: mid-dialog BYE/MESSAGE/INFO/UPDATE with a
  // To tag for a dialog the P-CSCF never saw, and a stray ACK routed at another IMS hop.
  try {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...SEED_NAMES), (name) => oneRun(target, name, null)),
      fuzzParameters(SEED_NAMES.length * 2, PROPERTIES * 4));
  } finally {
    await target.healthCheck(t, 'the intact messages');
  }
});

t.test('issue 11 fuzz, W2 sip-ws: mutated messages: server up, malformed → status with reason, nothing but REGISTER on Mw', async (t) => {
  try {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...SEED_NAMES), sipMutations, (name, mutations) => oneRun(target, name, mutations)),
      fuzzParameters(120, PROPERTIES));
  } finally {
    await target.healthCheck(t, 'the mutated messages');
  }
});

t.test('issue 11: a 10 MB WebSocket message is refused with 1009 before it is buffered, and the server stays up', async (t) => {
  const conv = await exchange({
    url: `${target.wsBase}/sip`, subprotocol: 'sip', frames: [Buffer.alloc(10 * 1024 * 1024, 0x41)],
    marker: '\r\n\r\n', isMarkerAnswer: (f) => f === '\r\n',
  });
  t.equal(conv.closeCode, 1009, 'RFC 6455 §7.4.1: 1009 message too big');
  await target.healthCheck(t, 'the 10 MB frame');
});

/** Spellings of identity claims a client may try (header name case, lists, display names, tel, garbage). */
const identityClaim = fc.tuple(
  fc.constantFrom('P-Asserted-Identity', 'p-asserted-identity', 'P-ASSERTED-IDENTITY', 'P-Asserted-Identity ', 'P-Preferred-Identity', 'p-preferred-identity'),
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('<sip:admin@ims.test>', 'sip:admin@ims.test', '"Admin" <sip:admin@ims.test>', '<tel:+19999999>',
      '<sip:admin@ims.test>, <tel:+19999999>', '<sip:bob@ims.test>', 'tel:+15550002', '<sip:alice@ims.test>', '<tel:+15550001>',
      '<sip:+15550001@ims.test;user=phone>', '<sip:admin@', '"unterminated <sip:x@y>', '', '<sip:admin@ims.test>;x=1,<sip:root@ims.test>') },
    { weight: 1, arbitrary: hostileText.map((v) => v.replace(/[\r\n]/g, '')) },
  ),
);

t.test('issue 11 fuzz, W2 sip-ws: a registered client\'s PAI/PPI claims in every spelling are replaced by its own identity on Mw (R-ORIG-2)', async (t) => {
  // sip-ws allows a client 50 messages a second (floodRatePerSecond, burst 200): a long run
  // would trip the guard (1008), so alice comes back on a fresh connection every 100 messages.
  let client = await SipWsClient.connect(target.wsBase, 'paiclient');
  t.teardown(() => client.close());
  const ok = await client.register('alice', 'alicepw');
  t.equal(ok.status, 200, 'alice registers over sip-ws');
  const associated = new Set(nameAddrList(ok, 'P-Associated-URI').map((na) => JSON.stringify(na.uri)));
  t.ok(associated.size > 0, 'the registrar named her associated URIs');
  const reconnect = async (): Promise<void> => {
    client.close();
    client = await SipWsClient.connect(target.wsBase, `paiclient${n}`);
    const again = await client.register('alice', 'alicepw');
    if (again.status !== 200) throw new Error(`alice could not register again (${again.status})`);
  };
  let n = 0;
  let reachedMw = 0;
  const property = fc.asyncProperty(fc.array(identityClaim, { minLength: 1, maxLength: 3 }), fc.constantFrom('MESSAGE', 'INVITE'), async (claims, method) => {
    const id = `pai${++n}`;
    if (n % 100 === 0) await reconnect();
    const body = method === 'INVITE' ? 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n' : 'hi';
    const text = [
      `${method} sip:bob@ims.test SIP/2.0`, `Via: SIP/2.0/WSS paiclient.invalid;branch=z9hG4bK${id}`, 'Max-Forwards: 70',
      `From: <sip:alice@ims.test>;tag=a${id}`, 'To: <sip:bob@ims.test>', `Call-ID: ${id}`, `CSeq: 1 ${method}`,
      'Contact: <sip:paiclient@paiclient.invalid;transport=ws;ob>',
      ...claims.map(([name, value]) => `${name}: ${value}`),
      `Content-Type: ${method === 'INVITE' ? 'application/sdp' : 'text/plain'}`, `Content-Length: ${Buffer.byteLength(body)}`, '', body,
    ].join('\r\n');
    const mwBefore = target.mw.length;
    const answer = await client.request(text, 5000);
    if (answer.reason.trim().length === 0) throw new Error(`the ${answer.status} to the ${method} has no reason phrase`);
    const onMw = target.mw.slice(mwBefore).filter((e) => e.direction === 'out' && e.message.kind === 'request'
      && e.message.method === method && callId(e.message) === id);
    if (onMw.length > 0) reachedMw += 1;
    for (const e of onMw) {
      if (getHeaders(e.message, 'P-Preferred-Identity').length > 0) throw new Error('a P-Preferred-Identity reached Mw');
      const pai = nameAddrList(e.message, 'P-Asserted-Identity');
      if (pai.length !== 1) throw new Error(`${pai.length} P-Asserted-Identity values on Mw: ${getHeaders(e.message, 'P-Asserted-Identity').join(' | ')}`);
      if (!associated.has(JSON.stringify(pai[0]!.uri))) throw new Error(`the PAI on Mw is not one of alice's associated URIs: ${getHeaders(e.message, 'P-Asserted-Identity').join(' | ')}`);
    }
    if (Object.keys(target.pluginFaults()).length > 0) throw new Error(`a plugin hook threw: ${JSON.stringify(target.pluginFaults())}`);
    if (target.processFaults.length > 0) throw new Error(target.processFaults[0]);
    if (target.errorLogs.length > 0) throw new Error(`logged at error level: ${target.errorLogs[0]}`);
  });
  try {
    await fc.assert(property, fuzzParameters(60, PROPERTIES));
    t.ok(reachedMw > n / 2, `most claims were judged on Mw (${reachedMw} of ${n} requests reached it)`);
  } finally {
    await target.healthCheck(t, 'the identity claims');
  }
});
