// Two WICs of one epcscf call each other through Kamailio (the IMS core stand-in) with the
// IMS-ALG driving the in-process media-gw: the call crosses the P-CSCF twice with one Call-ID
// (originating leg, then terminating leg). Each crossing is rewritten: plain RTP/AVP from the
// gateway on Mw both ways (offer in the INVITE, answer in the 200), WebRTC from the gateway
// toward each WIC (spec-digest §6/§8, R-ALG-4).
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { bodyText, callId as callIdOf, cseq, type SipMessage } from '../../core/sip/index.js';
import { startEpcscf, startImsCore, type EpcscfUnderTest } from '../support/epcscf-harness.js';
import { RpcWsClient } from '../support/jsonrpc-client.js';
import { startGateway } from '../support/media-gateways.js';
import { gatewayAnswer, readOffer } from '../support/webrtc/gateway-sdp.js';

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

  // Mw, both crossings: the originating INVITE out, its 200 in; the terminating INVITE in, its 200 out.
  const invitesOut = epcscf.capture.requests('mw', 'out', 'INVITE');
  t.equal(invitesOut.length, 1, 'one INVITE left on Mw (the originating leg)');
  assertPlainFromGateway(t, sdpOf(invitesOut[0]), 'the INVITE on Mw (originating leg)');
  const invitesIn = epcscf.capture.requests('mw', 'in', 'INVITE');
  t.equal(invitesIn.length, 1, 'one INVITE came back on Mw (the terminating leg)');
  t.equal(invitesIn[0] && callIdOf(invitesIn[0]), invitesOut[0] && callIdOf(invitesOut[0]), 'Kamailio kept the Call-ID: both legs share it');
  const oksOut = epcscf.capture.responses('mw', 'out', 'INVITE').filter((r) => r.status === 200 && r.body.length > 0);
  t.equal(oksOut.length >= 1, true, 'the callee\'s 200 went out on Mw');
  assertPlainFromGateway(t, sdpOf(oksOut[0]), 'the 200 on Mw (terminating leg, the callee\'s answer)');
  t.notOk(sdpOf(oksOut[0]).includes(CALLEE_FINGERPRINT), 'the callee\'s own fingerprint does not reach the IMS');
  const oksIn = epcscf.capture.responses('mw', 'in', 'INVITE').filter((r) => r.status === 200 && r.body.length > 0);
  assertPlainFromGateway(t, sdpOf(oksIn[0]), 'the 200 back on Mw (originating leg)');
  t.equal(cseq(oksIn[0]!).method, 'INVITE');

  await alice.request('call.hangup', { callId });
  await bob.notification('call.ended', (p) => p['callId'] === bobCall, 10_000);
});
