// R-MMTEL-1 through the IMS-ALG: a TS 24.615 CW INVITE (multipart/mixed: SDP + 3GPP CW XML,
// Alert-Info call-waiting) reaches the WIC with only its SDP part rewritten by the media gateway;
// the CW part, the delimiters, the Content-Type boundary and the Alert-Info cross byte-exact.
import t from 'tap';
import { InProcessMediaControl } from '../../core/pcscf/alg/media-control.js';
import { bodyText, createRequest, createResponse, getHeader, sdpOf, type SipRequest } from '../../core/sip/index.js';
import { FakeGateway } from '../unit/ng/fake-gateway.js';
import { plainRtpAnswer } from '../unit/ng/ims-alg-requests.js';
import { CALL_WAITING_ALERT_INFO, CW_CONTENT_TYPE_HEADER, CW_PART, cwMultipartBody } from '../support/mmtel-cw.js';
import { registered } from '../support/pcscf-rig.js';

t.test('R-MMTEL-1, TS 24.615 A.1: the IMS-ALG rewrites only the SDP part of a CW INVITE; the CW XML part and Alert-Info reach the WIC byte-exact', async (t) => {
  const gateway = new FakeGateway();
  const { core, pcscf, wic, registerAtCore } = await registered(t, { media: new InProcessMediaControl(gateway) });
  const imsSdp = plainRtpAnswer('127.0.0.1', 31000);
  const body = cwMultipartBody(imsSdp);
  core.send(createRequest({ method: 'INVITE', uri: 'sip:alice@df7jal23ls0d.invalid;transport=ws', headers: [
    ['Via', `SIP/2.0/UDP 127.0.0.1:${core.port};branch=z9hG4bKcw-m1`], ['Max-Forwards', '68'], ['Route', getHeader(registerAtCore, 'Path') ?? ''],
    ['Record-Route', `<sip:127.0.0.1:${core.port};lr>`], ['From', '<sip:carol@ims.test>;tag=c1'], ['To', '<sip:alice@ims.test>'],
    ['Call-ID', 'cw-m1'], ['CSeq', '1 INVITE'], ['Contact', `<sip:carol@127.0.0.1:${core.port}>`],
    ['Alert-Info', CALL_WAITING_ALERT_INFO], ['Content-Type', CW_CONTENT_TYPE_HEADER],
  ], body }), { host: '127.0.0.1', port: pcscf.mwAddresses[0]!.port });
  const atWic = await wic.next<SipRequest>((m) => m.kind === 'request' && m.method === 'INVITE');
  const offer = gateway.calls.find((c) => c.command === 'offer')?.request as { sdp: string; callId: string } | undefined;
  t.equal(offer?.sdp, imsSdp.replace(/\r\n$/, ''), 'the gateway got the SDP part alone');
  t.equal(sdpOf(atWic), `offer-reply ${offer?.callId} 1`, 'the WIC gets the gateway SDP in the SDP part');
  t.equal(getHeader(atWic, 'Content-Type'), CW_CONTENT_TYPE_HEADER, 'multipart/mixed with the same boundary');
  t.ok(bodyText(atWic).includes(CW_PART), 'the CW XML part is byte-exact');
  t.equal(bodyText(atWic).replace(/--cw-boundary-24615\r\nContent-Type: application\/sdp\r\n\r\n[^]*?\r\n--cw/, ''),
    body.replace(/--cw-boundary-24615\r\nContent-Type: application\/sdp\r\n\r\n[^]*?\r\n--cw/, ''), 'everything but the SDP is the AS\'s bytes');
  t.equal(getHeader(atWic, 'Alert-Info'), CALL_WAITING_ALERT_INFO, 'R-MMTEL-1: Alert-Info unchanged');

  await pcscf.fromClient('conn-1', createResponse(atWic, 486, 'Busy Here', { toTag: 'w1' }));
  const busy = await core.response(486, 'INVITE');
  t.equal(busy.status, 486, 'TS 24.615 §4.5.5.3.2 UDUB: the WIC\'s 486 reaches the IMS');
  t.ok(gateway.calls.some((c) => c.command === 'delete'), 'the rejected waiting call releases its media');
});
