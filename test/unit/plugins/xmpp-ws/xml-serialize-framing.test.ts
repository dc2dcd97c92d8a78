/**
 * plugins/xmpp-ws/xml: serializer escaping (round trip through our own parser), RFC 7395 §3.4
 * open reply, §3.5-3.6 stream error then <close/>, §3.6.1 see-other-uri, client <open/> checks.
 */
import t from 'tap';
import { EpcError } from '../../../../core/errors.js';
import { xmlElement } from '../../../../plugins/xmpp-ws/xml/element.js';
import { FrameParser } from '../../../../plugins/xmpp-ws/xml/frame-parser.js';
import { closeFrame, openFrame, streamErrorFrames } from '../../../../plugins/xmpp-ws/xml/framing.js';
import { NS } from '../../../../plugins/xmpp-ws/xml/namespaces.js';
import { checkClientOpen } from '../../../../plugins/xmpp-ws/xml/open-header.js';
import { escapeAttribute, escapeText, serializeElement } from '../../../../plugins/xmpp-ws/xml/serialize.js';
import { XmppStreamError } from '../../../../plugins/xmpp-ws/xml/stream-error.js';

const parser = new FrameParser();

t.test('serializer escapes text and attributes so the receiver reads back the same values', async (t) => {
  t.equal(escapeText('a<b>&c"\'\r'), 'a&lt;b&gt;&amp;c"\'&#13;');
  t.equal(escapeAttribute('a<b>&c"\t\n\r'), 'a&lt;b&gt;&amp;c&quot;&#9;&#10;&#13;');
  t.equal(escapeText('bell\u0007 nul\u0000 lone\uD800'), 'bell\uFFFD nul\uFFFD lone\uFFFD', 'characters XML 1.0 forbids become U+FFFD');
  const tricky = 'x"/><evil xmlns="jabber:client"/><y a="&amp;\t\n\r 🐦 <&>';
  const element = xmlElement('message', NS.client, { to: tricky, 'xml:lang': 'en', '{urn:x}flag': 'on' }, [
    xmlElement('body', NS.client, {}, [], tricky),
    xmlElement('x', 'urn:other', {}, [xmlElement('y', 'urn:other')]),
  ]);
  const text = serializeElement(element);
  t.equal(text.indexOf('<evil'), -1, 'no injected element');
  const parsed = parser.parse(text);
  t.ok(parsed.ok);
  if (!parsed.ok) return;
  t.same(parsed.frame.element, element, 'parse(serialize(e)) equals e');
  t.match(text, /^<message xmlns="jabber:client" /);
  t.match(text, /<body>/, 'children in the parent namespace carry no xmlns');
  t.match(text, /<x xmlns="urn:other"><y\/><\/x>/);
});

t.test('R-XWS-4: the server <open/> reply carries from, id, xml:lang and version', async (t) => {
  const text = openFrame({ from: 'ims.example', id: 'abc' });
  t.equal(text, '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" from="ims.example" id="abc" xml:lang="en" version="1.0"/>');
  const parsed = parser.parse(text);
  t.ok(parsed.ok && parsed.frame.kind === 'open');
});

t.test('R-XWS-7: a stream error is its own message, followed by <close/> in another', async (t) => {
  const [error, close] = streamErrorFrames('restricted-xml', 'no DTDs');
  t.equal(error, '<error xmlns="http://etherx.jabber.org/streams"><restricted-xml xmlns="urn:ietf:params:xml:ns:xmpp-streams"/>'
    + '<text xmlns="urn:ietf:params:xml:ns:xmpp-streams" xml:lang="en">no DTDs</text></error>');
  t.equal(close, '<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>');
  const parsedError = parser.parse(error);
  t.ok(parsedError.ok && parsedError.frame.element.ns === NS.stream && parsedError.frame.element.children[0]?.name === 'restricted-xml');
  const parsedClose = parser.parse(close);
  t.ok(parsedClose.ok && parsedClose.frame.kind === 'close' && parsedClose.frame.seeOtherUri === undefined);
});

t.test('R-XWS-8: <close see-other-uri/> redirects only to a WebSocket URI', async (t) => {
  t.equal(closeFrame('wss://other.example/xmpp-websocket'),
    '<close xmlns="urn:ietf:params:xml:ns:xmpp-framing" see-other-uri="wss://other.example/xmpp-websocket"/>');
  t.throws(() => closeFrame('https://other.example/'), EpcError);
  t.throws(() => closeFrame('not a uri'), EpcError);
});

t.test('RFC 6120 §4.7: the client <open/> is checked for version and served domain', async (t) => {
  const served = new Set(['example.test']);
  const open = (text: string) => {
    const parsed = parser.parse(text);
    if (!parsed.ok) throw parsed.error;
    return checkClientOpen(parsed.frame.element, served);
  };
  t.same(open('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="Example.TEST" version="1.0" xml:lang="pl"/>'), { to: 'example.test', lang: 'pl' });
  const badVersion = open('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="example.test" version="0.9"/>');
  t.ok(badVersion instanceof XmppStreamError && badVersion.condition === 'unsupported-version');
  const unknown = open('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="elsewhere.test" version="1.0"/>');
  t.ok(unknown instanceof XmppStreamError && unknown.condition === 'host-unknown');
  const noTo = open('<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" version="1.0"/>');
  t.ok(noTo instanceof XmppStreamError && noTo.condition === 'host-unknown');
});
