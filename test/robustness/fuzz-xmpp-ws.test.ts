// Issue #15 "Bad input at scale": XMPP over WebSocket (plugins/xmpp-ws, RFC 7395) and its Jingle
// entry points under a property-based fuzzer, against the running epcscf (fuzz-target.ts, with the
// dev IMS core behind it), with a fixed seed (fuzz-budget.ts; `npm run fuzz -- --minutes N` runs it
// longer with a fresh seed). Inputs: the stanzas a client sends (chat, presence, ping, disco, MWI,
// XEP-0198, Jingle session-initiate/info/terminate from the XEP examples in test/fixtures/jingle),
// mutated (attributes replaced by hostile values, children dropped or repeated, text swapped,
// frames cut short or doubled) plus raw hostile XML (DTDs, PIs, comments, CDATA, prefixes,
// foreign namespaces, deep nesting, a second <open/>).
// Properties (RFC 6120 §4.9, §8.2.3; RFC 7395 §3.3; R-XWS-3..7):
//   - a frame either leaves the stream usable (a ping sent behind it is answered: the server
//     finished with the frame), or ends it with one RFC 6120 §4.9.3 stream error, <close/> and a
//     WebSocket close; never a plugin fault (1011) and never silence;
//   - an IQ get/set the stream survived gets exactly one result or error with its id;
//   - before login, any frame gets the features, a SASL answer or a stream error;
//   - no unhandled rejection, no plugin fault, nothing logged at error level; afterwards /health
//     answers and fresh sip-ws, JSON-RPC and XMPP clients log in.
import t from 'tap';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { FUZZ_SEED, fuzzParameters, fuzzTimeoutSeconds } from './fuzz-budget.js';
import { startFuzzTarget } from './fuzz-target.js';
import { RawXmppSocket } from '../support/xmpp-clients.js';

t.setTimeout(fuzzTimeoutSeconds(150) * 1000);
const PROPERTIES = 2;

const target = await startFuzzTarget(t, { xmpp: true });
const url = `${target.wsBase}/xmpp`;
t.comment(`fuzz seed ${FUZZ_SEED} (FUZZ_SEED to change, FUZZ_RUNS / npm run fuzz -- --minutes N for longer)`);

const OPEN = '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="ims.test" version="1.0"/>';
/** RFC 6120 §4.9.3 defined stream error conditions. */
const STREAM_CONDITIONS = [
  'bad-format', 'bad-namespace-prefix', 'conflict', 'connection-timeout', 'host-gone', 'host-unknown', 'improper-addressing',
  'internal-server-error', 'invalid-from', 'invalid-namespace', 'invalid-xml', 'not-authorized', 'not-well-formed', 'policy-violation',
  'remote-connection-failed', 'reset', 'resource-constraint', 'restricted-xml', 'see-other-host', 'system-shutdown', 'undefined-condition',
  'unsupported-encoding', 'unsupported-feature', 'unsupported-stanza-type', 'unsupported-version',
];

const jingleFixture = (name: string): string => readFileSync(new URL(`../fixtures/jingle/xep/${name}`, import.meta.url), 'utf8')
  .replace(/<\?xml[^>]*\?>/, '').trim();
const JINGLE_IQS = ['xep0167-static-pt.xml', 'xep0320-session-initiate.xml', 'xep0176-ice-session-initiate.xml', 'xep0343-sctp-session-initiate.xml', 'xep0338-group-in-session-initiate.xml']
  .map(jingleFixture).filter((text) => text.startsWith('<iq'));

const TEMPLATES = [
  '<message xmlns="jabber:client" to="bob@ims.test" type="chat" id="m1"><body>hello</body></message>',
  '<message xmlns="jabber:client" to="nobody@elsewhere.example" type="chat" id="m2"><body>x</body><request xmlns="urn:xmpp:receipts"/></message>',
  '<presence xmlns="jabber:client"/>',
  '<presence xmlns="jabber:client" type="unavailable"/>',
  '<iq xmlns="jabber:client" type="get" id="q1"><ping xmlns="urn:xmpp:ping"/></iq>',
  '<iq xmlns="jabber:client" type="get" id="q2" to="ims.test"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>',
  '<iq xmlns="jabber:client" type="get" id="q3"><query xmlns="jabber:iq:roster"/></iq>',
  '<iq xmlns="jabber:client" type="get" id="q4"><mwi xmlns="urn:epcscf:mmtel:0"/></iq>',
  '<iq xmlns="jabber:client" type="set" id="q5"><unknown xmlns="urn:example:nothing"/></iq>',
  '<iq xmlns="jabber:client" type="result" id="q6"/>',
  '<enable xmlns="urn:xmpp:sm:3" resume="true"/>',
  '<r xmlns="urn:xmpp:sm:3"/>',
  '<a xmlns="urn:xmpp:sm:3" h="5"/>',
  '<iq xmlns="jabber:client" type="set" id="j1" to="bob@ims.test/x"><jingle xmlns="urn:xmpp:jingle:1" action="session-info" sid="nosuch"><hold xmlns="urn:xmpp:jingle:apps:rtp:info:1"/></jingle></iq>',
  '<iq xmlns="jabber:client" type="set" id="j2" to="bob@ims.test/x"><jingle xmlns="urn:xmpp:jingle:1" action="session-terminate" sid="nosuch"><reason><busy/></reason></jingle></iq>',
  '<iq xmlns="jabber:client" type="set" id="j3" to="bob@ims.test/x"><jingle xmlns="urn:xmpp:jingle:1" action="transport-info" sid="nosuch"><content creator="initiator" name="audio"><transport xmlns="urn:xmpp:jingle:transports:ice-udp:1"/></content></jingle></iq>',
  ...JINGLE_IQS,
];

const RAW_HOSTILE = [
  '<!DOCTYPE x [<!ENTITY a "aaaa">]><message xmlns="jabber:client">&a;</message>',
  '<?xml version="1.0"?><presence xmlns="jabber:client"/>',
  '<?pi data?><presence xmlns="jabber:client"/>',
  '<message xmlns="jabber:client"><!-- comment --><body>x</body></message>',
  '<message xmlns="jabber:client"><body><![CDATA[<iq/>]]></body></message>',
  '<x:message xmlns:x="jabber:client" to="bob@ims.test"><x:body>p</x:body></x:message>',
  '<message xmlns="jabber:server" to="bob@ims.test"/>',
  '<message to="bob@ims.test"/>',
  OPEN,
  '<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>',
  '<stream:stream xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client" to="ims.test">',
  `<message xmlns="jabber:client">${'<b>'.repeat(300)}${'</b>'.repeat(300)}</message>`,
  '<message xmlns="jabber:client" a="1" a="2"/>',
  '<message xmlns="jabber:client"><body>&unknown;</body></message>',
  '<message xmlns="jabber:client"><body>&#0;</body></message>',
  '<iq xmlns="jabber:client" type="get"/>',
  '<iq xmlns="jabber:client" type="set" id="x"><a xmlns="urn:a"/><b xmlns="urn:b"/></iq>',
  '<iq xmlns="jabber:client" type="weird" id="y"/>',
  '<message xmlns="jabber:client"/><message xmlns="jabber:client"/>',
  'just text',
  '',
  ' ',
  '<',
  '\u0000',
];

const HOSTILE_VALUES = [
  '', ' ', 'bob@ims.test', 'bob@ims.test/../../etc', 'ims.test', '@', 'a@b@c', 'x'.repeat(3000), '\u00e9\u4e2d\ud83d\ude00', '&amp;&lt;',
  'sip:bob@ims.test', 'sip:bob@ims.test\r\nVia: x', '-1', '99999999999999999999', 'session-initiate', 'session-accept', 'content-add', 'initiator',
  'responder', 'get', 'set', 'result', 'error', 'chat', 'groupchat', 'headline', 'none', 'urn:xmpp:jingle:1', 'urn:epcscf:mmtel:0',
];

type Edit =
  | { readonly kind: 'attribute'; readonly pick: number; readonly value: string }
  | { readonly kind: 'text'; readonly value: string }
  | { readonly kind: 'cut'; readonly keep: number }
  | { readonly kind: 'drop-child'; readonly pick: number }
  | { readonly kind: 'repeat-child'; readonly pick: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('attribute' as const), pick: fc.nat(), value: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...HOSTILE_VALUES) }, fc.string({ maxLength: 20 })) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('text' as const), value: fc.constantFrom('x', '', '<b/>', 'a'.repeat(2000), ']]>', '\u200b') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cut' as const), keep: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop-child' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('repeat-child' as const), pick: fc.nat() }) },
);

/** XML-escapes an attribute value, except now and then (a raw quote or angle bracket is a fuzz input too). */
function attributeText(value: string, raw: boolean): string {
  return raw ? value : value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}

function applyEdit(frame: string, e: Edit, raw: boolean): string {
  switch (e.kind) {
    case 'attribute': {
      const spots = [...frame.matchAll(/ ([a-zA-Z:-]+)="([^"]*)"/g)];
      const spot = spots[e.pick % Math.max(spots.length, 1)];
      if (spot === undefined || spot.index === undefined) return frame;
      return frame.slice(0, spot.index) + ` ${spot[1] ?? ''}="${attributeText(e.value, raw)}"` + frame.slice(spot.index + spot[0].length);
    }
    case 'text': return frame.replace(/>([^<]+)</, `>${e.value}<`);
    case 'cut': return frame.slice(0, e.keep % (frame.length + 1));
    case 'drop-child':
    case 'repeat-child': {
      const children = [...frame.matchAll(/<([a-zA-Z-]+)\b[^<>]*\/>/g)];
      const child = children[e.pick % Math.max(children.length, 1)];
      if (child === undefined || child.index === undefined) return frame;
      const replacement = e.kind === 'drop-child' ? '' : child[0] + child[0];
      return frame.slice(0, child.index) + replacement + frame.slice(child.index + child[0].length);
    }
  }
}

const stanzaFrame = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.constantFrom(...TEMPLATES), fc.array(edit, { maxLength: 4 }), fc.boolean()).map(([template, edits, raw]) => edits.reduce((f, e) => applyEdit(f, e, raw), template)) },
  { weight: 2, arbitrary: fc.constantFrom(...RAW_HOSTILE) },
  { weight: 1, arbitrary: fc.string({ maxLength: 80 }) },
);

/** One logged-in raw stream the fuzz keeps using until a frame ends it (RFC 6120 §6-7 by hand). */
async function loggedIn(): Promise<RawXmppSocket> {
  const socket = await RawXmppSocket.connect(url);
  socket.send(OPEN);
  await socket.nextFrame((f) => f.startsWith('<features'));
  socket.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">${Buffer.from('\u0000carol\u0000carolpw').toString('base64')}</auth>`);
  await socket.nextFrame((f) => f.startsWith('<success'), 10_000);
  socket.send(OPEN);
  await socket.nextFrame((f) => f.startsWith('<features') && f.includes('xmpp-bind'));
  socket.send('<iq xmlns="jabber:client" type="set" id="bind"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>fuzz</resource></bind></iq>');
  await socket.nextFrame((f) => f.includes('id="bind"'));
  return socket;
}

/** The frames the server sent from `from` on, until the marker ping's answer or the stream's end. */
async function settle(socket: RawXmppSocket, from: number, markerId: string): Promise<{ frames: string[]; ended: boolean }> {
  const marker = socket.nextFrame((f) => f.includes(`id="${markerId}"`), 8000).then(() => false);
  const ended = socket.closed.then(() => true);
  const closedFirst = await Promise.race([marker, ended]);
  return { frames: socket.frames.slice(from), ended: closedFirst };
}

/** RFC 6120 §4.9: a stream the server ended says why with one defined condition, then <close/>. */
function checkStreamEnd(frames: readonly string[], code: number, input: string): void {
  if (code === 1011) throw new Error(`plugin fault (1011) on ${JSON.stringify(input.slice(0, 200))}`);
  if (code === 1009) return; // the W2 frame ceiling refused it before any XML was read
  const error = frames.find((f) => f.startsWith('<error'));
  if (error === undefined) {
    // a <close/> from the client is answered with <close/> (RFC 7395 §3.6)
    if (frames.some((f) => f.startsWith('<close'))) return;
    throw new Error(`stream ended (${code}) with no stream error for ${JSON.stringify(input.slice(0, 200))}; frames: ${frames.join(' | ').slice(0, 400)}`);
  }
  if (!STREAM_CONDITIONS.some((c) => error.includes(`<${c} `) || error.includes(`<${c}/>`))) throw new Error(`stream error without a defined condition: ${error.slice(0, 300)}`);
}

t.test('R-XWS-3..7, RFC 6120 §4.9/§8.2.3: any stanza on a logged-in stream is handled (IQs answered once) or ends only that stream with a defined stream error', async (t) => {
  let socket = await loggedIn();
  let runs = 0;
  let survived = 0;
  let ended = 0;
  await fc.assert(fc.asyncProperty(stanzaFrame, async (frame) => {
    runs++;
    if (socket.ws.readyState !== socket.ws.OPEN) socket = await loggedIn();
    const from = socket.frames.length;
    const markerId = `marker-${runs}`;
    socket.send(frame);
    if (socket.ws.readyState === socket.ws.OPEN) socket.send(`<iq xmlns="jabber:client" type="get" id="${markerId}"><ping xmlns="urn:xmpp:ping"/></iq>`);
    const outcome = await settle(socket, from, markerId);
    if (outcome.ended) {
      ended++;
      checkStreamEnd(outcome.frames, (await socket.closed).code, frame);
      return;
    }
    survived++;
    // RFC 6120 §8.2.3: an IQ get/set the server accepted as a stanza gets exactly one answer with its id.
    const iq = /^<iq\b[^>]*\btype="(get|set)"[^>]*\bid="([^"<>&]+)"/.exec(frame) ?? /^<iq\b[^>]*\bid="([^"<>&]+)"[^>]*\btype="(get|set)"/.exec(frame);
    if (iq !== null && /^<iq\b[^>]*\bxmlns="jabber:client"/.test(frame) && !frame.includes('<!') && !frame.includes('<?')) {
      const id = iq[1] === 'get' || iq[1] === 'set' ? iq[2] : iq[1];
      const answers = outcome.frames.filter((f) => f.startsWith('<iq') && f.includes(`id="${id ?? ''}"`) && /type="(result|error)"/.test(f));
      if (answers.length > 1) throw new Error(`IQ ${id ?? ''} answered ${answers.length} times`);
    }
  }), fuzzParameters(250, PROPERTIES));
  socket.close();
  t.ok(survived > 0 && ended > 0, `${runs} frames: ${survived} left the stream usable, ${ended} ended it with a stream error`);
  await target.healthCheck(t, 'the logged-in stanza fuzz');
});

t.test('RFC 7395 §3.3-§3.4, RFC 6120 §6: any frame before login gets features, a SASL answer or a stream error, never silence or a fault', async (t) => {
  const preLogin = fc.oneof(
    fc.constantFrom(
      OPEN, '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="elsewhere.example" version="1.0"/>', '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" version="2.0" to="ims.test"/>',
      '<open to="ims.test" version="1.0"/>', '<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">AGJvYgB3cm9uZw==</auth>',
      '<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="X-NONE">=</auth>', '<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">!!!</auth>',
      '<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="OAUTHBEARER">bixhPWJvYkBpbXMudGVzdCwBYXV0aD1CZWFyZXIgeAEB</auth>',
      '<message xmlns="jabber:client" to="bob@ims.test"><body>before login</body></message>',
      '<iq xmlns="jabber:client" type="set" id="b"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>', '<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>',
    ),
    stanzaFrame,
  );
  let answered = 0;
  await fc.assert(fc.asyncProperty(fc.array(preLogin, { minLength: 1, maxLength: 3 }), async (frames) => {
    const socket = await RawXmppSocket.connect(url);
    try {
      socket.send(OPEN);
      await socket.nextFrame((f) => f.startsWith('<features'));
      for (const frame of frames) if (socket.ws.readyState === socket.ws.OPEN) socket.send(frame);
      // The server answers each frame or ends the stream; a second <open/> restarts it (features again).
      const reply = await Promise.race([
        socket.nextFrame((f) => /^<(features|success|failure|error|close|open|iq|challenge)\b/.test(f) && socket.frames.indexOf(f) > 1, 8000).then(() => 'answered' as const),
        socket.closed.then(() => 'closed' as const),
      ]).catch(() => 'silence' as const);
      if (reply === 'silence') throw new Error(`no answer and no stream end for ${JSON.stringify(frames).slice(0, 300)}`);
      answered++;
      if (reply === 'closed') checkStreamEnd(socket.frames.slice(1), (await socket.closed).code, frames.join(''));
    } finally {
      socket.close();
    }
  }), fuzzParameters(150, PROPERTIES));
  t.ok(answered > 0, `${answered} pre-login conversations answered`);
  await target.healthCheck(t, 'the pre-login fuzz');
});
