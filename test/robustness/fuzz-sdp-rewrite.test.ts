// Issue #15 "Bad input at scale": the IMS-ALG SDP rewrite (media-gw/sdp, shared by the IMS-ALG and
// media-gw) under a property-based fuzzer, with a fixed seed (fuzz-budget.ts; `npm run fuzz --
// --minutes N` runs it longer with a fresh seed). Inputs are real offers and answers
// (test/fixtures/sdp: Chrome, Firefox, Safari, JsSIP, FreeSWITCH, a VoLTE UE) mutated line by line:
// lines dropped, repeated, swapped, truncated, numbers made huge or negative, hostile lines inserted
// (CR/LF and NUL inside values, 10 kB attributes, unknown protos), or plain random text.
// Properties:
//   - each rule returns, or throws SdpError (status 400/488 with a reason: the one error model,
//     media-gw/sdp/sdp-error.ts); never a TypeError, RangeError or any other fault;
//   - whatever it writes is well-formed SDP text: CRLF lines of `<letter>=<printable>` only, so a
//     hostile value can never inject a line (RFC 8866 §5);
//   - toward IMS: every accepted m-line carries the gateway's IMS port and a plain RTP profile, and
//     no WebRTC-only attribute survives (R-ALG-8, R-ALG-9);
//   - toward the WIC: every accepted m-line carries the gateway's ICE credentials, fingerprint and
//     setup (R-ALG-5, R-ICE-1).
import t from 'tap';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  analyseImsOffer, parseWicOffer, rewriteAnswerTowardIms, rewriteAnswerTowardWic, rewriteOfferTowardIms, rewriteOfferTowardWic, SdpError,
  type MediaPlan, type SdpRewriteResult,
} from '../../media-gw/sdp/index.js';
import { FUZZ_SEED, fuzzParameters, fuzzTimeoutSeconds } from './fuzz-budget.js';
import { plan, sdpLines, WEBRTC_ONLY_ATTRIBUTES } from '../unit/sdp/sdp-plan.js';

t.setTimeout(fuzzTimeoutSeconds(120) * 1000);
const PROPERTIES = 4;
t.comment(`fuzz seed ${FUZZ_SEED} (FUZZ_SEED to change, FUZZ_RUNS / npm run fuzz -- --minutes N for longer)`);

const fixtureDir = fileURLToPath(new URL('../fixtures/sdp/', import.meta.url));
const fixture = (name: string): string => readFileSync(fixtureDir + name, 'utf8');

/** Offers a WIC sends (browsers and JS SIP stacks), and offers/answers the IMS side sends. */
const WIC_OFFERS = [
  'chrome-audio-offer.sdp', 'chromium120-audio-video-offer.sdp', 'firefox121-audio-video-offer.sdp', 'safari-audio-video-data.sdp',
  'jssip-chrome-offer.sdp', 'chrome-datachannel-video-offer.sdp', 'dtls-session-level.sdp', 'ice-session-level-credentials.sdp',
].map(fixture);
const IMS_SDPS = ['ims-pjsip-volte-multi-amr-offer.sdp', 'freeswitch-audio-no-dtls.sdp', 'normal.sdp', 'rtcp-without-port.sdp'].map(fixture);

const HOSTILE_LINES = [
  'm=audio 0 RTP/AVP 0', 'm=audio 99999999999 UDP/TLS/RTP/SAVPF 111', 'm=audio -1 RTP/AVP -5', 'm=video 9 FOO/BAR x y z', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'm=', 'c=IN IP6 ::1', 'c=IN IP4 0.0.0.0', 'c=IN IP4 999.1.1.1', 'c=', 'a=rtpmap:111 opus/48000/2\r\nP-Asserted-Identity: <sip:x@y>',
  'a=rtpmap:0 PCMU/8000\u0000', 'a=rtpmap:127 telephone-event/-1', 'a=rtpmap:96', 'a=fmtp:96 ' + 'x'.repeat(10_000),
  'a=fingerprint:sha-256 ZZ', 'a=fingerprint:', 'a=setup:holdconn', 'a=setup:', 'a=ice-ufrag:', 'a=ice-pwd:\u00ff\u00fe',
  'a=candidate:1 1 udp 1 1.2.3.4 99999 typ host', 'a=candidate:x', 'a=group:BUNDLE 0 0 0', 'a=mid:\r\nm=audio 1 RTP/AVP 0',
  'a=ptime:-20', 'a=ptime:1e309', 'b=AS:-1', 'b=AS:99999999999999999999', 'a=rtcp:0', 'a=rtcp:70000 IN IP4 x', 'a=sendonly', 'a=inactive',
  'a=ssrc:4294967296 cname:x', 'a=sctp-port:0', 'a=max-message-size:-1', 'a=' + '\u{1F600}'.repeat(100), 'o=', 'v=1', 's=', 't=',
  'x=unknown', '=', ' ', '',
];

type Mutation =
  | { readonly kind: 'drop'; readonly at: number }
  | { readonly kind: 'repeat'; readonly at: number }
  | { readonly kind: 'swap'; readonly at: number; readonly with: number }
  | { readonly kind: 'truncate'; readonly at: number; readonly keep: number }
  | { readonly kind: 'numbers'; readonly at: number; readonly value: string }
  | { readonly kind: 'insert'; readonly at: number; readonly line: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(), keep: fc.nat({ max: 40 }) }),
  fc.record({ kind: fc.constant('numbers' as const), at: fc.nat(), value: fc.constantFrom('0', '-1', '65536', '4294967296', '99999999999999999999', '1.5', 'NaN') }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), line: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...HOSTILE_LINES) }, fc.string({ maxLength: 30 })) }),
);

function mutate(text: string, mutations: readonly Mutation[], lineEnd: string): string {
  const lines = sdpLines(text);
  for (const m of mutations) {
    const at = lines.length === 0 ? 0 : m.at % lines.length;
    switch (m.kind) {
      case 'drop': lines.splice(at, 1); break;
      case 'repeat': lines.splice(at, 0, lines[at] ?? ''); break;
      case 'swap': { const other = lines.length === 0 ? 0 : m.with % lines.length; [lines[at], lines[other]] = [lines[other] ?? '', lines[at] ?? '']; break; }
      case 'truncate': lines[at] = (lines[at] ?? '').slice(0, m.keep); break;
      case 'numbers': lines[at] = (lines[at] ?? '').replace(/\d+/g, m.value); break;
      case 'insert': lines.splice(at, 0, m.line); break;
    }
  }
  return lines.join(lineEnd) + lineEnd;
}

const lineEnding = fc.constantFrom('\r\n', '\r\n', '\n');
const mutatedFrom = (sources: readonly string[]): fc.Arbitrary<string> => fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.constantFrom(...sources), fc.array(mutation, { minLength: 1, maxLength: 6 }), lineEnding).map(([text, ms, end]) => mutate(text, ms, end)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constantFrom(...sources) },
);

/** Runs one rule: its result, or the SdpError it refused with; any other throw fails the property. */
function ruleOutcome(rule: () => SdpRewriteResult): SdpRewriteResult | SdpError {
  try {
    return rule();
  } catch (error) {
    if (error instanceof SdpError) {
      if (!(error.status === 400 || error.status === 488) || error.reason.length === 0) throw new Error(`SdpError without a status/reason: ${String(error.status)} "${error.reason}"`);
      return error;
    }
    throw error;
  }
}

/** RFC 8866 §5: `<type>=<value>` lines ended by CRLF; a value never holds CR, LF or NUL. */
function assertWellFormed(sdp: string): void {
  if (!sdp.endsWith('\r\n')) throw new Error('written SDP does not end with CRLF');
  for (const line of sdp.slice(0, -2).split('\r\n')) {
    if (!/^[a-z]=[^\r\n\0]*$/.test(line)) throw new Error(`written SDP has a malformed line ${JSON.stringify(line.slice(0, 80))}`);
  }
}

/** Index-aligned plan for the m-lines the rule will see (what the IMS-ALG allocates per offer line). */
function planFor(mLineCount: number): MediaPlan {
  return plan(Math.max(mLineCount, 1));
}

function sections(sdp: string): string[][] {
  const out: string[][] = [];
  for (const line of sdpLines(sdp)) {
    if (line.startsWith('m=')) out.push([line]);
    else out.at(-1)?.push(line);
  }
  return out;
}

t.test('R-ALG-8/9: any mutated WIC offer is rewritten toward IMS cleanly or refused with SdpError', async (t) => {
  let rewritten = 0;
  fc.assert(fc.property(mutatedFrom(WIC_OFFERS), (offer) => {
    let summary;
    try { summary = parseWicOffer(offer); } catch (error) { if (error instanceof SdpError) return; throw error; }
    const outcome = ruleOutcome(() => rewriteOfferTowardIms(offer, planFor(summary.length)));
    if (outcome instanceof SdpError) return;
    rewritten++;
    assertWellFormed(outcome.sdp);
    for (const [index, section] of sections(outcome.sdp).entries()) {
      const m = /^m=(\S+) (\d+) (\S+)/.exec(section[0] ?? '');
      if (m === null) throw new Error(`m-line ${index} unreadable: ${section[0] ?? ''}`);
      if (m[2] === '0') continue; // rejected line
      if (Number(m[2]) !== 30000 + index * 2) throw new Error(`m-line ${index} toward IMS has port ${m[2] ?? ''}, not the gateway's`);
      if (m[1] !== 'application' && !/^RTP\/AVPF?$/.test(m[3] ?? '')) throw new Error(`m-line ${index} toward IMS has profile ${m[3] ?? ''}`);
      const leaked = section.filter((line) => WEBRTC_ONLY_ATTRIBUTES.some((a) => line === a || line.startsWith(`${a}:`)));
      if (m[1] !== 'application' && leaked.length > 0) throw new Error(`WebRTC-only attributes reached IMS: ${leaked.join(' | ')}`);
    }
  }), fuzzParameters(1500, PROPERTIES));
  t.ok(rewritten > 0, `${rewritten} mutated offers were rewritten (the fuzz reached the writer)`);
});

t.test('R-ALG-5, R-ICE-1: any mutated IMS offer is rewritten toward the WIC with the gateway\'s ICE/DTLS, or refused with SdpError', async (t) => {
  let rewritten = 0;
  fc.assert(fc.property(mutatedFrom(IMS_SDPS), (offer) => {
    let lines;
    try { lines = analyseImsOffer(offer).lines; } catch (error) { if (error instanceof SdpError) return; throw error; }
    const outcome = ruleOutcome(() => rewriteOfferTowardWic(offer, planFor(lines.length)));
    if (outcome instanceof SdpError) return;
    rewritten++;
    assertWellFormed(outcome.sdp);
    for (const [index, section] of sections(outcome.sdp).entries()) {
      if (/^m=\S+ 0 /.test(section[0] ?? '')) continue;
      const has = (prefix: string): boolean => section.some((line) => line.startsWith(prefix)) || sdpLines(outcome.sdp).some((line) => line.startsWith(prefix));
      for (const needed of [`a=ice-ufrag:gw${index}Uf`, 'a=fingerprint:sha-256 ', 'a=setup:']) {
        if (!has(needed)) throw new Error(`accepted m-line ${index} toward the WIC lacks ${needed}`);
      }
    }
  }), fuzzParameters(1500, PROPERTIES));
  t.ok(rewritten > 0, `${rewritten} mutated IMS offers were rewritten`);
});

t.test('R-ALG-5/9: any mutated IMS answer to a browser offer is rewritten toward the WIC, or refused with SdpError', async (t) => {
  fc.assert(fc.property(fc.constantFrom(...WIC_OFFERS), mutatedFrom(IMS_SDPS), (wicOffer, imsAnswer) => {
    let summary;
    try { summary = parseWicOffer(wicOffer); } catch (error) { if (error instanceof SdpError) return; throw error; }
    const outcome = ruleOutcome(() => rewriteAnswerTowardWic(imsAnswer, wicOffer, planFor(summary.length)));
    if (!(outcome instanceof SdpError)) assertWellFormed(outcome.sdp);
  }), fuzzParameters(1000, PROPERTIES));
  t.pass('no rule threw anything but SdpError');
});

t.test('R-ALG-8/9: any mutated browser answer to an IMS offer is rewritten toward IMS, or refused with SdpError', async (t) => {
  fc.assert(fc.property(fc.constantFrom(...IMS_SDPS), mutatedFrom(WIC_OFFERS), (imsOffer, wicAnswer) => {
    let lines;
    try { lines = analyseImsOffer(imsOffer).lines; } catch (error) { if (error instanceof SdpError) return; throw error; }
    const outcome = ruleOutcome(() => rewriteAnswerTowardIms(wicAnswer, imsOffer, planFor(lines.length)));
    if (!(outcome instanceof SdpError)) assertWellFormed(outcome.sdp);
  }), fuzzParameters(1000, PROPERTIES));
  t.pass('no rule threw anything but SdpError');
});
