/**
 * Our ng client against Debian's rtpengine (userspace): proves the IMS-ALG speaks rtpengine's
 * control protocol exactly, with the requests it sends for a WebRTC → IMS call (shared with
 * the ng-server tests, test/unit/ng/ims-alg-requests.ts), so the same ALG code can drive a
 * real rtpengine or our media-gw.
 */
import t from 'tap';
import { createSocket, type Socket } from 'node:dgram';
import sdpTransform from 'sdp-transform';
import { NgClient } from '../../media-gw/ng/ng-client.js';
import { EpcError } from '../../core/errors.js';
import { allocatePorts, releasePort } from '../support/peers/ports.js';
import { ngPingAnswered, startRtpengine, type RtpenginePeer } from '../support/peers/rtpengine.js';
import { answerTowardWic, offerTowardIms, plainRtpAnswer } from '../unit/ng/ims-alg-requests.js';

const [ngPort = 0, imsRtpPort = 0] = await allocatePorts(2);
const rtpengine: RtpenginePeer = await startRtpengine({ ngPort });
const client = new NgClient({ address: '127.0.0.1', port: ngPort, timeoutMs: 500, retries: 2 });
t.teardown(async () => {
  await client.close();
  await rtpengine.stop();
  for (const p of [ngPort, imsRtpPort]) releasePort(p);
});

function firstAudio(sdp: string): sdpTransform.MediaDescription {
  const media = sdpTransform.parse(sdp).media[0];
  if (media === undefined) throw new Error(`no m= line in\n${sdp}`);
  return media;
}

function inMediaBlock(port: number): boolean {
  return port >= rtpengine.portMin && port <= rtpengine.portMax;
}

function rtpPacket(seq: number): Buffer {
  const packet = Buffer.alloc(12 + 160, 0xff); // PCMU silence
  packet[0] = 0x80; packet[1] = 0; // V=2, PT 0
  packet.writeUInt16BE(seq, 2);
  packet.writeUInt32BE(seq * 160, 4);
  packet.writeUInt32BE(0x1234abcd, 8);
  return packet;
}

t.test('rtpengine ng: ping is answered with pong (raw bencode and through NgClient)', async (t) => {
  t.ok(await ngPingAnswered(ngPort), '`<cookie> d7:command4:pinge` → `<cookie> d6:result4:ponge`');
  await t.resolves(client.ping());
});

t.test('R-AGW/R-ARCH-3: offer toward IMS — Chrome WebRTC SDP becomes plain RTP/AVP without ICE, DTLS or rtcp-mux', async (t) => {
  const callId = `ng-offer-${process.pid}`;
  const { sdp } = await client.offer(offerTowardIms(callId, 'wic-tag'));
  const session = sdpTransform.parse(sdp);
  const audio = firstAudio(sdp);
  t.equal(audio.protocol, 'RTP/AVP', 'transport-protocol RTP/AVP');
  t.ok(inMediaBlock(audio.port), `m= port ${audio.port} is one of rtpengine's`);
  t.equal(session.origin?.address, '127.0.0.1', 'replace origin: o= carries the gateway address');
  t.equal(audio.connection?.ip ?? session.connection?.ip, '127.0.0.1', 'c= is the gateway');
  t.equal(audio.candidates, undefined, 'ICE remove: no candidates');
  t.equal(audio.iceUfrag ?? session.iceUfrag, undefined, 'no ice-ufrag');
  t.equal(audio.fingerprint ?? session.fingerprint, undefined, 'DTLS off: no fingerprint');
  t.equal(audio.setup, undefined, 'no a=setup');
  t.equal(audio.rtcpMux, undefined, 'rtcp-mux demux: not offered toward IMS');
  t.equal(audio.rtcp?.port, audio.port + 1, 'RTCP on its own port, rtpengine short a=rtcp:<port> form');
  t.ok(String(audio.payloads).split(' ').includes('0'), 'codecs pass through (PCMU kept)');
  await client.delete({ callId });
});

t.test('R-AGW: answer toward the WIC — plain RTP answer becomes DTLS-SRTP with ICE and rtcp-mux; query and delete', async (t) => {
  const callId = `ng-call-${process.pid}`;
  const offer = await client.offer(offerTowardIms(callId, 'wic-tag'));
  const imsSideGatewayPort = firstAudio(offer.sdp).port;

  const { sdp } = await client.answer(answerTowardWic(callId, 'wic-tag', 'ims-tag', plainRtpAnswer('127.0.0.1', imsRtpPort)));
  const session = sdpTransform.parse(sdp);
  const audio = firstAudio(sdp);
  t.equal(audio.protocol, 'UDP/TLS/RTP/SAVPF', 'transport-protocol UDP/TLS/RTP/SAVPF');
  t.ok(inMediaBlock(audio.port), 'm= port is rtpengine\'s');
  t.match((audio.fingerprint ?? session.fingerprint)?.type, /^sha-/, 'a=fingerprint present');
  t.equal(audio.setup ?? session.setup, 'passive', 'DTLS passive: a=setup:passive');
  t.ok(audio.iceUfrag ?? session.iceUfrag, 'ICE force: ice-ufrag');
  t.ok(audio.icePwd ?? session.icePwd, 'ICE force: ice-pwd');
  const candidates = audio.candidates ?? [];
  t.ok(candidates.length >= 1 && candidates.every((c) => c.ip === '127.0.0.1' && c.port === audio.port),
    'the gateway is the only ICE candidate');
  t.equal(audio.rtcpMux, 'rtcp-mux', 'rtcp-mux');
  t.ok(String(audio.payloads).split(' ').includes('0'), 'PCMU answered');

  // Plain RTP from the IMS side reaches rtpengine's IMS-facing port and shows up in `query`.
  const ims: Socket = createSocket('udp4');
  await new Promise<void>((resolve) => ims.bind(imsRtpPort, '127.0.0.1', () => resolve()));
  t.teardown(() => ims.close());
  for (let seq = 1; seq <= 5; seq++) ims.send(rtpPacket(seq), imsSideGatewayPort, '127.0.0.1');

  let query = await client.query({ callId });
  for (let i = 0; i < 20 && (query.streams.find((s) => s.tag === 'ims-tag')?.packetsIn ?? 0) < 5; i++) {
    await new Promise((r) => setTimeout(r, 50));
    query = await client.query({ callId });
  }
  t.ok(Math.abs(query.created - Date.now()) < 60_000, 'created is a recent epoch time in ms');
  t.same(query.streams.map((s) => s.tag).sort(), ['ims-tag', 'wic-tag'], 'one row per SIP tag');
  const imsRow = query.streams.find((s) => s.tag === 'ims-tag');
  t.equal(imsRow?.packetsIn, 5, 'the 5 RTP packets from the IMS side are counted');
  t.equal(imsRow?.bytesIn, 5 * 172, 'and their bytes');
  t.ok((imsRow?.lastPacketAt ?? 0) > 0, 'lastPacketAt set once packets arrived');
  t.equal(query.streams.find((s) => s.tag === 'wic-tag')?.packetsIn, 0, 'nothing came from the WIC');

  await client.delete({ callId, fromTag: 'wic-tag' });
  const gone = await client.query({ callId }).then(() => undefined, (e: unknown) => e);
  t.ok(gone instanceof EpcError && gone.code === 'EPC_ERR_MEDIA', 'after delete, query fails with EPC_ERR_MEDIA');
  t.match((gone as Error).message, /Unknown call-id/, 'carrying rtpengine\'s error-reason');
});

t.test('rtpengine ng: media-address is written into the SDP instead of the interface address', async (t) => {
  const callId = `ng-media-address-${process.pid}`;
  const { sdp } = await client.offer({ ...offerTowardIms(callId, 'wic-tag'), mediaAddress: '192.0.2.10' });
  const session = sdpTransform.parse(sdp);
  t.equal(firstAudio(sdp).connection?.ip ?? session.connection?.ip, '192.0.2.10');
  await client.delete({ callId });
});

t.test('rtpengine ng: error results become EPC_ERR_MEDIA with the error-reason', async (t) => {
  await t.rejects(client.answer(answerTowardWic('no-such-call', 'a', 'b', plainRtpAnswer('127.0.0.1', imsRtpPort))),
    { code: 'EPC_ERR_MEDIA', message: /ng answer failed: .+/ }, 'answer for an unknown call');
  await t.rejects(client.offer({ callId: 'x', fromTag: 'y', sdp: 'not sdp' }),
    { code: 'EPC_ERR_MEDIA', message: /ng offer failed: .+/ }, 'offer with an unparseable SDP');
});

t.test('rtpengine ng: a retransmitted request (same cookie) gets the same reply, not a second call leg', async (t) => {
  // Send the same raw offer datagram twice: rtpengine must answer both with the same SDP (same ports).
  const { formatNgFrame, encodeNgRequest, parseNgFrame } = await import('../../media-gw/ng/protocol.js');
  const datagram = formatNgFrame('retx-cookie-1', encodeNgRequest({ command: 'offer', ...offerTowardIms(`ng-retx-${process.pid}`, 'f') }));
  const socket = createSocket('udp4');
  t.teardown(() => socket.close());
  const replies: string[] = [];
  const done = new Promise<void>((resolve) => socket.on('message', (m) => {
    const frame = parseNgFrame(m);
    replies.push(`${frame.cookie} ${String(frame.dict['sdp'])}`);
    if (replies.length === 2) resolve();
  }));
  socket.send(datagram, ngPort, '127.0.0.1');
  socket.send(datagram, ngPort, '127.0.0.1');
  await done;
  t.equal(replies[0], replies[1], 'identical replies');
  t.match(replies[0], /^retx-cookie-1 v=0/, 'under the request cookie');
  await client.delete({ callId: `ng-retx-${process.pid}` });
});
