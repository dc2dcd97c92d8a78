import t from 'tap';
import {
  DigestClient, DigestServer, answerChallenge, computeHa1, type DigestVerdict,
} from '../../../core/sip/auth/digest.js';
import type { AuthValue } from '../../../core/sip/model/views.js';

const REALM = 'ims.test';
const REQUEST = { method: 'REGISTER', uri: 'sip:ims.test' };
const users: Record<string, string> = { alice: 'alicepw' };
const lookup = (username: string): { password: string } | undefined =>
  users[username] !== undefined ? { password: users[username] } : undefined;

function clock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => { time += ms; } };
}

function reasonOf(v: DigestVerdict): string {
  return v.ok ? 'ok' : v.reason;
}

function answer(challenge: AuthValue, nc = 1, password = 'alicepw', extra: { cnonce?: string } = {}): AuthValue {
  return answerChallenge(challenge, { ...REQUEST, username: 'alice', password, nc, ...extra });
}

t.test('RFC 7616 §3.4: client and server agree for every algorithm', async (t) => {
  const server = new DigestServer();
  for (const algorithm of ['MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess', 'SHA-512-256']) {
    const challenge = server.createChallenge({ realm: REALM, algorithm, opaque: 'op1' });
    const verdict = server.verifyCredentials(answer(challenge), { ...REQUEST, realm: REALM, secret: lookup, requestUri: 'sip:ims.test' });
    t.same(verdict, { ok: true, username: 'alice', realm: REALM, algorithm, qop: 'auth', nc: 1 }, algorithm);
  }
});

t.test('RFC 3261 §22.4: a wrong password is bad-response, an unknown user is unknown-user', async (t) => {
  const server = new DigestServer();
  const challenge = server.createChallenge({ realm: REALM });
  t.equal(reasonOf(server.verifyCredentials(answer(challenge, 1, 'nope'), { ...REQUEST, realm: REALM, secret: lookup })), 'bad-response');
  const mallory = answerChallenge(challenge, { ...REQUEST, username: 'mallory', password: 'x' });
  t.equal(reasonOf(server.verifyCredentials(mallory, { ...REQUEST, realm: REALM, secret: lookup })), 'unknown-user');
  t.equal(reasonOf(server.verifyCredentials(answer(challenge), { method: 'INVITE', realm: REALM, secret: lookup })),
    'bad-response', 'the method is covered by the digest');
});

t.test('RFC 7616 §3.4: a stored HA1 works in place of the password', async (t) => {
  const server = new DigestServer();
  const challenge = server.createChallenge({ realm: REALM, algorithm: 'SHA-256' });
  const ha1 = computeHa1('SHA-256', 'alice', REALM, 'alicepw');
  t.ok(server.verifyCredentials(answer(challenge), { ...REQUEST, realm: REALM, secret: { ha1, hash: 'SHA-256' } }).ok);
  const md5Ha1 = computeHa1('MD5', 'alice', REALM, 'alicepw');
  t.equal(reasonOf(server.verifyCredentials(answer(challenge, 2), { ...REQUEST, realm: REALM, secret: { ha1: md5Ha1 } })),
    'unsupported-algorithm', 'an MD5 HA1 cannot check SHA-256 credentials');
});

t.test('RFC 7616 §3.4: a nonce count already seen is a replay', async (t) => {
  const server = new DigestServer();
  const challenge = server.createChallenge({ realm: REALM });
  const opts = { ...REQUEST, realm: REALM, secret: lookup };
  const first = answer(challenge, 1);
  t.equal(reasonOf(server.verifyCredentials(first, opts)), 'ok');
  t.equal(reasonOf(server.verifyCredentials(first, opts)), 'replay', 'the very same credentials again');
  t.equal(reasonOf(server.verifyCredentials(answer(challenge, 1, 'alicepw', { cnonce: 'other' }), opts)), 'replay',
    'the same nc with a new cnonce');
  t.equal(reasonOf(server.verifyCredentials(answer(challenge, 3), opts)), 'ok');
  t.equal(reasonOf(server.verifyCredentials(answer(challenge, 2), opts)), 'ok', 'out of order but inside the window');
  t.equal(reasonOf(server.verifyCredentials(answer(challenge, 2), opts)), 'replay');
  t.equal(reasonOf(server.verifyCredentials(answer(challenge, 100), opts)), 'ok');
  t.equal(reasonOf(server.verifyCredentials(answer(challenge, 50), opts)), 'replay', 'too far behind the highest count');
});

t.test('RFC 7616 §3.3: an expired nonce with right credentials is stale, with wrong ones bad-response', async (t) => {
  const c = clock();
  const server = new DigestServer({ now: c.now, nonceLifetimeSeconds: 30 });
  const challenge = server.createChallenge({ realm: REALM });
  const opts = { ...REQUEST, realm: REALM, secret: lookup };
  c.advance(31_000);
  t.equal(reasonOf(server.verifyCredentials(answer(challenge), opts)), 'stale');
  t.equal(reasonOf(server.verifyCredentials(answer(challenge, 2, 'bad'), opts)), 'bad-response');
  const again = server.createChallenge({ realm: REALM, stale: true });
  t.equal(again.params['stale'], 'true');
  t.equal(reasonOf(server.verifyCredentials(answer(again), opts)), 'ok');
});

t.test('RFC 7616 §5.4: nonces are HMAC-signed and bound to realm, algorithm and opaque', async (t) => {
  const server = new DigestServer({ secret: 'k1' });
  const other = new DigestServer({ secret: 'k2' });
  const twin = new DigestServer({ secret: 'k1' });
  const opts = { ...REQUEST, realm: REALM, secret: lookup };
  const challenge = server.createChallenge({ realm: REALM, algorithm: 'SHA-256', opaque: 'op' });
  t.equal(reasonOf(other.verifyCredentials(answer(challenge), opts)), 'bad-nonce', 'another key rejects it');
  t.equal(reasonOf(twin.verifyCredentials(answer(challenge), opts)), 'ok', 'a node with the same key accepts it');

  const downgraded: AuthValue = { scheme: 'Digest', params: { ...challenge.params, algorithm: 'MD5' } };
  t.equal(reasonOf(server.verifyCredentials(answer(downgraded), opts)), 'bad-nonce', 'no algorithm downgrade');
  const forgedOpaque: AuthValue = { scheme: 'Digest', params: { ...challenge.params, opaque: 'x' } };
  t.equal(reasonOf(server.verifyCredentials(answer(forgedOpaque), opts)), 'bad-nonce');
  const otherRealm = server.createChallenge({ realm: 'elsewhere' });
  const moved: AuthValue = { scheme: 'Digest', params: { ...otherRealm.params, realm: REALM } };
  t.equal(reasonOf(server.verifyCredentials(answer(moved), opts)), 'bad-nonce');
  const made: AuthValue = { scheme: 'Digest', params: { realm: REALM, nonce: 'made-up', algorithm: 'SHA-256', opaque: 'op' } };
  t.equal(reasonOf(server.verifyCredentials(answer(made), opts)), 'bad-nonce');
});

t.test('RFC 3261 §22.4: realm, uri, qop and shape checks', async (t) => {
  const server = new DigestServer();
  const opts = { ...REQUEST, realm: REALM, secret: lookup };
  const challenge = server.createChallenge({ realm: REALM });
  t.equal(reasonOf(server.verifyCredentials(answer(challenge), { ...opts, realm: 'x' })), 'wrong-realm');
  t.equal(reasonOf(server.verifyCredentials(answer(challenge), { ...opts, requestUri: 'sip:other' })), 'uri-mismatch');
  const { response: _dropped, ...withoutResponse } = answer(challenge).params;
  const noResponse: AuthValue = { scheme: 'Digest', params: withoutResponse };
  t.equal(reasonOf(server.verifyCredentials(noResponse, opts)), 'malformed');
  t.equal(reasonOf(server.verifyCredentials({ scheme: 'Bearer', params: {}, token: 'x' }, opts)), 'malformed');
  const badNc: AuthValue = { scheme: 'Digest', params: { ...answer(challenge).params, nc: '1' } };
  t.equal(reasonOf(server.verifyCredentials(badNc, opts)), 'malformed');
  const intOnly = server.createChallenge({ realm: REALM, qop: ['auth-int'] });
  const intCreds = answerChallenge(intOnly, { ...REQUEST, username: 'alice', password: 'alicepw', body: 'b' });
  t.equal(reasonOf(server.verifyCredentials(intCreds, { ...opts, qop: ['auth'], body: 'b' })), 'qop-not-allowed');
  t.equal(reasonOf(server.verifyCredentials(intCreds, { ...opts, body: 'b' })), 'ok', 'auth-int round trip');
});

t.test('RFC 2617 §3.2.2.1: credentials without qop are refused unless allowed, and then single-use', async (t) => {
  const server = new DigestServer();
  const opts = { ...REQUEST, realm: REALM, secret: lookup };
  const challenge = server.createChallenge({ realm: REALM, qop: [] });
  t.equal(challenge.params['qop'], undefined);
  const creds = answer(challenge);
  t.equal(reasonOf(server.verifyCredentials(creds, opts)), 'qop-not-allowed');
  t.equal(reasonOf(server.verifyCredentials(creds, { ...opts, allowNoQop: true })), 'ok');
  t.equal(reasonOf(server.verifyCredentials(creds, { ...opts, allowNoQop: true })), 'replay');
});

t.test('RFC 7616 §5.5: when the replay table overflows, forgotten nonces turn stale, never replayable', async (t) => {
  const c = clock();
  const server = new DigestServer({ now: c.now, maxTrackedNonces: 2 });
  const opts = { ...REQUEST, realm: REALM, secret: lookup };
  const first = server.createChallenge({ realm: REALM });
  const firstCreds = answer(first);
  t.equal(reasonOf(server.verifyCredentials(firstCreds, opts)), 'ok');
  for (let i = 0; i < 3; i++) {
    c.advance(1);
    t.equal(reasonOf(server.verifyCredentials(answer(server.createChallenge({ realm: REALM })), opts)), 'ok');
  }
  t.equal(reasonOf(server.verifyCredentials(firstCreds, opts)), 'stale');
});

t.test('RFC 3261 §22.3: DigestClient reuses a nonce with increasing nc, and the server accepts it', async (t) => {
  const server = new DigestServer();
  const client = new DigestClient({ username: 'alice', password: 'alicepw' });
  const opts = { ...REQUEST, realm: REALM, secret: lookup };
  t.equal(client.authorize(REALM, REQUEST), undefined, 'nothing to reuse before a challenge');
  const creds = client.respond([server.createChallenge({ realm: REALM, algorithm: 'MD5' }),
    server.createChallenge({ realm: REALM, algorithm: 'SHA-256' })], REQUEST);
  t.equal(creds?.params['algorithm'], 'SHA-256', 'RFC 8760: SHA-256 preferred over MD5');
  t.equal(creds?.params['nc'], '00000001');
  if (creds === undefined) return;
  t.equal(reasonOf(server.verifyCredentials(creds, opts)), 'ok');
  client.accepted();
  const next = client.authorize(REALM, REQUEST);
  t.equal(next?.params['nc'], '00000002');
  t.equal(next?.params['nonce'], creds.params['nonce']);
  t.not(next?.params['cnonce'], creds.params['cnonce'], 'a fresh cnonce per request');
  if (next !== undefined) t.equal(reasonOf(server.verifyCredentials(next, opts)), 'ok');
  t.same(client.realms, [REALM]);
});

t.test('RFC 7616 §3.3: DigestClient retries after stale=true but not after rejected credentials', async (t) => {
  const server = new DigestServer();
  const client = new DigestClient({ username: 'alice', password: 'wrong' });
  const first = client.respond([server.createChallenge({ realm: REALM })], REQUEST);
  t.ok(first, 'the first challenge is answered');
  t.equal(client.respond([server.createChallenge({ realm: REALM })], REQUEST), undefined,
    'a second non-stale challenge means the password is wrong: give up instead of looping');
  const retry = client.respond([server.createChallenge({ realm: REALM, stale: true })], REQUEST);
  t.ok(retry, 'stale=true: the credentials were fine, answer the new nonce');
  client.accepted(REALM);
  t.ok(client.respond([server.createChallenge({ realm: REALM })], REQUEST), 'after success a new challenge is answered again');
});

t.test('RFC 3261 §22.3: DigestClient only answers realms it has credentials for', async (t) => {
  const server = new DigestServer();
  const client = new DigestClient((realm) => (realm === 'b.test' ? { username: 'bob', password: 'pw' } : undefined));
  const creds = client.respond([server.createChallenge({ realm: 'a.test', algorithm: 'SHA-256' }),
    server.createChallenge({ realm: 'b.test', algorithm: 'MD5' })], REQUEST);
  t.equal(creds?.params['realm'], 'b.test');
  t.equal(creds?.params['username'], 'bob');
  t.equal(client.respond([server.createChallenge({ realm: 'a.test' })], REQUEST), undefined);
});
