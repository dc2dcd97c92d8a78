/**
 * Our media gateway driven exactly as the IMS-ALG drives it (core/pcscf/alg/media-requests.ts):
 * a werift "browser" ⇄ gateway (ICE-lite, DTLS-SRTP) ⇄ a plain RTP echo standing in for the IMS
 * side, in both call directions, with re-offers from each party. Origination goes through
 * InProcessMediaControl, termination through NgMediaControl → NgServer (UDP ng), so both seams
 * carry real calls.
 */
import t, { type Test } from 'tap';
import { createSocket, type Socket } from 'node:dgram';
import sdpTransform from 'sdp-transform';
import { InProcessMediaControl, NgMediaControl, type MediaControl } from '../../core/pcscf/alg/media-control.js';
import { answerFromIms, answerFromWic, offerFromIms, offerFromWic } from '../../core/pcscf/alg/media-requests.js';
import { createMediaGateway } from '../../media-gw/gateway/index.js';
import { NgServer } from '../../media-gw/ng/ng-server.js';
import { WeriftBrowser } from '../support/webrtc/werift-browser.js';

/** The relay in the gateway's thread, and on two relay worker threads (relay-worker-pool.ts). */
const VARIANTS = [
  { name: 'relay in-process', relayWorkers: 0, webrtcPorts: { min: 38600, max: 38649 }, imsPorts: { min: 38650, max: 38699 } },
  { name: 'relay on 2 worker threads', relayWorkers: 2, webrtcPorts: { min: 38700, max: 38749 }, imsPorts: { min: 38750, max: 38799 } },
] as const;

interface Echo {
  readonly socket: Socket;
  readonly port: number;
  /** RTP packets seen (RTCP is echoed but not recorded). */
  readonly seen: { seq: number; ssrc: number; pt: number }[];
}

/** The IMS endpoint: echoes every datagram to its source (symmetric RTP, RFC 4961). */
async function startEcho(t: Test): Promise<Echo> {
  const socket = createSocket('udp4');
  const seen: Echo['seen'] = [];
  socket.on('message', (data, from) => {
    const second = data[1] ?? 0;
    if (data.length >= 12 && !(second >= 192 && second <= 223)) seen.push({ seq: data.readUInt16BE(2), ssrc: data.readUInt32BE(8), pt: second & 0x7f });
    socket.send(data, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  t.teardown(() => socket.close());
  return { socket, port: socket.address().port, seen };
}

const until = async (condition: () => boolean, timeoutMs: number): Promise<boolean> => {
  const end = Date.now() + timeoutMs;
  while (!condition() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return condition();
};

/** An IMS-side SDP (offer or answer): PCMU at `port`, a direction, or c=0.0.0.0 for old-style hold. */
function imsSdp(port: number, version: number, direction = 'sendrecv', address = '127.0.0.1'): string {
  return [
    'v=0', `o=ims 4711 ${version} IN IP4 127.0.0.1`, 's=-', `c=IN IP4 ${address}`, 't=0 0',
    `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=ptime:20', `a=${direction}`, '',
  ].join('\r\n');
}

function audioOf(sdp: string): sdpTransform.MediaDescription {
  const media = sdpTransform.parse(sdp).media[0];
  if (media === undefined) throw new Error(`no m= line in\n${sdp}`);
  return media;
}

function versionOf(sdp: string): number {
  return Number(sdpTransform.parse(sdp).origin?.sessionVersion);
}

/** Sends `count` frames from the browser and waits until `echo` saw them and the browser got them back. */
async function mediaFlows(browser: WeriftBrowser, echo: Echo, count = 30): Promise<{ toIms: number; back: number }> {
  const seenBefore = echo.seen.length;
  const receivedBefore = browser.received.length;
  for (let i = 0; i < count; i++) {
    browser.sendFrame();
    await new Promise((r) => setTimeout(r, 4));
  }
  await until(() => echo.seen.length - seenBefore >= count && browser.received.length - receivedBefore >= count, 4_000);
  return { toIms: echo.seen.length - seenBefore, back: browser.received.length - receivedBefore };
}

for (const variant of VARIANTS) {
  t.test(variant.name, async (t) => {
    const gateway = createMediaGateway({
      webrtc: { host: '127.0.0.1', ports: variant.webrtcPorts },
      ims: { host: '127.0.0.1', ports: variant.imsPorts },
      idleTimeoutSeconds: 0,
      relayWorkers: variant.relayWorkers,
    });
    const ngServer = await NgServer.listen({ control: gateway });
    const inProcess: MediaControl = new InProcessMediaControl(gateway);
    const overNg: MediaControl = new NgMediaControl({ address: '127.0.0.1', port: ngServer.address().port, timeoutMs: 2_000, retries: 0 });
    t.teardown(async () => {
      await overNg.close();
      await inProcess.close();
      await ngServer.close();
      await gateway.closeAll();
    });

    t.test('R-ALG-4/5, R-AGW-1: origination (in-process) — werift offer ⇄ gateway ⇄ IMS echo, media both ways; hold/resume and an IMS address change from each side', async (t) => {
      const control = inProcess;
      const tags = { callId: 'orig-1', fromTag: 'wic-tag' };
      const browser = new WeriftBrowser();
      t.teardown(() => browser.close());
      const echo = await startEcho(t);

      const toIms = await control.offer(offerFromWic(tags, await browser.offer()));
      const imsMedia = audioOf(toIms.sdp);
      t.equal(imsMedia.protocol, 'RTP/AVP', 'R-ALG-4: plain RTP/AVP toward IMS');
      t.ok(imsMedia.port >= variant.imsPorts.min && imsMedia.port <= variant.imsPorts.max && imsMedia.port % 2 === 0, `IMS port ${imsMedia.port} is an even port of the IMS range`);
      t.equal(imsMedia.fingerprint, undefined, 'R-ALG-9: no DTLS toward IMS');

      const toWic = await control.answer(answerFromIms({ ...tags, toTag: 'ims-tag' }, imsSdp(echo.port, 1)));
      const wicMedia = audioOf(toWic.sdp);
      t.equal(wicMedia.protocol, 'UDP/TLS/RTP/SAVPF', 'R-ALG-5: the WIC gets its own profile back');
      t.equal(wicMedia.setup, 'passive', 'R-ALG-1: the gateway answers passive; the browser is the DTLS client');
      t.ok(wicMedia.port >= variant.webrtcPorts.min && wicMedia.port <= variant.webrtcPorts.max, 'WebRTC port from the W3 range');
      await browser.answer(toWic.sdp);
      await browser.connected();
      let flow = await mediaFlows(browser, echo);
      t.equal(flow.toIms, 30, 'every browser frame reached IMS as plain RTP');
      t.ok(flow.back >= 30, `the browser got the echo back (${flow.back})`);

      // IMS puts the call on hold (re-INVITE, a=sendonly), the browser answers.
      const holdOffer = await control.offer(offerFromIms({ callId: tags.callId, fromTag: 'ims-tag' }, imsSdp(echo.port, 2, 'sendonly')));
      const holdToWic = audioOf(holdOffer.sdp);
      t.equal(holdToWic.direction, 'sendonly', 'R-ALG-16: IMS hold reaches the WIC as sendonly');
      t.equal(holdToWic.port, wicMedia.port, 'same WebRTC port on the re-offer');
      t.equal(holdToWic.setup, 'passive', 'RFC 8842: a live association keeps its DTLS roles');
      t.ok(versionOf(holdOffer.sdp) > versionOf(toWic.sdp), 'RFC 3264 §8: o= version increased toward the WIC');
      const holdAnswer = await control.answer(answerFromWic({ callId: tags.callId, fromTag: 'ims-tag', toTag: 'wic-tag' }, await browser.answerOffer(holdOffer.sdp)));
      t.equal(audioOf(holdAnswer.sdp).direction, 'recvonly', 'the browser\'s recvonly reaches IMS');
      t.equal(audioOf(holdAnswer.sdp).port, imsMedia.port, 'same IMS port');

      // IMS resumes from a new address/port: media must follow (R-ALG-8, RFC 3264 §8.3.1).
      const moved = await startEcho(t);
      const resume = await control.offer(offerFromIms({ callId: tags.callId, fromTag: 'ims-tag' }, imsSdp(moved.port, 3, 'sendrecv')));
      t.equal(audioOf(resume.sdp).direction, 'sendrecv', 'resume reaches the WIC as sendrecv');
      await control.answer(answerFromWic({ callId: tags.callId, fromTag: 'ims-tag', toTag: 'wic-tag' }, await browser.answerOffer(resume.sdp)));
      const oldSeen = echo.seen.length;
      flow = await mediaFlows(browser, moved);
      t.equal(flow.toIms, 30, 'after the IMS address change every frame goes to the new address');
      t.equal(echo.seen.length, oldSeen, 'nothing went to the old address');
      t.ok(flow.back >= 30, 'and the browser hears the new far end');

      // The browser holds (re-offer sendonly); IMS answers recvonly; then resumes.
      const wicHold = await control.offer(offerFromWic(tags, await browser.reoffer('sendonly')));
      t.equal(audioOf(wicHold.sdp).direction, 'sendonly', 'R-ALG-16: WIC hold reaches IMS as sendonly');
      t.equal(audioOf(wicHold.sdp).port, imsMedia.port, 'same IMS port on the WIC re-offer');
      const wicHoldAnswer = await control.answer(answerFromIms({ ...tags, toTag: 'ims-tag' }, imsSdp(moved.port, 4, 'recvonly')));
      t.equal(audioOf(wicHoldAnswer.sdp).direction, 'recvonly', 'the IMS recvonly reaches the WIC');
      t.equal(audioOf(wicHoldAnswer.sdp).port, wicMedia.port, 'same WebRTC port');
      await browser.answer(wicHoldAnswer.sdp);
      const wicResume = await control.offer(offerFromWic(tags, await browser.reoffer('sendrecv')));
      t.equal(audioOf(wicResume.sdp).direction, 'sendrecv');
      await browser.answer((await control.answer(answerFromIms({ ...tags, toTag: 'ims-tag' }, imsSdp(moved.port, 5)))).sdp);
      flow = await mediaFlows(browser, moved);
      t.equal(flow.toIms, 30, 'media flows after the browser\'s hold and resume (same DTLS association)');
      t.ok(flow.back >= 30);

      const query = await control.query({ callId: tags.callId });
      const rows = Object.fromEntries(query.streams.map((row) => [row.tag, row]));
      t.ok((rows['wic-tag']?.packetsIn ?? 0) >= 90, 'query: packets from the WIC counted under its tag');
      t.ok((rows['ims-tag']?.packetsIn ?? 0) >= 90, 'query: packets from IMS counted under its tag');
      await control.delete({ callId: tags.callId });
      await t.rejects(control.query({ callId: tags.callId }), { code: 'EPC_ERR_MEDIA', message: /Unknown call-id/ });
    });

    t.test('R-ALG-6, RFC 5763 §5: termination (over ng) — IMS offer → WIC offer with setup:passive; werift answer → IMS answer; media both ways', async (t) => {
      const control = overNg;
      const tags = { callId: 'term-1', fromTag: 'ims-tag' };
      const echo = await startEcho(t);
      const toWic = await control.offer(offerFromIms(tags, imsSdp(echo.port, 1)));
      const offered = audioOf(toWic.sdp);
      t.equal(offered.protocol, 'UDP/TLS/RTP/SAVPF', 'R-ALG-6: the WIC is offered DTLS-SRTP');
      t.equal(offered.setup, 'passive', 'DTLS passive requested: the browser will be the DTLS client');
      t.equal(sdpTransform.parse(toWic.sdp).icelite, 'ice-lite', 'R-ICE-1: ice-lite');
      t.ok((offered.candidates ?? []).every((c) => c.port === offered.port && c.ip === '127.0.0.1'), 'the host candidate is the m= port');
      t.ok(offered.ssrcs?.some((s) => s.attribute === 'cname'), 'a=ssrc announced (werift routes by it)');

      const browser = new WeriftBrowser({ answerer: true });
      t.teardown(() => browser.close());
      const wicAnswer = await browser.answerOffer(toWic.sdp);
      t.match(wicAnswer, /a=setup:active/, 'the browser answers active');
      const toIms = await control.answer(answerFromWic({ ...tags, toTag: 'wic-tag' }, wicAnswer));
      const answered = audioOf(toIms.sdp);
      t.equal(answered.protocol, 'RTP/AVP', 'R-ALG-4: IMS gets plain RTP');
      t.ok(answered.port >= variant.imsPorts.min && answered.port <= variant.imsPorts.max, 'on a port of the IMS range');
      await browser.connected();
      const flow = await mediaFlows(browser, echo);
      t.equal(flow.toIms, 30, 'browser frames reach IMS');
      t.ok(flow.back >= 30, `IMS media reaches the browser (${flow.back})`);
      t.ok(echo.seen.every((p) => p.pt === 0), 'PCMU keeps PT 0');
      await control.delete({ callId: tags.callId });
    });

    t.test('RFC 3264 §8.4 old-style hold stops media toward IMS; R-ICE-4, RFC 6347 §4.2.8: another endpoint taking the call over (re-offer with new ICE credentials, new DTLS handshake) gets a new ICE session and DTLS association on the same port', async (t) => {
      const control = inProcess;
      const tags = { callId: 'orig-2', fromTag: 'wic-tag' };
      const first = new WeriftBrowser();
      t.teardown(() => first.close());
      const echo = await startEcho(t);
      const imsOfferSdp = (await control.offer(offerFromWic(tags, await first.offer()))).sdp;
      const toWic = await control.answer(answerFromIms({ ...tags, toTag: 'ims-tag' }, imsSdp(echo.port, 1)));
      await first.answer(toWic.sdp);
      await first.connected();
      t.equal((await mediaFlows(first, echo)).toIms, 30, 'media flows before the hold');

      const hold = await control.offer(offerFromIms({ callId: tags.callId, fromTag: 'ims-tag' }, imsSdp(echo.port, 2, 'sendrecv', '0.0.0.0')));
      t.equal(audioOf(hold.sdp).direction, 'sendonly', 'c=0.0.0.0 reaches the WIC as sendonly (the WIC side has a real address)');
      await control.answer(answerFromWic({ callId: tags.callId, fromTag: 'ims-tag', toTag: 'wic-tag' }, await first.answerOffer(hold.sdp)));
      const before = echo.seen.length;
      for (let i = 0; i < 20; i++) first.sendFrame();
      await new Promise((r) => setTimeout(r, 300));
      t.equal(echo.seen.length, before, 'nothing is sent toward an IMS party on c=0.0.0.0 hold');
      const resume = await control.offer(offerFromIms({ callId: tags.callId, fromTag: 'ims-tag' }, imsSdp(echo.port, 3)));
      await control.answer(answerFromWic({ callId: tags.callId, fromTag: 'ims-tag', toTag: 'wic-tag' }, await first.answerOffer(resume.sdp)));
      t.equal((await mediaFlows(first, echo)).toIms, 30, 'resumed: media reaches IMS again');

      // Another endpoint of the user takes the call over: new ICE ufrag/pwd and a fresh DTLS
      // handshake (werift peers of one process share a certificate, so the fingerprint is the same).
      const second = new WeriftBrowser();
      t.teardown(() => second.close());
      const takeover = await control.offer(offerFromWic(tags, await second.offer()));
      t.equal(audioOf(takeover.sdp).port, audioOf(imsOfferSdp).port, 'same IMS port');
      const toSecond = await control.answer(answerFromIms({ ...tags, toTag: 'ims-tag' }, imsSdp(echo.port, 4)));
      t.equal(audioOf(toSecond.sdp).port, audioOf(toWic.sdp).port, 'same WebRTC port');
      t.not(audioOf(toSecond.sdp).iceUfrag, audioOf(toWic.sdp).iceUfrag, 'R-ICE-4: new local ICE credentials after the restart');
      await second.answer(toSecond.sdp);
      await second.connected();
      const flow = await mediaFlows(second, echo);
      t.equal(flow.toIms, 30, 'the new endpoint\'s SRTP is accepted: keys from the new DTLS association');
      t.ok(flow.back >= 30, 'and it receives IMS media');
      await control.delete({ callId: tags.callId });
    });
  });
}
