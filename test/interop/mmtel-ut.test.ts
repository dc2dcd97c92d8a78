// Issue #14, service configuration over Ut (TS 24.623, RFC 4825): each W2 client reads its
// simservs document through epcscf, sets call forwarding unconditional (communication-diversion),
// barring (incoming-communication-barring) and its OIR default
// (originating-identity-presentation-restriction), and reads them back — jsonrpc-ws with ut.*
// methods, xmpp-ws with <ut xmlns='urn:epcscf:mmtel:0'/> IQs, sip-ws (JsSIP registered) through
// the REST endpoint with its web token. The test XCAP server sees every request asserted
// (X-3GPP-Asserted-Identity, TS 24.109) as the session's own IMPU, and never another user's.
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parseXml from '@xmpp/xml/lib/parse.js';
import t, { type Test } from 'tap';
import { startImsCore } from '../support/epcscf-harness.js';
import { epcscfWithThreeClients, type ThreeClients } from '../support/mmtel-clients.js';
import { TEST_AUDIENCE, TEST_ISSUER, makeKey, signToken, writeJwksFile } from '../support/web-tokens.js';
import { COMMON_POLICY_NS, DIGEST_CHALLENGE, SIMSERVS_NS, simservsDocument, startXcapServer, type XcapServer } from '../support/xcap-server.js';
import { xml, type XmlNode } from '../support/xmpp-clients.js';

const MMTEL = 'urn:epcscf:mmtel:0';
const USERS = ['sip:alice@ims.test', 'sip:bob@ims.test', 'sip:carol@ims.test'] as const;
const CDIV = 'simservs/communication-diversion';
const ICB = 'simservs/incoming-communication-barring';
const OIR = 'simservs/originating-identity-presentation-restriction';

/** TS 24.604 §4.9.1.4: CFU — an unconditional rule forwarding every call to `target`. */
function cfu(target: string): string {
  return `<communication-diversion xmlns="${SIMSERVS_NS}" xmlns:cp="${COMMON_POLICY_NS}" active="true"><cp:ruleset><cp:rule id="cfu"><cp:conditions/>`
    + `<cp:actions><forward-to><target>${target}</target><notify-caller>true</notify-caller></forward-to></cp:actions></cp:rule></cp:ruleset></communication-diversion>`;
}
/** TS 24.611 §4.9.1.2: barring of all incoming communications (BAIC). */
const BAIC = `<incoming-communication-barring xmlns="${SIMSERVS_NS}" xmlns:cp="${COMMON_POLICY_NS}" active="true"><cp:ruleset><cp:rule id="baic"><cp:conditions/>`
  + '<cp:actions><allow>false</allow></cp:actions></cp:rule></cp:ruleset></incoming-communication-barring>';
/** TS 24.607 §4.9.1.3: OIR temporary mode, restricted by default. */
const OIR_RESTRICTED = `<originating-identity-presentation-restriction xmlns="${SIMSERVS_NS}" active="true"><default-behaviour>presentation-restricted</default-behaviour></originating-identity-presentation-restriction>`;

/** A GET whose path goes on the wire exactly as written (no URL normalisation): its status. */
function rawGet(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', reject);
    req.end();
  });
}

interface Rig extends ThreeClients { xcap: XcapServer; carolToken: string; restRoot: string }

/** Kamailio, the XCAP server with a document per user, epcscf with Ut and web tokens on, one client per plugin. */
async function setUp(t: Test): Promise<Rig> {
  const xcap = await startXcapServer(Object.fromEntries(USERS.map((user) => [user, simservsDocument()])));
  t.teardown(() => xcap.close());
  const dir = await mkdtemp(join(tmpdir(), 'epcscf-ut-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const key = await makeKey('ES256', 'wwsf-ut');
  await writeJwksFile(join(dir, 'jwks.json'), [key]);
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const clients = await epcscfWithThreeClients(t, core.uri('udp'), {
    ut: { xcapRoot: xcap.root, timeoutMs: 5000 },
    webAuth: { issuers: [{ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: { file: join(dir, 'jwks.json') } }] },
  });
  const carolToken = await signToken({ key, claims: { impu: 'sip:carol@ims.test', sub: 'carol@ims.test' } });
  return { ...clients, xcap, carolToken, restRoot: `http://127.0.0.1:${clients.epcscf.w2Port}/ut` };
}

/** TS 24.109 §6.6: every request the XCAP server got was asserted as `impu`, for `impu`'s own document. */
function assertOnlyOwn(t: Test, xcap: XcapServer, from: number, impu: string): void {
  const seen = xcap.requests.slice(from);
  t.ok(seen.length > 0, `the XCAP server got ${impu}'s requests`);
  t.same(seen.filter((r) => r.assertedIdentity !== impu || r.xui !== impu || r.intendedIdentity !== impu), [],
    `X-3GPP-Asserted-Identity and X-3GPP-Intended-Identity were "${impu}", and only ${impu}'s document was asked for`);
}

t.test('TS 24.623 over JSON-RPC, xmpp-ws and sip-ws REST: each client reads its simservs, sets CFU, barring and the OIR default, and reads them back', async (t) => {
  const { epcscf, carol, bob, alice, xcap, carolToken, restRoot } = await setUp(t);
  t.ok(epcscf.pcscf, 'epcscf up');

  await t.test('jsonrpc-ws: ut.get / ut.put with the ETag / ut.get; another user\'s document is -32030', async (t) => {
    const from = xcap.requests.length;
    const whole = await bob.request('ut.get', {});
    t.equal(whole['status'], 200);
    t.match(whole['xml'], /<simservs [^>]*xmlns="http:\/\/uri\.etsi\.org\/ngn\/params\/xml\/simservs\/xcap"/, 'the simservs document');
    const put = await bob.request('ut.put', { node: CDIV, xml: cfu('sip:voicemail@ims.test'), etag: whole['etag'] });
    t.equal(put['status'], 200, 'CFU set (If-Match: the ETag just read)');
    t.not(put['etag'], whole['etag'], 'a new ETag');
    t.equal((await bob.request('ut.put', { node: ICB, xml: BAIC }))['status'], 200, 'BAIC set');
    t.equal((await bob.request('ut.put', { node: OIR, xml: OIR_RESTRICTED }))['status'], 200, 'OIR default restricted');
    const stale = await bob.request('ut.put', { node: CDIV, xml: cfu('sip:elsewhere@ims.test'), etag: whole['etag'] });
    t.equal(stale['status'], 412, 'a stale ETag: the XCAP server\'s 412 is the result');
    const cdiv = await bob.request('ut.get', { node: CDIV });
    t.match(cdiv['xml'], /<cp:rule id="cfu">.*<target>sip:voicemail@ims\.test<\/target>/, 'CFU read back');
    t.equal(cdiv['contentType'], 'application/xcap-el+xml');
    t.match((await bob.request('ut.get', { node: ICB }))['xml'], /active="true".*<allow>false<\/allow>/, 'BAIC read back');
    t.match((await bob.request('ut.get', { node: OIR }))['xml'], /<default-behaviour>presentation-restricted<\/default-behaviour>/, 'OIR default read back');
    await t.rejects(bob.request('ut.get', { path: '/simservs.ngn.etsi.org/users/sip:alice@ims.test/simservs.xml' }), { code: -32030 }, 'alice\'s document: refused');
    await t.rejects(bob.request('ut.put', { node: CDIV, xml: '<communication-diversion>' }), { code: -32602 }, 'a body that is not XML: refused');
    assertOnlyOwn(t, xcap, from, 'sip:bob@ims.test');
    t.match(xcap.document('sip:bob@ims.test'), /sip:voicemail@ims\.test/, 'the XCAP server stored bob\'s CFU');
  });

  await t.test('xmpp-ws: <ut xmlns="urn:epcscf:mmtel:0"/> get and set IQs; another user\'s document is forbidden', async (t) => {
    const from = xcap.requests.length;
    const iq = async (id: string, type: 'get' | 'set', attrs: Record<string, string>, child?: string): Promise<XmlNode> => {
      const mark = alice.received.length;
      await alice.send(xml('iq', { type, id }, xml('ut', { xmlns: MMTEL, ...attrs }, ...(child !== undefined ? [parseXml(child)] : []))));
      return alice.next((s) => s.is('iq') && s.attrs['id'] === id, 8000, mark);
    };
    const read = await iq('ut1', 'get', {});
    t.equal(read.attrs['type'], 'result');
    const doc = read.getChild('ut', MMTEL);
    t.equal(doc?.attrs['status'], '200');
    t.ok(doc?.getChild('simservs', SIMSERVS_NS), 'the simservs document as XML inside <ut/>');
    for (const [id, node, body] of [['ut2', CDIV, cfu('sip:alice-mobile@ims.test')], ['ut3', ICB, BAIC], ['ut4', OIR, OIR_RESTRICTED]] as const) {
      const set = await iq(id, 'set', { node }, body);
      t.equal(set.attrs['type'], 'result', `${node} set`);
      t.equal(set.getChild('ut', MMTEL)?.attrs['status'], '200');
    }
    const cdiv = (await iq('ut5', 'get', { node: CDIV })).getChild('ut', MMTEL)?.getChild('communication-diversion', SIMSERVS_NS);
    t.equal(cdiv?.attrs['active'], 'true');
    t.equal(cdiv?.getChild('ruleset', COMMON_POLICY_NS)?.getChild('rule', COMMON_POLICY_NS)?.getChild('actions', COMMON_POLICY_NS)
      ?.getChild('forward-to', SIMSERVS_NS)?.getChildText('target', SIMSERVS_NS), 'sip:alice-mobile@ims.test', 'CFU read back');
    const oir = (await iq('ut6', 'get', { node: OIR })).getChild('ut', MMTEL)?.getChild('originating-identity-presentation-restriction', SIMSERVS_NS);
    t.equal(oir?.getChildText('default-behaviour', SIMSERVS_NS), 'presentation-restricted', 'OIR default read back');
    const icb = (await iq('ut7', 'get', { node: ICB })).getChild('ut', MMTEL)?.getChild('incoming-communication-barring', SIMSERVS_NS);
    t.equal(icb?.attrs['active'], 'true', 'BAIC read back');
    const other = await iq('ut8', 'get', { path: '/simservs.ngn.etsi.org/users/sip:bob@ims.test/simservs.xml' });
    t.equal(other.attrs['type'], 'error');
    t.ok(other.getChild('error')?.getChild('forbidden', 'urn:ietf:params:xml:ns:xmpp-stanzas'), 'bob\'s document: <forbidden/>');
    assertOnlyOwn(t, xcap, from, 'sip:alice@ims.test');
  });

  await t.test('sip-ws: the JsSIP user reaches the REST endpoint with its web token (Authorization: Bearer)', async (t) => {
    t.equal(carol.ua.isRegistered(), true, 'carol (JsSIP) is registered over sip-ws');
    const from = xcap.requests.length;
    const own = `${restRoot}/simservs.ngn.etsi.org/users/sip:carol@ims.test/simservs.xml`;
    const bearer = { authorization: `Bearer ${carolToken}` };
    const whole = await fetch(own, { headers: bearer });
    t.equal(whole.status, 200);
    t.equal(whole.headers.get('content-type'), 'application/vnd.etsi.simservs+xml');
    const etag = whole.headers.get('etag') ?? '';
    t.match(await whole.text(), /<simservs /);
    const put = (node: string, body: string, extra: Record<string, string> = {}): Promise<Response> =>
      fetch(`${own}/~~/${node}`, { method: 'PUT', headers: { ...bearer, 'content-type': 'application/xcap-el+xml', ...extra }, body });
    t.equal((await put(CDIV, cfu('sip:carol-desk@ims.test'), { 'if-match': etag })).status, 200, 'CFU set with If-Match');
    t.equal((await put(ICB, BAIC)).status, 200, 'BAIC set');
    t.equal((await put(OIR, OIR_RESTRICTED)).status, 200, 'OIR default set');
    t.equal((await put(CDIV, cfu('sip:x@ims.test'), { 'if-match': etag })).status, 412, 'a stale ETag: 412 from the XCAP server');
    const cdiv = await fetch(`${own}/~~/${CDIV}`, { headers: bearer });
    t.match(await cdiv.text(), /<target>sip:carol-desk@ims\.test<\/target>/, 'CFU read back');
    t.match(await (await fetch(`${own}/~~/${OIR}`, { headers: bearer })).text(), /presentation-restricted/, 'OIR default read back');
    t.match(await (await fetch(`${own}/~~/${ICB}`, { headers: bearer })).text(), /<allow>false<\/allow>/, 'BAIC read back');
    assertOnlyOwn(t, xcap, from, 'sip:carol@ims.test');

    const before = xcap.requests.length;
    const others = await fetch(`${restRoot}/simservs.ngn.etsi.org/users/sip:bob@ims.test/simservs.xml`, { headers: bearer });
    t.equal(others.status, 403, 'bob\'s document with carol\'s token: 403');
    // Sent as is (fetch would resolve the dot segments itself, RFC 3986 §5.2.4).
    const ownPath = new URL(own).pathname;
    t.equal(await rawGet(epcscf.w2Port, `${ownPath}/~~/simservs/%2e%2e/%2e%2e/sip:bob@ims.test`, bearer), 400, 'encoded traversal in the node selector: 400');
    t.equal(await rawGet(epcscf.w2Port, `${ownPath.replace('sip:carol@ims.test', 'sip:carol@ims.test/../sip:bob@ims.test')}`, bearer), 400, 'a dot segment in the document path: 400');
    t.equal(await rawGet(epcscf.w2Port, '/ut/pres-rules/users/sip:carol@ims.test/index', bearer), 403, 'another application usage: 403');
    const forged = await fetch(own, { headers: { authorization: `Bearer ${carolToken.slice(0, -4)}AAAA` } });
    t.equal(forged.status, 401, 'a forged token: 401');
    t.match(forged.headers.get('www-authenticate'), /^Bearer error="invalid_token"/);
    t.equal(xcap.requests.length, before, 'none of these reached the XCAP server');

    // A digest sip-ws client (no web token): the XCAP server's own challenge comes back, nothing asserted.
    const noToken = await fetch(own);
    t.equal(noToken.status, 401);
    t.equal(noToken.headers.get('www-authenticate'), DIGEST_CHALLENGE, 'the XCAP server\'s digest challenge passes through');
    t.equal(xcap.requests.at(-1)?.assertedIdentity, undefined, 'no identity asserted without a token');
  });

  t.same(xcap.requests.filter((r) => r.assertedIdentity !== undefined && r.assertedIdentity !== r.xui), [],
    'over the whole run the XCAP server never saw a request for a document other than the asserted user\'s');
});
