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
//   - no plugin hook fault, no unhandled rejection, nothing logged at error level; afterwards
//     /health answers and fresh clients register (fuzz-target.ts healthCheck).
import t from 'tap';
import fc from 'fast-check';
import { SipParseError, buildMalformedReply, parseMessage, type SipMessage } from '../../core/sip/index.js';
import { FUZZ_SEED, fuzzParameters, fuzzTimeoutSeconds } from './fuzz-budget.js';
import { startFuzzTarget, type FuzzTarget } from './fuzz-target.js';
import { asWebSocketFrame, mutate, sipMutations } from './sip-mutations.js';
import { wicMessages } from './sip-seeds.js';
import { eventually, exchange } from './ws-exchange.js';

t.setTimeout(fuzzTimeoutSeconds(120) * 1000);
const PROPERTIES = 2;

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
