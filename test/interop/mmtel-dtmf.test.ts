// Issue #14 DTMF (RFC 4733 ⇄ SIP INFO): headless Chromium runs JsSIP through epcscf (in-process
// media-gw, media.dtmf auto) and Kamailio to sipp far ends. A far end whose SDP lacks
// telephone-event gets the browser's RTCDTMFSender digits as SIP INFO application/dtmf-relay;
// one that negotiated telephone-event gets RFC 4733 events in RTP (captured here); INFO from
// either side passes intact (R-MMTEL-2).
import t, { type Test } from 'tap';
import { createSocket, type Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { TelephoneEventDetector } from '../../media-gw/dtmf/index.js';
import { InProcessMediaControl } from '../../core/pcscf/alg/media-control.js';
import { bodyText, callId, contentType, cseq, getHeader } from '../../core/sip/index.js';
import { createMediaGateway } from '../../media-gw/gateway/index.js';
import { isRequest, isResponse, startEpcscf, startImsCore, type CapturedSip, type EpcscfUnderTest } from '../support/epcscf-harness.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { startSippUas, type SippUas } from '../support/peers/sipp.js';
import { startBrowserWic, type BrowserWic } from '../support/wic/browser-wic.js';
import { withDeadline } from '../support/wic/jssip-user.js';

const UAS_INFO = fileURLToPath(new URL('../fixtures/mmtel/uas-dtmf-info.xml', import.meta.url));
const UAS_RFC4733 = fileURLToPath(new URL('../fixtures/mmtel/uas-dtmf-rfc4733.xml', import.meta.url));

/** What test/fixtures/wic/jssip-page.html exposes (plus `session`, JsSIP's RTCSession). */
interface JsSipSession {
  /** The call's RTCPeerConnection (only what this test reads of it; no DOM types here). */
  readonly connection: { getSenders(): { readonly dtmf: { readonly canInsertDTMF: boolean } | null }[] };
  sendDTMF(tones: string, options: { transportType: 'INFO' | 'RFC2833'; duration: number; interToneGap: number }): void;
  on(event: 'newDTMF', listener: (e: { originator: string; dtmf: { tone: string } }) => void): void;
}
interface WicWindow {
  wic: {
    events: string[];
    stats(): Promise<{ packetsReceived: number }>;
    session: JsSipSession;
    register(ws: string, uri: string, pw: string): Promise<number>;
    call(target: string): Promise<string>;
    hangup(): void;
  };
}

interface Rig { epcscf: EpcscfUnderTest; browser: BrowserWic; diagnostics(): string }

async function setUp(t: Test, dtmf: 'auto' | 'rfc4733' = 'auto'): Promise<Rig> {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  let epcscf: EpcscfUnderTest | undefined;
  // The in-process gateway as core/cli/runtime.ts wires it: converted digits go to the P-CSCF.
  const gateway = createMediaGateway({
    webrtc: { host: '127.0.0.1', ports: { min: 39600, max: 39699 } },
    ims: { host: '127.0.0.1', ports: { min: 39700, max: 39799 } },
  }, { dtmf, onDtmf: (event) => void epcscf?.pcscf.onMediaDtmf(event.callId, event.digit, event.durationMs) });
  epcscf = await startEpcscf({ nextHop: core.uri('udp'), media: new InProcessMediaControl(gateway, { owned: true }), mediaDtmf: dtmf });
  const started = epcscf;
  t.teardown(() => started.close());
  const browser = await startBrowserWic();
  t.teardown(() => browser.close());
  const diagnostics = (): string => `page: ${browser.console.slice(-20).join(' | ')}\n${started.capture.dump().slice(-6000)}`;
  const status = await withDeadline(
    browser.page.evaluate(([ws]) => (globalThis as unknown as WicWindow).wic.register(ws, 'sip:frank@ims.test', 'secret'), [started.wsUrl] as const),
    10_000, 'browser REGISTER', diagnostics);
  if (status !== 200) throw new Error(`the browser did not register (${status})\n${diagnostics()}`);
  return { epcscf: started, browser, diagnostics };
}

async function call(rig: Rig, target: string): Promise<void> {
  const outcome = await withDeadline(rig.browser.page.evaluate((to) => (globalThis as unknown as WicWindow).wic.call(to), target), 15_000, 'browser call', rig.diagnostics);
  if (outcome !== 'confirmed') throw new Error(`the call failed: ${outcome}\n${rig.diagnostics()}`);
  await rig.browser.page.evaluate(() => {
    const wic = (globalThis as unknown as WicWindow).wic;
    wic.session.on('newDTMF', (e) => wic.events.push(`dtmf ${e.originator} ${e.dtmf.tone}`));
  });
}

async function sendDtmf(rig: Rig, tones: string, transportType: 'INFO' | 'RFC2833'): Promise<void> {
  if (transportType === 'RFC2833') {
    // W3C WebRTC §7.2: RTCDTMFSender.canInsertDTMF stays false until the DTLS transport is up,
    // which can come a moment after JsSIP reports the call confirmed.
    await rig.browser.page.waitForFunction(
      () => (globalThis as unknown as WicWindow).wic.session.connection.getSenders().some((sender) => sender.dtmf?.canInsertDTMF === true),
      undefined, { timeout: 10_000 },
    );
  }
  await rig.browser.page.evaluate(([digits, type]) => {
    (globalThis as unknown as WicWindow).wic.session.sendDTMF(digits, { transportType: type, duration: 120, interToneGap: 80 });
  }, [tones, transportType] as const);
}

function lastBody(epcscf: EpcscfUnderTest, match: (entry: CapturedSip) => boolean): string {
  const entry = [...epcscf.capture.entries].reverse().find(match);
  return entry ? bodyText(entry.message) : '';
}

/** The INFO bodies that left on Mw toward IMS, in order. */
function infosTowardIms(epcscf: EpcscfUnderTest): string[] {
  return epcscf.capture.entries.filter(isRequest('mw', 'out', 'INFO')).map((e) => `${contentType(e.message) ?? ''} ${bodyText(e.message).replace(/\r\n/g, '|')}`);
}

/** The CSeq of the call's INVITE toward IMS (the call of the first INFO the P-CSCF sent). */
function firstSeq(epcscf: EpcscfUnderTest): number | undefined {
  const info = epcscf.capture.entries.find(isRequest('mw', 'out', 'INFO'));
  const id = info === undefined ? undefined : callId(info.message);
  const invite = epcscf.capture.entries.find((e) => isRequest('mw', 'out', 'INVITE')(e) && callId(e.message) === id);
  return invite === undefined ? undefined : cseq(invite.message).seq;
}

/** `CSeq` of each request (not ACK/CANCEL, retransmissions once) toward IMS on the WIC's side of the first INFO's call. */
function wicSideCseqsTowardIms(epcscf: EpcscfUnderTest): string[] {
  const info = epcscf.capture.entries.find(isRequest('mw', 'out', 'INFO'));
  const id = info === undefined ? undefined : callId(info.message);
  const seen = epcscf.capture.entries.flatMap((e) => (e.side === 'mw' && e.direction === 'out' && e.message.kind === 'request'
    && e.message.method !== 'ACK' && e.message.method !== 'CANCEL' && callId(e.message) === id ? [`${cseq(e.message).seq} ${e.message.method}`] : []));
  return [...new Set(seen)];
}

async function hangUpAndWait(t: Test, rig: Rig, uas: SippUas): Promise<void> {
  await rig.browser.page.evaluate(() => (globalThis as unknown as WicWindow).wic.hangup());
  const status = await uas.exitedWithin(5000);
  t.equal(status?.code, 0, 'the far end saw its scenario through (INFOs answered, BYE)', uas.diagnostics());
}

t.test('issue #14 DTMF', async (t) => {
  const rig = await setUp(t);

  t.test('R-MMTEL-2, media.dtmf auto: the far end without telephone-event gets RTCDTMFSender digits as INFO dtmf-relay; INFO from JsSIP passes intact', async (t) => {
    const sipPort = await allocatePort();
    const uas = await startSippUas({ port: sipPort, calls: 1, scenario: UAS_INFO });
    t.teardown(async () => { await uas.stop(); releasePort(sipPort); });
    await call(rig, `sip:uas@127.0.0.1:${sipPort}`);
    t.match(lastBody(rig.epcscf, isResponse('w2', 'out', 'INVITE', 200)), /a=rtpmap:\d+ telephone-event\/8000/, 'the answer toward the browser keeps its telephone-event although IMS answered PCMU only');
    t.notMatch(lastBody(rig.epcscf, isResponse('mw', 'in', 'INVITE', 200)), /telephone-event|^$/, 'the far end negotiated no telephone-event');

    await sendDtmf(rig, '1#', 'RFC2833');
    await rig.epcscf.capture.waitFor((e) => isRequest('mw', 'out', 'INFO')(e) && /Signal=#/.test(bodyText(e.message)), { what: 'INFO Signal=#', timeoutMs: 8_000 });
    t.equal(rig.epcscf.capture.entries.filter(isRequest('w2', 'in', 'INFO')).length, 0, 'the browser sent no INFO: its digits went as RFC 4733 events');
    await sendDtmf(rig, '9', 'INFO');
    await rig.epcscf.capture.waitFor((e) => isRequest('mw', 'out', 'INFO')(e) && /Signal=9/.test(bodyText(e.message)), { what: 'INFO Signal=9', timeoutMs: 8_000 });
    const infos = infosTowardIms(rig.epcscf);
    t.equal(infos.length, 3, `three INFO toward IMS (${infos.join(' ; ')})`);
    t.match(infos[0], /^application\/dtmf-relay Signal=1\|Duration=\d+\|$/, 'the first RFC 4733 digit became INFO Signal=1');
    t.match(infos[1], /^application\/dtmf-relay Signal=#\|Duration=\d+\|$/, 'the second became Signal=#');
    t.match(infos[2], /^application\/dtmf-relay Signal=9\r?\|?Duration=120/, 'JsSIP\'s own INFO reached the far end with its body intact');
    await rig.epcscf.capture.waitFor(isResponse('w2', 'out', 'INFO', 200), { what: `200 to the browser's INFO; sipp: ${uas.output().slice(-3000)}` });
    await hangUpAndWait(t, rig, uas);
    t.same(wicSideCseqsTowardIms(rig.epcscf), ['INVITE', 'INFO', 'INFO', 'INFO', 'BYE'].map((method, i) => `${(firstSeq(rig.epcscf) ?? 0) + i} ${method}`),
      'RFC 3261 §12.2.2: toward IMS the WIC side of the dialog is one CSeq space (the P-CSCF\'s INFOs, then JsSIP\'s INFO and BYE renumbered above them)');
    const browserInfo = rig.epcscf.capture.entries.find(isRequest('w2', 'in', 'INFO'));
    const okToBrowser = rig.epcscf.capture.entries.find(isResponse('w2', 'out', 'INFO', 200));
    t.equal(okToBrowser && getHeader(okToBrowser.message, 'CSeq'), browserInfo && getHeader(browserInfo.message, 'CSeq'), 'JsSIP sees its own CSeq in the 200 to its INFO');
    // sipp exits once it has sent its 200 to the BYE; that 200 reaches JsSIP a moment later.
    const byeOk = await rig.epcscf.capture.waitFor(isResponse('w2', 'out', 'BYE'), { what: 'the answer to JsSIP\'s BYE', timeoutMs: 5_000 });
    t.equal(byeOk.message.kind === 'response' ? byeOk.message.status : undefined, 200, 'JsSIP\'s BYE after the converted digits is accepted');
  });

  t.test('R-COD-3, media.dtmf auto: with telephone-event negotiated the digits arrive as RFC 4733 events in RTP, not INFO; INFO from IMS reaches JsSIP', async (t) => {
    const sipPort = await allocatePort();
    const evPort = await allocatePort();
    const capture: Socket = createSocket('udp4');
    await new Promise<void>((resolve) => capture.bind(evPort, '127.0.0.1', resolve));
    const detector = new TelephoneEventDetector(8000);
    const digits: string[] = [];
    let eventPackets = 0;
    capture.on('message', (packet) => {
      if (packet.length < 16 || (packet[1]! & 0x7f) !== 101) return;
      eventPackets++;
      for (const found of detector.push(packet.subarray(12), packet.readUInt32BE(4))) digits.push(found.digit);
    });
    const uas = await startSippUas({ port: sipPort, calls: 1, scenario: UAS_RFC4733, extraArgs: ['-set', 'evport', String(evPort)] });
    t.teardown(async () => { capture.close(); await uas.stop(); releasePort(sipPort); releasePort(evPort); });
    const infosBefore = infosTowardIms(rig.epcscf).length;
    await call(rig, `sip:uas@127.0.0.1:${sipPort}`);

    await sendDtmf(rig, '5*', 'RFC2833');
    const deadline = Date.now() + 8_000;
    while (digits.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    t.same(digits, ['5', '*'], `the far end received the digits as telephone-event PT 101 (${eventPackets} event packets, the browser's PT renumbered)`);
    t.equal(infosTowardIms(rig.epcscf).length, infosBefore, 'no INFO was generated toward IMS');

    await rig.epcscf.capture.waitFor(isRequest('w2', 'out', 'INFO'), { what: 'the far end\'s INFO toward the browser', timeoutMs: 8_000 });
    const until = Date.now() + 3_000;
    let events: string[] = [];
    while (!events.includes('dtmf remote 7') && Date.now() < until) {
      events = await rig.browser.page.evaluate(() => (globalThis as unknown as WicWindow).wic.events);
      await new Promise((r) => setTimeout(r, 50));
    }
    t.ok(events.includes('dtmf remote 7'), `JsSIP raised newDTMF 7 for the far end's INFO (${events.filter((e) => e.startsWith('dtmf')).join(', ')})`);
    await hangUpAndWait(t, rig, uas);
  });
});

t.test('issue #14 DTMF, media.dtmf rfc4733: an INFO dtmf-relay from IMS is answered by the P-CSCF and reaches the browser as RFC 4733 events', async (t) => {
  const rig = await setUp(t, 'rfc4733');
  const sipPort = await allocatePort();
  const evPort = await allocatePort();
  // The far end's media port is a silent socket: whatever RTP reaches the browser is our events.
  const silent: Socket = createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(evPort, '127.0.0.1', resolve));
  const uas = await startSippUas({ port: sipPort, calls: 1, scenario: UAS_RFC4733, extraArgs: ['-set', 'evport', String(evPort)] });
  t.teardown(async () => { silent.close(); await uas.stop(); releasePort(sipPort); releasePort(evPort); });
  await call(rig, `sip:uas@127.0.0.1:${sipPort}`);
  const stats = (): Promise<{ packetsReceived: number }> => rig.browser.page.evaluate(() => (globalThis as unknown as WicWindow).wic.stats());
  const before = (await stats()).packetsReceived;

  await rig.epcscf.capture.waitFor(isResponse('mw', 'out', 'INFO', 200), { what: 'our 200 to the far end\'s INFO', timeoutMs: 8_000 });
  t.equal(rig.epcscf.capture.entries.filter(isRequest('w2', 'out', 'INFO')).length, 0, 'the INFO was not relayed to the browser');
  const deadline = Date.now() + 4_000;
  let received = before;
  while (received - before < 8 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    received = (await stats()).packetsReceived;
  }
  t.ok(received - before >= 8, `Chromium received ${received - before} RTP packets after the INFO (one digit of 160 ms: 7 updates + 3 end packets), none before (${before})`);
  const events = await rig.browser.page.evaluate(() => (globalThis as unknown as WicWindow).wic.events);
  t.notOk(events.some((e) => e.startsWith('dtmf remote')), 'JsSIP saw no INFO of its own');
  await hangUpAndWait(t, rig, uas);
});
