/**
 * examples/wwsf, the demo WWSF/WAF (TS 24.371 §6 scenarios 2 and 3) over real HTTP on loopback:
 * the web login, the guest IMPU pool, the ES256 tokens checked with jose against the JWKS it
 * publishes, key rotation with a grace period, and the public endpoint's input checks.
 */
import t from 'tap';
import type { Test } from 'tap';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { startWwsf } from '../../examples/wwsf/index.js';
import type { LoginResponseBody, Wwsf, WwsfOptions } from '../../examples/wwsf/index.js';

const POOL = ['sip:guest1@ims.test', 'sip:guest2@ims.test'];
const USERS = {
  domain: 'ims.test',
  users: [{ user: 'alice', password: 'alicepw', displayName: 'Alice Liddell' }, { user: 'bob', password: 'bobpw', displayName: 'Bob Builder' }],
  guestPool: POOL,
};

function wicDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'wwsf-wic-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>WIC</title>');
  writeFileSync(join(dir, 'app.js'), 'console.log("wic")');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function wwsf(t: Test, options: Partial<WwsfOptions> = {}): Promise<Wwsf> {
  const started = await startWwsf({ port: 0, users: USERS, wicDir: wicDir(t), ...options });
  t.teardown(() => started.close());
  return started;
}

async function login(site: Wwsf, body: unknown, contentType = 'application/json'): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(`${site.origin}/api/login`, {
    method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

/** GET with the body read, so no response holds its connection open past the test. */
async function get(url: string): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(url);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

async function jwks(site: Wwsf): Promise<JSONWebKeySet> {
  return (await (await fetch(site.jwksUrl)).json()) as JSONWebKeySet;
}

t.test('scenario 2: alice logs in and gets a short-lived ES256 token the published JWKS verifies (iss, aud, sub = IMPI, impu, iat, exp)', async (t) => {
  const site = await wwsf(t, { tokenTtlSeconds: 120 });
  const before = Math.floor(Date.now() / 1000);
  const { status, json, headers } = await login(site, { user: 'alice', password: 'alicepw' });
  t.equal(status, 200);
  t.equal(headers.get('cache-control'), 'no-store', 'a token response is never cached');
  const body = json as unknown as LoginResponseBody;
  t.match(body, { impi: 'alice@ims.test', impu: 'sip:alice@ims.test', displayName: 'Alice Liddell' });
  t.same(decodeProtectedHeader(body.token), { alg: 'ES256', kid: site.currentKid, typ: 'JWT' });
  const { payload } = await jwtVerify(body.token, createRemoteJWKSet(new URL(site.jwksUrl)), { issuer: site.issuer, audience: site.audience, algorithms: ['ES256'] });
  t.equal(site.issuer, site.origin, 'iss defaults to the WWSF origin');
  t.equal(site.audience, 'epcscf.ims.test');
  t.match(payload, { iss: site.origin, aud: 'epcscf.ims.test', sub: 'alice@ims.test', impu: 'sip:alice@ims.test' });
  t.ok((payload.iat ?? 0) >= before);
  t.equal((payload.exp ?? 0) - (payload.iat ?? 0), 120, 'exp = iat + ttl');
  t.equal(body.expiresAt, (payload.exp ?? 0) * 1000, 'expiresAt is exp in ms');
  const keys = await jwks(site);
  t.equal(keys.keys.length, 1);
  t.match(keys.keys[0], { kty: 'EC', crv: 'P-256', kid: site.currentKid, use: 'sig', alg: 'ES256' });
  t.notOk('d' in (keys.keys[0] ?? {}), 'the private part is never published');
});

t.test('a wrong password or an unknown user gets 401 with an error in words and no token', async (t) => {
  const site = await wwsf(t);
  for (const body of [{ user: 'alice', password: 'bobpw' }, { user: 'mallory', password: 'x' }, { user: 'alice', password: '' }]) {
    const { status, json } = await login(site, body);
    t.equal(status, 401, JSON.stringify(body));
    t.same(json, { error: 'unknown user or wrong password' });
  }
});

t.test('scenario 3: guest logins get distinct pooled IMPUs; an exhausted pool answers 503; the lease ends with the token', async (t) => {
  let offset = 0;
  const site = await wwsf(t, { tokenTtlSeconds: 60, now: () => Date.now() + offset });
  const first = await login(site, { user: 'guest', password: '' });
  const second = await login(site, { user: 'guest', password: 'anything' });
  t.equal(first.status, 200);
  t.equal(second.status, 200);
  t.match(first.json, { impu: 'sip:guest1@ims.test', impi: 'guest1@ims.test', displayName: 'Guest (guest1)' });
  t.match(second.json, { impu: 'sip:guest2@ims.test', impi: 'guest2@ims.test' });
  const { payload } = await jwtVerify(second.json['token'] as string, createLocalJWKSet(await jwks(site)), { issuer: site.guestIssuer, audience: site.audience, currentDate: new Date(Date.now() + offset) });
  t.equal(payload['impu'], 'sip:guest2@ims.test', 'the token grants the pooled IMPU');
  t.equal(payload.sub, 'guest2@ims.test');
  t.equal(site.guestIssuer, `${site.origin}/guest`, 'guest tokens have their own iss, the one the eP-CSCF binds to the pool');
  const exhausted = await login(site, { user: 'guest', password: '' });
  t.equal(exhausted.status, 503);
  t.same(exhausted.json, { error: 'all guest identities are in use: try again later' });
  t.ok(exhausted.headers.get('retry-after'));
  offset = 61_000;
  const again = await login(site, { user: 'guest', password: '' });
  t.equal(again.status, 200, 'free again once the tokens that carried the IMPUs expired');
  t.equal(again.json['impu'], 'sip:guest1@ims.test');
});

t.test('rotateKey: new tokens carry the new kid; the old key stays in the JWKS for the grace, then only its tokens fail', async (t) => {
  let offset = 0;
  const site = await wwsf(t, { tokenTtlSeconds: 60, keyGraceSeconds: 90, now: () => Date.now() + offset });
  const oldKid = site.currentKid;
  const oldToken = (await login(site, { user: 'alice', password: 'alicepw' })).json['token'] as string;
  const newKid = await site.rotateKey();
  t.not(newKid, oldKid);
  t.equal(site.currentKid, newKid);
  const newToken = (await login(site, { user: 'bob', password: 'bobpw' })).json['token'] as string;
  t.equal(decodeProtectedHeader(newToken).kid, newKid);
  const during = await jwks(site);
  t.same(during.keys.map((k) => k.kid).sort(), [oldKid, newKid].sort(), 'both keys published during the grace');
  const verify = (token: string, set: JSONWebKeySet) => jwtVerify(token, createLocalJWKSet(set), { issuer: site.issuer, audience: site.audience });
  await verify(oldToken, during);
  await verify(newToken, during);
  offset = 91_000;
  const after = await jwks(site);
  t.same(after.keys.map((k) => k.kid), [newKid], 'the old key is gone after the grace');
  await t.rejects(verify(oldToken, after), { code: 'ERR_JWKS_NO_MATCHING_KEY' }, 'a token of the removed key no longer verifies');
  t.equal(decodeProtectedHeader((await login(site, { user: 'alice', password: 'alicepw' })).json['token'] as string).kid, newKid);
});

t.test('the login endpoint is public: malformed bodies get 4xx with a clear error, never a token', async (t) => {
  const site = await wwsf(t);
  const cases: [body: string, contentType: string, status: number, error: string | RegExp][] = [
    ['{"user": "alice", "password": ', 'application/json', 400, 'request body is not valid JSON'],
    ['', 'application/json', 400, 'request body is not valid JSON'],
    ['{"user": "alice"}', 'application/json', 400, "invalid login request: body must have required property 'password'"],
    ['{"user": 5, "password": "alicepw"}', 'application/json', 400, 'invalid login request: body/user must be string'],
    ['{"user": "", "password": "x"}', 'application/json', 400, /invalid login request: body\/user must NOT have fewer than 1 characters/],
    ['["alice", "alicepw"]', 'application/json', 400, 'invalid login request: body must be object'],
    ['user=alice&password=alicepw', 'application/x-www-form-urlencoded', 415, 'expected a JSON body (Content-Type: application/json)'],
    ['user=alice', 'text/plain', 415, 'expected a JSON body (Content-Type: application/json)'],
    [JSON.stringify({ user: 'alice', password: 'x'.repeat(5000) }), 'application/json', 413, 'request body too large'],
  ];
  for (const [body, contentType, status, error] of cases) {
    const answer = await login(site, body, contentType);
    t.equal(answer.status, status, `${contentType} ${body.slice(0, 40)}`);
    t.match(answer.json, { error });
    t.notOk('token' in answer.json);
  }
});

t.test('the login endpoint is rate-limited per address: 429 with Retry-After, good passwords included', async (t) => {
  const site = await wwsf(t, { loginRateLimit: { max: 3, windowSeconds: 60 } });
  t.equal((await login(site, { user: 'alice', password: 'x' })).status, 401);
  t.equal((await login(site, '{bad')).status, 400, 'garbage counts too');
  t.equal((await login(site, { user: 'alice', password: 'alicepw' })).status, 200);
  const limited = await login(site, { user: 'alice', password: 'alicepw' });
  t.equal(limited.status, 429);
  t.match(limited.json, { error: /too many login attempts/ });
  t.equal(limited.headers.get('retry-after'), '60');
});

t.test('serves the WIC, its assets and /config.json (503 until the eP-CSCF endpoints are known); nothing outside the WIC directory', async (t) => {
  const site = await wwsf(t);
  const page = await get(site.url);
  t.equal(page.status, 200);
  t.match(page.headers.get('content-type'), /^text\/html/);
  t.equal(page.text, '<!doctype html><title>WIC</title>');
  const script = await get(`${site.origin}/app.js`);
  t.match(script.headers.get('content-type'), /^text\/javascript/);
  t.equal(script.text, 'console.log("wic")');
  t.equal((await get(`${site.origin}/%2e%2e/%2e%2e/etc/passwd`)).status, 404);
  t.equal((await get(`${site.origin}/missing.js`)).status, 404);
  const early = await get(`${site.origin}/config.json`);
  t.equal(early.status, 503);
  const config = { domain: 'ims.test', endpoints: { 'sip-ws': 'ws://127.0.0.1:8081/sip' }, authModes: ['web', 'digest'] as const };
  site.setClientConfig(config);
  t.same(await (await fetch(`${site.origin}/config.json`)).json(), config);
});

t.test('without wicDir the WIC is built (examples/wic-web buildWic) into a temporary directory removed on close', async (t) => {
  const site = await startWwsf({ port: 0, users: USERS });
  t.teardown(() => site.close());
  t.ok(site.wicDir.startsWith(join(tmpdir(), 'epcscf-wic-')), site.wicDir);
  t.ok(existsSync(join(site.wicDir, 'index.html')), 'buildWic wrote index.html there');
  const page = await get(site.url);
  t.equal(page.status, 200);
  t.match(page.headers.get('content-type'), /^text\/html/);
  await site.close();
  t.notOk(existsSync(site.wicDir), 'the build directory is removed on close');
});
