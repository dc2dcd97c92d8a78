// Issue #5 proof: a web page with no SIP library — plain WebSocket + JSON-RPC 2.0 + RTCPeerConnection
// (test/fixtures/wic/jsonrpc-page.html) — in headless Debian Chromium registers through epcscf's
// jsonrpc-ws plugin into Kamailio and calls a sipp UAS with -rtp_echo. The IMS-ALG drives our
// media-gw (in-process): Chromium's getStats shows DTLS up and echoed audio received.
import t from 'tap';
import { bodyText } from '../../core/sip/index.js';
import { startEpcscf, startImsCore } from '../support/epcscf-harness.js';
import { startGateway } from '../support/media-gateways.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { startSippUas } from '../support/peers/sipp.js';
import { startBrowserWic } from '../support/wic/browser-wic.js';
import { withDeadline } from '../support/wic/jssip-user.js';

const PAGE = new URL('../fixtures/wic/jsonrpc-page.html', import.meta.url);

interface AudioStats { packetsReceived: number; packetsLost: number; packetsSent: number; dtlsState: string; iceState: string }
/** What jsonrpc-page.html exposes; the page.evaluate callbacks run inside the page (no closure over test code). */
interface JsonRpcWicWindow {
  wic: {
    connect(url: string): Promise<string>;
    register(impu: string, password: string): Promise<{ state: string }>;
    call(target: string, timeoutMs: number): Promise<{ state: string; outcome?: unknown }>;
    stats(): Promise<AudioStats>;
    hangup(): Promise<{ cause: string }>;
    ice: { sent: number; absorbed: number };
  };
}

t.test('issue #5: Chromium using only the JSON-RPC API calls a sipp -rtp_echo UAS through epcscf, media-gw and Kamailio; audio received', async (t) => {
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const gateway = await startGateway('media-gw');
  t.teardown(() => gateway.stop());
  const epcscf = await startEpcscf({ nextHop: core.uri('udp'), media: gateway.control, extraPlugins: [{ name: 'jsonrpc-ws' }] });
  t.teardown(() => epcscf.close());
  const browser = await startBrowserWic({ page: PAGE });
  t.teardown(() => browser.close());
  const [sipPort, mediaPort] = [await allocatePort(), await allocatePort()];
  const uas = await startSippUas({ port: sipPort, mediaPort, calls: 1 });
  t.teardown(async () => { await uas.stop(); releasePort(sipPort); releasePort(mediaPort); });
  const diagnostics = (): string => `page: ${browser.console.slice(-20).join(' | ')}\n${epcscf.capture.dump().slice(-6000)}\n${gateway.output().slice(-2000)}`;

  t.equal(await browser.page.evaluate((url) => (globalThis as unknown as JsonRpcWicWindow).wic.connect(url), `${epcscf.baseUrl}/jsonrpc`), 'epcscf.jsonrpc.v1', 'R-JR-1: the subprotocol is echoed');
  const registered = await withDeadline(browser.page.evaluate(() => (globalThis as unknown as JsonRpcWicWindow).wic.register('sip:frank@ims.test', 'secret')), 10_000, 'session.register', diagnostics);
  t.equal(registered.state, 'registered', 'the page registered with plain JSON');

  const outcome = await withDeadline(browser.page.evaluate((target) => (globalThis as unknown as JsonRpcWicWindow).wic.call(target, 15_000), `sip:uas@127.0.0.1:${sipPort}`), 20_000, 'call.invite', diagnostics);
  t.equal(outcome.state, 'answered', 'call.answered with the gateway\'s SDP', { outcome, diagnostics: diagnostics() });
  const towardIms = epcscf.capture.requests('mw', 'out', 'INVITE')[0];
  t.match(towardIms ? bodyText(towardIms) : '', /^m=audio [1-9]\d* RTP\/AVP /m, 'R-ALG-4: plain RTP/AVP toward IMS');

  await new Promise((resolve) => setTimeout(resolve, 4_000));
  const stats = await browser.page.evaluate(() => (globalThis as unknown as JsonRpcWicWindow).wic.stats());
  t.equal(stats.dtlsState, 'connected', 'DTLS-SRTP is up between Chromium and media-gw', { stats, diagnostics: diagnostics() });
  t.ok(stats.packetsReceived > 100, `Chromium received ${stats.packetsReceived} echoed audio packets (> 100)`, { diagnostics: diagnostics() });
  t.ok(stats.packetsLost <= stats.packetsReceived * 0.01, `loss ${stats.packetsLost} < 1%`);
  const ice = await browser.page.evaluate(() => (globalThis as unknown as JsonRpcWicWindow).wic.ice);
  t.ok(ice.sent > 0 && ice.absorbed === ice.sent, `R-SDP-9: the ${ice.sent} trickled candidates (call.ice) were absorbed`);
  t.equal(epcscf.capture.requests('w2', 'in', 'INVITE').length, 1, 'trickle ICE caused no re-INVITE: the ICE-lite gateway learns the path from the checks');

  const ended = await browser.page.evaluate(() => (globalThis as unknown as JsonRpcWicWindow).wic.hangup());
  t.equal(ended.cause, 'local', 'call.ended after call.hangup');
  const status = await Promise.race([uas.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000).unref())]);
  t.equal(status?.code, 0, 'the sipp UAS got the BYE and exited cleanly', { sippOutput: uas.output().slice(-1500) });
});
