// Two WICs of one epcscf call each other through Kamailio (the IMS core stand-in) with the
// IMS-ALG driving the in-process media-gw: the call crosses the P-CSCF twice with one Call-ID
// (originating leg, then terminating leg). Each crossing is rewritten: plain RTP/AVP from the
// gateway on Mw both ways (offer in the INVITE, answer in the 200), WebRTC from the gateway
// toward each WIC (spec-digest §6/§8, R-ALG-4). JSON-RPC clients (through the virtual UE) and
// JsSIP over sip-ws, as caller and as callee; JsSIP's fake media API is given browser SDP through
// JsSIP's own 'sdp' hook.
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { bodyText, callId as callIdOf, cseq, type SipMessage } from '../../core/sip/index.js';
import { startEpcscf, startImsCore, type EpcscfUnderTest } from '../support/epcscf-harness.js';
import { RpcWsClient } from '../support/jsonrpc-client.js';
import { startGateway } from '../support/media-gateways.js';
import { gatewayAnswer, readOffer } from '../support/webrtc/gateway-sdp.js';
import { JsSipUser, withDeadline, type JsSipCall } from '../support/wic/jssip-user.js';

const CHROME_AUDIO_OFFER = readFileSync(new URL('../fixtures/sdp/chrome-audio-offer.sdp', import.meta.url), 'utf8');
/** The in-process gateway's media address in these tests (test/support/media-gateways.ts). */
const GATEWAY_HOST = '127.0.0.1';
const CALLEE_FINGERPRINT = Array.from({ length: 32 }, (_, i) => (i + 16).toString(16).toUpperCase()).join(':');

/** A WebRTC answer (DTLS active, ICE, PCMU) to `offer`, as a browser callee writes it. */
function webrtcAnswer(offer: string, port: number): string {
  return gatewayAnswer({
    address: { address: '127.0.0.1', port }, ice: { ufrag: 'ansU', pwd: 'answerpasswordanswerpass' },
    fingerprint: { algorithm: 'sha-256', value: CALLEE_FINGERPRINT },
    setup: 'active', mid: readOffer(offer).mid, ssrc: 4242,
  });
}

async function setUp(t: Test): Promise<EpcscfUnderTest> {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const gateway = await startGateway('media-gw');
  t.teardown(() => gateway.stop());
  const epcscf = await startEpcscf({ nextHop: core.uri('udp'), media: gateway.control, extraPlugins: [{ name: 'jsonrpc-ws' }] });
  t.teardown(() => epcscf.close());
  return epcscf;
}

async function jsonRpcUser(t: Test, epcscf: EpcscfUnderTest, user: string, password = 'secret'): Promise<RpcWsClient> {
  const client = await RpcWsClient.connect(`${epcscf.baseUrl}/jsonrpc`);
  t.teardown(() => client.close());
  const registered = await client.request('session.register', { impu: `sip:${user}@ims.test`, password });
  if (registered['state'] !== 'registered') throw new Error(`${user} did not register: ${JSON.stringify(registered)}`);
  return client;
}

/** Plain RTP/AVP from the gateway: its address, a real port, no DTLS or ICE (R-ALG-4). */
function assertPlainFromGateway(t: Test, sdp: string, what: string): void {
  t.match(sdp, /^m=audio [1-9]\d* RTP\/AVP /m, `${what}: plain RTP/AVP`);
  t.match(sdp, new RegExp(`^c=IN IP4 ${GATEWAY_HOST.replace(/\./g, '\\.')}\\s*$`, 'm'), `${what}: the gateway's address`);
  t.notMatch(sdp, /SAVPF|a=fingerprint|a=ice-ufrag|a=ice-pwd|a=candidate|a=setup/, `${what}: no WebRTC transport leaks to the IMS`);
}

/** WebRTC from the gateway: DTLS-SRTP with a fingerprint that is neither WIC's own. */
function assertWebRtcFromGateway(t: Test, sdp: string, what: string, notFingerprints: readonly string[]): void {
  t.match(sdp, /^m=audio [1-9]\d* UDP\/TLS\/RTP\/SAVPF /m, `${what}: UDP/TLS/RTP/SAVPF`);
  t.match(sdp, /^a=fingerprint:sha-256 \S+/m, `${what}: a DTLS fingerprint`);
  t.match(sdp, /^a=ice-ufrag:\S+/m, `${what}: ICE credentials`);
  for (const fingerprint of notFingerprints) t.notOk(sdp.includes(fingerprint), `${what}: the gateway's fingerprint, not a WIC's (${fingerprint.slice(0, 8)}…)`);
}

const sdpOf = (message: SipMessage | undefined): string => (message === undefined ? '' : bodyText(message));

/**
 * Both crossings of the call on Mw: the originating INVITE out and its 200 in, the terminating
 * INVITE in and its 200 out, all plain RTP/AVP from the gateway; and the SIP toward each WIC
 * (the INVITE to the callee, the 200 to the caller) WebRTC from the gateway.
 */
function assertBothCrossingsRewritten(t: Test, epcscf: EpcscfUnderTest, callerFingerprint: string, calleeFingerprint: string): void {
  const invitesOut = epcscf.capture.requests('mw', 'out', 'INVITE');
  t.equal(invitesOut.length, 1, 'one INVITE left on Mw (the originating leg)');
  assertPlainFromGateway(t, sdpOf(invitesOut[0]), 'the INVITE on Mw (originating leg)');
  t.notOk(sdpOf(invitesOut[0]).includes(callerFingerprint), 'the caller\'s own fingerprint does not reach the IMS');
  const invitesIn = epcscf.capture.requests('mw', 'in', 'INVITE');
  t.equal(invitesIn.length, 1, 'one INVITE came back on Mw (the terminating leg)');
  t.equal(invitesIn[0] && callIdOf(invitesIn[0]), invitesOut[0] && callIdOf(invitesOut[0]), 'Kamailio kept the Call-ID: both legs share it');
  const oksOut = epcscf.capture.responses('mw', 'out', 'INVITE').filter((r) => r.status === 200 && r.body.length > 0);
  t.ok(oksOut.length >= 1, 'the callee\'s 200 went out on Mw');
  assertPlainFromGateway(t, sdpOf(oksOut[0]), 'the 200 on Mw (terminating leg, the callee\'s answer)');
  t.notOk(sdpOf(oksOut[0]).includes(calleeFingerprint), 'the callee\'s own fingerprint does not reach the IMS');
  const oksIn = epcscf.capture.responses('mw', 'in', 'INVITE').filter((r) => r.status === 200 && r.body.length > 0);
  assertPlainFromGateway(t, sdpOf(oksIn[0]), 'the 200 back on Mw (originating leg)');

  const inviteToCallee = epcscf.capture.requests('w2', 'out', 'INVITE')[0];
  assertWebRtcFromGateway(t, sdpOf(inviteToCallee), 'the INVITE toward the callee WIC', [callerFingerprint, calleeFingerprint]);
  const okToCaller = epcscf.capture.responses('w2', 'out', 'INVITE').find((r) => r.status === 200 && r.body.length > 0);
  assertWebRtcFromGateway(t, sdpOf(okToCaller), 'the 200 toward the caller WIC', [callerFingerprint, calleeFingerprint]);
}

/** JsSIP's 'sdp' hook: the local description it sends is `sdp` (a browser's, here). */
function sendsSdp(call: JsSipCall, sdp: (local: string) => string): void {
  (call.session as unknown as NodeJS.EventEmitter).on('sdp', (e: { originator: string; sdp: string }) => {
    if (e.originator === 'local') e.sdp = sdp(e.sdp);
  });
}

async function jsSipUser(t: Test, epcscf: EpcscfUnderTest, user: string, password = 'secret'): Promise<JsSipUser> {
  const wic = await JsSipUser.connect({ wsUrl: epcscf.wsUrl, user, password });
  t.teardown(() => wic.stop());
  const status = await wic.register();
  if (status !== 200) throw new Error(`${user} (JsSIP) did not register: ${status}`);
  return wic;
}

t.test('R-ALG-4: JSON-RPC ⇄ JSON-RPC on one epcscf via Kamailio: INVITE and 200 on Mw are plain RTP/AVP from the gateway both times; each WIC gets the gateway\'s WebRTC SDP', async (t) => {
  const epcscf = await setUp(t);
  const alice = await jsonRpcUser(t, epcscf, 'alice', 'alicepw');
  const bob = await jsonRpcUser(t, epcscf, 'bob');
  const callerFingerprint = readOffer(CHROME_AUDIO_OFFER).fingerprints[0]?.value ?? '';
  t.ok(callerFingerprint.length > 0, 'the caller offers a fingerprint');

  const { callId } = await alice.request('call.invite', { to: 'sip:bob@ims.test', sdp: CHROME_AUDIO_OFFER });
  const incoming = await bob.notification('call.incoming', () => true, 10_000);
  const bobCall = String(incoming['callId']);
  assertWebRtcFromGateway(t, String(incoming['sdp']), 'the offer delivered to the callee', [callerFingerprint]);

  await bob.request('call.answer', { callId: bobCall, sdp: webrtcAnswer(String(incoming['sdp']), 40100) });
  const answered = await alice.notification('call.answered', (p) => p['callId'] === callId, 10_000);
  assertWebRtcFromGateway(t, String(answered['sdp']), 'the answer delivered to the caller', [callerFingerprint, CALLEE_FINGERPRINT]);

  assertBothCrossingsRewritten(t, epcscf, callerFingerprint, CALLEE_FINGERPRINT);

  await alice.request('call.hangup', { callId });
  await bob.notification('call.ended', (p) => p['callId'] === bobCall, 10_000);
});

t.test('R-ALG-4: a JsSIP caller (sip-ws) calls a JSON-RPC callee on the same epcscf via Kamailio: both crossings rewritten', async (t) => {
  const epcscf = await setUp(t);
  const alice = await jsSipUser(t, epcscf, 'alice', 'alicepw');
  const bob = await jsonRpcUser(t, epcscf, 'bob');
  const callerFingerprint = readOffer(CHROME_AUDIO_OFFER).fingerprints[0]?.value ?? '';

  const call = alice.call('sip:bob@ims.test');
  sendsSdp(call, () => CHROME_AUDIO_OFFER);
  const incoming = await bob.notification('call.incoming', () => true, 10_000);
  const bobCall = String(incoming['callId']);
  assertWebRtcFromGateway(t, String(incoming['sdp']), 'the offer delivered to the JSON-RPC callee', [callerFingerprint]);
  await bob.request('call.answer', { callId: bobCall, sdp: webrtcAnswer(String(incoming['sdp']), 40100) });
  await call.accepted(10_000);
  await withDeadline(call.confirmed(), 5000, 'alice confirmed the call (ACK)');

  assertBothCrossingsRewritten(t, epcscf, callerFingerprint, CALLEE_FINGERPRINT);
  call.hangup();
  await bob.notification('call.ended', (p) => p['callId'] === bobCall, 10_000);
});

t.test('R-ALG-4: a JSON-RPC caller calls a JsSIP callee (sip-ws) on the same epcscf via Kamailio: both crossings rewritten', async (t) => {
  const epcscf = await setUp(t);
  const alice = await jsonRpcUser(t, epcscf, 'alice', 'alicepw');
  const bob = await jsSipUser(t, epcscf, 'bob');
  const callerFingerprint = readOffer(CHROME_AUDIO_OFFER).fingerprints[0]?.value ?? '';

  const { callId } = await alice.request('call.invite', { to: 'sip:bob@ims.test', sdp: CHROME_AUDIO_OFFER });
  const incoming = await bob.nextIncoming(10_000);
  const offerToBob = sdpOf(epcscf.capture.requests('w2', 'out', 'INVITE')[0]);
  sendsSdp(incoming, () => webrtcAnswer(offerToBob, 40102));
  incoming.answer();
  const answered = await alice.notification('call.answered', (p) => p['callId'] === callId, 10_000);
  assertWebRtcFromGateway(t, String(answered['sdp']), 'the answer delivered to the JSON-RPC caller', [callerFingerprint, CALLEE_FINGERPRINT]);

  assertBothCrossingsRewritten(t, epcscf, callerFingerprint, CALLEE_FINGERPRINT);
  await alice.request('call.hangup', { callId });
  await incoming.ended(10_000);
});
