/**
 * Headless Chromium ⇄ our media gateway ⇄ a plain RTP echo, with the gateway driven exactly as
 * the IMS-ALG drives it: the ng protocol over UDP (NgMediaControl → NgServer → MediaGateway) and
 * the requests of core/pcscf/alg/media-requests.ts. No hand-built SDP: Chromium's offer goes to
 * the gateway, the gateway's answer goes back to Chromium.
 */
import t from 'tap';
import { createServer } from 'node:http';
import { createSocket } from 'node:dgram';
import { chromium } from 'playwright-core';
import sdpTransform from 'sdp-transform';
import { NgMediaControl } from '../../core/pcscf/alg/media-control.js';
import { answerFromIms, offerFromWic } from '../../core/pcscf/alg/media-requests.js';
import { createMediaGateway, type CallEvent } from '../../media-gw/gateway/index.js';
import { NgServer } from '../../media-gw/ng/ng-server.js';
import { GATEWAY_PAGE, type GatewayPageWindow } from '../support/webrtc/chromium-page.js';
import { CHROMIUM_ARGS } from '../support/wic/browser-wic.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';

/** A plain RTP answer from the IMS side: PCMU at the echo's port. */
function imsAnswer(port: number): string {
  return [
    'v=0', 'o=ims 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=ptime:20', 'a=sendrecv', '',
  ].join('\r\n');
}

t.test('R-AGW-1/R-ALG-7: headless Chromium ⇄ gateway driven over ng (ICE-lite, DTLS-SRTP) ⇄ plain RTP echo', async (t) => {
  const events: CallEvent[] = [];
  const gateway = createMediaGateway({
    webrtc: { host: '127.0.0.1', ports: { min: 38500, max: 38549 } },
    ims: { host: '127.0.0.1', ports: { min: 38550, max: 38599 } },
  }, { onCallEvent: (event) => events.push(event) });
  const ngServer = await NgServer.listen({ control: gateway });
  const control = new NgMediaControl({ address: '127.0.0.1', port: ngServer.address().port, timeoutMs: 2_000, retries: 1 });
  const echo = createSocket('udp4');
  let echoed = 0;
  echo.on('message', (data, from) => {
    echoed++;
    echo.send(data, from.port, from.address);
  });
  await new Promise<void>((resolve) => echo.bind(0, '127.0.0.1', resolve));
  const httpPort = await allocatePort();
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(GATEWAY_PAGE));
  await new Promise<void>((resolve) => server.listen(httpPort, '127.0.0.1', resolve));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: [...CHROMIUM_ARGS] });
  t.teardown(async () => {
    await browser.close();
    await control.close();
    await ngServer.close();
    await gateway.closeAll();
    echo.close();
    server.close();
    releasePort(httpPort);
  });
  const page = await (await browser.newContext()).newPage();
  await page.goto(`http://127.0.0.1:${httpPort}/`);

  const tags = { callId: 'chromium-call', fromTag: 'wic-tag' };
  const offerSdp = await page.evaluate(() => (globalThis as unknown as GatewayPageWindow).gwOffer());
  t.match(offerSdp, /a=setup:actpass/, 'RFC 5763 §5: the browser offers actpass');
  const toIms = await control.offer(offerFromWic(tags, offerSdp));
  t.equal(sdpTransform.parse(toIms.sdp).media[0]?.protocol, 'RTP/AVP', 'the IMS side is offered plain RTP');
  const toWic = await control.answer(answerFromIms({ ...tags, toTag: 'ims-tag' }, imsAnswer(echo.address().port)));
  t.match(toWic.sdp, /a=setup:passive/, 'R-ALG-1: passive, so Chromium starts DTLS');

  const stats = await page.evaluate(([sdp]) => (globalThis as unknown as GatewayPageWindow).gwAnswer(sdp, 100, 10_000), [toWic.sdp] as const);
  t.equal(stats.dtlsState, 'connected');
  t.equal(stats.srtpCipher, 'SRTP_AES128_CM_HMAC_SHA1_80', 'R-ALG-7: the mandatory SRTP profile');
  t.ok(stats.packetsReceived > 100, `Chromium received ${stats.packetsReceived} echoed packets (sent ${stats.packetsSent})`);
  t.ok(echoed > 100, `the plain RTP echo saw ${echoed} packets`);
  const query = await control.query({ callId: tags.callId });
  const wic = query.streams.find((row) => row.tag === 'wic-tag');
  t.ok((wic?.packetsIn ?? 0) > 100, `ng query counts the packets from Chromium (${wic?.packetsIn})`);
  t.same(events, [], 'no DTLS failure or consent loss reported');
  await control.delete({ callId: tags.callId });
});
