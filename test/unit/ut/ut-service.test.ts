// Ut (TS 24.623) proxy policy against the test XCAP server: a client reaches only the document
// of the identity it authenticated as, that identity is asserted (TS 24.109
// X-3GPP-Asserted-Identity), bodies are bounded and well-formed, ETags pass through.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { EpcError } from '../../../core/errors.js';
import { UtService, type UtIdentities } from '../../../core/ut/index.js';
import { tokenRefusal, type WebTokenOutcome } from '../../../core/webauth/index.js';
import { SIMSERVS_NS, simservsDocument, startXcapServer, type XcapServer } from '../../support/xcap-server.js';

const ALICE = 'sip:alice@ims.test';
const BOB = 'sip:bob@ims.test';
const CFU = `<communication-diversion xmlns="${SIMSERVS_NS}" xmlns:cp="urn:ietf:params:xml:ns:common-policy" active="true"><cp:ruleset><cp:rule id="cfu"><cp:conditions/><cp:actions><forward-to><target>sip:voicemail@ims.test</target></forward-to></cp:actions></cp:rule></cp:ruleset></communication-diversion>`;

/** alice registered on connection c1, nobody on c2; tokens are 'token-<impu>'. */
const identities: UtIdentities = {
  registeredIdentities: async (connectionId) => (connectionId === 'c1' ? [ALICE] : []),
  verifyWebToken: async (token): Promise<WebTokenOutcome> => (token.startsWith('token-')
    ? { ok: true, grant: { impu: token.slice(6), impi: 'x', expiresAt: Date.now() + 60_000, issuer: { issuer: 'i', audience: 'a', jwks: { file: 'f' }, expiryEndsRegistration: false } } }
    : { ok: false, refusal: tokenRefusal('signature_invalid') }),
};

async function rig(t: Test, options: { maxBodyBytes?: number; timeoutMs?: number } = {}): Promise<{ xcap: XcapServer; ut: UtService }> {
  const xcap = await startXcapServer({ [ALICE]: simservsDocument(), [BOB]: simservsDocument() });
  t.teardown(() => xcap.close());
  const ut = new UtService({ xcapRoot: new URL(xcap.root), timeoutMs: options.timeoutMs ?? 2000, maxBodyBytes: options.maxBodyBytes ?? 65536, identities });
  return { xcap, ut };
}

async function refusal(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error instanceof EpcError ? error.code : String(error);
  }
}

t.test('TS 24.109 §6.6: the registered identity is asserted toward the XCAP server, and its document comes back with its ETag', async (t) => {
  const { xcap, ut } = await rig(t);
  const whole = await ut.forConnection('c1', { method: 'GET' });
  t.equal(whole.status, 200);
  t.match(whole.body, /<simservs /);
  t.match(whole.etag, /^"v\d+"$/, 'the ETag passes through');
  t.same(xcap.requests.map((r) => [r.path, r.assertedIdentity, r.intendedIdentity]), [
    ['/simservs.ngn.etsi.org/users/sip:alice@ims.test/simservs.xml', ALICE, ALICE],
  ], 'X-3GPP-Asserted-Identity and X-3GPP-Intended-Identity name alice');
});

t.test('RFC 4825 §8.2: PUT an element with If-Match; a stale ETag gets the server\'s 412', async (t) => {
  const { xcap, ut } = await rig(t);
  const before = await ut.forConnection('c1', { method: 'GET', node: 'simservs/communication-diversion' });
  const put = await ut.forConnection('c1', { method: 'PUT', node: 'simservs/communication-diversion', body: CFU, ...(before.etag ? { ifMatch: before.etag } : {}) });
  t.equal(put.status, 200);
  t.not(put.etag, before.etag, 'a new ETag');
  t.equal(xcap.requests.at(-1)?.contentType, 'application/xcap-el+xml', 'RFC 4825 §15.2.1 element media type');
  t.equal(xcap.requests.at(-1)?.ifMatch, before.etag, 'If-Match passed through');
  t.match(xcap.document(ALICE), /<target>sip:voicemail@ims\.test<\/target>/);
  const stale = await ut.forConnection('c1', { method: 'PUT', node: 'simservs/communication-diversion', body: CFU, ...(before.etag ? { ifMatch: before.etag } : {}) });
  t.equal(stale.status, 412, 'an XCAP outcome is an answer, not a fault');
});

t.test('Ut policy: another user\'s document is refused and never reaches the XCAP server', async (t) => {
  const { xcap, ut } = await rig(t);
  t.equal(await refusal(ut.forConnection('c1', { method: 'GET', path: '/simservs.ngn.etsi.org/users/sip:bob@ims.test/simservs.xml' })), 'EPC_ERR_UT_FORBIDDEN');
  t.equal(await refusal(ut.forConnection('c1', { method: 'PUT', path: '/simservs.ngn.etsi.org/users/sip:bob@ims.test/simservs.xml/~~/simservs/communication-diversion', body: CFU })), 'EPC_ERR_UT_FORBIDDEN');
  t.equal(await refusal(ut.forConnection('c2', { method: 'GET' })), 'EPC_ERR_UT_FORBIDDEN', 'a connection with no registration has no document');
  t.equal(await refusal(ut.forToken(`token-${ALICE}`, undefined, { method: 'GET', path: '/simservs.ngn.etsi.org/users/sip:bob@ims.test/simservs.xml' })), 'EPC_ERR_UT_FORBIDDEN', 'nor with a token for alice');
  t.equal(await refusal(ut.forToken('forged', undefined, { method: 'GET' })), 'EPC_ERR_UT_FORBIDDEN', 'a refused token reaches nothing');
  t.equal(await refusal(ut.forConnection('c1', { method: 'GET', path: '/simservs.ngn.etsi.org/users/sip:alice@ims.test/../sip:bob@ims.test/simservs.xml' })), 'EPC_ERR_UT_BAD_REQUEST', 'traversal');
  t.equal(await refusal(ut.forConnection('c1', { method: 'GET', node: 'simservs/../../sip:bob@ims.test' })), 'EPC_ERR_UT_BAD_REQUEST', 'traversal in a node selector');
  t.same(xcap.requests, [], 'the XCAP server saw none of these');
});

t.test('Ut policy: an oversized or malformed body, or a header injection, is refused before it leaves', async (t) => {
  const { xcap, ut } = await rig(t, { maxBodyBytes: 1024 });
  const big = `<communication-diversion xmlns="${SIMSERVS_NS}">${'<x/>'.repeat(400)}</communication-diversion>`;
  t.equal(await refusal(ut.forConnection('c1', { method: 'PUT', node: 'simservs/communication-diversion', body: big })), 'EPC_ERR_UT_BAD_REQUEST', 'larger than ut.maxBodyBytes');
  t.equal(await refusal(ut.forConnection('c1', { method: 'PUT', node: 'simservs/communication-diversion', body: '<communication-diversion>' })), 'EPC_ERR_UT_BAD_REQUEST', 'not well-formed');
  t.equal(await refusal(ut.forConnection('c1', { method: 'PUT', node: 'simservs/communication-diversion', body: '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>' })), 'EPC_ERR_UT_BAD_REQUEST', 'no DTD');
  t.equal(await refusal(ut.forConnection('c1', { method: 'PUT', node: 'simservs/communication-diversion', body: '<a/><b/>' })), 'EPC_ERR_UT_BAD_REQUEST', 'one element');
  t.equal(await refusal(ut.forConnection('c1', { method: 'GET', ifMatch: '"v1"\r\nX-3GPP-Asserted-Identity: "sip:bob@ims.test"' })), 'EPC_ERR_UT_BAD_REQUEST', 'CR/LF in If-Match');
  t.same(xcap.requests, [], 'nothing reached the XCAP server');
});

t.test('Ut bounds: an XCAP server that does not answer in time, or answers too much, is EPC_ERR_UT_UNAVAILABLE', async (t) => {
  const hung = createServer(() => undefined);
  const huge = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/vnd.etsi.simservs+xml' }).end('<simservs>' + ' '.repeat(4096) + '</simservs>'));
  await Promise.all([hung, huge].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
  t.teardown(() => { hung.closeAllConnections(); hung.close(); huge.closeAllConnections(); huge.close(); });
  const at = (s: typeof hung): URL => new URL(`http://127.0.0.1:${(s.address() as AddressInfo).port}/`);
  const slow = new UtService({ xcapRoot: at(hung), timeoutMs: 300, maxBodyBytes: 65536, identities });
  t.equal(await refusal(slow.forConnection('c1', { method: 'GET' })), 'EPC_ERR_UT_UNAVAILABLE', 'ut.timeoutMs');
  const bounded = new UtService({ xcapRoot: at(huge), timeoutMs: 2000, maxBodyBytes: 1024, identities });
  t.equal(await refusal(bounded.forConnection('c1', { method: 'GET' })), 'EPC_ERR_UT_UNAVAILABLE', 'ut.maxBodyBytes on the answer');
  const closed = new UtService({ xcapRoot: new URL('http://127.0.0.1:9/'), timeoutMs: 2000, maxBodyBytes: 1024, identities });
  t.equal(await refusal(closed.forConnection('c1', { method: 'GET' })), 'EPC_ERR_UT_UNAVAILABLE', 'unreachable');
});

t.test('digest pass-through: no identity is asserted, the client\'s Authorization goes on and the XCAP server\'s challenge comes back', async (t) => {
  const { xcap, ut } = await rig(t);
  const answer = await ut.passThrough(undefined, { method: 'GET', path: '/simservs.ngn.etsi.org/users/sip:alice@ims.test/simservs.xml' });
  t.equal(answer.status, 401);
  t.match(answer.wwwAuthenticate, /^Digest realm="xcap\.ims\.test"/);
  await ut.passThrough('Digest username="alice", response="x"', { method: 'GET', path: '/simservs.ngn.etsi.org/users/sip:alice@ims.test/simservs.xml' });
  t.same(xcap.requests.map((r) => [r.assertedIdentity, r.intendedIdentity, r.authorization]), [
    [undefined, ALICE, undefined], [undefined, ALICE, 'Digest username="alice", response="x"'],
  ]);
  t.equal(await refusal(ut.passThrough(undefined, { method: 'GET', path: '/pres-rules/users/sip:alice@ims.test/index' })), 'EPC_ERR_UT_FORBIDDEN', 'still only simservs');
});
