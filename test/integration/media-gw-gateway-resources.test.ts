/**
 * Issue #4 resource control at the gateway level: offer/answer/delete cycles in both call
 * directions must leave no socket, timer or port behind (checked by binding every port of both
 * ranges again afterwards), and closeAll releases live calls.
 */
import t from 'tap';
import { createSocket } from 'node:dgram';
import { answerFromIms, answerFromWic, offerFromIms, offerFromWic } from '../../core/pcscf/alg/media-requests.js';
import { createMediaGateway } from '../../media-gw/gateway/index.js';
import { sharedCertificate } from '../../media-gw/webrtc/certificate.js';
import { trackResources } from '../support/resource-tracker.js';
import { CHROME_AUDIO_OFFER, plainRtpAnswer } from '../unit/ng/ims-alg-requests.js';

const WEBRTC_PORTS = { min: 38200, max: 38299 };
const IMS_PORTS = { min: 38300, max: 38399 };

const WIC_ANSWER = [
  'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 0', 'c=IN IP4 0.0.0.0', 'a=mid:0',
  'a=ice-ufrag:brws', 'a=ice-pwd:browser-password-0123456789',
  `a=fingerprint:sha-256 ${'CD:'.repeat(31)}CD`, 'a=setup:active', 'a=rtcp-mux', 'a=sendrecv', 'a=rtpmap:0 PCMU/8000', '',
].join('\r\n');

async function unbindable(range: { min: number; max: number }): Promise<number[]> {
  const failed: number[] = [];
  for (let port = range.min; port <= range.max; port++) {
    const socket = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false));
      socket.bind({ port, address: '127.0.0.1', exclusive: true }, () => resolve(true));
    });
    if (!ok) failed.push(port);
    await new Promise<void>((resolve) => { try { socket.close(() => resolve()); } catch { resolve(); } });
  }
  return failed;
}

t.test('issue #4 resource control: 1,000 offer/answer/delete cycles (both call directions) leave no bound port, socket or timer', async (t) => {
  await sharedCertificate();
  const gateway = createMediaGateway({ webrtc: { host: '127.0.0.1', ports: WEBRTC_PORTS }, ims: { host: '127.0.0.1', ports: IMS_PORTS } });
  const tracker = trackResources();
  t.teardown(() => tracker.stop());
  for (let i = 0; i < 1000; i++) {
    const callId = `cycle-${i}`;
    if (i % 2 === 0) {
      await gateway.offer(offerFromWic({ callId, fromTag: 'w' }, CHROME_AUDIO_OFFER));
      await gateway.answer(answerFromIms({ callId, fromTag: 'w', toTag: 'i' }, plainRtpAnswer('127.0.0.1', 9)));
    } else {
      await gateway.offer(offerFromIms({ callId, fromTag: 'i' }, plainRtpAnswer('127.0.0.1', 9)));
      await gateway.answer(answerFromWic({ callId, fromTag: 'i', toTag: 'w' }, WIC_ANSWER));
    }
    await gateway.delete({ callId, fromTag: i % 2 === 0 ? 'w' : 'i' });
  }
  tracker.freeze();
  await new Promise((r) => setTimeout(r, 100));
  const after = tracker.live();
  t.equal(gateway.size, 0, 'no call left');
  t.equal(after['UDPWRAP'] ?? 0, 0, 'no UDP socket left open (3,000+ were opened)');
  t.equal(after['Timeout'] ?? 0, 0, 'no consent, idle or DTLS timer left');
  t.same(await unbindable(WEBRTC_PORTS), [], 'every WebRTC port binds again');
  t.same(await unbindable(IMS_PORTS), [], 'every IMS port binds again');
});

t.test('issue #4: closeAll releases every live call and its ports; the gateway keeps serving afterwards', async (t) => {
  const gateway = createMediaGateway({ webrtc: { host: '127.0.0.1', ports: WEBRTC_PORTS }, ims: { host: '127.0.0.1', ports: IMS_PORTS } });
  for (let i = 0; i < 5; i++) await gateway.offer(offerFromWic({ callId: `live-${i}`, fromTag: 'w' }, CHROME_AUDIO_OFFER));
  t.equal(gateway.size, 5);
  await gateway.closeAll();
  t.equal(gateway.size, 0);
  t.same(await unbindable(WEBRTC_PORTS), [], 'WebRTC ports free');
  t.same(await unbindable(IMS_PORTS), [], 'IMS ports free');
  await t.rejects(gateway.query({ callId: 'live-0' }), { code: 'EPC_ERR_MEDIA', message: 'Unknown call-id' });
  await gateway.offer(offerFromWic({ callId: 'after', fromTag: 'w' }, CHROME_AUDIO_OFFER));
  await gateway.closeAll();
});
