// TS 24.371 scenarios 2/3 over XMPP (RFC 7628 SASL OAUTHBEARER, R-REG-1..10, 25): stanza.js logs
// in with a web token through epcscf (xmpp-ws → core/ua → the real P-CSCF) into the dev IMS core,
// which trusts epcscf's Mw address only; the JID is the token's impu (RFC 7247 §5). A bad token
// gets <failure><not-authorized/><text>reason</text></failure> and nothing at all on Mw.
import t, { type Test } from 'tap';
import * as Stanza from 'stanza';
import { getHeader, type SipRequest } from '../../core/sip/index.js';
import { TOKEN_REFUSAL_REASONS } from '../../core/webauth/index.js';
import { startEpcscf } from '../support/epcscf-harness.js';
import { RpcWsClient } from '../support/jsonrpc-client.js';
import { bearerOnMw, startWebAuthBed, type WebAuthBed } from '../support/web-auth-bed.js';
import { TEST_ISSUER, nowSeconds, tamper, unsecuredToken } from '../support/web-tokens.js';
import { withDeadline } from '../support/wic/jssip-user.js';
import { RawXmppSocket, installWebSocketGlobal } from '../support/xmpp-clients.js';

const OPEN = '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="ims.test" version="1.0"/>';
const SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';

/** stanza.js with only a token: it picks OAUTHBEARER (RFC 7628) from the offered mechanisms. */
async function stanzaTokenUser(t: Test, bed: WebAuthBed, jid: string, token: string): Promise<Stanza.Agent> {
  installWebSocketGlobal();
  const client = Stanza.createClient({ jid, credentials: { token }, resource: 'web', transports: { websocket: `${bed.epcscf.baseUrl}/xmpp`, bosh: false } });
  t.teardown(() => client.disconnect());
  const started = new Promise<void>((resolve, reject) => {
    client.once('session:started', () => resolve());
    client.once('auth:failed', () => reject(new Error('stanza: auth failed')));
  });
  client.connect();
  await withDeadline(started, 10_000, `stanza.js logs in as ${jid} with a token`);
  return client;
}

/** A raw RFC 7395 stream up to the SASL features. */
async function rawStream(t: Test, bed: WebAuthBed): Promise<{ socket: RawXmppSocket; features: string }> {
  const socket = await RawXmppSocket.connect(`${bed.epcscf.baseUrl}/xmpp`);
  t.teardown(() => socket.close());
  socket.send(OPEN);
  const features = await socket.nextFrame((f) => f.startsWith('<features'));
  return { socket, features };
}

const oauthBearer = (token: string, gs2 = 'n,,'): string =>
  `<auth xmlns="${SASL}" mechanism="OAUTHBEARER">${Buffer.from(`${gs2}\u0001auth=Bearer ${token}\u0001\u0001`).toString('base64')}</auth>`;

function registersOn(bed: WebAuthBed, from: number): SipRequest[] {
  return bed.mwSince(from).filter((m): m is SipRequest => m.kind === 'request' && m.method === 'REGISTER');
}

t.test('RFC 7628: with webAuth issuers, OAUTHBEARER is offered beside PLAIN; without, PLAIN alone (host.webAuth)', async (t) => {
  const bed = await startWebAuthBed(t);
  const { features } = await rawStream(t, bed);
  t.match(features, /<mechanism>PLAIN<\/mechanism><mechanism>OAUTHBEARER<\/mechanism>/);
  const plain = await startEpcscf({ nextHop: bed.core.uri, extraPlugins: [{ name: 'xmpp-ws' }] });
  t.teardown(() => plain.close());
  const socket = await RawXmppSocket.connect(`${plain.baseUrl}/xmpp`);
  t.teardown(() => socket.close());
  socket.send(OPEN);
  t.match(await socket.nextFrame((f) => f.startsWith('<features')), /<mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>PLAIN<\/mechanism><\/mechanisms>/, 'no issuers: no token login offered');
});

t.test('R-REG-1/9: stanza.js logs in with OAUTHBEARER; the JID is the token\'s impu; the Mw REGISTER is a trusted-node one without Bearer (R-REG-5)', async (t) => {
  const bed = await startWebAuthBed(t);
  const token = await bed.token();
  const mark = bed.mark();
  const alice = await stanzaTokenUser(t, bed, 'alice@ims.test', token);
  t.equal(String(alice.jid), 'alice@ims.test/web', 'RFC 7247 §5: sip:alice@ims.test is alice@ims.test');
  const [register, ...more] = registersOn(bed, mark);
  t.equal(more.length, 0, 'one REGISTER, no challenge round');
  t.match(register && getHeader(register, 'Authorization'), /^Digest username="alice@ims\.test", realm="ims\.test", uri="sip:ims\.test", nonce="", response="", integrity-protected="auth-done"$/);
  t.same(bearerOnMw(bed.mwSince(mark), token), [], 'the token never reaches the IMS');
});

t.test('scenario 3: a guest token logs in as the pool IMPU\'s JID', async (t) => {
  const bed = await startWebAuthBed(t);
  const guest = await stanzaTokenUser(t, bed, 'guest3@ims.test', await bed.guestToken('sip:guest3@ims.test'));
  t.equal(String(guest.jid), 'guest3@ims.test/web');
  t.equal(bed.core.location.bindings('guest3').length, 1, 'registered at the dev core');
});

t.test('R-REG-4: each bad token is <failure> with the reason in <text/>, and nothing goes on Mw', async (t) => {
  const bed = await startWebAuthBed(t, { xmppOptions: { maxAuthAttempts: 20 } });
  const now = nowSeconds();
  const claims = { iss: TEST_ISSUER, aud: 'epcscf.test', iat: now, exp: now + 300, sub: 'alice@ims.test', impu: 'sip:alice@ims.test' };
  const cases: [string, string, string, string][] = [
    ['expired', oauthBearer(await bed.token({}, now - 400)), 'not-authorized', TOKEN_REFUSAL_REASONS.expired],
    ['wrong audience', oauthBearer(await bed.token({ aud: 'someone-else.test' })), 'not-authorized', TOKEN_REFUSAL_REASONS.audience_not_accepted],
    ['unknown issuer', oauthBearer(await bed.token({ iss: 'https://evil.test' })), 'not-authorized', TOKEN_REFUSAL_REASONS.issuer_unknown],
    ['tampered', oauthBearer(tamper(await bed.token(), { exp: now + 86_400 })), 'not-authorized', TOKEN_REFUSAL_REASONS.signature_invalid],
    ['alg none', oauthBearer(unsecuredToken(claims)), 'not-authorized', TOKEN_REFUSAL_REASONS.algorithm_not_allowed],
    ['IMPU not the token\'s (authzid bob, token alice)', oauthBearer(await bed.token(), 'n,a=bob@ims.test,'), 'invalid-authzid', TOKEN_REFUSAL_REASONS.impu_mismatch],
    ['IMPU outside the pool', oauthBearer(await bed.guestToken('sip:guest9@ims.test')), 'not-authorized', TOKEN_REFUSAL_REASONS.impu_not_in_pool],
    ['garbage', oauthBearer('not-a-jwt'), 'not-authorized', TOKEN_REFUSAL_REASONS.malformed],
  ];
  const { socket } = await rawStream(t, bed);
  for (const [name, auth, condition, reason] of cases) {
    const mark = bed.mark();
    const seen = socket.frames.length;
    socket.send(auth);
    const failure = await socket.nextFrame((f) => socket.frames.indexOf(f) >= seen && f.startsWith('<failure'));
    t.equal(failure, `<failure xmlns="${SASL}"><${condition}/><text xml:lang="en">${reason}</text></failure>`, `${name} → ${reason}`);
    t.same(bed.mwSince(mark).map((m) => (m.kind === 'request' ? m.method : m.status)), [], `${name}: nothing on Mw`);
  }
  const seen = socket.frames.length;
  socket.send(`<auth xmlns="${SASL}" mechanism="OAUTHBEARER">${Buffer.from('n,,\u0001auth=Basic YWxpY2U=\u0001\u0001').toString('base64')}</auth>`);
  t.equal(await socket.nextFrame((f) => socket.frames.indexOf(f) >= seen && f.startsWith('<failure')), `<failure xmlns="${SASL}"><malformed-request/></failure>`, 'RFC 7628 §3.1 broken: malformed-request');
  const last = socket.frames.length;
  socket.send(oauthBearer(await bed.token()));
  t.equal(await socket.nextFrame((f) => socket.frames.indexOf(f) >= last && f.startsWith('<success')), `<success xmlns="${SASL}"/>`, 'the same stream then logs in with a good token');
});

t.test('R-REG-25: ending the stream makes epcscf de-register the trusted-node binding on Mw, once', async (t) => {
  const bed = await startWebAuthBed(t);
  const alice = await stanzaTokenUser(t, bed, 'alice@ims.test', await bed.token());
  const mark = bed.mark();
  alice.disconnect();
  await bed.epcscf.capture.waitFor((e) => e.side === 'mw' && e.direction === 'in' && e.message.kind === 'response' && e.message.status === 200, { from: mark, what: '200 to the de-registration' });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const registers = registersOn(bed, mark);
  t.equal(registers.length, 1, 'one REGISTER Expires: 0 (R-REG-25: the P-CSCF is the registering party)');
  t.equal(registers[0] && getHeader(registers[0], 'Expires'), '0');
  t.match(registers[0] && getHeader(registers[0], 'Authorization'), /integrity-protected="auth-done"/);
  t.same(bed.core.location.bindings('alice'), [], 'the dev core holds no binding for alice any more');
});

t.test('a token-registered JSON-RPC user and a token-registered XMPP user chat both ways through the IMS (SIP MESSAGE, no Bearer on Mw)', async (t) => {
  const bed = await startWebAuthBed(t);
  const aliceToken = await bed.token();
  const bobToken = await bed.token({ impu: 'sip:bob@ims.test' });
  const alice = await RpcWsClient.connect(`${bed.epcscf.baseUrl}/jsonrpc`);
  t.teardown(() => alice.close());
  t.equal((await alice.request('session.register', { impu: 'sip:alice@ims.test', token: aliceToken }))['state'], 'registered');
  const bob = await stanzaTokenUser(t, bed, 'bob@ims.test', bobToken);
  const mark = bed.mark();
  const atBob = new Promise<Stanza.Stanzas.Message>((resolve) => bob.on('chat', (message) => resolve(message)));
  const sent = await alice.request('message.send', { to: 'sip:bob@ims.test', body: 'hello from JSON-RPC' });
  t.equal(sent['accepted'], true);
  const got = await withDeadline(atBob, 8000, 'the XMPP user receives the message');
  t.equal(got.body, 'hello from JSON-RPC');
  t.equal(String(got.from), 'alice@ims.test');
  bob.sendMessage({ to: 'alice@ims.test', type: 'chat', body: 'hello from XMPP' });
  const atAlice = await alice.notification('message.received', (p) => p['body'] === 'hello from XMPP');
  t.match((atAlice['from'] as { uri: string }).uri, /^sip:bob@ims\.test/);
  t.ok(bed.mwSince(mark).filter((m) => m.kind === 'request' && m.method === 'MESSAGE').length >= 2, 'both went through the IMS as MESSAGE');
  t.same(bearerOnMw(bed.mwSince(mark), aliceToken), [], 'R-REG-5: no token on Mw');
  t.same(bearerOnMw(bed.mwSince(mark), bobToken), []);
});

/** RFC 6120 §6 by hand with OAUTHBEARER: open, auth, restart; resolves once the bind features came. */
async function tokenAuthenticated(t: Test, bed: WebAuthBed, token: string): Promise<RawXmppSocket> {
  const { socket } = await rawStream(t, bed);
  socket.send(oauthBearer(token));
  await socket.nextFrame((f) => f.startsWith('<success'), 10_000);
  socket.send(OPEN);
  await socket.nextFrame((f) => f.startsWith('<features') && f.includes('xmpp-bind'));
  return socket;
}

t.test('XEP-0198 with a token: the same unexpired token resumes a dropped stream without a REGISTER; another token cannot take it over', async (t) => {
  const bed = await startWebAuthBed(t);
  const token = await bed.token();
  const first = await tokenAuthenticated(t, bed, token);
  first.send('<iq xmlns="jabber:client" type="set" id="b1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>raw</resource></bind></iq>');
  await first.nextFrame((f) => f.includes('id="b1"'));
  first.send('<enable xmlns="urn:xmpp:sm:3" resume="true"/>');
  const id = /id="([^"]+)"/.exec(await first.nextFrame((f) => f.startsWith('<enabled')))?.[1] ?? '';
  first.ws.terminate();
  await first.closed;
  await new Promise((resolve) => setTimeout(resolve, 300));

  // Another valid token for the same IMPU logs in (a REGISTER of its own) but does not match the detached stream.
  const other = await tokenAuthenticated(t, bed, await bed.token({ jti: 'another' }));
  other.send(`<resume xmlns="urn:xmpp:sm:3" previd="${id}" h="0"/>`);
  t.match(await other.nextFrame((f) => f.startsWith('<failed')), /<item-not-found /, 'XEP-0198 §5: a different token is refused the resumption');
  other.ws.close();
  await other.closed; // its own registration is de-registered by the P-CSCF (R-REG-25): not counted below

  const mark = bed.mark();
  const again = await tokenAuthenticated(t, bed, token);
  const registrations = registersOn(bed, mark).filter((r) => getHeader(r, 'Expires') !== '0');
  t.same(registrations, [], 'the token the P-CSCF validated for this stream re-authenticates without a REGISTER');
  again.send(`<resume xmlns="urn:xmpp:sm:3" previd="${id}" h="0"/>`);
  t.match(await again.nextFrame((f) => f.startsWith('<resumed')), new RegExp(`previd="${id}"`), 'XEP-0198 §5: resumed');
  again.send('<iq xmlns="jabber:client" type="get" id="p1"><ping xmlns="urn:xmpp:ping"/></iq>');
  t.match(await again.nextFrame((f) => f.includes('id="p1"')), /type="result"/, 'the resumed stream works');
});

const JINGLE = 'urn:xmpp:jingle:1';
const INITIATE = `<iq xmlns="jabber:client" type="set" id="si" to="bob@ims.test"><jingle xmlns="${JINGLE}" action="session-initiate" sid="s1" initiator="alice@ims.test/raw">`
  + '<content creator="initiator" name="0"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="audio"><payload-type id="0" name="PCMU" clockrate="8000"/></description>'
  + '<transport xmlns="urn:xmpp:jingle:transports:ice-udp:1" ufrag="uf1" pwd="pwdpwdpwdpwdpwdpwdpwdpw"><fingerprint xmlns="urn:xmpp:jingle:apps:dtls:0" hash="sha-256" setup="actpass">AA:BB:CC:DD</fingerprint>'
  + '<candidate component="1" foundation="1" generation="0" id="c1" ip="127.0.0.1" port="40000" priority="2130706431" protocol="udp" type="host"/></transport></content></jingle></iq>';
const ANSWER = ['v=0', 'o=- 2 0 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 40002 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', ''].join('\r\n');

t.test('R-REG-3: a token-registered XMPP user calls a token-registered JSON-RPC user (Jingle ⇄ INVITE), both hang up cleanly; no Bearer on Mw', async (t) => {
  const bed = await startWebAuthBed(t);
  const bobToken = await bed.token({ impu: 'sip:bob@ims.test' });
  const bob = await RpcWsClient.connect(`${bed.epcscf.baseUrl}/jsonrpc`);
  t.teardown(() => bob.close());
  t.equal((await bob.request('session.register', { impu: 'sip:bob@ims.test', token: bobToken }))['state'], 'registered');
  const aliceToken = await bed.token();
  const alice = await tokenAuthenticated(t, bed, aliceToken);
  alice.send('<iq xmlns="jabber:client" type="set" id="b1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>raw</resource></bind></iq>');
  await alice.nextFrame((f) => f.includes('id="b1"'));
  const mark = bed.mark();
  alice.send(INITIATE);
  const incoming = await bob.notification('call.incoming');
  t.match((incoming['from'] as { uri: string }).uri, /^sip:alice@ims\.test/, 'the callee sees the token\'s identity');
  await bob.request('call.answer', { callId: incoming['callId'], sdp: ANSWER });
  await alice.nextFrame((f) => f.includes('action="session-accept"'), 10_000);
  const invite = bed.mwSince(mark).find((m): m is SipRequest => m.kind === 'request' && m.method === 'INVITE');
  t.match(invite && getHeader(invite, 'P-Asserted-Identity'), /sip:alice@ims\.test/, 'the INVITE left with the asserted IMPU');
  alice.send(`<iq xmlns="jabber:client" type="set" id="t1" to="bob@ims.test"><jingle xmlns="${JINGLE}" action="session-terminate" sid="s1"><reason><success/></reason></jingle></iq>`);
  t.equal((await bob.notification('call.ended', () => true, 10_000))['cause'], 'remote', 'the BYE reached the callee');
  t.same(bearerOnMw(bed.mwSince(mark), aliceToken), [], 'R-REG-5: no token on Mw');
  t.same(bearerOnMw(bed.mwSince(mark), bobToken), []);
});
