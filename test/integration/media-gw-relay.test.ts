import t, { type Test } from 'tap';
import { createSocket, type Socket } from 'node:dgram';
import { RelayFactory } from '../../media-gw/relay/relay-factory.js';
import type { CallRelay } from '../../media-gw/relay/call-relay.js';
import { sharedCertificate } from '../../media-gw/webrtc/certificate.js';
import { gatewayAnswer, readOffer } from '../support/webrtc/gateway-sdp.js';
import { WeriftBrowser } from '../support/webrtc/werift-browser.js';

interface Echo {
  readonly socket: Socket;
  readonly port: number;
  readonly seen: { seq: number; ssrc: number; timestamp: number }[];
}

/** A plain RTP/UDP echo standing in for the IMS endpoint (sends back to the source: symmetric RTP). */
async function startEcho(): Promise<Echo> {
  const socket = createSocket('udp4');
  const seen: Echo['seen'] = [];
  socket.on('message', (data, from) => {
    if (data.length >= 12 && !(data[1]! >= 192 && data[1]! <= 223)) {
      seen.push({ seq: data.readUInt16BE(2), timestamp: data.readUInt32BE(4), ssrc: data.readUInt32BE(8) });
    }
    socket.send(data, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port, seen };
}

const until = async (condition: () => boolean, timeoutMs: number): Promise<boolean> => {
  const end = Date.now() + timeoutMs;
  while (!condition() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return condition();
};

function consecutive(seqs: number[]): boolean {
  return seqs.every((seq, i) => i === 0 || seq === ((seqs[i - 1]! + 1) & 0xffff));
}

async function call(t: Test, dtlsRole: 'server' | 'client', portBase: number) {
  const factory = new RelayFactory({
    webrtcPorts: { min: portBase, max: portBase + 49 },
    imsPorts: { min: portBase + 50, max: portBase + 99 },
  });
  const echo = await startEcho();
  const browser = new WeriftBrowser();
  t.teardown(async () => {
    await browser.close();
    await factory.closeAll();
    echo.socket.close();
  });
  const offer = readOffer(await browser.offer());
  const relay: CallRelay = await factory.create({
    dtlsRole,
    remoteFingerprints: offer.fingerprints,
    remoteIce: offer.ice,
    streams: [{ payloadTypes: [0], remoteRtp: { address: '127.0.0.1', port: echo.port } }],
  });
  let connected = false;
  relay.delegate = { onConnected: () => { connected = true; } };
  const certificate = await sharedCertificate();
  await browser.answer(gatewayAnswer({
    address: relay.webrtc.localAddress,
    ice: relay.webrtc.ice.localCredentials,
    fingerprint: certificate.fingerprint,
    // RFC 5763 §5: a=setup:passive in our answer makes the browser the DTLS client (we serve).
    setup: dtlsRole === 'server' ? 'passive' : 'active',
    mid: offer.mid,
    ssrc: relay.ssrcTowardWebRtc() ?? 0,
  }));
  await browser.connected();
  t.ok(await until(() => connected, 5_000), 'the relay reports DTLS-SRTP keys');
  return { factory, echo, browser, relay };
}

for (const [dtlsRole, portBase] of [['server', 34600], ['client', 34700]] as const) {
  t.test(`R-ALG-1/R-AGW-1: ICE-lite + DTLS (${dtlsRole}) leg relays SRTP ⇄ plain RTP both ways with SSRC/seq continuity`, async (t) => {
    const { echo, browser, relay } = await call(t, dtlsRole, portBase);
    const frames = 60;
    for (let i = 0; i < frames; i++) {
      browser.sendFrame();
      await new Promise((r) => setTimeout(r, 3));
    }
    t.ok(await until(() => browser.received.length >= frames, 5_000), `browser got ${browser.received.length}/${frames} back`);
    t.equal(echo.seen.length, frames, 'every frame reached the IMS side as plain RTP');
    const imsSsrcs = new Set(echo.seen.map((p) => p.ssrc));
    t.equal(imsSsrcs.size, 1, 'one SSRC toward IMS');
    t.not([...imsSsrcs][0], browser.ssrc, 'the gateway SSRC, not the browser one');
    t.ok(consecutive(echo.seen.map((p) => p.seq)), 'sequence numbers toward IMS are consecutive');
    const back = browser.received.slice(0, frames);
    t.ok(back.every((p) => p.ssrc === relay.ssrcTowardWebRtc()), 'browser sees the SSRC announced in our SDP');
    t.ok(consecutive(back.map((p) => p.seq)), 'sequence numbers toward the browser are consecutive');
    t.ok(back.every((p) => p.payloadType === 0), 'PCMU passes');
    const [webrtcCounters, imsCounters] = relay.counters();
    t.ok(webrtcCounters!.packetsIn >= frames && webrtcCounters!.packetsOut >= frames, 'WebRTC leg counted both ways');
    t.ok(imsCounters!.packetsIn >= frames && imsCounters!.packetsOut >= frames, 'IMS leg counted both ways');
    t.equal(webrtcCounters!.dropped, 0, 'no SRTP packet failed authentication or replay checks');
  });
}

t.test('R-SDP-3: a DTLS peer whose certificate does not match the SDP fingerprint fails the leg', async (t) => {
  const factory = new RelayFactory({ webrtcPorts: { min: 34800, max: 34849 }, imsPorts: { min: 34850, max: 34899 } });
  const browser = new WeriftBrowser();
  t.teardown(async () => {
    await browser.close();
    await factory.closeAll();
  });
  const offer = readOffer(await browser.offer());
  const wrong = offer.fingerprints.map((f) => ({ ...f, value: f.value.replace(/^../, f.value.startsWith('00') ? '11' : '00') }));
  const relay = await factory.create({
    dtlsRole: 'server', remoteFingerprints: wrong, remoteIce: offer.ice, streams: [{ payloadTypes: [0] }],
  });
  let failure: Error | undefined;
  relay.delegate = { onFailed: (error) => { failure = error; } };
  const certificate = await sharedCertificate();
  await browser.answer(gatewayAnswer({
    address: relay.webrtc.localAddress, ice: relay.webrtc.ice.localCredentials, fingerprint: certificate.fingerprint,
    setup: 'passive', mid: offer.mid, ssrc: relay.ssrcTowardWebRtc() ?? 0,
  }));
  t.ok(await until(() => failure !== undefined, 8_000), 'the leg reports the failure');
  t.match(failure?.message, /fingerprint/);
  t.notOk(relay.webrtc.connected, 'no SRTP keys were installed');
});
