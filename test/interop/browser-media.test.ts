// Issue #4 proof: real browser audio into IMS. Headless Chromium runs JsSIP (its own WebSocket,
// RTCPeerConnection and fake audio device) through epcscf and Kamailio to plain-RTP IMS endpoints
// (a sipp UAS with -rtp_echo, baresip), with the IMS-ALG driving our media-gw (in-process) and,
// in the same tests, Debian's rtpengine over ng. Audio is asserted from Chromium's getStats and
// from the gateway's counters of the IMS leg; the SDP rules on the messages epcscf relayed.
import t, { type Test } from 'tap';
import { fileURLToPath } from 'node:url';
import { mediaCallId } from '../../core/pcscf/alg/ims-alg.js';
import { bodyText, callId } from '../../core/sip/index.js';
import { isRequest, isResponse, startEpcscf, startImsCore, type CapturedSip, type EpcscfUnderTest } from '../support/epcscf-harness.js';
import { startGateway, type GatewayKind, type GatewayUnderTest } from '../support/media-gateways.js';
import { startBaresip, type BaresipPeer } from '../support/peers/baresip.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { startSippUas } from '../support/peers/sipp.js';
import { audioTarget, RtpToneSource } from '../support/rtp-tone-source.js';
import { plainSdp, ScriptedUas } from '../support/scripted-uas.js';
import { startBrowserWic, type BrowserWic } from '../support/wic/browser-wic.js';
import { withDeadline } from '../support/wic/jssip-user.js';

const UAS_HOLD = fileURLToPath(new URL('../fixtures/wic/uas-hold-resume.xml', import.meta.url));

interface AudioStats { packetsReceived: number; packetsLost: number; packetsSent: number; dtlsState: string; iceState: string }
/** What test/fixtures/wic/jssip-page.html exposes; these callbacks run inside the page. */
interface WicWindow {
  wic: {
    events: string[];
    register(ws: string, uri: string, pw: string, incoming?: 'answer' | 'decline'): Promise<number>;
    call(target: string): Promise<string>;
    confirmed(timeoutMs: number): Promise<boolean>;
    stats(): Promise<AudioStats>;
    hold(on: boolean): Promise<boolean>;
    hangup(): void;
  };
}

interface Rig { epcscf: EpcscfUnderTest; gateway: GatewayUnderTest; browser: BrowserWic; corePort: number; diagnostics(): string }

async function setUp(t: Test, kind: GatewayKind, incoming: 'answer' | 'decline' = 'decline'): Promise<Rig> {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const gateway = await startGateway(kind);
  t.teardown(() => gateway.stop());
  const epcscf = await startEpcscf({ nextHop: core.uri('udp'), media: gateway.control });
  t.teardown(() => epcscf.close());
  const browser = await startBrowserWic();
  t.teardown(() => browser.close());
  const diagnostics = (): string => `page: ${browser.console.slice(-20).join(' | ')}\n${epcscf.capture.dump().slice(-6000)}\n${gateway.output().slice(-2000)}`;
  const status = await withDeadline(
    browser.page.evaluate(([ws, mode]) => (globalThis as unknown as WicWindow).wic.register(ws, 'sip:frank@ims.test', 'secret', mode), [epcscf.wsUrl, incoming] as const),
    10_000, 'browser REGISTER', diagnostics);
  if (status !== 200) throw new Error(`the browser did not register (${status})\n${diagnostics()}`);
  return { epcscf, gateway, browser, corePort: core.port, diagnostics };
}

/** baresip "dave", registered directly at Kamailio (an IMS-side UE), auto-answering. */
async function startDave(t: Test, rig: Rig): Promise<BaresipPeer> {
  const ctrlPort = await allocatePort();
  const rtpBase = await allocatePort();
  const baresip = await startBaresip({
    user: 'dave', password: 'secret', registrar: `sip:127.0.0.1:${rig.corePort};transport=udp`, ctrlPort,
    rtpPorts: `${rtpBase}-${rtpBase + 9}`,
  }).catch((error: unknown) => { releasePort(ctrlPort); releasePort(rtpBase); throw error; });
  t.teardown(async () => { await baresip.stop(); releasePort(ctrlPort); releasePort(rtpBase); });
  return baresip;
}

/** Chromium's audio counters after `ms` more of the call. */
async function statsAfter(browser: BrowserWic, ms: number): Promise<AudioStats> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return browser.page.evaluate(() => (globalThis as unknown as WicWindow).wic.stats());
}

function lastSdp(epcscf: EpcscfUnderTest, match: (entry: CapturedSip) => boolean): string {
  const entry = [...epcscf.capture.entries].reverse().find(match);
  return entry ? bodyText(entry.message) : '';
}

/** The gateway's counters for this call: every party's leg saw > `min` packets in and out. */
async function assertImsLegFlows(t: Test, rig: Rig, direction: 'originating' | 'terminating', min: number): Promise<void> {
  const invite = rig.epcscf.capture.entries.find(direction === 'originating' ? isRequest('w2', 'in', 'INVITE') : isRequest('mw', 'in', 'INVITE'));
  const flowKey = rig.epcscf.pcscf.flows()[0]?.flow ?? '';
  const ngCallId = mediaCallId({ callId: invite ? callId(invite.message) : '', flowKey, direction });
  const query = await rig.gateway.query(ngCallId);
  t.equal(query.streams.length, 2, `${rig.gateway.kind} reports the two parties of the call`);
  for (const stream of query.streams) {
    t.ok(stream.packetsIn > min && stream.packetsOut > min,
      `${rig.gateway.kind}: party ${stream.tag} sent ${stream.packetsIn} and received ${stream.packetsOut} packets (> ${min} each way)`);
  }
}

function assertPlainRtpTowardIms(t: Test, sdp: string, what: string): void {
  t.match(sdp, /^m=audio [1-9]\d* RTP\/AVP [\d ]+$/m, `R-ALG-4: ${what} is plain RTP/AVP`);
  t.notMatch(sdp, /a=(fingerprint|setup|ice-ufrag|ice-pwd|candidate|group:BUNDLE|rtcp-mux)/, `R-ALG-9: ${what} carries no WebRTC attributes`);
}

function assertWebRtcTowardWic(t: Test, sdp: string, what: string): void {
  t.match(sdp, /^m=audio [1-9]\d* UDP\/TLS\/RTP\/SAVPF /m, `R-ALG-5/6: ${what} is UDP/TLS/RTP/SAVPF`);
  t.match(sdp, /a=fingerprint:sha-256 [0-9A-F:]+/, `${what}: the gateway's fingerprint`);
  t.match(sdp, /a=ice-ufrag:\S+/, `${what}: ICE credentials`);
  t.match(sdp, /a=candidate:\S+ 1 (udp|UDP) \d+ 127\.0\.0\.1 \d+ typ host/, `${what}: a host candidate`);
  t.match(sdp, /a=rtcp-mux/, `R-SDP-5: ${what} has rtcp-mux`);
}

for (const kind of ['media-gw', 'rtpengine'] as const) {
  t.test(`issue #4 [${kind}]: Chromium calls a sipp UAS with -rtp_echo through epcscf and Kamailio; audio both ways`, async (t) => {
    const rig = await setUp(t, kind);
    const [sipPort, mediaPort] = [await allocatePort(), await allocatePort()];
    const uas = await startSippUas({ port: sipPort, mediaPort, calls: 1 });
    t.teardown(async () => { await uas.stop(); releasePort(sipPort); releasePort(mediaPort); });

    const outcome = await withDeadline(rig.browser.page.evaluate((target) => (globalThis as unknown as WicWindow).wic.call(target), `sip:uas@127.0.0.1:${sipPort}`),
      15_000, 'browser call', rig.diagnostics);
    t.equal(outcome, 'confirmed', 'the call is up');
    assertPlainRtpTowardIms(t, lastSdp(rig.epcscf, isRequest('mw', 'out', 'INVITE')), 'the INVITE toward IMS');
    assertWebRtcTowardWic(t, lastSdp(rig.epcscf, isResponse('w2', 'out', 'INVITE', 200)), 'the 200 toward the browser');
    t.match(lastSdp(rig.epcscf, isResponse('w2', 'out', 'INVITE', 200)), /a=setup:passive/, 'R-ALG-1: the gateway is passive; Chromium starts DTLS');

    const stats = await statsAfter(rig.browser, 4_000);
    t.equal(stats.dtlsState, 'connected', 'DTLS-SRTP is up between Chromium and the gateway', { stats, diagnostics: rig.diagnostics() });
    t.ok(stats.packetsReceived > 100, `Chromium received ${stats.packetsReceived} echoed audio packets (> 100)`, { diagnostics: rig.diagnostics() });
    t.ok(stats.packetsLost <= stats.packetsReceived * 0.01, `loss ${stats.packetsLost} < 1%`);
    await assertImsLegFlows(t, rig, 'originating', 100);

    await rig.browser.page.evaluate(() => (globalThis as unknown as WicWindow).wic.hangup());
    const status = await Promise.race([uas.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000).unref())]);
    t.equal(status?.code, 0, 'the sipp UAS got the BYE and exited cleanly', { sippOutput: uas.output().slice(-1500) });
    await t.rejects(assertImsLegFlowsQuietly(rig, 'originating'), { code: 'EPC_ERR_MEDIA' }, 'the gateway forgot the call after BYE');
  });

  t.test(`issue #4 [${kind}]: baresip calls Chromium via Kamailio and epcscf; Chromium answers; audio both ways`, async (t) => {
    const rig = await setUp(t, kind, 'answer');
    const baresip = await startDave(t, rig);

    await baresip.dial('sip:frank@ims.test');
    const up = await withDeadline(rig.browser.page.evaluate(() => (globalThis as unknown as WicWindow).wic.confirmed(10_000)), 12_000, 'browser answer', rig.diagnostics);
    t.ok(up, 'Chromium answered the call from baresip');
    await baresip.waitForEvent('CALL_ESTABLISHED', { timeoutMs: 5_000 });
    assertWebRtcTowardWic(t, lastSdp(rig.epcscf, isRequest('w2', 'out', 'INVITE')), 'the offer toward the browser');
    assertPlainRtpTowardIms(t, lastSdp(rig.epcscf, isResponse('mw', 'out', 'INVITE', 200)), 'the answer toward IMS');

    const stats = await statsAfter(rig.browser, 4_000);
    t.equal(stats.dtlsState, 'connected');
    t.ok(stats.packetsReceived > 100, `Chromium received ${stats.packetsReceived} packets of baresip's tone (> 100)`, { diagnostics: rig.diagnostics() });
    t.ok(stats.packetsLost <= stats.packetsReceived * 0.01, `loss ${stats.packetsLost} < 1%`);
    t.ok(stats.packetsSent > 100, `Chromium sent ${stats.packetsSent} packets`);
    await assertImsLegFlows(t, rig, 'terminating', 100);
    await baresip.hangup();
    await baresip.waitForEvent('CALL_CLOSED', { timeoutMs: 5_000 });
  });
}

/** Resolves when the gateway still knows the call; rejects (Unknown call-id) once it is deleted. */
async function assertImsLegFlowsQuietly(rig: Rig, direction: 'originating' | 'terminating'): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 300));
  const invite = rig.epcscf.capture.entries.find(direction === 'originating' ? isRequest('w2', 'in', 'INVITE') : isRequest('mw', 'in', 'INVITE'));
  const flowKey = rig.epcscf.pcscf.flows()[0]?.flow ?? '';
  await rig.gateway.query(mediaCallId({ callId: invite ? callId(invite.message) : '', flowKey, direction }));
}

t.test('R-ALG-16 [media-gw]: hold and resume from the IMS side (baresip) reach the browser; its sending stops and resumes', async (t) => {
  const rig = await setUp(t, 'media-gw', 'answer');
  const baresip = await startDave(t, rig);
  await baresip.dial('sip:frank@ims.test');
  t.ok(await withDeadline(rig.browser.page.evaluate(() => (globalThis as unknown as WicWindow).wic.confirmed(10_000)), 12_000, 'browser answer', rig.diagnostics));
  const before = await statsAfter(rig.browser, 2_000);
  t.ok(before.packetsSent > 50, `the browser sends before hold (${before.packetsSent})`);

  const hold = await baresip.command('hold');
  t.ok(hold.ok, `baresip put the call on hold (${hold.data})`);
  await rig.epcscf.capture.waitFor((e) => isRequest('w2', 'out', 'INVITE')(e) && /a=sendonly/.test(bodyText(e.message)), { what: 're-INVITE with sendonly toward the browser' });
  t.pass('R-ALG-16: sendonly from IMS reached the browser');
  await rig.epcscf.capture.waitFor((e) => isResponse('mw', 'out', 'INVITE', 200)(e) && /a=recvonly/.test(bodyText(e.message)), { what: 'the browser\'s recvonly answer on Mw' });
  t.pass('R-ALG-16: the browser\'s recvonly answer reached IMS');
  const heldStart = await statsAfter(rig.browser, 500);
  const heldEnd = await statsAfter(rig.browser, 2_000);
  t.ok(heldEnd.packetsSent - heldStart.packetsSent < 10, `on hold the browser stops sending (${heldEnd.packetsSent - heldStart.packetsSent} packets in 2 s)`);

  const resume = await baresip.command('resume');
  t.ok(resume.ok, `baresip resumed (${resume.data})`);
  await rig.epcscf.capture.waitFor((e) => isResponse('mw', 'out', 'INVITE', 200)(e) && /a=sendrecv/.test(bodyText(e.message)), { what: 'sendrecv answer after resume' });
  const resumedStart = await statsAfter(rig.browser, 500);
  const resumed = await statsAfter(rig.browser, 2_000);
  t.ok(resumed.packetsSent - resumedStart.packetsSent > 50, `after resume the browser sends again (${resumed.packetsSent - resumedStart.packetsSent})`);
  await baresip.hangup();
});

t.test('R-ALG-16 [media-gw]: hold and resume from the browser keep media consistent (directions relayed, packets stop and resume)', async (t) => {
  const rig = await setUp(t, 'media-gw');
  const [sipPort, mediaPort] = [await allocatePort(), await allocatePort()];
  const uas = await startSippUas({ port: sipPort, mediaPort, calls: 1, scenario: UAS_HOLD });
  t.teardown(async () => { await uas.stop(); releasePort(sipPort); releasePort(mediaPort); });
  const outcome = await withDeadline(rig.browser.page.evaluate((target) => (globalThis as unknown as WicWindow).wic.call(target), `sip:uas@127.0.0.1:${sipPort}`),
    15_000, 'browser call', rig.diagnostics);
  t.equal(outcome, 'confirmed');
  const before = await statsAfter(rig.browser, 2_000);
  t.ok(before.packetsReceived > 50, `media flows before hold (${before.packetsReceived})`);

  t.equal(await rig.browser.page.evaluate(() => (globalThis as unknown as WicWindow).wic.hold(true)), true, 'the hold re-INVITE completed');
  t.match(lastSdp(rig.epcscf, isRequest('mw', 'out', 'INVITE')), /a=sendonly/, 'R-ALG-16: sendonly reached IMS');
  t.match(lastSdp(rig.epcscf, isResponse('w2', 'out', 'INVITE', 200)), /a=recvonly/, 'R-ALG-16: recvonly reached the browser');
  const heldStart = await statsAfter(rig.browser, 500);
  const heldEnd = await statsAfter(rig.browser, 2_000);
  t.ok(heldEnd.packetsReceived - heldStart.packetsReceived < 10, `on hold the browser receives nothing (${heldEnd.packetsReceived - heldStart.packetsReceived} packets in 2 s)`);

  t.equal(await rig.browser.page.evaluate(() => (globalThis as unknown as WicWindow).wic.hold(false)), true, 'the resume re-INVITE completed');
  t.match(lastSdp(rig.epcscf, isRequest('mw', 'out', 'INVITE')), /a=sendrecv/, 'sendrecv again toward IMS');
  const resumed = await statsAfter(rig.browser, 2_500);
  t.ok(resumed.packetsReceived - heldEnd.packetsReceived > 50, `after resume audio flows again (${resumed.packetsReceived - heldEnd.packetsReceived} packets in 2.5 s)`);
  await rig.browser.page.evaluate(() => (globalThis as unknown as WicWindow).wic.hangup());
  const status = await Promise.race([uas.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000).unref())]);
  t.equal(status?.code, 0, 'the UAS saw INVITE, hold, resume and BYE in order', { sippOutput: uas.output().slice(-1500) });
});

t.test('TS 24.610 HOLD [media-gw]: held by the IMS side, the browser shows it and still hears the music on hold the far end sends (sendonly)', async (t) => {
  const rig = await setUp(t, 'media-gw');
  const far = await ScriptedUas.start();
  t.teardown(() => far.close());
  const moh = await RtpToneSource.open();
  t.teardown(() => moh.close());
  const outcome = rig.browser.page.evaluate((target) => (globalThis as unknown as WicWindow).wic.call(target), far.uri('moh'));
  const invite = await far.next('INVITE', 15_000);
  const toTag = far.newTag();
  const gatewayLeg = audioTarget(bodyText(invite.request));
  const farSdp = (version: number, direction: string): string => plainSdp(version, moh.port).replace(/\r\n$/, `\r\na=${direction}\r\n`);
  far.reply(invite, 200, { toTag, sdp: farSdp(1, 'sendrecv') });
  moh.sendTo(gatewayLeg.host, gatewayLeg.port);
  t.equal(await withDeadline(outcome, 15_000, 'browser call', rig.diagnostics), 'confirmed');
  const before = await statsAfter(rig.browser, 1_500);
  t.ok(before.packetsReceived > 30, `the far end's audio reaches the browser (${before.packetsReceived})`);

  const hold = await far.request(invite.request, toTag, 'INVITE', { sdp: farSdp(2, 'sendonly') });
  t.equal(hold.status, 200, 'the browser accepted the hold re-INVITE');
  t.match(bodyText(hold), /a=recvonly/, 'RFC 3264 §8.4 / TS 24.610: the held browser answers recvonly');
  t.ok(await rig.browser.page.evaluate(() => (globalThis as unknown as WicWindow).wic.events.includes('hold remote')), 'the browser shows the call held by the other side (JsSIP hold, originator remote)');
  const heldStart = await statsAfter(rig.browser, 300);
  const heldEnd = await statsAfter(rig.browser, 2_000);
  t.ok(heldEnd.packetsReceived - heldStart.packetsReceived > 50, `music on hold from the holding side reaches the browser through media-gw (${heldEnd.packetsReceived - heldStart.packetsReceived} packets in 2 s)`);
  t.ok(heldEnd.packetsSent - heldStart.packetsSent < 10, `the held browser does not send (${heldEnd.packetsSent - heldStart.packetsSent} packets in 2 s)`);

  const resume = await far.request(invite.request, toTag, 'INVITE', { sdp: farSdp(3, 'sendrecv') });
  t.match(bodyText(resume), /a=sendrecv/, 'resumed: the browser answers sendrecv');
  const resumedStart = await statsAfter(rig.browser, 500);
  const resumed = await statsAfter(rig.browser, 1_500);
  t.ok(resumed.packetsSent - resumedStart.packetsSent > 30, `after the resume the browser sends again (${resumed.packetsSent - resumedStart.packetsSent})`);
  t.ok(await rig.browser.page.evaluate(() => (globalThis as unknown as WicWindow).wic.events.includes('unhold remote')), 'the browser shows the call resumed');
  t.equal((await far.request(invite.request, toTag, 'BYE')).status, 200, 'the far end hangs up');
});
