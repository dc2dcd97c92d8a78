/**
 * plugins/xmpp-ws/xml: RFC 7395 §3.3.3 one-element-per-message parsing, RFC 6120 §11.1
 * restricted XML, bounds, and the stream-error/close builders. Fixtures: test/fixtures/xmpp
 * (see its index.tsv files and test/fixtures/README.md).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { childOf } from '../../../../plugins/xmpp-ws/xml/element.js';
import { FrameParser, type FrameParseResult } from '../../../../plugins/xmpp-ws/xml/frame-parser.js';
import type { StreamErrorCondition } from '../../../../plugins/xmpp-ws/xml/stream-error.js';
import { decodeUtf8Strict } from '../../../../plugins/xmpp-ws/xml/utf8.js';
import { XmppStreamError } from '../../../../plugins/xmpp-ws/xml/stream-error.js';
import { NS } from '../../../../plugins/xmpp-ws/xml/namespaces.js';

const FIXTURES = join(import.meta.dirname, '../../../fixtures/xmpp');
const frame = (dir: string, file: string): string => readFileSync(join(FIXTURES, dir, file), 'utf8');

function conditionOf(result: FrameParseResult): StreamErrorCondition | 'ok' {
  return result.ok ? 'ok' : result.error.condition;
}

/** Parses with a time bound: every refusal must be quick, whatever the input. */
function timedParse(parser: FrameParser, message: string, budgetMs = 1000): FrameParseResult {
  const started = performance.now();
  const result = parser.parse(message);
  const took = performance.now() - started;
  if (took > budgetMs) throw new Error(`parse took ${took.toFixed(0)} ms (budget ${budgetMs})`);
  return result;
}

t.test('R-XWS-3/R-XWS-4: every RFC 7395 frame fixture is classified as RFC 7395 says', async (t) => {
  const parser = new FrameParser();
  const expected: Record<string, string> = {
    'smack-client-open.xml': 'open',
    'smack-server-open.xml': 'open',
    'smack-server-open-expanded.xml': 'open',
    'babbler-client-open-expanded.xml': 'open',
    'suite-client-open.xml': 'open',
    'suite-server-open.xml': 'open',
    'suite-server-open-bad-version.xml': 'open', // parses; checkClientOpen refuses the version
    'smack-close.xml': 'close',
    'babbler-close-see-other-uri.xml': 'close',
    'suite-close-see-other-uri-untrusted.xml': 'close',
    'suite-expected-invalid-namespace-error.xml': 'element',
    'suite-features-bind.xml': 'element',
    'suite-features-starttls-required-plain.xml': 'element',
    'suite-message-lang-pl.xml': 'element',
    'suite-message-utf8-escaped.xml': 'element',
    'suite-ping-result.xml': 'element',
    'suite-sasl-success.xml': 'element',
    'suite-stream-error-host-unknown.xml': 'element',
    'suite-stream-error-policy-violation.xml': 'element',
    // §3.3.2: no <stream:stream> over WebSocket; the unclosed legacy header is not a document.
    'smack-legacy-stream-header.xml': 'not-well-formed',
    // §3.3.2 / R-XWS-4: <close/> in another namespace.
    'suite-close-wrong-namespace.xml': 'invalid-namespace',
    // §6 local limits: 64 levels against the default 32.
    'suite-deep-nesting-64.xml': 'policy-violation',
  };
  const files = readFileSync(join(FIXTURES, 'rfc7395-frames/index.tsv'), 'utf8');
  t.ok(files.length > 0);
  for (const [file, outcome] of Object.entries(expected)) {
    const result = timedParse(parser, frame('rfc7395-frames', file));
    t.equal(result.ok ? result.frame.kind : result.error.condition, outcome, file);
  }
});

t.test('R-XWS-3: parsed frames keep names, namespaces, attributes and text', async (t) => {
  const parser = new FrameParser();
  const open = parser.parse(frame('rfc7395-frames', 'babbler-client-open-expanded.xml'));
  t.ok(open.ok);
  if (!open.ok) return;
  t.equal(open.frame.element.ns, NS.framing);
  t.same(open.frame.element.attrs, { version: '1.0', to: 'test', 'xml:lang': 'en' });
  t.ok(Object.isFrozen(open.frame.element) && Object.isFrozen(open.frame.element.attrs), 'the tree is immutable');

  const close = parser.parse(frame('rfc7395-frames', 'babbler-close-see-other-uri.xml'));
  t.ok(close.ok && close.frame.kind === 'close' && close.frame.seeOtherUri === 'wss://otherendpoint.example/xmpp-bind');

  const message = parser.parse(frame('rfc7395-frames', 'suite-message-utf8-escaped.xml'));
  t.ok(message.ok);
  if (!message.ok) return;
  t.equal(childOf(message.frame.element, 'body', NS.client)?.text, 'Zażółć 🐦 & < >');

  const features = parser.parse(frame('rfc7395-frames', 'suite-features-starttls-required-plain.xml'));
  t.ok(features.ok);
  if (!features.ok) return;
  t.equal(features.frame.element.ns, NS.stream);
  t.equal(childOf(features.frame.element, 'starttls', 'urn:ietf:params:xml:ns:xmpp-tls')?.children[0]?.ns, 'urn:ietf:params:xml:ns:xmpp-tls',
    'a child without xmlns inherits its parent\'s default namespace');
});

t.test('R-XWS-3: xml:lang does not leak from one message into the next (each message is its own document)', async (t) => {
  const parser = new FrameParser();
  t.ok(parser.parse(frame('rfc7395-frames', 'suite-message-lang-pl.xml')).ok);
  const next = parser.parse(frame('rfc7395-frames', 'suite-ping-result.xml'));
  t.ok(next.ok && next.frame.element.attrs['xml:lang'] === undefined);
});

t.test('R-XWS-3: one parser per connection: a failed message leaves nothing behind for the next one', async (t) => {
  const parser = new FrameParser();
  const good = frame('rfc7395-frames', 'suite-message-utf8-escaped.xml');
  const first = parser.parse(good);
  for (const bad of ['<message xmlns="jabber:client"><body>half', '<!DOCTYPE x [<!ENTITY a "b">]><x/>', `<m xmlns="jabber:client">${'<a>'.repeat(40)}`, '<a xmlns:p="urn:p"><p:b/>']) {
    t.notOk(parser.parse(bad).ok, JSON.stringify(bad.slice(0, 30)));
    t.same(parser.parse(good), first, 'the next message parses as if it were the first');
  }
  t.equal(conditionOf(parser.parse('<a xmlns="urn:x" xmlns:p="urn:p"><p:b/></a>')), 'ok');
  t.equal(conditionOf(parser.parse('<p:b/>')), 'not-well-formed', 'a prefix bound in an earlier (successful) message is not bound now');
});

t.test('RFC 6120 §11.1: every attack fixture yields the right stream error quickly, nothing expanded or fetched', async (t) => {
  const parser = new FrameParser();
  const expected: Record<string, StreamErrorCondition | 'ok'> = {
    'billion-laughs.xml': 'restricted-xml',
    'defusedxml-xmlbomb.xml': 'restricted-xml',
    'defusedxml-xmlbomb2.xml': 'restricted-xml',
    'defusedxml-cyclic.xml': 'restricted-xml',
    'defusedxml-external.xml': 'restricted-xml',
    'defusedxml-external_file.xml': 'restricted-xml',
    'defusedxml-dtd.xml': 'restricted-xml',
    'defusedxml-dtd_element.xml': 'restricted-xml',
    // ~100 KB: refused on size before parsing with the default 64 KiB bound ...
    'defusedxml-quadratic.xml': 'policy-violation',
    // "benign controls" for a generic XML parser, but they carry a comment / PI: restricted in XMPP.
    'defusedxml-simple.xml': 'restricted-xml',
    'defusedxml-simple-ns.xml': 'restricted-xml',
    'xmpp-framed-derived/01-doctype-entity-in-open.xml': 'restricted-xml',
    'xmpp-framed-derived/02-billion-laughs-in-message-frame.xml': 'restricted-xml',
    'xmpp-framed-derived/03-xxe-file-in-iq.xml': 'restricted-xml',
    'xmpp-framed-derived/04-xxe-http-in-jingle.xml': 'restricted-xml',
    'xmpp-framed-derived/05-parameter-entity-external-dtd.xml': 'restricted-xml',
    // RFC 6120 §4.9.3.18: an entity reference other than the predefined five is restricted XML.
    'xmpp-framed-derived/06-undeclared-entity-ref.xml': 'restricted-xml',
    'xmpp-framed-derived/07-comment-in-stanza.xml': 'restricted-xml',
    'xmpp-framed-derived/08-processing-instruction.xml': 'restricted-xml',
    'xmpp-framed-derived/09-predefined-and-char-refs-ok.xml': 'ok',
    'xmpp-framed-derived/10-two-roots-in-one-frame.xml': 'not-well-formed',
    'xmpp-framed-derived/11-unclosed-element.xml': 'not-well-formed',
    'xmpp-framed-derived/12-undeclared-prefix.xml': 'not-well-formed',
    // RFC 6120 §11.5 permits an XML declaration (UTF-8).
    'xmpp-framed-derived/13-xml-declaration-prefix.xml': 'ok',
    'xmpp-framed-derived/15-nul-char-ref.xml': 'not-well-formed',
  };
  for (const [file, condition] of Object.entries(expected)) {
    t.equal(conditionOf(timedParse(parser, frame('xml-attacks', file))), condition, file);
  }
  // ... and still restricted-xml (never expanded) when the size bound would let it through.
  const roomy = new FrameParser({ maxBytes: 1 << 20 });
  const heapBefore = process.memoryUsage().heapUsed;
  for (let i = 0; i < 20; i++) t.equal(conditionOf(roomy.parse(frame('xml-attacks', 'billion-laughs.xml'))), 'restricted-xml');
  // Expanded, billion laughs is ~3 GB; unexpanded, twenty parses cost well under 32 MB.
  t.ok(process.memoryUsage().heapUsed - heapBefore < 32 * 1024 * 1024, 'no memory blow-up');
  t.equal(conditionOf(timedParse(roomy, frame('xml-attacks', 'defusedxml-quadratic.xml'))), 'restricted-xml', 'quadratic blowup under a 1 MiB bound');

  const ok = parser.parse(frame('xml-attacks', 'xmpp-framed-derived/09-predefined-and-char-refs-ok.xml'));
  t.ok(ok.ok && ok.frame.element.children[0]?.text === '<>&"\' 🐦 A', 'predefined entities and character references are decoded');
});

t.test('R-XWS-2: invalid UTF-8 is unsupported-encoding (RFC 6120 §4.9.3.22), never replaced silently', async (t) => {
  const bytes = readFileSync(join(FIXTURES, 'xml-attacks/xmpp-framed-derived/14-invalid-utf8.xml'));
  const decoded = decodeUtf8Strict(bytes);
  t.ok(decoded instanceof XmppStreamError && decoded.condition === 'unsupported-encoding');
  t.equal(decodeUtf8Strict(Buffer.from('<message xmlns="jabber:client"><body>🐦</body></message>')), '<message xmlns="jabber:client"><body>🐦</body></message>');
  const parser = new FrameParser();
  t.equal(conditionOf(parser.parse('<?xml version="1.0" encoding="ISO-8859-1"?><message xmlns="jabber:client"/>')), 'unsupported-encoding',
    'RFC 6120 §11.6: an encoding other than UTF-8 is refused');
});

t.test('RFC 6120 §4.9.3.12: size, depth, attribute and child bounds give policy-violation quickly', async (t) => {
  const parser = new FrameParser();
  // The 1 MiB oversize frame of the RFC 7395 suite (regenerated: same bytes, see fixtures README) and a 4 MB one.
  const oneMiB = `<message xmlns="jabber:client">${'x'.repeat(1 << 20)}</message>`;
  t.equal(Buffer.byteLength(oneMiB), 1048617);
  t.equal(conditionOf(timedParse(parser, oneMiB, 50)), 'policy-violation', 'suite-oversize-message-1MiB');
  t.equal(conditionOf(timedParse(parser, `<message xmlns="jabber:client"><body>${'é'.repeat(2_000_000)}</body></message>`, 200)), 'policy-violation', '4 MB stanza');
  // 40,000 UTF-16 units but more than 64 KiB of UTF-8: the byte count decides.
  t.equal(conditionOf(parser.parse(`<message xmlns="jabber:client"><body>${'€'.repeat(40_000)}</body></message>`)), 'policy-violation', 'bytes, not characters');
  t.equal(conditionOf(parser.parse(`<message xmlns="jabber:client"><body>${'x'.repeat(60_000)}</body></message>`)), 'ok', 'below the bound parses');

  const deep = `<message xmlns="jabber:client">${'<a>'.repeat(20_000)}${'</a>'.repeat(20_000)}</message>`;
  t.equal(conditionOf(timedParse(new FrameParser({ maxBytes: 1 << 20 }), deep, 200)), 'policy-violation', '20,000-deep nesting');
  t.equal(conditionOf(parser.parse(`<m xmlns="jabber:client">${'<a>'.repeat(31)}${'</a>'.repeat(31)}</m>`)), 'ok', 'depth 32 is allowed');
  t.equal(conditionOf(parser.parse(`<m xmlns="jabber:client">${'<a>'.repeat(32)}${'</a>'.repeat(32)}</m>`)), 'policy-violation', 'depth 33 is not');

  const attrs = (n: number): string => `<m xmlns="jabber:client" ${Array.from({ length: n }, (_, i) => `a${i}="v"`).join(' ')}/>`;
  t.equal(conditionOf(parser.parse(attrs(63))), 'ok', '63 attributes + xmlns = 64');
  t.equal(conditionOf(parser.parse(attrs(64))), 'policy-violation', '65 attributes');

  const children = (n: number): string => `<m xmlns="jabber:client">${'<c/>'.repeat(n)}</m>`;
  t.equal(conditionOf(parser.parse(children(256))), 'ok');
  t.equal(conditionOf(parser.parse(children(257))), 'policy-violation', 'too many children');
});

t.test('RFC 7395 §3.3.3: malformed and framing-violating messages', async (t) => {
  const parser = new FrameParser();
  const cases: [string, StreamErrorCondition][] = [
    ['', 'not-well-formed'],
    ['   ', 'not-well-formed'],
    ['hello', 'not-well-formed'],
    ['<message xmlns="jabber:client"/>trailing', 'not-well-formed'],
    ['<message xmlns="jabber:client" to="a" to="b"/>', 'not-well-formed'],
    ['<message xmlns="jabber:client"><body>&#xD800;</body></message>', 'not-well-formed'],
    ['<message xmlns="jabber:client" to="&ext;"/>', 'restricted-xml'],
    ['<message/>', 'invalid-namespace'],
    ['<open xmlns="jabber:client" to="example.com" version="1.0"/>', 'invalid-namespace'],
    ['<stream:stream xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client"/>', 'invalid-namespace'],
  ];
  for (const [message, condition] of cases) t.equal(conditionOf(parser.parse(message)), condition, JSON.stringify(message));
  t.equal(conditionOf(parser.parse('<message xmlns="jabber:client"><body><![CDATA[a<b]]></body></message>')), 'ok', 'CDATA is not restricted');
});
