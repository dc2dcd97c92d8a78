// TS 24.615 CW as core/ua reads it (core/ua/communication-waiting.ts): either mark makes a call
// waiting — the application/vnd.3gpp.cw+xml body part or Alert-Info call-waiting (RFC 7462) — and
// the non-SDP parts are the client's typed attachments (R-MMTEL-3).
import t from 'tap';
import { createRequest, type SipRequest } from '../../../core/sip/index.js';
import { alertsCallWaiting, attachmentsOf, isWaitingCall } from '../../../core/ua/communication-waiting.js';
import { CALL_WAITING_ALERT_INFO, CW_CONTENT_TYPE_HEADER, CW_XML, cwMultipartBody } from '../../support/mmtel-cw.js';

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

function invite(headers: [string, string][], body = SDP, contentType = 'application/sdp'): SipRequest {
  return createRequest({ method: 'INVITE', uri: 'sip:bob@ims.test', headers: [
    ['Via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKcw1'], ['Max-Forwards', '70'], ['From', '<sip:a@ims.test>;tag=1'],
    ['To', '<sip:bob@ims.test>'], ['Call-ID', 'cw1'], ['CSeq', '1 INVITE'], ['Content-Type', contentType], ...headers,
  ], body });
}

t.test('TS 24.615 / RFC 7462: Alert-Info <urn:alert:service:call-waiting> alone marks a waiting call', async (t) => {
  const message = invite([['Alert-Info', CALL_WAITING_ALERT_INFO]]);
  t.ok(alertsCallWaiting(message));
  t.ok(isWaitingCall(message, attachmentsOf(message)));
  t.same(attachmentsOf(message), [], 'a plain SDP body has no attachments');
  t.notOk(alertsCallWaiting(invite([['Alert-Info', '<http://ring.example/tone.wav>']])), 'another Alert-Info is not CW');
});

t.test('TS 24.615 A.1: the application/vnd.3gpp.cw+xml part alone marks a waiting call; it is a typed attachment (R-MMTEL-3)', async (t) => {
  const message = invite([], cwMultipartBody(SDP), CW_CONTENT_TYPE_HEADER);
  const attachments = attachmentsOf(message);
  t.same(attachments, [{ contentType: 'application/vnd.3gpp.cw+xml', body: CW_XML.replace(/\r\n$/, '') }]);
  t.ok(isWaitingCall(message, attachments));
  t.notOk(isWaitingCall(invite([]), []), 'an ordinary INVITE is not waiting');
});
