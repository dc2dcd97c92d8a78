/**
 * MediaGateway as the IMS-ALG sees it: the four requests of core/pcscf/alg/media-requests.ts,
 * through InProcessMediaControl and through NgMediaControl → NgServer (UDP ng), with the SDP the
 * gateway writes checked against the rules (R-ALG-*, R-ICE-*, RFC 5763, RFC 3264).
 */
import t from 'tap';
import sdpTransform from 'sdp-transform';
import { EpcError } from '../../../core/errors.js';
import { InProcessMediaControl, NgMediaControl, type MediaControl } from '../../../core/pcscf/alg/media-control.js';
import { answerFromIms, answerFromWic, offerFromIms, offerFromWic } from '../../../core/pcscf/alg/media-requests.js';
import { SdpError } from '../../../media-gw/sdp/index.js';
import { createMediaGateway, parseMediaGatewayConfig, type CallEvent, type MediaGateway } from '../../../media-gw/gateway/index.js';
import { NgServer } from '../../../media-gw/ng/ng-server.js';
import { sharedCertificate } from '../../../media-gw/webrtc/certificate.js';
import { CHROME_AUDIO_OFFER, plainRtpAnswer } from '../ng/ims-alg-requests.js';

const WEBRTC_PORTS = { min: 38000, max: 38039 };
const IMS_PORTS = { min: 38040, max: 38079 };
const LIMITED_PORTS = { webrtc: { min: 38080, max: 38089 }, ims: { min: 38090, max: 38099 } };

function audioOf(sdp: string): sdpTransform.MediaDescription {
  const media = sdpTransform.parse(sdp).media[0];
  if (media === undefined) throw new Error(`no m= line in\n${sdp}`);
  return media;
}

const payloadsOf = (media: sdpTransform.MediaDescription): string[] => String(media.payloads).split(' ');

/** An IMS offer as a TS 24.229 UE or MGW sends it: PCMU + telephone-event 101, optionally rtcp-mux. */
function imsOffer(port: number, options: { rtcpMux?: boolean; version?: number } = {}): string {
  return [
    'v=0', `o=ims 99 ${options.version ?? 1} IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15',
    'a=ptime:20', ...(options.rtcpMux ? ['a=rtcp-mux'] : []), 'a=sendrecv', '',
  ].join('\r\n');
}

/** What a browser answers to the gateway's offer (setup:active, rtcp-mux, its own ICE and fingerprint). */
function wicAnswer(mid: string): string {
  return [
    'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 0 101', 'c=IN IP4 0.0.0.0', `a=mid:${mid}`,
    'a=ice-ufrag:brws', 'a=ice-pwd:browser-password-0123456789',
    `a=fingerprint:sha-256 ${'AB:'.repeat(31)}AB`, 'a=setup:active', 'a=rtcp-mux', 'a=sendrecv',
    'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=ssrc:1234 cname:x', '',
  ].join('\r\n');
}

function gatewayOn(ports = { webrtc: WEBRTC_PORTS, ims: IMS_PORTS }, extra: { maxCalls?: number; idleTimeoutSeconds?: number } = {}): MediaGateway {
  return createMediaGateway({ webrtc: { host: '127.0.0.1', ports: ports.webrtc }, ims: { host: '127.0.0.1', ports: ports.ims }, ...extra });
}

const gateway = gatewayOn();
const server = await NgServer.listen({ control: gateway });
const controls: readonly (readonly [string, MediaControl])[] = [
  ['in-process', new InProcessMediaControl(gateway)],
  ['over ng', new NgMediaControl({ address: '127.0.0.1', port: server.address().port, timeoutMs: 2_000, retries: 0 })],
];
t.teardown(async () => {
  for (const [, control] of controls) await control.close();
  await server.close();
  await gateway.closeAll();
});

for (const [name, control] of controls) {
  t.test(`R-ALG-4/8/9/12 (${name}): origination offer — a Chrome offer becomes plain RTP/AVP on the gateway's IMS port`, async (t) => {
    const callId = `orig-sdp-${name}`;
    const { sdp } = await control.offer(offerFromWic({ callId, fromTag: 'wic' }, CHROME_AUDIO_OFFER));
    const session = sdpTransform.parse(sdp);
    const audio = audioOf(sdp);
    t.equal(audio.protocol, 'RTP/AVP');
    t.ok(audio.port >= IMS_PORTS.min && audio.port <= IMS_PORTS.max && audio.port % 2 === 0, 'RFC 3550 §11: an even port of the IMS range');
    t.equal(session.connection?.ip, '127.0.0.1', 'c= is the IMS-side address');
    t.equal(session.origin?.address, '127.0.0.1', 'o= is the gateway');
    t.equal(audio.rtcp, undefined, 'RTCP on port+1 needs no a=rtcp (RFC 3605)');
    for (const field of ['iceUfrag', 'icePwd', 'fingerprint', 'setup', 'rtcpMux', 'candidates', 'ssrcs', 'mid'] as const) {
      t.equal(audio[field] ?? session[field as keyof typeof session], undefined, `R-ALG-9: no ${field} toward IMS`);
    }
    t.ok(payloadsOf(audio).includes('0') && !payloadsOf(audio).includes('103'), 'PCMU relayed, ISAC (needs a transcoder) removed');
    t.ok(audio.bandwidth?.some((b) => b.type === 'AS'), 'R-ALG-12: b=AS present');

    // The IMS side answers with telephone-event under 101, not the browser's 126.
    const answer = plainRtpAnswer('127.0.0.1', 4000).replace(/126/g, '101');
    const toWic = await control.answer(answerFromIms({ callId, fromTag: 'wic', toTag: 'ims' }, answer));
    const wic = sdpTransform.parse(toWic.sdp);
    const wicAudio = audioOf(toWic.sdp);
    const certificate = await sharedCertificate();
    t.equal(wicAudio.protocol, 'UDP/TLS/RTP/SAVPF', 'R-ALG-5: the WIC\'s profile');
    t.equal(wicAudio.setup, 'passive', 'R-ALG-1: passive on actpass, the browser starts DTLS');
    t.equal(wicAudio.fingerprint?.hash, certificate.fingerprint.value, 'the gateway certificate\'s fingerprint');
    t.equal(wic.icelite, 'ice-lite', 'R-ICE-1: ice-lite');
    t.ok(wicAudio.iceUfrag && wicAudio.icePwd, 'ICE-lite credentials');
    t.ok(wicAudio.port >= WEBRTC_PORTS.min && wicAudio.port <= WEBRTC_PORTS.max, 'a port of the WebRTC range');
    t.same(wicAudio.candidates?.map((c) => [c.ip, c.port, c.type]), [['127.0.0.1', wicAudio.port, 'host']], 'one host candidate: the m= port');
    t.equal(wicAudio.rtcpMux, 'rtcp-mux', 'R-SDP-5: rtcp-mux');
    t.equal(String(wicAudio.mid), 'audio', 'R-SDP-4: the WIC\'s mid');
    t.same(payloadsOf(wicAudio), ['0', '126'], 'RFC 3264 §6.1: codecs IMS accepted, under the WIC\'s numbers (126, not 101)');
    t.ok(wicAudio.ssrcs?.length, 'a=ssrc of the stream toward the WIC');
    await control.delete({ callId });
  });

  t.test(`RFC 3264 §8 / RFC 3261 §13.2.2.4 (${name}): a 183 answer then a 200 with another SDP and another fork's to-tag re-apply on the same ports`, async (t) => {
    const callId = `early-${name}`;
    await control.offer(offerFromWic({ callId, fromTag: 'wic' }, CHROME_AUDIO_OFFER));
    const early = await control.answer(answerFromIms({ callId, fromTag: 'wic', toTag: 'fork-1' }, plainRtpAnswer('127.0.0.1', 4000)));
    const pcma = plainRtpAnswer('127.0.0.2', 4100).replace('RTP/AVP 0 126', 'RTP/AVP 8 126').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000');
    const final = await control.answer(answerFromIms({ callId, fromTag: 'wic', toTag: 'fork-2' }, pcma));
    t.equal(audioOf(final.sdp).port, audioOf(early.sdp).port, 'same WebRTC port');
    t.same(payloadsOf(audioOf(early.sdp)), ['0', '126'], 'the 183 carried PCMU');
    t.same(payloadsOf(audioOf(final.sdp)), ['8', '126'], 'the 200 answer is applied: PCMA');
    t.ok(Number(sdpTransform.parse(final.sdp).origin?.sessionVersion) > Number(sdpTransform.parse(early.sdp).origin?.sessionVersion), 'o= version increased');
    t.equal(audioOf(final.sdp).iceUfrag, audioOf(early.sdp).iceUfrag, 'same ICE credentials (no restart)');
    const query = await control.query({ callId });
    t.same(query.streams.map((row) => row.tag).sort(), ['fork-2', 'wic'], 'query names the answering fork');
    t.ok(Math.abs(query.created - Date.now()) < 60_000, 'created is epoch ms');
    await control.delete({ callId });
  });

  t.test(`R-ALG-6, RFC 5763 §5 (${name}): termination — IMS offer → WIC offer with setup:passive; WIC answer → IMS answer on the offered IMS port`, async (t) => {
    const callId = `term-sdp-${name}`;
    const toWic = await control.offer(offerFromIms({ callId, fromTag: 'ims' }, imsOffer(5000, { rtcpMux: true })));
    const offered = audioOf(toWic.sdp);
    t.equal(offered.protocol, 'UDP/TLS/RTP/SAVPF');
    t.equal(offered.setup, 'passive', 'DTLS passive asked: a=setup:passive, not actpass');
    t.equal(String(offered.mid), '0', 'one mid per m-line');
    t.same(payloadsOf(offered), ['0', '101'], 'relayable codecs under the IMS numbers');
    t.equal(offered.rtcpMux, 'rtcp-mux');
    const toIms = await control.answer(answerFromWic({ callId, fromTag: 'ims', toTag: 'wic' }, wicAnswer(String(offered.mid))));
    const answered = audioOf(toIms.sdp);
    t.equal(answered.protocol, 'RTP/AVP');
    t.ok(answered.port >= IMS_PORTS.min && answered.port <= IMS_PORTS.max, 'the gateway\'s IMS port');
    t.equal(answered.rtcpMux, 'rtcp-mux', 'RFC 5761: IMS offered rtcp-mux, so it is accepted');
    t.equal(answered.iceUfrag, undefined, 'no ICE toward IMS');
    t.same(payloadsOf(answered), ['0', '101']);
    await control.delete({ callId });
  });

  t.test(`rtpengine ng semantics (${name}): unknown call-id, answer without its offer, media-address`, async (t) => {
    const requests: (() => Promise<unknown>)[] = [
      () => control.query({ callId: 'nope' }),
      () => control.delete({ callId: 'nope' }),
      () => control.answer(answerFromIms({ callId: 'nope', fromTag: 'a', toTag: 'b' }, plainRtpAnswer('127.0.0.1', 4000))),
    ];
    for (const request of requests) {
      await t.rejects(async () => { await request(); }, { code: 'EPC_ERR_MEDIA', message: /Unknown call-id/ });
    }
    const callId = `media-address-${name}`;
    const { sdp } = await control.offer({ ...offerFromWic({ callId, fromTag: 'wic' }, CHROME_AUDIO_OFFER), mediaAddress: '192.0.2.10' });
    t.equal(sdpTransform.parse(sdp).connection?.ip, '192.0.2.10', 'media-address is written into c=');
    await t.rejects(control.answer(answerFromIms({ callId, fromTag: 'someone-else', toTag: 'ims' }, plainRtpAnswer('127.0.0.1', 4000))),
      { code: 'EPC_ERR_MEDIA', message: /from-tag/ }, 'an answer names the offerer\'s tag');
    await control.delete({ callId });
  });
}

t.test('R-ALG: an SDP the rules refuse keeps its SdpError status (488/400) and allocates nothing', async (t) => {
  const before = gateway.size;
  const notSdp = await gateway.offer({ callId: 'bad-1', fromTag: 'x', sdp: 'hello', transportProtocol: 'RTP/AVP' }).then(() => undefined, (e: unknown) => e);
  t.ok(notSdp instanceof SdpError && notSdp.status === 400, 'not SDP: 400');
  const noCodec = CHROME_AUDIO_OFFER.replace(/^m=audio (\d+) (\S+) .*$/m, 'm=audio $1 $2 103').replace(/^a=rtpmap:(?!103 ).*\r\n/gm, '');
  const refused = await gateway.offer(offerFromWic({ callId: 'bad-2', fromTag: 'x' }, noCodec)).then(() => undefined, (e: unknown) => e);
  t.ok(refused instanceof SdpError && refused.status === 488, 'ISAC only (needs a transcoder): 488');
  t.equal(gateway.size, before, 'no call was kept');
  await t.rejects(controls[1]![1].offer(offerFromWic({ callId: 'bad-3', fromTag: 'x' }, noCodec)),
    { code: 'EPC_ERR_MEDIA', message: /no media line of the offer can be relayed/ }, 'over ng the reason travels as error-reason');
});

t.test('issue #4 resource control: offers beyond maxCalls fail with EPC_ERR_MEDIA; a deleted call frees its slot', async (t) => {
  const limited = gatewayOn(LIMITED_PORTS, { maxCalls: 2 });
  t.teardown(() => limited.closeAll());
  await limited.offer(offerFromWic({ callId: 'c1', fromTag: 'w' }, CHROME_AUDIO_OFFER));
  await limited.offer(offerFromWic({ callId: 'c2', fromTag: 'w' }, CHROME_AUDIO_OFFER));
  await t.rejects(limited.offer(offerFromWic({ callId: 'c3', fromTag: 'w' }, CHROME_AUDIO_OFFER)), { code: 'EPC_ERR_MEDIA', message: /call limit of 2/ });
  await limited.offer(offerFromWic({ callId: 'c1', fromTag: 'w' }, CHROME_AUDIO_OFFER));
  t.equal(limited.size, 2, 'a re-offer on a live call is no new call');
  await limited.delete({ callId: 'c1' });
  await t.resolves(limited.offer(offerFromWic({ callId: 'c3', fromTag: 'w' }, CHROME_AUDIO_OFFER)));
  await limited.closeAll();
  t.equal(limited.size, 0, 'closeAll releases every call');
});

t.test('issue #4: an answered call without media raises one `idle` event; a ringing (unanswered) call does not', async (t) => {
  const events: CallEvent[] = [];
  const idle = gatewayOn(LIMITED_PORTS, { idleTimeoutSeconds: 0.15 });
  idle.onCallEvent = (event) => events.push(event);
  t.teardown(() => idle.closeAll());
  await idle.offer(offerFromWic({ callId: 'ringing', fromTag: 'w' }, CHROME_AUDIO_OFFER));
  await idle.offer(offerFromWic({ callId: 'answered', fromTag: 'w' }, CHROME_AUDIO_OFFER));
  await new Promise((r) => setTimeout(r, 250));
  t.same(events, [], 'nothing while ringing');
  await idle.answer(answerFromIms({ callId: 'answered', fromTag: 'w', toTag: 'i' }, plainRtpAnswer('127.0.0.1', 4000)));
  await new Promise((r) => setTimeout(r, 100));
  t.same(events, [], 'not before the timeout');
  await new Promise((r) => setTimeout(r, 350));
  t.same(events, [{ callId: 'answered', kind: 'idle' }], 'exactly one idle event, for the answered call');
});

t.test('media.gateway config: checked with the key named in EPC_ERR_CONFIG_INVALID', async (t) => {
  const good = { webrtc: { host: '127.0.0.1', ports: { min: 40000, max: 40100 } }, ims: { host: '0.0.0.0', advertisedAddress: '192.0.2.1', ports: { min: 41000, max: 41100 } } };
  t.same(parseMediaGatewayConfig({ ...good, maxCalls: 10 }), { ...good, maxCalls: 10 });
  t.same(parseMediaGatewayConfig({ ...good, relayWorkers: 2 }), { ...good, relayWorkers: 2 }, 'relay worker threads');
  const bad: [unknown, RegExp][] = [
    [undefined, /must be an object/],
    [{ ...good, webrtc: { host: 'localhost', ports: { min: 1, max: 2 } } }, /webrtc.host/],
    [{ ...good, ims: { host: '0.0.0.0', ports: { min: 1, max: 2 } } }, /ims.advertisedAddress is required/],
    [{ ...good, ims: { ...good.ims, ports: { min: 5, max: 4 } } }, /ims.ports.min is above/],
    [{ ...good, webrtc: { ...good.webrtc, ports: { min: 0, max: 4 } } }, /webrtc.ports.min/],
    [{ ...good, idleTimeoutSeconds: -1 }, /idleTimeoutSeconds/],
    [{ ...good, relayWorkers: 1.5 }, /relayWorkers must be an integer/],
    [{ ...good, relayWorkers: -1 }, /relayWorkers/],
  ];
  for (const [value, message] of bad) {
    const error = (() => { try { parseMediaGatewayConfig(value); return undefined; } catch (e) { return e; } })();
    t.ok(error instanceof EpcError && error.code === 'EPC_ERR_CONFIG_INVALID', `refused: ${String(message)}`);
    t.match((error as Error).message, message);
  }
});
