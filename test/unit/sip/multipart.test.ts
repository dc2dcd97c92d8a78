// RFC 5621 / RFC 2046 §5.1 multipart bodies (core/sip/model/multipart.ts): the SDP part of a
// TS 24.615 CW INVITE is found and replaced while every other byte stays as it came (R-MMTEL-1).
import t from 'tap';
import { bodyParts, createRequest, nonSdpParts, sdpOf, withSdp, type SipRequest } from '../../../core/sip/index.js';
import { CW_CONTENT_TYPE_HEADER, CW_PART, CW_XML, cwMultipartBody } from '../../support/mmtel-cw.js';

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

function invite(body: string, contentType: string): SipRequest {
  return createRequest({ method: 'INVITE', uri: 'sip:bob@ims.test', headers: [
    ['Via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKmp1'], ['Max-Forwards', '70'], ['From', '<sip:a@ims.test>;tag=1'],
    ['To', '<sip:bob@ims.test>'], ['Call-ID', 'mp1'], ['CSeq', '1 INVITE'], ['Content-Type', contentType],
  ], body });
}

t.test('RFC 5621: the parts of a TS 24.615 CW body, typed, with their exact bytes', async (t) => {
  const message = invite(cwMultipartBody(SDP), CW_CONTENT_TYPE_HEADER);
  const parts = bodyParts(message);
  t.same(parts?.map((p) => p.type), ['application/sdp', 'application/vnd.3gpp.cw+xml']);
  t.equal(sdpOf(message), SDP.replace(/\r\n$/, ''), 'the SDP part (its last CRLF belongs to the delimiter, RFC 2046 §5.1.1)');
  t.same(nonSdpParts(message).map((p) => Buffer.from(p.body).toString()), [CW_XML.replace(/\r\n$/, '')], 'the CW XML part');
});

t.test('R-MMTEL-1: replacing the SDP part keeps the other parts, delimiters and Content-Type byte-exact', async (t) => {
  const message = invite(cwMultipartBody(SDP), CW_CONTENT_TYPE_HEADER);
  const rewritten = withSdp(message, 'v=0\r\no=gw 2 2 IN IP4 10.0.0.1\r\n');
  const text = Buffer.from(rewritten.body).toString();
  t.ok(text.includes(CW_PART), 'the CW part crosses byte for byte');
  t.equal(sdpOf(rewritten), 'v=0\r\no=gw 2 2 IN IP4 10.0.0.1\r\n', 'the new SDP sits in the SDP part');
  t.equal(rewritten.headers.find((h) => h.name === 'Content-Type')?.value, CW_CONTENT_TYPE_HEADER, 'Content-Type (and its boundary) unchanged');
  t.equal(text.replace(/v=0[\s\S]*?(?=\r\n--cw-boundary)/, 'SDP'), Buffer.from(message.body).toString().replace(/v=0[\s\S]*?(?=\r\n--cw-boundary)/, 'SDP'),
    'apart from the SDP, the body is the same bytes');
});

t.test('RFC 2046 §5.1.1: a quoted or bare boundary, LF line ends, a preamble; broken bodies are not multipart', async (t) => {
  const lf = `preamble\n--b1\nContent-Type: application/sdp\n\nv=0\n--b1\n\nplain text\n--b1--\n`;
  const parts = bodyParts(invite(lf, 'multipart/mixed; boundary=b1'));
  t.same(parts?.map((p) => p.type), ['application/sdp', 'text/plain'], 'a part without headers is text/plain');
  t.equal(bodyParts(invite('--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n', 'multipart/mixed;boundary=b1')), undefined, 'no close delimiter');
  t.equal(bodyParts(invite('v=0\r\n', 'application/sdp')), undefined, 'not multipart');
  t.equal(sdpOf(invite('v=0\r\n', 'application/sdp')), 'v=0\r\n', 'a plain SDP body is the SDP');
  t.equal(sdpOf(invite('--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1--\r\n', 'multipart/mixed;boundary=b1')), undefined, 'no SDP part');
});
