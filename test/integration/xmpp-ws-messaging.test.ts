// Issue #12 part 2, RFC 7572 one-to-one chat through epcscf into the embedded dev IMS core:
// an XMPP user (@xmpp/client, and a stanza.js user), a JSON-RPC user and a JsSIP user exchange messages both
// ways as SIP MESSAGE; XEP-0184 receipts come from the SIP 2xx; XEP-0085 chat states travel as
// RFC 3994 isComposing; a SIP failure comes back as an error message (RFC 7247 §6).
import t, { type Test } from 'tap';
import * as Stanza from 'stanza';
import { bodyText, getHeader } from '../../core/sip/index.js';
import { DevImsCore } from '../../examples/dev-ims-core/index.js';
import { startEpcscf, type EpcscfUnderTest } from '../support/epcscf-harness.js';
import { RpcWsClient } from '../support/jsonrpc-client.js';
import { JsSipUser, withDeadline } from '../support/wic/jssip-user.js';
import { XmppJsUser, installWebSocketGlobal, xml } from '../support/xmpp-clients.js';

interface Rig { epcscf: EpcscfUnderTest; alice: XmppJsUser; bob: RpcWsClient }

async function setUp(t: Test): Promise<Rig> {
  const core = await DevImsCore.start({ port: 0 });
  t.teardown(() => core.close());
  const epcscf = await startEpcscf({ nextHop: core.uri, extraPlugins: [{ name: 'xmpp-ws' }, { name: 'jsonrpc-ws' }] });
  t.teardown(() => epcscf.close());
  const alice = await XmppJsUser.login({ service: `${epcscf.baseUrl}/xmpp`, domain: 'ims.test', username: 'alice', password: 'alicepw' });
  t.teardown(() => alice.stop());
  const bob = await RpcWsClient.connect(`${epcscf.baseUrl}/jsonrpc`);
  t.teardown(() => bob.close());
  const registered = await bob.request('session.register', { impu: 'sip:bob@ims.test', password: 'bobpw' });
  if (registered['state'] !== 'registered') throw new Error(`bob did not register: ${JSON.stringify(registered)}`);
  return { epcscf, alice, bob };
}

t.test('RFC 7572: XMPP chat → SIP MESSAGE text/plain to the JSON-RPC user; XEP-0184 receipt from the 2xx; and back', async (t) => {
  const { epcscf, alice, bob } = await setUp(t);
  const mark = alice.received.length;
  await alice.send(xml('message', { type: 'chat', to: 'bob@ims.test', id: 'm1' }, xml('body', {}, 'hello bob'), xml('request', { xmlns: 'urn:xmpp:receipts' })));
  const got = await bob.notification('message.received', (p) => p['body'] === 'hello bob');
  t.match(JSON.stringify(got['from']), /alice@ims\.test/, 'bob sees alice as the sender');
  t.match(String(got['contentType']), /^text\/plain/, 'RFC 7572 §4: text/plain');
  const message = epcscf.capture.requests('mw', 'out', 'MESSAGE')[0];
  t.match(message && getHeader(message, 'P-Asserted-Identity'), /sip:alice@ims\.test/, 'R-ORIG-2: the P-CSCF asserted alice toward the IMS');
  t.equal(message && bodyText(message), 'hello bob');
  const receipt = await alice.next((s) => s.is('message') && s.getChild('received', 'urn:xmpp:receipts') !== undefined, 5000, mark);
  t.equal(receipt.getChild('received', 'urn:xmpp:receipts')?.attrs['id'], 'm1', 'XEP-0184: the receipt names the message');
  t.equal(receipt.attrs['from'], 'bob@ims.test');

  const before = alice.received.length;
  await bob.request('message.send', { to: 'sip:alice@ims.test', body: 'hello alice' });
  const incoming = await alice.next((s) => s.is('message') && s.getChildText('body') === 'hello alice', 5000, before);
  t.equal(incoming.attrs['type'], 'chat');
  t.equal(incoming.attrs['from'], 'bob@ims.test', 'RFC 7247 §5: sip:bob@ims.test is bob@ims.test');
  t.equal(incoming.attrs['to'], 'alice@ims.test/test', 'delivered to the bound resource');
});

t.test('XEP-0085 ⇄ RFC 3994: composing becomes an isComposing MESSAGE and back', async (t) => {
  const { alice, bob } = await setUp(t);
  await alice.send(xml('message', { type: 'chat', to: 'bob@ims.test' }, xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' })));
  const composing = await bob.notification('message.received', (p) => String(p['contentType']).startsWith('application/im-iscomposing+xml'));
  t.match(String(composing['body']), /<state>active<\/state>/, 'RFC 3994 §3: composing is state active');
  const mark = alice.received.length;
  await bob.request('message.send', {
    to: 'sip:alice@ims.test', contentType: 'application/im-iscomposing+xml',
    body: '<?xml version="1.0" encoding="UTF-8"?><isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>active</state></isComposing>',
  });
  const state = await alice.next((s) => s.is('message') && s.getChild('composing', 'http://jabber.org/protocol/chatstates') !== undefined, 5000, mark);
  t.equal(state.attrs['from'], 'bob@ims.test');
  t.equal(state.getChild('body'), undefined, 'a standalone chat state has no body');
});

t.test('RFC 7247 §6: a message to a user the IMS cannot reach comes back as a type=error message with the mapped condition', async (t) => {
  const { alice } = await setUp(t);
  const mark = alice.received.length;
  // carol exists in the dev IMS core but is not registered: 480 → recipient-unavailable.
  await alice.send(xml('message', { type: 'chat', to: 'carol@ims.test', id: 'm2' }, xml('body', {}, 'anyone?')));
  const error = await alice.next((s) => s.is('message') && s.attrs['type'] === 'error', 8000, mark);
  t.equal(error.attrs['id'], 'm2', 'RFC 6120 §8.3.1: the error echoes the id');
  t.equal(error.attrs['from'], 'carol@ims.test');
  const condition = error.getChild('error')?.children.find((c) => typeof c !== 'string' && c.attrs['xmlns'] === 'urn:ietf:params:xml:ns:xmpp-stanzas');
  t.equal(typeof condition === 'string' ? '' : condition?.name, 'recipient-unavailable', `RFC 7247 §6: 480 → recipient-unavailable (${error.toString()})`);
  t.equal(error.getChild('error')?.attrs['type'], 'wait', 'RFC 6120 §8.3.3.13: recipient-unavailable is type wait');
  t.match(error.getChild('error')?.getChildText('text') ?? '', /^SIP 480 /, 'the SIP status is in the text');
  const unknownMark = alice.received.length;
  // nobody@ims.test is no user of the IMS: 404 → item-not-found.
  await alice.send(xml('message', { type: 'chat', to: 'nobody@ims.test', id: 'm4' }, xml('body', {}, 'hello?')));
  const notFound = await alice.next((s) => s.is('message') && s.attrs['type'] === 'error', 8000, unknownMark);
  t.ok(notFound.getChild('error')?.getChild('item-not-found'), `RFC 7247 §6: 404 → item-not-found (${notFound.toString()})`);
  const foreign = alice.received.length;
  await alice.send(xml('message', { type: 'chat', to: 'someone@example.org', id: 'm3' }, xml('body', {}, 'hi')));
  const unmapped = await alice.next((s) => s.is('message') && s.attrs['type'] === 'error', 5000, foreign);
  t.ok(unmapped.getChild('error')?.getChild('service-unavailable'), 'a JID outside the domain: service-unavailable');
});

t.test('a stanza.js client and an xmpp.js client chat through the IMS (both directions are SIP MESSAGE)', async (t) => {
  const { epcscf, alice } = await setUp(t);
  installWebSocketGlobal();
  const carol = Stanza.createClient({ jid: 'carol@ims.test', password: 'carolpw', resource: 'stanza', transports: { websocket: `${epcscf.baseUrl}/xmpp`, bosh: false } });
  t.teardown(() => carol.disconnect());
  const started = new Promise<void>((resolve, reject) => {
    carol.once('session:started', () => resolve());
    carol.once('auth:failed', () => reject(new Error('stanza: auth failed')));
  });
  carol.connect();
  await withDeadline(started, 10_000, 'stanza.js logs in');
  const carolGot = new Promise<Stanza.Stanzas.Message>((resolve) => carol.on('chat', (message) => resolve(message)));
  const mark = alice.received.length;
  carol.sendMessage({ to: 'alice@ims.test', type: 'chat', body: 'from stanza' });
  const atAlice = await alice.next((s) => s.is('message') && s.getChildText('body') === 'from stanza', 8000, mark);
  t.equal(atAlice.attrs['from'], 'carol@ims.test');
  await alice.send(xml('message', { type: 'chat', to: 'carol@ims.test' }, xml('body', {}, 'from xmpp.js')));
  const atCarol = await withDeadline(carolGot, 8000, 'carol receives');
  t.equal(atCarol.body, 'from xmpp.js');
  t.equal(String(atCarol.from), 'alice@ims.test');
  t.ok(epcscf.capture.requests('mw', 'out', 'MESSAGE').length >= 2, 'both went through the IMS as MESSAGE');
});

t.test('RFC 7572: an XMPP user and a JsSIP user (SIP over WebSocket on the same epcscf) chat both ways as SIP MESSAGE', async (t) => {
  const { epcscf, alice } = await setUp(t);
  const carol = await JsSipUser.connect({ wsUrl: epcscf.wsUrl, user: 'carol', password: 'carolpw' });
  t.teardown(() => carol.stop());
  t.equal(await carol.register(), 200, 'the JsSIP user is registered through sip-ws');
  const atJsSip = new Promise<{ body: string; contentType: string; from: string }>((resolve) => {
    (carol.ua as unknown as NodeJS.EventEmitter).on('newMessage', (e: { originator: string; request: { body: string; getHeader(name: string): string | undefined } }) => {
      if (e.originator === 'remote') resolve({ body: e.request.body, contentType: e.request.getHeader('Content-Type') ?? '', from: e.request.getHeader('From') ?? '' });
    });
  });
  await alice.send(xml('message', { type: 'chat', to: 'carol@ims.test', id: 'j1' }, xml('body', {}, 'hello JsSIP')));
  const got = await withDeadline(atJsSip, 8000, 'JsSIP receives the MESSAGE');
  t.equal(got.body, 'hello JsSIP', 'RFC 7572 §4: the chat body is the MESSAGE body');
  t.match(got.contentType, /^text\/plain/, 'RFC 7572 §4: text/plain');
  t.match(got.from, /sip:alice@ims\.test/, 'RFC 7247 §5: from alice');

  const mark = alice.received.length;
  carol.ua.sendMessage('sip:alice@ims.test', 'hello XMPP');
  const incoming = await alice.next((s) => s.is('message') && s.getChildText('body') === 'hello XMPP', 8000, mark);
  t.equal(incoming.attrs['type'], 'chat', 'RFC 7572 §4: a SIP MESSAGE becomes a chat message');
  t.equal(incoming.attrs['from'], 'carol@ims.test', 'RFC 7247 §5: sip:carol@ims.test is carol@ims.test');
});
