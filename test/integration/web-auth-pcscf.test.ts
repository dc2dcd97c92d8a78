// The P-CSCF's trusted-node procedures on the exact messages (pcscf-rig: an in-memory W2 session
// and a fake IMS core on UDP that the test answers by hand): what a flow remembers of its grant,
// how a refresh without the token is sent, a core that will not trust us, and web auth off.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { resolveConfig } from '../../core/config/index.js';
import { getHeader, getHeaders, type SipRequest } from '../../core/sip/index.js';
import { WebTokenVerifier } from '../../core/webauth/index.js';
import { contact, invite, register, setup } from '../support/pcscf-rig.js';
import { TEST_AUDIENCE, TEST_ISSUER, makeKey, signToken, writeJwksFile, type TestKey } from '../support/web-tokens.js';

const TNA = 'Digest username="alice@ims.test", realm="ims.test", uri="sip:ims.test", nonce="", response="", integrity-protected="auth-done"';

async function verifier(t: Test): Promise<{ webTokens: WebTokenVerifier; key: TestKey }> {
  const dir = await mkdtemp(join(tmpdir(), 'epcscf-webauth-rig-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const key = await makeKey('ES256', 'k1');
  await writeJwksFile(join(dir, 'jwks.json'), [key]);
  const config = resolveConfig({ webAuth: { issuers: [{ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: { file: join(dir, 'jwks.json') } }] } }, { configDir: dir, env: {} });
  return { webTokens: await WebTokenVerifier.create(config.webAuth), key };
}

/** The rig's REGISTER with a Bearer token. */
const withToken = (cseq: number, token: string, extra: [string, string][] = []): SipRequest => register(cseq, [['Authorization', `Bearer ${token}`], ...extra]);

t.test('R-REG-9: a refresh on the same flow without the token stays a trusted-node REGISTER; after the WIC de-registers, the flow forgets the grant', async (t) => {
  const { webTokens, key } = await verifier(t);
  const { core, pcscf, wic } = await setup(t, { webTokens });
  await pcscf.fromClient('conn-1', withToken(1, await signToken({ key })));
  const first = await core.request('REGISTER');
  t.same(getHeaders(first, 'Authorization'), [TNA]);
  t.equal(getHeader(first, 'P-Asserted-Identity'), undefined, 'the WIC\'s untrusted headers are gone as on any REGISTER');
  core.answer(first, 200, { headers: [['Contact', `${contact};expires=600`], ['Path', getHeader(first, 'Path') ?? '']] });
  await wic.response(200, 'REGISTER');

  await pcscf.fromClient('conn-1', register(2));
  const refresh = await core.request('REGISTER');
  t.same(getHeaders(refresh, 'Authorization'), [TNA], 'the refresh without a token carries the trusted-node Authorization');
  core.answer(refresh, 200, { headers: [['Contact', `${contact};expires=600`]] });
  await wic.response(200, 'REGISTER');

  const expiresZero = register(3);
  await pcscf.fromClient('conn-1', { ...expiresZero, headers: expiresZero.headers.map((h) => (h.name === 'Expires' ? { name: 'Expires', value: '0' } : h)) });
  const deregistration = await core.request('REGISTER');
  t.same(getHeaders(deregistration, 'Authorization'), [TNA], 'the WIC\'s de-registration too');
  core.answer(deregistration, 200);
  await wic.response(200, 'REGISTER');
  t.same(await pcscf.registrations.all(), []);

  await pcscf.fromClient('conn-1', register(4));
  const plain = await core.request('REGISTER');
  t.same(getHeaders(plain, 'Authorization'), [], 'the grant is forgotten: a REGISTER without a token is scenario 1 again');
});

t.test('a core that challenges a trusted-node REGISTER: the WIC gets 403 (it has no IMS password to answer with)', async (t) => {
  const { webTokens, key } = await verifier(t);
  const { core, pcscf, wic } = await setup(t, { webTokens });
  await pcscf.fromClient('conn-1', withToken(1, await signToken({ key })));
  const atCore = await core.request('REGISTER');
  core.answer(atCore, 401, { headers: [['WWW-Authenticate', 'Digest realm="ims.test", nonce="abc", qop="auth"']] });
  const refused = await wic.response(403, 'REGISTER');
  t.equal(refused.reason, 'Forbidden - trusted-node registration refused by the IMS core');
  t.equal(getHeader(refused, 'WWW-Authenticate'), undefined, 'no challenge reaches the WIC');
  t.same(await pcscf.registrations.all(), []);
});

t.test('R-REG-4: with web authentication off (no issuers), a REGISTER with a Bearer token gets 403 Token issuer unknown and nothing on Mw', async (t) => {
  const { core, pcscf, wic } = await setup(t);
  const key = await makeKey('ES256', 'k1');
  await pcscf.fromClient('conn-1', withToken(1, await signToken({ key })));
  const refused = await wic.response(403, 'REGISTER');
  t.equal(refused.reason, 'Token issuer unknown');
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.same(core.received, [], 'nothing on Mw');
});

t.test('R-REG-3: the token a flow registered with is not verified again on each initial request (a UA repeats it); another token is', async (t) => {
  const { webTokens, key } = await verifier(t);
  let verifications = 0;
  const verify = webTokens.verify.bind(webTokens);
  webTokens.verify = (...args: Parameters<WebTokenVerifier['verify']>) => { verifications++; return verify(...args); };
  const { core, pcscf, wic } = await setup(t, { webTokens });
  const token = await signToken({ key });
  await pcscf.fromClient('conn-1', withToken(1, token));
  const atCore = await core.request('REGISTER');
  core.answer(atCore, 200, { headers: [['Contact', `${contact};expires=600`], ['Path', getHeader(atCore, 'Path') ?? ''], ['Service-Route', `<sip:orig@127.0.0.1:${core.port};lr>`]] });
  await wic.response(200, 'REGISTER');
  t.equal(verifications, 1, 'the REGISTER verified the token');
  await pcscf.fromClient('conn-1', invite(undefined, [['Authorization', `Bearer ${token}`]]));
  const first = await core.request('INVITE');
  t.equal(getHeader(first, 'Authorization'), undefined, 'R-REG-5: the token is stripped');
  t.equal(verifications, 1, 'the same token on an initial request: its digest matches the grant, no second signature check');
  const other = await signToken({ key, claims: { exp: Math.floor(Date.now() / 1000) + 900 } });
  const second = invite('<sip:alice@ims.test>;tag=a2', [['Authorization', `Bearer ${other}`]]);
  await pcscf.fromClient('conn-1', { ...second, headers: second.headers.map((h) => (h.name === 'Call-ID' ? { name: 'Call-ID', value: 'call-b' } : h.name === 'Via' ? { name: 'Via', value: h.value.replace('inv-a', 'inv-b') } : h)) });
  await core.request('INVITE');
  t.equal(verifications, 2, 'a fresh token is verified');
});
