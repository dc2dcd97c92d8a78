import { readFileSync } from 'node:fs';

/** A browser INVITE as JsSIP sends it over WebSocket, with a real Chrome audio+video offer (~3 KB). */
export function browserInvite(): Buffer {
  const sdp = readFileSync(new URL('../../test/fixtures/sdp/chrome-video.sdp', import.meta.url), 'utf8');
  const head = [
    'INVITE sip:bob@ims.test SIP/2.0',
    'Via: SIP/2.0/WSS 2q5lfh1rp5ck.invalid;branch=z9hG4bK4513957',
    'Max-Forwards: 69',
    'To: <sip:bob@ims.test>',
    'From: "Alice" <sip:alice@ims.test>;tag=dtrjdpsvce',
    'Call-ID: 9t1bq0nne1f4ffdcrbqu',
    'CSeq: 5817 INVITE',
    'Contact: <sip:rl2s8svc@2q5lfh1rp5ck.invalid;transport=ws;ob>',
    'Content-Type: application/sdp',
    'Session-Expires: 90',
    'Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY',
    'Supported: timer,ice,replaces,outbound',
    'User-Agent: JsSIP 3.13.8',
    'Route: <sip:127.0.0.1:8080;transport=ws;lr>',
    `Content-Length: ${Buffer.byteLength(sdp)}`,
  ].join('\r\n');
  return Buffer.from(head + '\r\n\r\n' + sdp);
}

/** An IMS REGISTER with digest credentials as a WIC sends it (RFC 5626 outbound, GRUU). */
export function register(): Buffer {
  return Buffer.from([
    'REGISTER sip:ims.test SIP/2.0',
    'Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7',
    'Max-Forwards: 70',
    'To: <sip:alice@ims.test>',
    'From: <sip:alice@ims.test>;tag=a73kszlfl',
    'Call-ID: 1j9FpLxk3uxtm8tn@df7jal23ls0d.invalid',
    'CSeq: 2 REGISTER',
    'Authorization: Digest username="alice@ims.test", realm="ims.test", nonce="ZHQ0cmFuZG9tbm9uY2U=", uri="sip:ims.test", response="6629fae49393a05397450978507c4ef1", algorithm=MD5, qop=auth, nc=00000001, cnonce="0a4f113b"',
    'Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws>;+sip.ice;reg-id=1;+sip.instance="<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>";expires=600',
    'Expires: 600',
    'Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY',
    'Supported: path,gruu,outbound',
    'User-Agent: JsSIP 3.13.8',
    'Content-Length: 0',
    '', '',
  ].join('\r\n'));
}
