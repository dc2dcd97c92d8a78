/**
 * Jingle from a client must not be able to write SDP lines of its own: XML carries CR/LF as
 * character references and spaces freely, SDP separates lines with CRLF and fields with spaces.
 */
import t from 'tap';
import { jingleToSdp } from '../../../../plugins/xmpp-ws/jingle/jingle-to-sdp.js';
import { JingleMappingError } from '../../../../plugins/xmpp-ws/jingle/mapping-error.js';
import { xml } from '../../../support/jingle-fixtures.js';

const CRLF = '&#13;&#10;a=candidate:666 1 udp 1 203.0.113.66 6666 typ host';

function session(parts: { content?: string; media?: string; payload?: string; parameter?: string; transport?: string; candidate?: string; extra?: string }): string {
  return `<jingle xmlns="urn:xmpp:jingle:1" action="session-initiate" sid="s">
    <content creator="initiator" name="${parts.content ?? 'audio'}">
      <description xmlns="urn:xmpp:jingle:apps:rtp:1" media="${parts.media ?? 'audio'}">
        <payload-type id="111" name="${parts.payload ?? 'opus'}" clockrate="48000" channels="2">${parts.parameter ?? ''}</payload-type>
        ${parts.extra ?? ''}
      </description>
      <transport xmlns="urn:xmpp:jingle:transports:ice-udp:1" ufrag="${parts.transport ?? 'u1'}" pwd="p1p1p1p1p1p1p1p1p1p1p1">
        <candidate component="1" foundation="1" generation="0" id="c1" ip="${parts.candidate ?? '192.0.2.1'}" port="5000" priority="1" protocol="udp" type="host"/>
      </transport>
    </content></jingle>`;
}

t.test('a line break in any Jingle value is refused before it reaches the SDP', async (t) => {
  const attempts: [string, Parameters<typeof session>[0]][] = [
    ['content name', { content: `audio${CRLF}` }],
    ['description media', { media: `audio${CRLF}` }],
    ['payload-type name', { payload: `opus${CRLF}` }],
    ['parameter value', { parameter: `<parameter name="minptime" value="10${CRLF}"/>` }],
    ['ice ufrag', { transport: `u1${CRLF}` }],
    ['candidate ip', { candidate: `192.0.2.1${CRLF}` }],
    ['source parameter', { extra: `<source xmlns="urn:xmpp:jingle:apps:rtp:ssma:0" ssrc="1"><parameter name="cname" value="x${CRLF}"/></source>` }],
    ['rtp-hdrext uri', { extra: `<rtp-hdrext xmlns="urn:xmpp:jingle:apps:rtp:rtp-hdrext:0" id="1" uri="urn:x${CRLF}"/>` }],
    ['rtcp-fb subtype', { extra: `<rtcp-fb xmlns="urn:xmpp:jingle:apps:rtp:rtcp-fb:0" type="nack" subtype="pli${CRLF}"/>` }],
    ['crypto session-params', { extra: `<encryption><crypto crypto-suite="AES_CM_128_HMAC_SHA1_80" key-params="inline:abc" session-params="KDR=1${CRLF}" tag="1"/></encryption>` }],
  ];
  for (const [what, parts] of attempts) {
    const jingle = xml(session(parts));
    let sdp: string | undefined;
    t.throws(() => { sdp = jingleToSdp(jingle, { role: 'initiator' }); }, JingleMappingError, what);
    t.notMatch(sdp ?? '', /203\.0\.113\.66/, `${what}: no injected candidate`);
  }
});

t.test('spaces that would shift SDP fields are refused in token fields', async (t) => {
  const attempts: [string, Parameters<typeof session>[0]][] = [
    ['candidate ip with extra fields', { candidate: '192.0.2.1 9 typ relay' }],
    ['ufrag with a space', { transport: 'u1 u2' }],
    ['payload name with a slash', { payload: 'opus/8000' }],
    ['parameter value with ;', { parameter: '<parameter name="a" value="1;b=2"/>' }],
    ['parameter name with space', { parameter: '<parameter name="a b" value="1"/>' }],
  ];
  for (const [what, parts] of attempts) t.throws(() => jingleToSdp(xml(session(parts)), { role: 'initiator' }), JingleMappingError, what);
  t.match(jingleToSdp(xml(session({})), { role: 'initiator' }), /a=candidate:1 1 udp 1 192\.0\.2\.1 5000 typ host generation 0\r\n/, 'the clean session maps');
});
