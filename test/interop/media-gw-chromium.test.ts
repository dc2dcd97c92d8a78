import t from 'tap';
import { createServer } from 'node:http';
import { createSocket } from 'node:dgram';
import { chromium } from 'playwright-core';
import { RelayFactory } from '../../media-gw/relay/relay-factory.js';
import { sharedCertificate } from '../../media-gw/webrtc/certificate.js';
import { gatewayAnswer, readOffer } from '../support/webrtc/gateway-sdp.js';
import { GATEWAY_PAGE, type GatewayPageWindow } from '../support/webrtc/chromium-page.js';
import { CHROMIUM_ARGS } from '../support/wic/browser-wic.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';


t.test('R-AGW-1/R-ALG-7: headless Chromium ⇄ gateway WebRTC leg (ICE-lite, DTLS-SRTP) ⇄ plain RTP echo', async (t) => {
  const factory = new RelayFactory({ webrtcPorts: { min: 37200, max: 37249 }, imsPorts: { min: 37250, max: 37299 } });
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
    await factory.closeAll();
    echo.close();
    server.close();
    releasePort(httpPort);
  });
  const page = await (await browser.newContext()).newPage();
  await page.goto(`http://127.0.0.1:${httpPort}/`);

  const offerSdp = await page.evaluate(() => (globalThis as unknown as GatewayPageWindow).gwOffer());
  const offer = readOffer(offerSdp);
  t.equal(offer.setup, 'actpass', 'RFC 5763 §5: the browser offers actpass');
  const relay = await factory.create({
    dtlsRole: 'server', // R-ALG-1: on actpass we answer passive and let the browser initiate DTLS
    remoteFingerprints: offer.fingerprints,
    remoteIce: offer.ice,
    streams: [{ payloadTypes: [0], remoteRtp: { address: '127.0.0.1', port: echo.address().port } }],
  });
  let connected = false;
  relay.delegate = { onConnected: () => { connected = true; } };
  const certificate = await sharedCertificate();
  const answer = gatewayAnswer({
    address: relay.webrtc.localAddress, ice: relay.webrtc.ice.localCredentials, fingerprint: certificate.fingerprint,
    setup: 'passive', mid: offer.mid, ssrc: relay.ssrcTowardWebRtc() ?? 0,
  });
  const stats = await page.evaluate(([sdp]) => (globalThis as unknown as GatewayPageWindow).gwAnswer(sdp, 100, 10_000), [answer] as const);
  t.ok(connected, 'the gateway leg derived SRTP keys');
  t.equal(stats.dtlsState, 'connected');
  t.equal(stats.srtpCipher, 'SRTP_AES128_CM_HMAC_SHA1_80', 'R-ALG-7: the mandatory SRTP profile');
  t.ok(stats.packetsReceived > 100, `Chromium received ${stats.packetsReceived} echoed packets (sent ${stats.packetsSent})`);
  t.ok(echoed > 100, `the plain RTP echo saw ${echoed} packets`);
  t.equal(relay.webrtc.counters.dropped, 0, 'no SRTP packet from Chromium was rejected');
});
