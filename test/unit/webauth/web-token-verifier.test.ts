// Web-token validation (R-REG-4, R-REG-10, interfaces §1): real tokens signed with jose, every
// refusal of the table, and key rotation for a JWKS file and a JWKS URL.
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadConfigFile, resolveConfig } from '../../../core/config/index.js';
import type { WebAuthConfig } from '../../../core/config/config-types.js';
import { TOKEN_REFUSAL_REASONS, WebTokenVerifier, type TokenRefusalCode, type VerifyContext, type WebTokenOutcome } from '../../../core/webauth/index.js';
import {
  TEST_AUDIENCE, TEST_ISSUER, hmacToken, makeKey, nowSeconds, signToken, startJwksServer, tamper, unsecuredToken, writeJwksFile, type TestKey,
} from '../../support/web-tokens.js';

function webAuth(issuers: readonly Record<string, unknown>[], extra: Record<string, unknown> = {}): WebAuthConfig {
  return resolveConfig({ webAuth: { issuers, ...extra } }, { configDir: '/', env: {} }).webAuth;
}

function refusalOf(outcome: WebTokenOutcome): TokenRefusalCode | 'accepted' {
  return outcome.ok ? 'accepted' : outcome.refusal.code;
}

t.test('web tokens signed by a key of a JWKS file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'epcscf-webauth-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const [es, rs, ed, stranger] = await Promise.all([makeKey('ES256', 'k-es'), makeKey('RS256', 'k-rs'), makeKey('EdDSA', 'k-ed'), makeKey('ES256', 'k-es')]) as [TestKey, TestKey, TestKey, TestKey];
  const jwks = join(dir, 'jwks.json');
  await writeJwksFile(jwks, [es, rs, ed]);
  const pool = ['sip:guest1@ims.test', 'sip:guest2@ims.test'];
  const verifier = await WebTokenVerifier.create(webAuth([
    { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: { file: jwks } },
    { issuer: 'https://guests.test', audience: TEST_AUDIENCE, jwks: { file: jwks }, impuPool: pool, origins: ['https://guests.test'] },
  ]));
  const verdict = async (token: string, context: VerifyContext = {}): Promise<string> => refusalOf(await verifier.verify(token, context));

  t.test('ES256, RS256 and EdDSA tokens are accepted and grant {impi, impu, expiresAt}', async (t) => {
    const now = nowSeconds();
    for (const key of [es, rs, ed]) {
      const outcome = await verifier.verify(await signToken({ key, now }), { impu: 'sip:alice@ims.test' });
      t.ok(outcome.ok, `${key.alg} accepted`);
      if (outcome.ok) {
        t.equal(outcome.grant.impi, 'alice@ims.test', `${key.alg}: sub is the IMPI`);
        t.equal(outcome.grant.impu, 'sip:alice@ims.test');
        t.equal(outcome.grant.expiresAt, (now + 300) * 1000);
        t.equal(outcome.grant.issuer.issuer, TEST_ISSUER);
      }
    }
    t.equal(await verdict(await signToken({ key: es, claims: { impu: 'tel:+15550001' } }), { impu: 'tel:+1-555-0001' }), 'accepted', 'a tel: IMPU, compared as a canonical number');
    t.equal(await verdict(await signToken({ key: es, claims: { aud: ['other', TEST_AUDIENCE] } })), 'accepted', 'aud as an array containing ours');
  });

  t.test('R-REG-4: each bad token gets exactly its refusal', async (t) => {
    const now = nowSeconds();
    const cases: [string, string, TokenRefusalCode][] = [
      ['expired (beyond the 30 s skew)', await signToken({ key: es, now: now - 400 }), 'expired'],
      ['nbf in the future (beyond the skew)', await signToken({ key: es, claims: { nbf: now + 120 } }), 'not_yet_valid'],
      ['wrong aud', await signToken({ key: es, claims: { aud: 'someone-else.test' } }), 'audience_not_accepted'],
      ['unknown iss', await signToken({ key: es, claims: { iss: 'https://evil.test' } }), 'issuer_unknown'],
      ['unknown kid', await signToken({ key: es, header: { kid: 'k-none' } }), 'key_unknown'],
      ['a known kid, signed by another key', await signToken({ key: stranger }), 'signature_invalid'],
      ['tampered payload', tamper(await signToken({ key: es }), { impu: 'sip:bob@ims.test' }), 'signature_invalid'],
      ['tampered expired token (signature checked before claims)', tamper(await signToken({ key: es, now: now - 400 }), { sub: 'x' }), 'signature_invalid'],
      ['alg none', unsecuredToken({ iss: TEST_ISSUER, aud: TEST_AUDIENCE, exp: now + 300, iat: now, sub: 'alice@ims.test', impu: 'sip:alice@ims.test' }), 'algorithm_not_allowed'],
      ['HS256', await hmacToken({ iss: TEST_ISSUER, aud: TEST_AUDIENCE, exp: now + 300, iat: now, sub: 'alice@ims.test', impu: 'sip:alice@ims.test' }), 'algorithm_not_allowed'],
      ['ES384 (not in the allowlist)', `${Buffer.from(JSON.stringify({ alg: 'ES384', kid: 'k-es' })).toString('base64url')}.${(await signToken({ key: es })).split('.')[1]}.AAAA`, 'algorithm_not_allowed'],
      ['missing impu', await signToken({ key: es, claims: { impu: undefined } }), 'claims_invalid'],
      ['missing sub', await signToken({ key: es, claims: { sub: undefined } }), 'claims_invalid'],
      ['empty sub', await signToken({ key: es, claims: { sub: '' } }), 'claims_invalid'],
      ['sub with a quote (it goes into a quoted-string on Mw)', await signToken({ key: es, claims: { sub: 'alice"@ims.test' } }), 'claims_invalid'],
      ['sub with CR LF', await signToken({ key: es, claims: { sub: 'alice\r\nVia: x' } }), 'claims_invalid'],
      ['missing exp', await signToken({ key: es, claims: { exp: undefined } }), 'claims_invalid'],
      ['missing iat', await signToken({ key: es, claims: { iat: undefined } }), 'claims_invalid'],
      ['missing iss', await signToken({ key: es, claims: { iss: undefined } }), 'claims_invalid'],
      ['impu neither sip: nor tel:', await signToken({ key: es, claims: { impu: 'mailto:alice@ims.test' } }), 'claims_invalid'],
      ['impu not a URI', await signToken({ key: es, claims: { impu: 'alice' } }), 'claims_invalid'],
      ['impu of a non-string type', await signToken({ key: es, claims: { impu: 42 } }), 'claims_invalid'],
      ['garbage', 'not-a-jwt', 'malformed'],
      ['three parts of garbage', 'abc.def.ghi', 'malformed'],
      ['an empty string', '', 'malformed'],
    ];
    for (const [name, token, expected] of cases) t.equal(await verdict(token), expected, `${name} → ${TOKEN_REFUSAL_REASONS[expected]}`);
  });

  t.test('the clock skew (30 s) tolerates a token just expired or just not yet valid', async (t) => {
    const now = nowSeconds();
    t.equal(await verdict(await signToken({ key: es, now: now - 310 })), 'accepted', 'expired 10 s ago');
    t.equal(await verdict(await signToken({ key: es, claims: { nbf: now + 10 } })), 'accepted', 'valid in 10 s');
  });

  t.test('R-REG-10: the registering identity must be the token\'s impu', async (t) => {
    const token = await signToken({ key: es });
    t.equal(await verdict(token, { impu: 'sip:bob@ims.test' }), 'impu_mismatch');
    t.equal(await verdict(token, { impu: 'sip:ALICE@ims.test' }), 'impu_mismatch', 'the user part is case-sensitive (RFC 3261 §19.1.4)');
    t.equal(await verdict(token, { impu: 'sip:alice@IMS.test;transport=ws' }), 'accepted', 'the host is not, and URI parameters do not count');
  });

  t.test('scenario 3: with an impuPool, the token\'s impu must be in the pool; with origins, the connection\'s Origin must be one', async (t) => {
    const origin = 'https://guests.test';
    const guest = (impu: string): Promise<string> => signToken({ key: ed, claims: { iss: 'https://guests.test', impu } });
    t.equal(await verdict(await guest('sip:guest2@ims.test'), { origin, impu: 'sip:guest2@ims.test' }), 'accepted', 'in the pool');
    t.equal(await verdict(await guest('sip:alice@ims.test'), { origin, impu: 'sip:alice@ims.test' }), 'impu_not_in_pool', 'outside the pool');
    t.equal(await verdict(await guest('sip:guest1@ims.test'), { origin: 'https://evil.test', impu: 'sip:guest1@ims.test' }), 'origin_not_allowed', 'another origin');
    t.equal(await verdict(await guest('sip:guest1@ims.test'), { impu: 'sip:guest1@ims.test' }), 'origin_not_allowed', 'no Origin at all (a non-browser client)');
    t.equal(await verdict(await guest('sip:guest1@ims.test'), { origin: 'HTTPS://GUESTS.TEST', impu: 'sip:guest1@ims.test' }), 'accepted', 'origins compare case-insensitively (RFC 6454 §6.2)');
    t.equal(await verdict(await signToken({ key: es }), { origin: 'https://anything.test' }), 'accepted', 'an issuer without origins accepts any');
  });

  t.test('a key added to the JWKS file is used without a restart', async (t) => {
    const rotated = await makeKey('ES256', 'k-rotated');
    const token = await signToken({ key: rotated });
    t.equal(await verdict(token), 'key_unknown', 'before the file has it');
    await writeJwksFile(jwks, [es, rs, ed, rotated]);
    const later = new Date(Date.now() + 5_000);
    await utimes(jwks, later, later); // a distinct mtime even on a coarse file system clock
    t.equal(await verdict(token), 'accepted', 'after: the file was re-read for the unknown kid');
  });
});

t.test('R-REG-4: no issuers configured refuses every token as issuer unknown', async (t) => {
  const verifier = await WebTokenVerifier.create(webAuth([]));
  t.equal(verifier.enabled, false);
  const key = await makeKey('ES256', 'k');
  t.equal(refusalOf(await verifier.verify(await signToken({ key }))), 'issuer_unknown');
});

t.test('a bad JWKS file is a configuration error at start', async (t) => {
  await t.rejects(WebTokenVerifier.create(webAuth([{ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: { file: '/nonexistent/jwks.json' } }])), { code: 'EPC_ERR_CONFIG_INVALID' });
});

t.test('a JWKS URL: fetched once and cached, re-fetched for an unknown kid (rotation), 503 when unreachable', async (t) => {
  const first = await makeKey('ES256', 'k-1');
  const server = await startJwksServer([first]);
  t.teardown(() => server.close());
  const verifier = await WebTokenVerifier.create(webAuth([{ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: { url: server.url } }], { jwksCooldownSeconds: 0 }));
  t.equal(refusalOf(await verifier.verify(await signToken({ key: first }))), 'accepted');
  t.equal(refusalOf(await verifier.verify(await signToken({ key: first }))), 'accepted');
  t.equal(server.fetches, 1, 'the key set is cached');
  const second = await makeKey('RS256', 'k-2');
  server.keys = [second];
  t.equal(refusalOf(await verifier.verify(await signToken({ key: second }))), 'accepted', 'the new kid triggers a fetch');
  t.equal(server.fetches, 2);
  t.equal(refusalOf(await verifier.verify(await signToken({ key: first }))), 'key_unknown', 'the retired key is gone after rotation');
  server.up = false;
  const third = await makeKey('ES256', 'k-3');
  const outcome = await verifier.verify(await signToken({ key: third }));
  t.equal(refusalOf(outcome), 'keys_unavailable', 'the JWKS cannot be fetched');
  if (!outcome.ok) t.same([outcome.refusal.status, outcome.refusal.reason, outcome.refusal.retryAfterSeconds], [503, 'Token keys unavailable', 30]);
});

t.test('the cooldown bounds how often unknown kids make us fetch', async (t) => {
  const known = await makeKey('ES256', 'k-1');
  const server = await startJwksServer([known]);
  t.teardown(() => server.close());
  const verifier = await WebTokenVerifier.create(webAuth([{ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: { url: server.url } }]));
  t.equal(refusalOf(await verifier.verify(await signToken({ key: known }))), 'accepted');
  const forged = await makeKey('ES256', 'k-forged');
  for (let i = 0; i < 5; i++) t.equal(refusalOf(await verifier.verify(await signToken({ key: forged }))), 'key_unknown');
  t.equal(server.fetches, 1, 'within the 30 s cooldown, unknown kids do not hammer the WWSF');
});

t.test('webAuth defaults and config checks', async (t) => {
  const config = webAuth([{ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: { file: 'jwks.json' } }]);
  t.same({ ...config, issuers: undefined }, { issuers: undefined, clockSkewSeconds: 30, integrityProtected: 'auth-done', jwksCooldownSeconds: 30, jwksMaxAgeSeconds: 600, jwksTimeoutMs: 5000 });
  t.same(config.issuers[0], { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwks: { file: '/jwks.json' }, expiryEndsRegistration: false }, 'a file path is resolved against the config directory');
  t.same(resolveConfig({}, { configDir: '/', env: {} }).webAuth.issuers, [], 'off by default');
  t.throws(() => webAuth([{ issuer: 'a', audience: 'b', jwks: { file: 'x' } }, { issuer: 'a', audience: 'c', jwks: { file: 'y' } }]), /webAuth\.issuers\[1\]\.issuer: "a" is listed twice/);
  t.throws(() => webAuth([{ issuer: 'a', audience: 'b', jwks: { url: 'ftp://x' } }]), /webAuth/);
  t.throws(() => webAuth([{ issuer: 'a', audience: 'b', jwks: { file: 'x' }, impuPool: ['guest1'] }]), /impuPool/);
});

t.test('examples/config/web-auth.yaml is a valid configuration', async (t) => {
  const config = await loadConfigFile(new URL('../../../examples/config/web-auth.yaml', import.meta.url).pathname, { env: {} });
  t.equal(config.webAuth.issuers.length, 1);
  t.same(config.webAuth.issuers[0]?.jwks, { url: 'https://wwsf.example.com/.well-known/jwks.json' });
  t.equal(config.webAuth.issuers[0]?.impuPool?.length, 3);
});
