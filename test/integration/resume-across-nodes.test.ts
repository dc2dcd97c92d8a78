// Issue #15, host.state: two epcscf nodes (two P-CSCFs and W2 servers) in front of one embedded
// dev IMS core share one host.state source, as two nodes share Redis. A client whose WebSocket
// to node A drops reconnects to node B and resumes there: a jsonrpc-ws resume token issued by A
// is taken by B (same +sip.instance), and an XEP-0198 stream detached on A is resumed on B
// (same full JID, counters, unacknowledged stanzas; B's own registration, A ends its own).
import t, { type Test } from 'tap';
import { getHeader } from '../../core/sip/index.js';
import { memoryTtlNamespaces } from '../../core/state/memory-ttl-store.js';
import { DevImsCore } from '../../examples/dev-ims-core/index.js';
import { startEpcscf, type EpcscfUnderTest } from '../support/epcscf-harness.js';
import { RpcWsClient } from '../support/jsonrpc-client.js';
import { RawXmppSocket } from '../support/xmpp-clients.js';

const OPEN = '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="ims.test" version="1.0"/>';
const SM = 'urn:xmpp:sm:3';
const PLAIN = (user: string, password: string): string => `<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">${Buffer.from(`\u0000${user}\u0000${password}`).toString('base64')}</auth>`;

interface Cluster { core: DevImsCore; a: EpcscfUnderTest; b: EpcscfUnderTest }

async function twoNodes(t: Test, xmppOptions: Record<string, unknown> = {}): Promise<Cluster> {
  const core = await DevImsCore.start({ port: 0 });
  t.teardown(() => core.close());
  const stateNamespace = memoryTtlNamespaces(); // one shared source: what Redis is to a real cluster
  const plugins = [{ name: 'jsonrpc-ws' }, { name: 'xmpp-ws', options: xmppOptions }];
  const a = await startEpcscf({ nextHop: core.uri, extraPlugins: plugins, stateNamespace });
  t.teardown(() => a.close());
  const b = await startEpcscf({ nextHop: core.uri, extraPlugins: plugins, stateNamespace });
  t.teardown(() => b.close());
  return { core, a, b };
}

async function rpcClient(t: Test, node: EpcscfUnderTest): Promise<RpcWsClient> {
  const client = await RpcWsClient.connect(`${node.baseUrl}/jsonrpc`);
  t.teardown(() => client.close());
  return client;
}

/** RFC 6120 §6 by hand: open, SASL PLAIN (a REGISTER leaves on this node), restart. */
async function authenticatedAlice(node: EpcscfUnderTest): Promise<RawXmppSocket> {
  const socket = await RawXmppSocket.connect(`${node.baseUrl}/xmpp`);
  socket.send(OPEN);
  await socket.nextFrame((f) => f.startsWith('<features'));
  socket.send(PLAIN('alice', 'alicepw'));
  await socket.nextFrame((f) => f.startsWith('<success'), 10_000);
  socket.send(OPEN);
  await socket.nextFrame((f) => f.startsWith('<features') && f.includes('xmpp-bind'));
  return socket;
}

/** The WebSocket drops without a <close/> (a network loss); resolves once the node has seen it. */
async function drop(socket: RawXmppSocket | RpcWsClient): Promise<void> {
  if (socket instanceof RawXmppSocket) {
    socket.ws.terminate();
    await socket.closed;
  } else {
    await socket.close();
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
}

const registersOut = (node: EpcscfUnderTest): number => node.capture.requests('mw', 'out', 'REGISTER').length;

t.test('issue #15: a jsonrpc-ws resume token issued by node A is taken on node B, which re-registers with the same +sip.instance', async (t) => {
  const { a, b } = await twoNodes(t);
  const alice = await RpcWsClient.connect(`${a.baseUrl}/jsonrpc`);
  const registered = await alice.request('session.register', { impu: 'sip:alice@ims.test', password: 'alicepw' });
  t.equal(registered['state'], 'registered');
  await drop(alice);
  const aRegisters = registersOut(a);
  const again = await rpcClient(t, b);
  const resumed = await again.request('session.resume', { resumeToken: registered['resumeToken'] });
  t.equal(resumed['state'], 'registered', JSON.stringify(resumed));
  t.equal(resumed['instanceId'], registered['instanceId'], 'the same instance id');
  const register = b.capture.requests('mw', 'out', 'REGISTER').at(-1);
  t.match(register && getHeader(register, 'Contact'), `+sip.instance="<${String(registered['instanceId'])}>"`, 'RFC 5626 §4.2: node B\'s REGISTER on Mw carries the same +sip.instance');
  t.equal(registersOut(a), aRegisters, 'node A sent nothing for the resumption');
  // The resumed registration is node B's: a MESSAGE to alice reaches her there.
  const bob = await rpcClient(t, a);
  await bob.request('session.register', { impu: 'sip:bob@ims.test', password: 'bobpw' });
  await bob.request('message.send', { to: 'sip:alice@ims.test', body: 'found you on B' });
  await again.notification('message.received', (p) => p['body'] === 'found you on B');
  const reuse = await (await rpcClient(t, a)).request('session.resume', { resumeToken: registered['resumeToken'] }).catch((error: unknown) => error);
  t.match(String((reuse as Error).message), /Resume token invalid/, 'single use: node A cannot take it again');
});

t.test('issue #15: an XEP-0198 stream detached on node A is resumed on node B (JID, counters, unacknowledged stanzas), and A\'s grace end leaves B\'s registration alone', async (t) => {
  const { a, b } = await twoNodes(t, { resumeGraceSeconds: 2 });
  const first = await authenticatedAlice(a);
  first.send('<iq xmlns="jabber:client" type="set" id="b1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>raw</resource></bind></iq>');
  await first.nextFrame((f) => f.includes('id="b1"'));
  first.send(`<enable xmlns="${SM}" resume="true"/>`);
  const id = /id="([^"]+)"/.exec(await first.nextFrame((f) => f.startsWith('<enabled')))?.[1] ?? '';
  first.send('<iq xmlns="jabber:client" type="get" id="p1"><ping xmlns="urn:xmpp:ping"/></iq>');
  await first.nextFrame((f) => f.includes('id="p1"'));
  await drop(first);

  const socket = await authenticatedAlice(b);
  t.teardown(() => socket.close());
  // h=0: the client never handled the ping's answer, so node B sends it again from the record.
  socket.send(`<resume xmlns="${SM}" previd="${id}" h="0"/>`);
  t.match(await socket.nextFrame((f) => f.startsWith('<resumed')), new RegExp(`<resumed xmlns="urn:xmpp:sm:3" previd="${id}" h="1"/>`), 'XEP-0198 §5: node B knows the stream and our h (the ping counted)');
  t.match(await socket.nextFrame((f) => f.includes('id="p1"')), /type="result"/, 'the unacknowledged answer is sent again');
  socket.send(`<r xmlns="${SM}"/>`);
  t.match(await socket.nextFrame((f) => f.startsWith('<a ')), /h="1"/, 'counting goes on from the record');

  const bob = await rpcClient(t, a);
  await bob.request('session.register', { impu: 'sip:bob@ims.test', password: 'bobpw' });
  socket.send('<message xmlns="jabber:client" type="chat" to="bob@ims.test" id="m1"><body>hello from B</body></message>');
  await bob.notification('message.received', (p) => p['body'] === 'hello from B');
  await bob.request('message.send', { to: 'sip:alice@ims.test', body: 'to alice on B' });
  t.match(await socket.nextFrame((f) => f.includes('to alice on B')), /to="alice@ims\.test\/raw"/, 'the resumed stream keeps its full JID');

  // Node A's detached stream reaches its grace: it ends its own registration (its binding only).
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  await bob.request('message.send', { to: 'sip:alice@ims.test', body: 'still there?' });
  t.ok(await socket.nextFrame((f) => f.includes('still there?')), 'node B\'s registration outlived node A\'s grace');

  const late = await authenticatedAlice(a);
  t.teardown(() => late.close());
  late.send(`<resume xmlns="${SM}" previd="${id}" h="0"/>`);
  t.match(await late.nextFrame((f) => f.startsWith('<failed')), /item-not-found/, 'the stream lives on node B now: node A cannot resume it');
});
