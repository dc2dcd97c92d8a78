// Issue #12 proof: real browser audio over XMPP. Headless Chromium runs stanza.js (bundled with
// esbuild): its own WebSocket to the xmpp-ws plugin (RFC 7395), SASL PLAIN, and its Jingle
// SessionManager on Chromium's RTCPeerConnection with the fake audio device. epcscf maps Jingle to
// the virtual UE's SIP; the IMS-ALG drives media-gw (in-process); Kamailio is the IMS core.
// Audio is asserted from Chromium's getStats and, for the baresip call, baresip's ctrl_tcp events.
import t, { type Test } from 'tap';
import { bodyText, formatUri } from '../../core/sip/index.js';
import { isRequest, isResponse, startEpcscf, startImsCore, type EpcscfUnderTest } from '../support/epcscf-harness.js';
import { startGateway, type GatewayUnderTest } from '../support/media-gateways.js';
import { startBaresip, type BaresipPeer } from '../support/peers/baresip.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { runSipp, SIPP_SCENARIOS, startSippUas } from '../support/peers/sipp.js';
import { startBrowserWic, type BrowserWic } from '../support/wic/browser-wic.js';
import { withDeadline } from '../support/wic/jssip-user.js';
import { stanzaBrowserBundle } from '../support/xmpp/stanza-bundle.js';

const PAGE = new URL('../fixtures/wic/stanza-page.html', import.meta.url);

interface AudioStats { packetsReceived: number; packetsLost: number; packetsSent: number; dtlsState: string; iceState: string }
/** What test/fixtures/wic/stanza-page.html exposes; these callbacks run inside the page. */
interface XmppPageWindow {
  xc: {
    events: string[];
    frames: string[];
    login(ws: string, jid: string, password: string, jmi: boolean): Promise<string>;
    call(peer: string, timeoutMs: number): Promise<string>;
    incomingAccepted(timeoutMs: number): Promise<boolean>;
    stats(): Promise<AudioStats>;
    hangup(): void;
  };
}

interface Rig { epcscf: EpcscfUnderTest; gateway: GatewayUnderTest; browser: BrowserWic; corePort: number; diagnostics(): Promise<string> }

/** Kamailio + media-gw + epcscf with xmpp-ws; alice logged in from Chromium. */
async function setUp(t: Test, jmi: boolean): Promise<Rig> {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const gateway = await startGateway('media-gw');
  t.teardown(() => gateway.stop());
  const epcscf = await startEpcscf({ nextHop: core.uri('udp'), media: gateway.control, extraPlugins: [{ name: 'xmpp-ws' }] });
  t.teardown(() => epcscf.close());
  const browser = await startBrowserWic({ page: PAGE, library: { path: '/stanza.js', bundle: stanzaBrowserBundle } });
  t.teardown(() => browser.close());
  const diagnostics = async (): Promise<string> => {
    const page = await browser.page.evaluate(() => ({ events: (globalThis as unknown as XmppPageWindow).xc.events, frames: (globalThis as unknown as XmppPageWindow).xc.frames.slice(-40) })).catch(() => ({ events: [], frames: [] }));
    return `page events: ${page.events.join(' | ')}\nconsole: ${browser.console.slice(-20).join(' | ')}\nframes:\n${page.frames.join('\n')}\n`
      + `${epcscf.capture.dump().slice(-6000)}\n${gateway.output().slice(-2000)}`;
  };
  const jid = await withDeadline(browser.page.evaluate(([ws, withJmi]) => (globalThis as unknown as XmppPageWindow).xc.login(ws, 'alice@ims.test', 'alicepw', withJmi), [`${epcscf.baseUrl}/xmpp`, jmi] as const),
    15_000, 'stanza.js login in Chromium');
  t.match(jid, /^alice@ims\.test\/chromium$/, 'stanza.js in Chromium logged in (SASL PLAIN → IMS REGISTER) and bound its resource');
  return { epcscf, gateway, browser, corePort: core.port, diagnostics };
}

async function statsAfter(browser: BrowserWic, ms: number): Promise<AudioStats> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return browser.page.evaluate(() => (globalThis as unknown as XmppPageWindow).xc.stats());
}

function lastSdp(epcscf: EpcscfUnderTest, match: Parameters<EpcscfUnderTest['capture']['entries']['find']>[0]): string {
  const entry = [...epcscf.capture.entries].reverse().find(match);
  return entry ? bodyText(entry.message) : '';
}

function assertPlainRtpTowardIms(t: Test, sdp: string, what: string): void {
  t.match(sdp, /^m=audio [1-9]\d* RTP\/AVP [\d ]+$/m, `R-ALG-4: ${what} is plain RTP/AVP`);
  t.notMatch(sdp, /a=(fingerprint|setup|ice-ufrag|ice-pwd|candidate|group:BUNDLE|rtcp-mux)/, `R-ALG-9: ${what} carries no WebRTC attributes`);
}

/**
 * "bob" at Kamailio is a sipp UAS with -rtp_echo: sipp registers sip:bob@ims.test from the UAS's
 * own port (its register-auth scenario, digest), then the UAS binds that port. Kamailio's lookup
 * of bob@ims.test reaches it, so the XMPP call goes to a JID of the domain (RFC 7247).
 */
async function startEchoingBob(t: Test, corePort: number): Promise<void> {
  const [sipPort, mediaPort] = [await allocatePort(), await allocatePort()];
  t.teardown(() => { releasePort(sipPort); releasePort(mediaPort); });
  const registered = await runSipp([`127.0.0.1:${corePort}`, '-sf', SIPP_SCENARIOS.registerAuth, '-m', '1', '-s', 'bob', '-au', 'bob', '-ap', 'secret',
    '-key', 'domain', 'ims.test', '-i', '127.0.0.1', '-p', String(sipPort)], { timeoutMs: 10_000 });
  if (registered.code !== 0) throw new Error(`sipp could not register bob at Kamailio (${registered.code})\n${registered.stdout.slice(-2000)}`);
  const uas = await startSippUas({ port: sipPort, mediaPort, calls: 1 });
  t.teardown(() => uas.stop());
}

/** baresip "dave", registered directly at Kamailio (an IMS-side UE), as browser-media.test.ts does. */
async function startDave(t: Test, corePort: number): Promise<BaresipPeer> {
  const ctrlPort = await allocatePort();
  const rtpBase = await allocatePort();
  const baresip = await startBaresip({
    user: 'dave', password: 'secret', registrar: `sip:127.0.0.1:${corePort};transport=udp`, ctrlPort,
    rtpPorts: `${rtpBase}-${rtpBase + 9}`,
  }).catch((error: unknown) => { releasePort(ctrlPort); releasePort(rtpBase); throw error; });
  t.teardown(async () => { await baresip.stop(); releasePort(ctrlPort); releasePort(rtpBase); });
  return baresip;
}

t.test('issue #12: stanza.js in Chromium calls bob@ims.test (a sipp -rtp_echo UAS at Kamailio) with Jingle; media-gw carries the audio both ways, no loss', async (t) => {
  const rig = await setUp(t, false);
  await startEchoingBob(t, rig.corePort);

  const outcome = await withDeadline(rig.browser.page.evaluate(() => (globalThis as unknown as XmppPageWindow).xc.call('bob@ims.test', 15_000)), 20_000, 'Jingle call', () => '');
  t.equal(outcome, 'accepted', 'session-initiate → INVITE sip:bob@ims.test → 200 → session-accept', { diagnostics: outcome === 'accepted' ? '' : await rig.diagnostics() });
  const invite = rig.epcscf.capture.entries.find(isRequest('mw', 'out', 'INVITE'));
  t.match(invite?.message.kind === 'request' ? formatUri(invite.message.uri) : '', /^sip:bob@ims\.test/, 'RFC 7247: the JID bob@ims.test is called as sip:bob@ims.test');
  assertPlainRtpTowardIms(t, lastSdp(rig.epcscf, isRequest('mw', 'out', 'INVITE')), 'the INVITE toward IMS');
  t.match(lastSdp(rig.epcscf, isResponse('w2', 'out', 'INVITE', 200)), /^m=audio [1-9]\d* UDP\/TLS\/RTP\/SAVPF /m, 'R-ALG-5/6: the answer toward the client is the gateway\'s WebRTC leg');

  const stats = await statsAfter(rig.browser, 4_000);
  t.equal(stats.dtlsState, 'connected', 'DTLS-SRTP is up between Chromium and media-gw', { stats });
  t.ok(stats.packetsReceived > 100, `Chromium received ${stats.packetsReceived} echoed audio packets (> 100)`, stats.packetsReceived > 100 ? {} : { diagnostics: await rig.diagnostics() });
  t.ok(stats.packetsLost <= stats.packetsReceived * 0.01, `loss ${stats.packetsLost} < 1%`);
  t.ok(stats.packetsSent > 100, `Chromium sent ${stats.packetsSent} packets`);

  await rig.browser.page.evaluate(() => (globalThis as unknown as XmppPageWindow).xc.hangup());
  await rig.epcscf.capture.waitFor(isRequest('mw', 'out', 'BYE'), { what: 'BYE toward IMS' });
  t.pass('session-terminate → BYE toward IMS');
});

t.test('issue #12: baresip at Kamailio calls alice@ims.test; stanza.js in Chromium gets the XEP-0353 <propose/>, proceeds, accepts; audio both ways', async (t) => {
  const rig = await setUp(t, true);
  await new Promise((resolve) => setTimeout(resolve, 500)); // the gateway's disco#info round trip after the first presence
  const baresip = await startDave(t, rig.corePort);

  await baresip.dial('sip:alice@ims.test');
  const up = await withDeadline(rig.browser.page.evaluate(() => (globalThis as unknown as XmppPageWindow).xc.incomingAccepted(12_000)), 15_000, 'browser accepts');
  t.ok(up, 'stanza.js accepted the incoming Jingle session', up ? {} : { diagnostics: await rig.diagnostics() });
  const { events, frames } = await rig.browser.page.evaluate(() => {
    const page = (globalThis as unknown as XmppPageWindow).xc;
    return { events: page.events, frames: page.frames };
  });
  const proposeId = /propose (\S+) from dave@ims\.test/.exec(events.join('\n'))?.[1];
  t.ok(proposeId, 'XEP-0353: the call rang as a <propose/> from dave@ims.test', { events });
  t.ok(frames.some((f) => f.startsWith('>> ') && f.includes('<proceed') && f.includes(`id="${proposeId}"`)), 'the page answered <proceed/> with the proposal id');
  t.ok(frames.some((f) => f.startsWith('<< ') && f.includes('action="session-initiate"') && f.includes(`sid="${proposeId}"`)),
    'XEP-0353 §3.2: the session-initiate that follows uses the proposal id as its sid');
  await baresip.waitForEvent('CALL_ESTABLISHED', { timeoutMs: 8_000 });
  t.pass('baresip: CALL_ESTABLISHED');
  assertPlainRtpTowardIms(t, lastSdp(rig.epcscf, isResponse('mw', 'out', 'INVITE', 200)), 'the answer toward IMS');

  const stats = await statsAfter(rig.browser, 4_000);
  t.equal(stats.dtlsState, 'connected', 'DTLS-SRTP is up between Chromium and media-gw', { stats });
  t.ok(stats.packetsReceived > 100, `Chromium received ${stats.packetsReceived} packets of baresip's audio (> 100)`, stats.packetsReceived > 100 ? {} : { diagnostics: await rig.diagnostics() });
  t.ok(stats.packetsLost <= stats.packetsReceived * 0.01, `loss ${stats.packetsLost} < 1%`);
  t.ok(stats.packetsSent > 100, `Chromium sent ${stats.packetsSent} packets toward baresip`);
  await baresip.hangup();
  await baresip.waitForEvent('CALL_CLOSED', { timeoutMs: 5_000 });
});
