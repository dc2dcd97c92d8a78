// TS 24.371 scenarios 2 and 3 over SIP over WebSocket (R-REG-1..10, 25): a JsSIP WIC registers
// with a web token through epcscf (the real W2 server and sip-ws plugin) into the dev IMS core,
// which trusts epcscf's Mw address only. Every SIP message epcscf sent on Mw is captured: a
// good token gives exactly the trusted-node REGISTER, a bad one a 403 with its reason and
// nothing at all on Mw.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { Registry } from 'prom-client';
import { observeWebAuth } from '../../core/admin/index.js';
import { getHeader, getHeaders, serializeMessage, type SipRequest } from '../../core/sip/index.js';
import { TOKEN_REFUSAL_REASONS, type TokenRefusalCode } from '../../core/webauth/index.js';
import { DevImsCore } from '../../examples/dev-ims-core/index.js';
import { startEpcscf, type EpcscfUnderTest } from '../support/epcscf-harness.js';
import { RawSipWsClient } from '../support/sip-ws-stack.js';
import {
  TEST_AUDIENCE, TEST_ISSUER, hmacToken, makeKey, nowSeconds, signToken, startJwksServer, tamper, unsecuredToken, writeJwksFile,
  type JwksServer, type TestKey,
} from '../support/web-tokens.js';
import { JsSipUser } from '../support/wic/jssip-user.js';

const GUEST_ISSUER = 'https://guests.wwsf.test';
const ROTATING_ISSUER = 'https://rotating.wwsf.test';
const WWSF_ORIGIN = 'https://guests.wwsf.test';

interface Bed {
  readonly epcscf: EpcscfUnderTest;
  readonly core: DevImsCore;
  readonly key: TestKey;
  readonly jwksServer: JwksServer;
  readonly metrics: Registry;
}

async function startBed(t: Test, webAuthExtra: Record<string, unknown> = {}): Promise<Bed> {
  const dir = await mkdtemp(join(tmpdir(), 'epcscf-webauth-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const key = await makeKey('ES256', 'wwsf-1');
  await writeJwksFile(join(dir, 'jwks.json'), [key]);
  const jwksServer = await startJwksServer([await makeKey('EdDSA', 'rot-1')]);
  t.teardown(() => jwksServer.close());
  const core = await DevImsCore.start({ port: 0 });
  t.teardown(() => core.close());
  const epcscf = await startEpcscf({
    nextHop: core.uri,
    webAuth: {
      issuers: [
        { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: { file: join(dir, 'jwks.json') } },
        {
          issuer: GUEST_ISSUER, audience: TEST_AUDIENCE, jwks: { file: join(dir, 'jwks.json') }, origins: [WWSF_ORIGIN],
          impuPool: ['sip:guest1@ims.test', 'sip:guest2@ims.test', 'sip:guest3@ims.test'],
        },
        { issuer: ROTATING_ISSUER, audience: TEST_AUDIENCE, jwks: { url: jwksServer.url } },
      ],
      jwksCooldownSeconds: 0,
      ...webAuthExtra,
    },
  });
  t.teardown(() => epcscf.close());
  // R-REG-9: the dev core takes trusted-node REGISTERs from epcscf's Mw address only.
  core.trustNode({ host: '127.0.0.1', port: epcscf.mwPort });
  const metrics = new Registry();
  t.teardown(observeWebAuth(epcscf.pcscf.observer, metrics));
  return { epcscf, core, key, jwksServer, metrics };
}

async function tokenUser(t: Test, bed: Bed, user: string, authorization: string, options: { registrationOnly?: boolean } = {}): Promise<JsSipUser> {
  const wic = await JsSipUser.connect({ wsUrl: bed.epcscf.wsUrl, user, ...(options.registrationOnly ? {} : { extraHeaders: [`Authorization: ${authorization}`] }) });
  if (options.registrationOnly) wic.ua.registrator().setExtraHeaders([`Authorization: ${authorization}`]);
  t.teardown(() => wic.stop());
  return wic;
}

function mwOut(bed: Bed, from: number, method?: string): SipRequest[] {
  return bed.epcscf.capture.entries.slice(from).flatMap((e) => e.side === 'mw' && e.direction === 'out' && e.message.kind === 'request'
    && (method === undefined || e.message.method === method) ? [e.message] : []);
}

function lastResponseTo(wic: JsSipUser, method: string): { status: number; reason: string } {
  const response = wic.capture.responses('received', method).at(-1);
  return { status: response?.status ?? 0, reason: response?.reason ?? '' };
}

const TNA_ALICE = 'Digest username="alice@ims.test", realm="ims.test", uri="sip:ims.test", nonce="", response="", integrity-protected="auth-done"';

t.test('web tokens over sip-ws against the dev IMS core', async (t) => {
  const bed = await startBed(t);
  const { epcscf, core, key } = bed;

  t.test('R-REG-1, R-REG-2, R-REG-5, R-REG-9: a valid token registers alice as a trusted node: exactly one REGISTER on Mw with the TNA Authorization, no Bearer anywhere', async (t) => {
    const from = epcscf.capture.entries.length;
    const alice = await tokenUser(t, bed, 'alice', `Bearer ${await signToken({ key })}`);
    t.equal(await alice.register(), 200, 'the dev core registered alice without a challenge');
    const sent = mwOut(bed, from);
    t.same(sent.map((r) => r.method), ['REGISTER'], 'exactly one request on Mw');
    const register = sent[0] as SipRequest;
    t.same(getHeaders(register, 'Authorization'), [TNA_ALICE], 'R-REG-9: the trusted-node Authorization, nothing else');
    t.notMatch(serializeMessage(register).toString('utf8'), /bearer|eyJ/i, 'R-REG-5: no token left in the REGISTER');
    t.match(getHeader(register, 'Path'), /^<sip:[^>]*;lr/, 'R-REG-11: Path with our flow token');
    t.equal(getHeader(register, 'P-Visited-Network-ID'), 'epcscf.test', 'R-REG-13');
    t.match(getHeader(register, 'P-Charging-Vector'), /icid-value=/, 'R-REG-14');
    t.equal(core.location.bindings('alice').length, 1, 'the core holds alice\'s binding');
    t.equal((await epcscf.pcscf.registrations.byFlow((await epcscf.pcscf.registrations.all())[0]!.flowKey))[0]?.trustedNode?.impi, 'alice@ims.test');
  });

  t.test('R-REG-2: the TS 24.371 A.3.2 form access_token="..." registers too', async (t) => {
    const bob = await tokenUser(t, bed, 'bob', `Bearer access_token="${await signToken({ key, claims: { sub: 'bob@ims.test', impu: 'sip:bob@ims.test' } })}"`);
    t.equal(await bob.register(), 200);
  });

  t.test('R-REG-4, R-REG-10: each bad token gets 403 with the reason that says which, no challenge, and nothing at all on Mw', async (t) => {
    const now = nowSeconds();
    const claims = { iss: TEST_ISSUER, aud: TEST_AUDIENCE, iat: now, exp: now + 300, sub: 'carol@ims.test', impu: 'sip:carol@ims.test' };
    const carol = { sub: 'carol@ims.test', impu: 'sip:carol@ims.test' };
    const stranger = await makeKey('ES256', 'wwsf-1');
    const cases: [string, string, TokenRefusalCode][] = [
      ['expired', `Bearer ${await signToken({ key, now: now - 600, claims: carol })}`, 'expired'],
      ['not yet valid', `Bearer ${await signToken({ key, claims: { ...carol, nbf: now + 600 } })}`, 'not_yet_valid'],
      ['wrong audience', `Bearer ${await signToken({ key, claims: { ...carol, aud: 'other.test' } })}`, 'audience_not_accepted'],
      ['unknown issuer', `Bearer ${await signToken({ key, claims: { ...carol, iss: 'https://evil.test' } })}`, 'issuer_unknown'],
      ['unknown key', `Bearer ${await signToken({ key, header: { kid: 'nope' }, claims: carol })}`, 'key_unknown'],
      ['wrong key', `Bearer ${await signToken({ key: stranger, claims: carol })}`, 'signature_invalid'],
      ['tampered', `Bearer ${tamper(await signToken({ key, claims: { sub: 'alice@ims.test', impu: 'sip:alice@ims.test' } }), carol)}`, 'signature_invalid'],
      ['alg none', `Bearer ${unsecuredToken(claims)}`, 'algorithm_not_allowed'],
      ['HS256', `Bearer ${await hmacToken(claims)}`, 'algorithm_not_allowed'],
      ['missing impu', `Bearer ${await signToken({ key, claims: { sub: 'carol@ims.test', impu: undefined } })}`, 'claims_invalid'],
      ['IMPU not the token\'s', `Bearer ${await signToken({ key, claims: { sub: 'alice@ims.test', impu: 'sip:alice@ims.test' } })}`, 'impu_mismatch'],
      ['garbage', 'Bearer not.a.token', 'malformed'],
      ['an unreadable Bearer value', 'Bearer access_token=broken', 'malformed'],
    ];
    for (const [name, authorization, code] of cases) {
      const from = epcscf.capture.entries.length;
      const wic = await tokenUser(t, bed, 'carol', authorization);
      t.equal(await wic.register(), 403, `${name}: 403`);
      t.equal(lastResponseTo(wic, 'REGISTER').reason, TOKEN_REFUSAL_REASONS[code], `${name}: "${TOKEN_REFUSAL_REASONS[code]}"`);
      t.same(wic.capture.responses('received', 'REGISTER').map((r) => r.status), [403], `${name}: no challenge`);
      t.same(mwOut(bed, from), [], `${name}: nothing on Mw`);
      await wic.stop();
    }
    t.equal(core.location.bindings('carol').length, 0, 'carol was never registered');
    const exposition = await bed.metrics.metrics();
    t.match(exposition, /epcscf_web_token_refusals_total\{reason="expired"\} 1\b/, 'refusals are counted by reason');
    t.match(exposition, /epcscf_web_token_refusals_total\{reason="signature_invalid"\} 2\b/);
  });

  t.test('scenario 3 (R-REG-10): a guest IMPU in the pool registers, one outside is refused; the issuer\'s origins are enforced', async (t) => {
    const guestToken = (impu: string): Promise<string> => signToken({ key, claims: { iss: GUEST_ISSUER, sub: `${impu.slice(4)}`, impu } });
    const register = async (client: RawSipWsClient, user: string, token: string, n: number): Promise<{ status: number; reason: string }> => {
      const callId = `guest-${user}-${n}`;
      client.send([
        'REGISTER sip:ims.test SIP/2.0', `Via: SIP/2.0/WSS ${user}.invalid;branch=z9hG4bKg${n}`, 'Max-Forwards: 70',
        `From: <sip:${user}@ims.test>;tag=g${n}`, `To: <sip:${user}@ims.test>`, `Call-ID: ${callId}`, 'CSeq: 1 REGISTER',
        `Contact: <sip:${user}@${user}.invalid;transport=ws>`, 'Expires: 600', `Authorization: Bearer ${token}`,
      ]);
      const response = await client.response(callId, 'REGISTER');
      return { status: response.status, reason: response.reason };
    };
    let from = epcscf.capture.entries.length;
    const page = await RawSipWsClient.open(t, epcscf.wsUrl, { origin: WWSF_ORIGIN });
    t.same(await register(page, 'guest1', await guestToken('sip:guest1@ims.test'), 1), { status: 200, reason: 'OK' }, 'guest1 (in the pool) registered');
    t.equal(core.location.bindings('guest1').length, 1);
    t.match(getHeader(mwOut(bed, from, 'REGISTER')[0] as SipRequest, 'Authorization'), /username="guest1@ims.test".*integrity-protected="auth-done"/);
    from = epcscf.capture.entries.length;
    t.same(await register(page, 'alice', await guestToken('sip:alice@ims.test'), 2), { status: 403, reason: 'Token IMPU not in pool' }, 'alice is not in the guest pool');
    const elsewhere = await RawSipWsClient.open(t, epcscf.wsUrl, { origin: 'https://evil.test' });
    t.same(await register(elsewhere, 'guest2', await guestToken('sip:guest2@ims.test'), 3), { status: 403, reason: 'Token origin not allowed' }, 'the guest token used from another page');
    t.same(mwOut(bed, from), [], 'nothing on Mw for either');
    page.close();
  });

  t.test('a JWKS URL: a token of a rotated key is accepted without a restart; an unreachable JWKS gives 503 Token keys unavailable', async (t) => {
    const first = bed.jwksServer.keys[0] as TestKey;
    const alice = await tokenUser(t, bed, 'alice', `Bearer ${await signToken({ key: first, claims: { iss: ROTATING_ISSUER } })}`);
    t.equal(await alice.register(), 200, 'the first key');
    await alice.stop();
    const rotated = await makeKey('RS256', 'rot-2');
    bed.jwksServer.keys = [first, rotated];
    const bob = await tokenUser(t, bed, 'bob', `Bearer ${await signToken({ key: rotated, claims: { iss: ROTATING_ISSUER, sub: 'bob@ims.test', impu: 'sip:bob@ims.test' } })}`);
    t.equal(await bob.register(), 200, 'the new kid is fetched and accepted');
    bed.jwksServer.up = false;
    const later = await makeKey('ES256', 'rot-3');
    const from = epcscf.capture.entries.length;
    const carol = await tokenUser(t, bed, 'carol', `Bearer ${await signToken({ key: later, claims: { iss: ROTATING_ISSUER, sub: 'carol@ims.test', impu: 'sip:carol@ims.test' } })}`);
    t.equal(await carol.register(), 503);
    const refused = carol.capture.responses('received', 'REGISTER').at(-1);
    t.equal(refused?.reason, 'Token keys unavailable');
    t.equal(getHeader(refused!, 'Retry-After'), '30');
    t.same(mwOut(bed, from), [], 'nothing on Mw');
    bed.jwksServer.up = true;
  });

  t.test('R-REG-25: when the WebSocket closes, epcscf de-registers the trusted-node binding on Mw itself', async (t) => {
    const alice = await tokenUser(t, bed, 'alice', `Bearer ${await signToken({ key })}`);
    t.equal(await alice.register(), 200);
    t.equal(core.location.bindings('alice').length, 1);
    const from = epcscf.capture.entries.length;
    alice.kill();
    const deregistration = await epcscf.capture.waitFor((e) => e.side === 'mw' && e.direction === 'out' && e.message.kind === 'request' && e.message.method === 'REGISTER', { from, what: 'the de-registration' });
    const request = deregistration.message as SipRequest;
    t.equal(getHeader(request, 'Expires'), '0');
    t.same(getHeaders(request, 'Authorization'), [TNA_ALICE], 'with the trusted-node Authorization');
    t.match(getHeader(request, 'Contact'), /^<sip:[^>]+>/);
    t.notMatch(getHeader(request, 'Contact'), /expires=[1-9]/);
    await epcscf.capture.waitFor((e) => e.side === 'mw' && e.direction === 'in' && e.message.kind === 'response' && e.message.status === 200, { from, what: '200 to the de-registration' });
    t.equal(core.location.bindings('alice').length, 0, 'the core dropped the binding');
  });

  t.test('the dev IMS core challenges a trusted-node REGISTER that does not come from epcscf', async (t) => {
    const { SipStack } = await import('../../core/sip/index.js');
    const { createRequest } = await import('../../core/sip/index.js');
    const stack = await SipStack.start({ listeners: ['udp:127.0.0.1:0'], onRequest: () => undefined });
    t.teardown(() => stack.close());
    const forged = createRequest({ method: 'REGISTER', uri: 'sip:ims.test', headers: [
      ['Via', stack.newVia('udp')], ['Max-Forwards', '70'], ['From', '<sip:alice@ims.test>;tag=f1'], ['To', '<sip:alice@ims.test>'],
      ['Call-ID', 'forged-1'], ['CSeq', '1 REGISTER'], ['Contact', '<sip:alice@198.51.100.1>'], ['Expires', '600'], ['Authorization', TNA_ALICE],
    ] });
    const status = await new Promise<number>((resolve) => {
      stack.transactions.sendRequest(forged, { transport: 'udp', host: '127.0.0.1', port: core.address.port }, { onFinal: (r) => resolve(r.status) });
    });
    t.equal(status, 401, 'a digest challenge');
    t.equal(core.location.bindings('alice').length, 0);
  });
});

t.test('R-REG-3: token lifetime on a web-authenticated flow', async (t) => {
  const bed = await startBed(t, { clockSkewSeconds: 0 });
  const { epcscf, core, key } = bed;

  t.test('after expiry, initial INVITE and MESSAGE get 403 Token expired (with or without the token) and nothing on Mw; a refresh on the same flow goes on (expiryEndsRegistration false)', async (t) => {
    // Expires in 4 s: time enough to register even on a loaded machine.
    const exp = nowSeconds() + 4;
    const token = await signToken({ key, claims: { exp } });
    const alice = await tokenUser(t, bed, 'alice', `Bearer ${token}`, { registrationOnly: true });
    t.equal(await alice.register(), 200);
    const bob = await tokenUser(t, bed, 'bob', `Bearer ${await signToken({ key, claims: { sub: 'bob@ims.test', impu: 'sip:bob@ims.test' } })}`);
    t.equal(await bob.register(), 200);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, (exp + 1) * 1000 - Date.now())));
    const from = epcscf.capture.entries.length;
    alice.ua.sendMessage('sip:bob@ims.test', 'too late');
    const message = await alice.capture.waitFor((f) => f.direction === 'received' && f.message?.kind === 'response' && f.message.status >= 200 && f.message.headers.some((h) => h.name === 'CSeq' && h.value.endsWith('MESSAGE')));
    t.same(message.message?.kind === 'response' ? [message.message.status, message.message.reason] : [], [403, 'Token expired'], 'MESSAGE without a token: the flow\'s token lifetime applies');
    const call = alice.call('sip:bob@ims.test', [`Authorization: Bearer ${token}`]);
    t.equal((await call.ended()).status, 403, 'INVITE with the expired token');
    t.equal(lastResponseTo(alice, 'INVITE').reason, 'Token expired');
    t.same(mwOut(bed, from), [], 'nothing on Mw');
    t.equal(await alice.register(), 200, 'the refresh with the same (expired) token keeps the registration (expiryEndsRegistration: false)');
    t.same(getHeaders(mwOut(bed, from, 'REGISTER')[0] as SipRequest, 'Authorization'), [TNA_ALICE]);
    const fresh = await signToken({ key });
    const from2 = epcscf.capture.entries.length;
    const call2 = alice.call('sip:bob@ims.test', [`Authorization: Bearer ${fresh}`]);
    const atBob = await bob.nextIncoming();
    t.notMatch(serializeMessage(mwOut(bed, from2, 'INVITE')[0] as SipRequest).toString('utf8'), /bearer/i, 'R-REG-5: a new token is validated and stripped');
    atBob.reject(486);
    t.equal((await call2.ended()).status, 486, 'a new token on an initial request renews the flow\'s lifetime');
    alice.ua.sendMessage('sip:bob@ims.test', 'renewed');
    t.ok(await bob.capture.waitFor((f) => f.direction === 'received' && f.message?.kind === 'request' && f.message.method === 'MESSAGE'), 'MESSAGE without a token passes again');
    t.equal(core.location.bindings('alice').length, 1);
  });
});

t.test('R-REG-3, R-REG-25: with expiryEndsRegistration, epcscf de-registers at expiry and a refresh with the expired token is refused', async (t) => {
  const key = await makeKey('ES256', 'wwsf-1');
  const core = await DevImsCore.start({ port: 0 });
  t.teardown(() => core.close());
  const strict = await startEpcscf({
    nextHop: core.uri,
    webAuth: { issuers: [{ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: { file: await jwksFileOf(t, key) }, expiryEndsRegistration: true }], clockSkewSeconds: 0 },
  });
  t.teardown(() => strict.close());
  core.trustNode({ host: '127.0.0.1', port: strict.mwPort });
  const token = await signToken({ key, claims: { exp: nowSeconds() + 4 } });
  const alice = await JsSipUser.connect({ wsUrl: strict.wsUrl, user: 'alice', extraHeaders: [`Authorization: Bearer ${token}`] });
  t.teardown(() => alice.stop());
  t.equal(await alice.register(), 200);
  const from = strict.capture.entries.length;
  const deregistration = await strict.capture.waitFor((e) => e.side === 'mw' && e.direction === 'out' && e.message.kind === 'request' && e.message.method === 'REGISTER', { from, timeoutMs: 10_000, what: 'the de-registration at expiry' });
  t.equal(getHeader(deregistration.message, 'Expires'), '0', 'epcscf de-registered when the token expired');
  await strict.capture.waitFor((e) => e.side === 'mw' && e.direction === 'in' && e.message.kind === 'response' && e.message.status === 200, { from });
  t.equal(core.location.bindings('alice').length, 0);
  const before = strict.capture.entries.length;
  t.equal(await alice.register(), 403, 'the refresh with the expired token');
  t.equal(lastResponseTo(alice, 'REGISTER').reason, 'Token expired');
  t.same(strict.capture.entries.slice(before).filter((e) => e.side === 'mw' && e.direction === 'out'), [], 'nothing on Mw');
});

async function jwksFileOf(t: Test, key: TestKey): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'epcscf-webauth-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeJwksFile(join(dir, 'jwks.json'), [key]);
  return join(dir, 'jwks.json');
}
