// Issue #12, XEP-0198 stream management with resumption through epcscf into the embedded dev IMS
// core: a raw RFC 7395 client enables resumption, its WebSocket drops (terminated, no <close/>),
// and a new connection authenticates and resumes. The registration stays (no new REGISTER on Mw),
// a MESSAGE that arrived meanwhile is delivered after <resumed/>, a call survives the drop (the
// far end, a JSON-RPC user, sees no BYE, and its later BYE reaches the resumed stream; with
// media-gw, RTP sent at the call's IMS-side address keeps being counted by the gateway), the
// grace expiry de-registers and BYEs as a closed stream does, and an unknown id <failed/>s.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { bodyText, getHeader } from '../../core/sip/index.js';
import { DevImsCore } from '../../examples/dev-ims-core/index.js';
import { startEpcscf, type EpcscfUnderTest } from '../support/epcscf-harness.js';
import { RpcWsClient } from '../support/jsonrpc-client.js';
import { startGateway, type GatewayUnderTest } from '../support/media-gateways.js';
import { gatewayAnswer, readOffer } from '../support/webrtc/gateway-sdp.js';
import { RawXmppSocket, XmppJsUser, jingleIqFromSdp } from '../support/xmpp-clients.js';

const CHROME_AUDIO_OFFER = readFileSync(new URL('../fixtures/sdp/chrome-audio-offer.sdp', import.meta.url), 'utf8');

const OPEN = '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="ims.test" version="1.0"/>';
const SM = 'urn:xmpp:sm:3';
const JINGLE = 'urn:xmpp:jingle:1';
const PLAIN = (user: string, password: string): string => `<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">${Buffer.from(`\u0000${user}\u0000${password}`).toString('base64')}</auth>`;
const ANSWER = ['v=0', 'o=- 2 0 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40002 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', ''].join('\r\n');
const INITIATE = `<iq xmlns="jabber:client" type="set" id="si" to="bob@ims.test"><jingle xmlns="${JINGLE}" action="session-initiate" sid="s1" initiator="alice@ims.test/raw">`
  + '<content creator="initiator" name="0"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="audio"><payload-type id="0" name="PCMU" clockrate="8000"/></description>'
  + '<transport xmlns="urn:xmpp:jingle:transports:ice-udp:1" ufrag="uf1" pwd="pwdpwdpwdpwdpwdpwdpwdpw"><fingerprint xmlns="urn:xmpp:jingle:apps:dtls:0" hash="sha-256" setup="actpass">AA:BB:CC:DD</fingerprint>'
  + '<candidate component="1" foundation="1" generation="0" id="c1" ip="127.0.0.1" port="40000" priority="2130706431" protocol="udp" type="host"/></transport></content></jingle></iq>';

interface Rig {
  epcscf: EpcscfUnderTest; bob: RpcWsClient; url: string;
  /** With media: the gateway, and the ng call-ids the IMS-ALG offered to it. */
  gateway?: GatewayUnderTest; ngCallIds: Set<string>;
}

async function setUp(t: Test, xmppOptions: Record<string, unknown> = {}, withMedia = false): Promise<Rig> {
  const core = await DevImsCore.start({ port: 0 });
  t.teardown(() => core.close());
  const gateway = withMedia ? await startGateway('media-gw') : undefined;
  if (gateway !== undefined) t.teardown(() => gateway.stop());
  const ngCallIds = new Set<string>();
  if (gateway !== undefined) {
    const offer = gateway.control.offer.bind(gateway.control);
    gateway.control.offer = (request) => { ngCallIds.add(request.callId); return offer(request); };
  }
  const epcscf = await startEpcscf({ nextHop: core.uri, ...(gateway !== undefined ? { media: gateway.control } : {}), extraPlugins: [{ name: 'xmpp-ws', options: xmppOptions }, { name: 'jsonrpc-ws' }] });
  t.teardown(() => epcscf.close());
  const bob = await RpcWsClient.connect(`${epcscf.baseUrl}/jsonrpc`);
  t.teardown(() => bob.close());
  const registered = await bob.request('session.register', { impu: 'sip:bob@ims.test', password: 'bobpw' });
  if (registered['state'] !== 'registered') throw new Error(`bob did not register: ${JSON.stringify(registered)}`);
  return { epcscf, bob, url: `${epcscf.baseUrl}/xmpp`, ...(gateway !== undefined ? { gateway } : {}), ngCallIds };
}

/** RFC 6120 §6 by hand: open, SASL PLAIN, restart; resolves with the post-auth features. */
async function authenticated(url: string): Promise<{ socket: RawXmppSocket; features: string }> {
  const socket = await RawXmppSocket.connect(url);
  socket.send(OPEN);
  await socket.nextFrame((f) => f.startsWith('<features'));
  socket.send(PLAIN('alice', 'alicepw'));
  await socket.nextFrame((f) => f.startsWith('<success'), 10_000);
  socket.send(OPEN);
  const features = await socket.nextFrame((f) => f.startsWith('<features') && f.includes('xmpp-bind'));
  return { socket, features };
}

/** Logged in, bound and XEP-0198 enabled with resumption: the stream id. */
async function resumableAlice(url: string): Promise<{ socket: RawXmppSocket; id: string; features: string }> {
  const { socket, features } = await authenticated(url);
  socket.send('<iq xmlns="jabber:client" type="set" id="b1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>raw</resource></bind></iq>');
  await socket.nextFrame((f) => f.includes('id="b1"'));
  socket.send(`<enable xmlns="${SM}" resume="true"/>`);
  const enabled = await socket.nextFrame((f) => f.startsWith('<enabled'));
  const id = /id="([^"]+)"/.exec(enabled)?.[1] ?? '';
  return { socket, id, features: `${features}${enabled}` };
}

/** The WebSocket drops without a <close/> (a network loss); resolves once epcscf has seen it. */
async function drop(socket: RawXmppSocket): Promise<void> {
  socket.ws.terminate();
  await socket.closed;
  await new Promise((resolve) => setTimeout(resolve, 300));
}

/** PCMU RTP (RFC 3550 §5.1) every 20 ms from a UDP socket of its own to host:port. */
function rtpPump(host: string, port: number): { stop(): void } {
  const socket = createSocket('udp4');
  const packet = Buffer.alloc(12 + 160, 0xff);
  packet[0] = 0x80; packet[1] = 0; packet.writeUInt32BE(0x1234abcd, 8);
  let seq = 0;
  const timer = setInterval(() => {
    seq = (seq + 1) & 0xffff;
    packet.writeUInt16BE(seq, 2);
    packet.writeUInt32BE((seq * 160) >>> 0, 4);
    socket.send(packet, port, host);
  }, 20);
  let stopped = false;
  return { stop() { if (stopped) return; stopped = true; clearInterval(timer); socket.close(); } };
}

const countOf = (epcscf: EpcscfUnderTest, side: 'mw' | 'w2', direction: 'in' | 'out', method: string): number => epcscf.capture.requests(side, direction, method).length;

t.test('issue 12 XEP-0198: <sm/> is offered after authentication; <enable resume="true"/> gets an unguessable id and the grace as max', async (t) => {
  const { url } = await setUp(t);
  const { socket, id, features } = await resumableAlice(url);
  t.teardown(() => socket.ws.close());
  t.match(features, /<sm xmlns="urn:xmpp:sm:3"\/>/, 'XEP-0198 §3: the feature is advertised after authentication');
  t.match(features, /<enabled xmlns="urn:xmpp:sm:3" id="[A-Za-z0-9_-]{32}" resume="true" max="120"\/>/, 'a 192-bit id, resumption granted for the default grace');
  t.ok(id.length >= 32);
  socket.send(`<r xmlns="${SM}"/>`);
  t.match(await socket.nextFrame((f) => f.startsWith('<a ')), /<a xmlns="urn:xmpp:sm:3" h="0"\/>/, 'XEP-0198 §4: <r/> is answered with the count of handled stanzas');
  socket.send('<iq xmlns="jabber:client" type="get" id="p1"><ping xmlns="urn:xmpp:ping"/></iq>');
  await socket.nextFrame((f) => f.includes('id="p1"'));
  socket.send(`<r xmlns="${SM}"/>`);
  t.match(await socket.nextFrame((f) => f.includes('h="1"')), /<a xmlns="urn:xmpp:sm:3" h="1"\/>/, 'the ping counted');
});

t.test('issue 12 XEP-0198: resumption within the grace keeps the registration (no REGISTER on Mw) and delivers the MESSAGE that arrived meanwhile', async (t) => {
  const { epcscf, bob, url } = await setUp(t);
  const first = await resumableAlice(url);
  const registers = countOf(epcscf, 'mw', 'out', 'REGISTER');
  await drop(first.socket);
  // While alice has no WebSocket, the IMS still reaches her UE over the kept flow: 200, not 430/480.
  const sent = await bob.request('message.send', { to: 'sip:alice@ims.test', body: 'while you were away' });
  t.ok(sent, `bob's MESSAGE was accepted while alice was disconnected (${JSON.stringify(sent)})`);
  const { socket, features } = await authenticated(url);
  t.teardown(() => socket.ws.close());
  t.match(features, /<sm xmlns="urn:xmpp:sm:3"\/>/);
  socket.send(`<resume xmlns="${SM}" previd="${first.id}" h="0"/>`);
  t.match(await socket.nextFrame((f) => f.startsWith('<resumed')), new RegExp(`<resumed xmlns="urn:xmpp:sm:3" previd="${first.id}" h="0"/>`), 'XEP-0198 §5: <resumed/> with our h');
  const delivered = await socket.nextFrame((f) => f.includes('while you were away'));
  t.match(delivered, /from="bob@ims\.test"/, 'the queued MESSAGE is delivered after <resumed/>');
  t.equal(countOf(epcscf, 'mw', 'out', 'REGISTER'), registers, 'no REGISTER left for the resumption: the registration was kept');
  // The resumed stream works both ways: a chat from alice reaches bob as SIP MESSAGE.
  socket.send('<message xmlns="jabber:client" type="chat" to="bob@ims.test" id="m1"><body>back again</body></message>');
  await bob.notification('message.received', (p) => p['body'] === 'back again');
  t.pass('alice chats on the resumed stream');
});

t.test('issue 12 XEP-0198: a call survives a WebSocket drop — the far end sees no BYE, and its BYE later reaches the resumed stream', async (t) => {
  const { epcscf, bob, url } = await setUp(t);
  const first = await resumableAlice(url);
  first.socket.send(INITIATE);
  const incoming = await bob.notification('call.incoming');
  await bob.request('call.answer', { callId: incoming['callId'], sdp: ANSWER });
  await first.socket.nextFrame((f) => f.includes('action="session-accept"'), 10_000);
  const byesBefore = countOf(epcscf, 'mw', 'out', 'BYE') + countOf(epcscf, 'mw', 'in', 'BYE');
  await drop(first.socket);
  await new Promise((resolve) => setTimeout(resolve, 700));
  t.equal(countOf(epcscf, 'mw', 'out', 'BYE') + countOf(epcscf, 'mw', 'in', 'BYE'), byesBefore, 'no BYE on Mw during the drop: the IMS and the far end keep the call');
  t.equal(bob.notifications.filter((n) => n.method === 'call.ended').length, 0, 'the far end saw no call end');
  t.equal(epcscf.pcscf.flows().length >= 2, true, 'the kept flow is still there');
  const { socket } = await authenticated(url);
  t.teardown(() => socket.ws.close());
  socket.send(`<resume xmlns="${SM}" previd="${first.id}" h="2"/>`);
  await socket.nextFrame((f) => f.startsWith('<resumed'));
  // The far end hangs up: its BYE follows the flow to the new WebSocket.
  await bob.request('call.hangup', { callId: incoming['callId'] });
  const terminate = await socket.nextFrame((f) => f.includes('action="session-terminate"'), 10_000);
  t.match(terminate, /sid="s1"/, 'the session-terminate for the surviving call reaches the resumed stream');
  const bye = epcscf.capture.requests('mw', 'in', 'BYE')[0];
  t.ok(bye, 'the only BYE is the far end hanging up, after the resumption');
  t.match(bye && getHeader(bye, 'Call-ID'), /.+/);
});

t.test('issue 12 XEP-0198: after the grace the UE de-registers and the call is released with a BYE toward the IMS', async (t) => {
  const { epcscf, bob, url } = await setUp(t, { resumeGraceSeconds: 1 });
  const first = await resumableAlice(url);
  first.socket.send(INITIATE);
  const incoming = await bob.notification('call.incoming');
  await bob.request('call.answer', { callId: incoming['callId'], sdp: ANSWER });
  await first.socket.nextFrame((f) => f.includes('action="session-accept"'), 10_000);
  await drop(first.socket);
  t.equal(countOf(epcscf, 'mw', 'out', 'BYE'), 0, 'nothing released within the grace');
  await bob.notification('call.ended', () => true, 8000);
  const deregister = epcscf.capture.requests('mw', 'out', 'REGISTER').filter((r) => /expires=0|^0$/i.test(`${getHeader(r, 'Expires') ?? ''}`) || /expires=0/i.test(getHeader(r, 'Contact') ?? ''));
  t.ok(deregister.length >= 1, 'R-REG-24: REGISTER Expires: 0 left when the grace ran out');
  t.ok(countOf(epcscf, 'mw', 'out', 'BYE') >= 1, 'R-ORIG-9: the call was released with a BYE toward the IMS');
  const { socket } = await authenticated(url);
  t.teardown(() => socket.ws.close());
  socket.send(`<resume xmlns="${SM}" previd="${first.id}" h="0"/>`);
  t.match(await socket.nextFrame((f) => f.startsWith('<failed')), /<failed xmlns="urn:xmpp:sm:3"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/><\/failed>/, 'an expired id: item-not-found');
});

t.test('issue 12 XEP-0198: <resume/> with an unknown previd fails with item-not-found and the client can still bind', async (t) => {
  const { url } = await setUp(t);
  const { socket } = await authenticated(url);
  t.teardown(() => socket.ws.close());
  socket.send(`<resume xmlns="${SM}" previd="not-a-stream" h="0"/>`);
  t.match(await socket.nextFrame((f) => f.startsWith('<failed')), /<item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/>/, 'XEP-0198 §5: unknown id → item-not-found');
  socket.send('<iq xmlns="jabber:client" type="set" id="b2"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>');
  t.match(await socket.nextFrame((f) => f.includes('id="b2"')), /type="result"/, 'binding still works after the failed resumption');
});

t.test('issue 12 XEP-0198: with media-gw, the call\'s media legs stay on the gateway and RTP keeps flowing through the drop and the resumption', async (t) => {
  const { epcscf, bob, url, gateway, ngCallIds } = await setUp(t, {}, true);
  const first = await resumableAlice(url);
  first.socket.send(jingleIqFromSdp(CHROME_AUDIO_OFFER, { to: 'bob@ims.test', id: 'si1', sid: 'm1', action: 'session-initiate', initiator: 'alice@ims.test/raw' }));
  const incoming = await bob.notification('call.incoming', () => true, 10_000);
  const answer = gatewayAnswer({
    address: { address: '127.0.0.1', port: 40100 }, ice: { ufrag: 'ansU', pwd: 'answerpasswordanswerpass' },
    fingerprint: { algorithm: 'sha-256', value: Array.from({ length: 32 }, (_, i) => (i + 16).toString(16).toUpperCase()).join(':') },
    setup: 'active', mid: readOffer(String(incoming['sdp'])).mid, ssrc: 4242,
  });
  await bob.request('call.answer', { callId: incoming['callId'], sdp: answer });
  await first.socket.nextFrame((f) => f.includes('action="session-accept"'), 10_000);
  const legs = epcscf.pcscf.mediaLegCount;
  t.ok(legs >= 1, `the call has media legs on the gateway (${legs})`);
  // The IMS side sends RTP to the gateway's IMS-side address of alice's leg (the SDP on Mw).
  const invite = epcscf.capture.requests('mw', 'out', 'INVITE')[0];
  const imsSdp = invite ? bodyText(invite) : '';
  const imsHost = /^c=IN IP4 (\S+)/m.exec(imsSdp)?.[1] ?? '';
  const imsPort = Number(/^m=audio (\d+)/m.exec(imsSdp)?.[1] ?? 0);
  t.ok(imsHost !== '' && imsPort > 0, `the INVITE on Mw carries the gateway's IMS-side address (${imsHost}:${imsPort})`);
  const aliceLeg = [...ngCallIds].find((id) => id.includes('~o~')) ?? '';
  t.ok(aliceLeg !== '', `the IMS-ALG opened alice's originating leg on the gateway (${[...ngCallIds].join(', ')})`);
  const rtp = rtpPump(imsHost, imsPort);
  t.teardown(() => rtp.stop());
  const received = async (): Promise<number> => {
    const query = await gateway!.query(aliceLeg);
    return query.streams.reduce((sum, stream) => sum + stream.packetsIn, 0);
  };
  await new Promise((resolve) => setTimeout(resolve, 300));
  const beforeDrop = await received();
  t.ok(beforeDrop > 0, `RTP reaches the gateway before the drop (${beforeDrop} packets)`);
  await drop(first.socket);
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.equal(epcscf.pcscf.mediaLegCount, legs, 'R-AGW: the drop released no media leg (the media path does not depend on the WebSocket)');
  const duringDrop = await received();
  t.ok(duringDrop > beforeDrop, `RTP keeps flowing through the gateway while the WebSocket is down (${beforeDrop} → ${duringDrop})`);
  const { socket } = await authenticated(url);
  t.teardown(() => socket.ws.close());
  socket.send(`<resume xmlns="${SM}" previd="${first.id}" h="0"/>`);
  await socket.nextFrame((f) => f.startsWith('<resumed'));
  t.equal(epcscf.pcscf.mediaLegCount, legs, 'and the resumption kept them');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const afterResume = await received();
  t.ok(afterResume > duringDrop, `and after the resumption (${duringDrop} → ${afterResume}): the media never stopped`);
  rtp.stop();
  t.equal(countOf(epcscf, 'mw', 'out', 'BYE') + countOf(epcscf, 'mw', 'in', 'BYE'), 0, 'no BYE on Mw');
  // Alice hangs up on the resumed stream: the BYE leaves and the legs go.
  socket.send(`<iq xmlns="jabber:client" type="set" id="t1" to="bob@ims.test"><jingle xmlns="${JINGLE}" action="session-terminate" sid="m1"><reason><success/></reason></jingle></iq>`);
  await bob.notification('call.ended', () => true, 10_000);
  t.ok(countOf(epcscf, 'mw', 'out', 'BYE') >= 1, 'the resumed stream ends the call with a BYE');
});

interface XmppJsInternals {
  reconnect: { start(): void; delay: number };
  streamManagement: { id: string; enabled: boolean; on(event: 'resumed', listener: () => void): void };
  socket: { socket: { close(): void } };
}

t.test('issue 12 XEP-0198 with xmpp.js (@xmpp/stream-management): its socket drops, it reconnects and resumes; no REGISTER, the MESSAGE sent meanwhile arrives', async (t) => {
  const { epcscf, bob, url } = await setUp(t);
  const alice = await XmppJsUser.login({ service: url, domain: 'ims.test', username: 'alice', password: 'alicepw' });
  t.teardown(() => alice.stop());
  const internals = alice.xmpp as unknown as XmppJsInternals;
  const deadline = Date.now() + 5000;
  while (!internals.streamManagement.enabled && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  t.ok(internals.streamManagement.enabled && internals.streamManagement.id !== '', 'xmpp.js enabled stream management with resumption');
  const registers = countOf(epcscf, 'mw', 'out', 'REGISTER');
  const resumed = new Promise<void>((resolve) => internals.streamManagement.on('resumed', () => resolve()));
  internals.reconnect.delay = 1500;
  internals.reconnect.start();
  internals.socket.socket.close(); // the WebSocket closes without an XMPP <close/>
  await new Promise((resolve) => setTimeout(resolve, 400));
  await bob.request('message.send', { to: 'sip:alice@ims.test', body: 'while xmpp.js was away' });
  const mark = alice.received.length;
  await Promise.race([resumed, new Promise((_, reject) => setTimeout(() => reject(new Error('xmpp.js did not resume')), 10_000).unref())]);
  t.pass('xmpp.js got <resumed/>');
  const message = await alice.next((s) => s.is('message') && s.getChildText('body') === 'while xmpp.js was away', 8000, mark);
  t.equal(message.attrs['from'], 'bob@ims.test');
  t.equal(countOf(epcscf, 'mw', 'out', 'REGISTER'), registers, 'no REGISTER for the resumption');
});
