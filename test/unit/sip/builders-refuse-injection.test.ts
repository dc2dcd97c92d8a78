// Issue #11 defects 1 and 3, defence in depth: every SIP builder refuses (SipBuildError,
// EPC_ERR_SIP_BUILD) or escapes what the RFC 3261 §25.1 grammar forbids, so no caller can start
// a header line of its own (header injection), add a parameter, or put URI headers in a
// Request-URI. Each forbidden character is tried in each builder.
import t, { type Test } from 'tap';
import {
  addHeader, createRequest, createResponse, formatAuth, formatDigestCredentials, formatNameAddr, getHeader, getHeaders,
  parseAuthValue, parseMessage, parseNameAddr, parseUri, quote, serializeMessage, setHeader, SipBuildError, withBody,
  withHeaders, withUri, type SipMessage, type SipRequest,
} from '../../../core/sip/index.js';
import { checkMediaType, isMediaType } from '../../../core/sip/grammar/media-type.js';
import { formatHeaderParams } from '../../../core/sip/grammar/params.js';

const FORBIDDEN = [['CR', '\r'], ['LF', '\n'], ['CRLF', '\r\n'], ['NUL', '\0']] as const;
const LINE_BREAKS = FORBIDDEN.filter(([name]) => name !== 'NUL');

function base(): SipRequest {
  return createRequest({ method: 'MESSAGE', uri: 'sip:bob@ims.test', headers: [
    ['Via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKabc'], ['Max-Forwards', '70'], ['From', '<sip:alice@ims.test>;tag=1'],
    ['To', '<sip:bob@ims.test>'], ['Call-ID', 'c1'], ['CSeq', '1 MESSAGE'],
  ] });
}

/** What a peer parses from our bytes: the message as it is on the wire. */
const onWire = (m: SipMessage): SipMessage => parseMessage(serializeMessage(m), { datagram: true });

function refuses(t: Test, build: () => unknown, what: string): void {
  let thrown: unknown;
  try {
    build();
  } catch (error) {
    thrown = error;
  }
  t.ok(thrown instanceof SipBuildError && thrown.code === 'EPC_ERR_SIP_BUILD', `${what}: refused with SipBuildError`, { thrown: String(thrown) });
}

t.test('RFC 3261 §25.1: setHeader, addHeader, createRequest, withHeaders and createResponse refuse CR, LF and NUL in a header value', async (t) => {
  for (const [name, ch] of FORBIDDEN) {
    const value = `text/plain${ch}P-Asserted-Identity: <sip:boss@ims.test>`;
    refuses(t, () => setHeader(base(), 'Content-Type', value), `setHeader ${name}`);
    refuses(t, () => setHeader(base(), 'X-A', ['ok', value]), `setHeader (list) ${name}`);
    refuses(t, () => addHeader(base(), 'X-A', value), `addHeader ${name}`);
    refuses(t, () => addHeader(base(), 'Via', value, { first: true }), `addHeader first ${name}`);
    refuses(t, () => createRequest({ method: 'MESSAGE', uri: 'sip:bob@ims.test', headers: [['Subject', value]] }), `createRequest tuple ${name}`);
    refuses(t, () => createRequest({ method: 'MESSAGE', uri: 'sip:bob@ims.test', headers: [{ name: 'Subject', value }] }), `createRequest header object ${name}`);
    refuses(t, () => withHeaders(base(), [['Subject', value]]), `withHeaders ${name}`);
    refuses(t, () => createResponse(base(), 200, 'OK', { headers: [['Subject', value]] }), `createResponse header ${name}`);
    refuses(t, () => createResponse(base(), 486, `Busy${ch}X-Evil: 1`), `createResponse reason phrase ${name}`);
  }
  // A NUL escaped as a quoted-pair is legal (RFC 4475 §3.1.1.2) and kept.
  t.equal(getHeader(setHeader(base(), 'Subject', '"a\\\0b"'), 'Subject'), '"a\\\0b"', 'a quoted-pair NUL is accepted');
  t.equal(getHeader(setHeader(base(), 'Subject', 'plain\ttab'), 'Subject'), 'plain\ttab', 'HTAB is LWS and stays');
});

t.test('RFC 3261 §25.1: a header name must be a token; a method must be a token', async (t) => {
  for (const name of ['X-Evil: 1', 'X\r\nEvil', 'X Evil', '', 'X:']) {
    refuses(t, () => setHeader(base(), name, 'v'), `setHeader ${JSON.stringify(name)}`);
    refuses(t, () => addHeader(base(), name, 'v'), `addHeader ${JSON.stringify(name)}`);
    refuses(t, () => createRequest({ method: 'MESSAGE', uri: 'sip:bob@ims.test', headers: [[name, 'v']] }), `createRequest ${JSON.stringify(name)}`);
  }
  refuses(t, () => createRequest({ method: 'MESSAGE sip:x SIP/2.0\r\nX', uri: 'sip:bob@ims.test' }), 'method with CRLF');
});

t.test('RFC 3261 §19.1.1: URI headers never reach a Request-URI (createRequest, withUri)', async (t) => {
  refuses(t, () => createRequest({ method: 'MESSAGE', uri: 'sip:bob@ims.test?X-Evil=1' }), 'createRequest from text');
  refuses(t, () => createRequest({ method: 'MESSAGE', uri: parseUri('sip:bob@ims.test?X-Evil=1') }), 'createRequest from a parsed URI');
  refuses(t, () => withUri(base(), 'sip:bob@ims.test?Route=%3Csip:evil%3E'), 'withUri');
  t.equal(withUri(base(), 'sip:carol@ims.test;user=phone').uri.kind, 'sip', 'a URI without headers is fine');
});

t.test('RFC 3261 §25.1 quoted-string: quote() escapes " and \\ as quoted-pairs and refuses CR/LF', async (t) => {
  t.equal(quote('plain'), '"plain"');
  t.equal(quote('Al"ice \\ x'), '"Al\\"ice \\\\ x"');
  t.equal(quote('nul\0bel\x07del\x7f'), '"nul\\\0bel\\\x07del\\\x7f"', 'controls qdtext lacks travel as quoted-pairs');
  for (const [name, ch] of LINE_BREAKS) refuses(t, () => quote(`a${ch}b`), `quote ${name}`);
});

t.test('RFC 3261 §20.10 / §25.1: display names are quoted and escaped; CR/LF refused; the name reads back exactly', async (t) => {
  const uri = parseUri('sip:alice@ims.test');
  for (const displayName of ['Al"ice', 'back\\slash\\', '"', 'x", <sip:boss@ims.test>;tag=1, "y', 'Bell, Alexander', 'nul\0']) {
    const value = formatNameAddr({ displayName, uri, params: [{ name: 'tag', value: 't1' }] });
    const wire = onWire(setHeader(base(), 'From', value));
    t.equal(getHeaders(wire, 'From').length, 1, `${JSON.stringify(displayName)}: one From`);
    const parsed = parseNameAddr(getHeader(wire, 'From') ?? '');
    t.equal(parsed.displayName, displayName, `${JSON.stringify(displayName)} reads back`);
    t.equal(parsed.params.length, 1, 'no extra header parameter');
  }
  for (const [name, ch] of LINE_BREAKS) {
    refuses(t, () => formatNameAddr({ displayName: `Alice${ch}X-Evil: 1`, uri, params: [] }), `display name ${name}`);
  }
});

t.test('RFC 3261 §25.1 generic-param: header parameters cannot smuggle another parameter or a line', async (t) => {
  t.equal(formatHeaderParams([{ name: 'p', value: '"x", evil="y"' }]), ';p="\\"x\\", evil=\\"y\\""', 'a value that is not one quoted-string is quoted');
  t.equal(formatHeaderParams([{ name: '+sip.instance', value: '"<urn:uuid:1>"' }]), ';+sip.instance="<urn:uuid:1>"', 'one quoted-string is kept as written');
  refuses(t, () => formatHeaderParams([{ name: 'p', value: 'a\r\nX-Evil: 1' }]), 'CRLF in a value');
  refuses(t, () => formatHeaderParams([{ name: 'p;evil', value: null }]), 'a name that is not a token');
});

t.test('RFC 7616 §3.4 / RFC 3261 §25.1: digest credentials escape quotes in the username and refuse CR/LF; names and scheme are tokens', async (t) => {
  const credentials = (username: string) => formatDigestCredentials({ scheme: 'Digest', params: {
    username, realm: 'ims.test', nonce: 'n', uri: 'sip:ims.test', response: '0123', algorithm: 'MD5', qop: 'auth', nc: '00000001', cnonce: 'c',
  } });
  for (const username of ['alice", nc=00000099, x="', 'a\\', '"']) {
    const value = credentials(username);
    const parsed = parseAuthValue(value);
    t.equal(parsed.params['username'], username, `${JSON.stringify(username)} reads back`);
    t.same(Object.keys(parsed.params).sort(), ['algorithm', 'cnonce', 'nc', 'nonce', 'qop', 'realm', 'response', 'uri', 'username'], 'no extra parameter');
  }
  for (const [name, ch] of LINE_BREAKS) refuses(t, () => credentials(`alice${ch}X-Evil: 1`), `username ${name}`);
  refuses(t, () => formatAuth({ scheme: 'Digest', params: { 'user name': 'a' } }), 'a parameter name that is not a token');
  refuses(t, () => formatAuth({ scheme: 'Digest x', params: { a: 'b' } }), 'a scheme that is not a token');
  refuses(t, () => formatAuth({ scheme: 'Bearer', params: {}, token: 'abc\r\nX-Evil: 1' }), 'a Bearer token that is not a token68');
  t.equal(formatAuth({ scheme: 'Bearer', params: {}, token: 'eyJ.abc-_~+/=' }), 'Bearer eyJ.abc-_~+/=');
});

t.test('RFC 3261 §20.15 / RFC 2045 §5.1: Content-Type is a media type (type/subtype *(;param=token|quoted-string)), else refused', async (t) => {
  for (const good of ['text/plain', 'text/plain;charset=UTF-8', 'text/plain; charset="utf-8"', 'application/vnd.3gpp.sms', 'message/sipfrag;version=2.0', 'application/im-iscomposing+xml', 'multipart/mixed;boundary="a b;c"']) {
    t.ok(isMediaType(good), good);
  }
  for (const bad of [
    'text/plain\r\nP-Asserted-Identity: <sip:boss@ims.test>\r\n\r\n', 'text/plain\nX: y', 'text/plain\0', 'text', 'text/', '/plain',
    'te xt/plain', 'text/plain;', 'text/plain;charset', 'text/plain;charset="open', 'text/plain, text/html', 'text/plain;a=b c', 'text/<plain>',
  ]) {
    t.notOk(isMediaType(bad), JSON.stringify(bad));
    refuses(t, () => checkMediaType(bad), `checkMediaType ${JSON.stringify(bad)}`);
  }
  const probe = 'text/plain\r\nP-Asserted-Identity: <sip:boss@ims.test>\r\n\r\n';
  refuses(t, () => withBody(base(), 'hi', probe), 'withBody');
  refuses(t, () => createResponse(base(), 200, 'OK', { body: 'x', contentType: probe }), 'createResponse contentType');
  refuses(t, () => withBody(base(), 'hi', 'not a media type'), 'withBody: a value that is no media type');
  t.equal(getHeader(withBody(base(), 'hi', 'text/plain;charset=UTF-8'), 'Content-Type'), 'text/plain;charset=UTF-8');
});
