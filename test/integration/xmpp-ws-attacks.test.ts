// Issue #12 part 2, R-XWS-3/7: hostile frames end only the stream that sent them, with the RFC
// 6120 §4.9.3 condition, while another XMPP client keeps chatting through the IMS. The W2 frame
// ceiling (w2.maxFrameBytes) is raised to 8 MiB here, so what bounds a message on /xmpp is the
// plugin binding's own 1 MiB: a 4 MB stanza is refused by the core with 1009 before any XML is
// parsed, and a 200 kB one (over maxStanzaBytes, under the binding) gets policy-violation.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { DevImsCore } from '../../examples/dev-ims-core/index.js';
import { startEpcscf } from '../support/epcscf-harness.js';
import { RawXmppSocket, XmppJsUser, xml } from '../support/xmpp-clients.js';

const BILLION_LAUGHS = readFileSync(new URL('../fixtures/xmpp/xml-attacks/billion-laughs.xml', import.meta.url), 'utf8');
const OPEN = '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="ims.test" version="1.0"/>';

async function openedStream(url: string): Promise<RawXmppSocket> {
  const socket = await RawXmppSocket.connect(url);
  socket.send(OPEN);
  await socket.nextFrame((f) => f.startsWith('<features'));
  return socket;
}

/** A raw client that logs in with SASL PLAIN and binds (RFC 6120 §6-7 by hand). */
async function loggedIn(url: string, user: string, password: string): Promise<RawXmppSocket> {
  const socket = await openedStream(url);
  socket.send(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">${Buffer.from(`\u0000${user}\u0000${password}`).toString('base64')}</auth>`);
  await socket.nextFrame((f) => f.startsWith('<success'), 10_000);
  socket.send(OPEN);
  await socket.nextFrame((f) => f.startsWith('<features') && f.includes('xmpp-bind'));
  socket.send('<iq xmlns="jabber:client" type="set" id="b1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>raw</resource></bind></iq>');
  await socket.nextFrame((f) => f.includes('id="b1"'));
  return socket;
}

t.test('R-XWS-3/7: billion laughs, a 4 MB stanza (1009), a 200 kB stanza and a stanza flood each close only their own stream with the right stream error; chat goes on', async (t) => {
  const core = await DevImsCore.start({ port: 0 });
  t.teardown(() => core.close());
  const epcscf = await startEpcscf({ nextHop: core.uri, extraPlugins: [{ name: 'xmpp-ws' }], w2MaxFrameBytes: 8 * 1_048_576 });
  t.teardown(() => epcscf.close());
  const url = `${epcscf.baseUrl}/xmpp`;
  const alice = await XmppJsUser.login({ service: url, domain: 'ims.test', username: 'alice', password: 'alicepw' });
  t.teardown(() => alice.stop());
  const bob = await XmppJsUser.login({ service: url, domain: 'ims.test', username: 'bob', password: 'bobpw' });
  t.teardown(() => bob.stop());

  const chat = async (body: string): Promise<void> => {
    const mark = bob.received.length;
    await alice.send(xml('message', { type: 'chat', to: 'bob@ims.test' }, xml('body', {}, body)));
    const got = await bob.next((s) => s.is('message') && s.getChildText('body') === body, 8000, mark);
    t.equal(got.attrs['from'], 'alice@ims.test', `alice → bob still works: ${body}`);
  };
  await chat('before the attacks');

  const laughs = await openedStream(url);
  t.teardown(() => laughs.close());
  laughs.send(BILLION_LAUGHS);
  t.match(await laughs.nextFrame((f) => f.startsWith('<error')), /<restricted-xml xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/>/, 'RFC 6120 §11.1: a DTD is restricted-xml, nothing expanded');
  await laughs.nextFrame((f) => f.startsWith('<close'));
  await laughs.closed;

  const huge = await openedStream(url);
  t.teardown(() => huge.close());
  const framesBefore = huge.frames.length;
  huge.send(`<message xmlns="jabber:client" to="bob@ims.test" type="chat"><body>${'A'.repeat(4 * 1_000_000)}</body></message>`);
  t.equal((await huge.closed).code, 1009, 'a 4 MB stanza is over the binding\'s 1 MiB frame bound: 1009 Message Too Big (RFC 6455 §7.4.1), nothing parsed');
  t.equal(huge.frames.length, framesBefore, 'no XML was sent back: the core refused the frame itself');

  const big = await openedStream(url);
  t.teardown(() => big.close());
  big.send(`<message xmlns="jabber:client" to="bob@ims.test" type="chat"><body>${'A'.repeat(200_000)}</body></message>`);
  t.match(await big.nextFrame((f) => f.startsWith('<error')), /<policy-violation /, 'RFC 6120 §4.9.3.12: a stanza over maxStanzaBytes (64 KiB) is policy-violation');
  t.equal((await big.closed).code, 1008, 'the WebSocket closes with 1008 (RFC 6455 §7.4.1)');

  const flooder = await loggedIn(url, 'carol', 'carolpw');
  t.teardown(() => flooder.close());
  for (let i = 0; i < 200 && flooder.ws.readyState === flooder.ws.OPEN; i++) {
    flooder.send(`<iq xmlns="jabber:client" type="get" id="p${i}"><ping xmlns="urn:xmpp:ping"/></iq>`);
  }
  t.match(await flooder.nextFrame((f) => f.startsWith('<error')), /<policy-violation /, 'a burst beyond floodBurst ends the stream with policy-violation');
  t.equal((await flooder.closed).code, 1008);

  await chat('after the attacks');
  t.equal(bob.xmpp.jid?.toString(), 'bob@ims.test/test', 'the other streams were not touched');
});
