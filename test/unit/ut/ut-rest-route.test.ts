// The Ut REST endpoint (core/ut/ut-rest-route.ts) through fastify inject(): Bearer tokens reach
// only their IMPU's document, bodies are bounded, and without a token the digest pass-through can
// be turned off (ut.passDigestToXcap: false → 401 Bearer).
import Fastify from 'fastify';
import t, { type Test } from 'tap';
import { registerUtRoutes, UtService, type UtIdentities } from '../../../core/ut/index.js';
import { tokenRefusal, type WebTokenOutcome } from '../../../core/webauth/index.js';
import { SIMSERVS_NS, simservsDocument, startXcapServer, type XcapServer } from '../../support/xcap-server.js';

const ALICE = 'sip:alice@ims.test';
const DOC = '/ut/simservs.ngn.etsi.org/users/sip:alice@ims.test/simservs.xml';
const identities: UtIdentities = {
  registeredIdentities: async () => [],
  verifyWebToken: async (token): Promise<WebTokenOutcome> => (token === 'alice-token'
    ? { ok: true, grant: { impu: ALICE, impi: 'alice@ims.test', expiresAt: Date.now() + 60_000, issuer: { issuer: 'i', audience: 'a', jwks: { file: 'f' }, expiryEndsRegistration: false } } }
    : { ok: false, refusal: tokenRefusal('expired') }),
};

async function app(t: Test, passDigestToXcap: boolean, allowedOrigins: readonly string[] = []): Promise<{ xcap: XcapServer; inject: ReturnType<typeof Fastify>['inject'] }> {
  const xcap = await startXcapServer({ [ALICE]: simservsDocument() });
  t.teardown(() => xcap.close());
  const server = Fastify();
  t.teardown(() => server.close());
  await registerUtRoutes(server, new UtService({ xcapRoot: new URL(xcap.root), timeoutMs: 2000, maxBodyBytes: 2048, identities }), { restPath: '/ut', passDigestToXcap, allowedOrigins });
  return { xcap, inject: server.inject.bind(server) };
}

t.test('REST Ut with a Bearer token: the own document with ETag and media type; PUT passes If-Match; another user is 403', async (t) => {
  const { xcap, inject } = await app(t, true);
  const auth = { authorization: 'Bearer alice-token' };
  const got = await inject({ method: 'GET', url: DOC, headers: auth });
  t.equal(got.statusCode, 200);
  t.equal(got.headers['content-type'], 'application/vnd.etsi.simservs+xml');
  const etag = String(got.headers['etag']);
  const body = `<communication-diversion xmlns="${SIMSERVS_NS}" active="true"/>`;
  const put = await inject({ method: 'PUT', url: `${DOC}/~~/simservs/communication-diversion`, headers: { ...auth, 'content-type': 'application/xcap-el+xml', 'if-match': etag }, payload: body });
  t.equal(put.statusCode, 200);
  t.equal(xcap.requests.at(-1)?.ifMatch, etag);
  t.equal(xcap.requests.at(-1)?.assertedIdentity, ALICE);
  const other = await inject({ method: 'GET', url: '/ut/simservs.ngn.etsi.org/users/sip:bob@ims.test/simservs.xml', headers: auth });
  t.equal(other.statusCode, 403);
  const expired = await inject({ method: 'GET', url: DOC, headers: { authorization: 'Bearer other' } });
  t.equal(expired.statusCode, 401);
  t.equal(JSON.parse(expired.body).message, 'Token expired', 'the core/webauth reason phrase');
  t.equal(xcap.requests.length, 2, 'the refused ones never reached the XCAP server');
});

t.test('REST Ut bounds: a body over ut.maxBodyBytes is 413, a body that is not XML 400, a query 400', async (t) => {
  const { xcap, inject } = await app(t, true);
  const auth = { authorization: 'Bearer alice-token', 'content-type': 'application/xcap-el+xml' };
  const big = await inject({ method: 'PUT', url: `${DOC}/~~/simservs/communication-diversion`, headers: auth, payload: `<communication-diversion>${'x'.repeat(4096)}</communication-diversion>` });
  t.equal(big.statusCode, 413);
  const notXml = await inject({ method: 'PUT', url: `${DOC}/~~/simservs/communication-diversion`, headers: auth, payload: '<communication-diversion' });
  t.equal(notXml.statusCode, 400);
  const query = await inject({ method: 'GET', url: `${DOC}?user=sip:bob@ims.test`, headers: auth });
  t.equal(query.statusCode, 400);
  t.equal(xcap.requests.length, 0);
});

t.test('ut.passDigestToXcap: true hands the XCAP server\'s digest challenge back; false answers 401 Bearer itself', async (t) => {
  const open = await app(t, true);
  const passed = await open.inject({ method: 'GET', url: DOC });
  t.equal(passed.statusCode, 401);
  t.match(passed.headers['www-authenticate'], /^Digest /);
  t.equal(open.xcap.requests[0]?.assertedIdentity, undefined, 'nothing asserted');
  const closed = await app(t, false);
  const refused = await closed.inject({ method: 'GET', url: DOC, headers: { authorization: 'Digest username="alice"' } });
  t.equal(refused.statusCode, 401);
  t.equal(refused.headers['www-authenticate'], 'Bearer');
  t.equal(closed.xcap.requests.length, 0);
});

t.test('CORS for browser WICs: an allowed Origin is echoed with ETag exposed and a preflight; another Origin is 403 (R-WS-4)', async (t) => {
  const { xcap, inject } = await app(t, true, ['https://wwsf.test']);
  const preflight = await inject({ method: 'OPTIONS', url: `${DOC}/~~/simservs/communication-diversion`, headers: { origin: 'https://wwsf.test', 'access-control-request-method': 'PUT' } });
  t.equal(preflight.statusCode, 204);
  t.equal(preflight.headers['access-control-allow-origin'], 'https://wwsf.test');
  t.match(preflight.headers['access-control-allow-headers'], /Authorization/);
  t.match(preflight.headers['access-control-allow-methods'], /PUT/);
  const got = await inject({ method: 'GET', url: DOC, headers: { origin: 'https://wwsf.test', authorization: 'Bearer alice-token' } });
  t.equal(got.statusCode, 200);
  t.equal(got.headers['access-control-allow-origin'], 'https://wwsf.test');
  t.match(got.headers['access-control-expose-headers'], /ETag/);
  const evil = await inject({ method: 'GET', url: DOC, headers: { origin: 'https://evil.test', authorization: 'Bearer alice-token' } });
  t.equal(evil.statusCode, 403);
  t.equal(xcap.requests.length, 1, 'the foreign Origin reached nothing');
});
