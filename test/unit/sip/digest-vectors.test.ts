import t from 'tap';
import {
  answerChallenge, computeDigestResponse, computeHa1, digestAlgorithm, formatDigestChallenge,
  formatDigestCredentials, pickChallenge,
} from '../../../core/sip/auth/digest.js';
import { EpcError } from '../../../core/errors.js';
import type { AuthValue } from '../../../core/sip/model/views.js';

// RFC 7616 §3.9.1 (password with a lower-case "of", erratum 4495).
const RFC7616 = {
  username: 'Mufasa', password: 'Circle of Life', realm: 'http-auth@example.org',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  uri: '/dir/index.html', method: 'GET',
};

function rfc7616Challenge(algorithm: string): AuthValue {
  return { scheme: 'Digest', params: {
    realm: RFC7616.realm, qop: 'auth, auth-int', algorithm, nonce: RFC7616.nonce, opaque: RFC7616.opaque,
  } };
}

t.test('RFC 7616 §3.9.1: SHA-256 response for Mufasa is 753927fa…', async (t) => {
  const creds = answerChallenge(rfc7616Challenge('SHA-256'), {
    method: RFC7616.method, uri: RFC7616.uri, username: RFC7616.username, password: RFC7616.password,
    cnonce: RFC7616.cnonce, nc: 1,
  });
  t.equal(creds.params['response'], '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  t.equal(creds.params['algorithm'], 'SHA-256');
  t.equal(creds.params['qop'], 'auth', 'auth is chosen when auth and auth-int are both offered');
  t.equal(creds.params['nc'], '00000001');
  t.equal(creds.params['opaque'], RFC7616.opaque, 'RFC 7616 §3.4: opaque is echoed unchanged');
});

t.test('RFC 7616 §3.9.1: MD5 response for Mufasa is 8ca523f5…', async (t) => {
  const creds = answerChallenge(rfc7616Challenge('MD5'), {
    method: RFC7616.method, uri: RFC7616.uri, username: RFC7616.username, password: RFC7616.password,
    cnonce: RFC7616.cnonce, nc: 1,
  });
  t.equal(creds.params['response'], '8ca523f5e9506fed4657c9700eebdbec');
});

t.test('RFC 2617 §3.5: MD5 qop=auth example response is 6629fae4…', async (t) => {
  const challenge: AuthValue = { scheme: 'Digest', params: {
    realm: 'testrealm@host.com', qop: 'auth,auth-int', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
    opaque: '5ccc069c403ebaf9f0171e9517f40e41',
  } };
  const creds = answerChallenge(challenge, {
    method: 'GET', uri: '/dir/index.html', username: 'Mufasa', password: 'Circle Of Life', cnonce: '0a4f113b',
  });
  t.equal(creds.params['response'], '6629fae49393a05397450978507c4ef1');
  t.equal(creds.params['algorithm'], undefined, 'no algorithm echoed when the challenge named none');
  t.equal(formatDigestCredentials(creds),
    'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", ' +
    'uri="/dir/index.html", response="6629fae49393a05397450978507c4ef1", cnonce="0a4f113b", ' +
    'opaque="5ccc069c403ebaf9f0171e9517f40e41", qop=auth, nc=00000001',
  'RFC 7616 §3.4: qop and nc unquoted, the rest quoted');
});

t.test('RFC 7616 §3.4.2: -sess algorithms fold nonce and cnonce into A1', async (t) => {
  const md5Sess = digestAlgorithm('MD5-sess');
  const md5 = digestAlgorithm('MD5');
  t.ok(md5Sess && md5);
  if (!md5Sess || !md5) return;
  const ha1 = computeHa1('MD5', 'u', 'r', 'p');
  const base = { ha1, nonce: 'N', method: 'REGISTER', uri: 'sip:r', qop: 'auth' as const, nc: '00000001', cnonce: 'C' };
  const sess = computeDigestResponse({ ...base, algorithm: md5Sess });
  // Same as plain MD5 with HA1 replaced by H(HA1:nonce:cnonce).
  const folded = computeHa1('MD5', 'u', 'r', 'p');
  const { createHash } = await import('node:crypto');
  const sessHa1 = createHash('md5').update(`${folded}:N:C`).digest('hex');
  t.equal(sess, computeDigestResponse({ ...base, algorithm: md5, ha1: sessHa1 }));
  t.not(sess, computeDigestResponse({ ...base, algorithm: md5 }));
  t.equal(digestAlgorithm('sha-256-SESS')?.token, 'SHA-256-sess', 'tokens are case-insensitive');
  t.equal(digestAlgorithm(undefined)?.token, 'MD5', 'RFC 7616 §3.3: no algorithm means MD5');
  t.equal(digestAlgorithm('SHA-1'), undefined);
});

t.test('RFC 7616 §3.4.3: qop=auth-int hashes the body into A2', async (t) => {
  const challenge: AuthValue = { scheme: 'Digest', params: { realm: 'r', nonce: 'n', qop: 'auth-int', algorithm: 'SHA-256' } };
  const opts = { method: 'MESSAGE', uri: 'sip:bob@r', username: 'u', password: 'p', cnonce: 'c' };
  const a = answerChallenge(challenge, { ...opts, body: 'hello' });
  const b = answerChallenge(challenge, { ...opts, body: 'hellO' });
  t.equal(a.params['qop'], 'auth-int');
  t.not(a.params['response'], b.params['response'], 'a changed body changes the response');
});

t.test('RFC 2617 §3.2.2.1: without qop the response omits nc and cnonce', async (t) => {
  const challenge: AuthValue = { scheme: 'Digest', params: { realm: 'r', nonce: 'n' } };
  const creds = answerChallenge(challenge, { method: 'REGISTER', uri: 'sip:r', username: 'u', password: 'p' });
  t.equal(creds.params['nc'], undefined);
  t.equal(creds.params['cnonce'], undefined);
  t.equal(creds.params['qop'], undefined);
  const { createHash } = await import('node:crypto');
  const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
  t.equal(creds.params['response'], md5(`${md5('u:r:p')}:n:${md5('REGISTER:sip:r')}`));
});

t.test('RFC 8760 §2.4: the strongest supported challenge is picked, SHA-256 before MD5', async (t) => {
  const md5: AuthValue = { scheme: 'Digest', params: { realm: 'r', nonce: '1', algorithm: 'MD5' } };
  const sha: AuthValue = { scheme: 'Digest', params: { realm: 'r', nonce: '2', algorithm: 'SHA-256' } };
  const sha512: AuthValue = { scheme: 'Digest', params: { realm: 'r', nonce: '3', algorithm: 'SHA-512-256' } };
  const unknown: AuthValue = { scheme: 'Digest', params: { realm: 'r', nonce: '4', algorithm: 'AKAv1-MD5' } };
  const bearer: AuthValue = { scheme: 'Bearer', params: { realm: 'r' } };
  t.equal(pickChallenge([md5, sha]), sha);
  t.equal(pickChallenge([sha, md5]), sha);
  t.equal(pickChallenge([md5, sha512, sha]), sha512);
  t.equal(pickChallenge([unknown, bearer, md5]), md5, 'unsupported schemes and algorithms are skipped');
  t.equal(pickChallenge([unknown, bearer]), undefined);
  t.equal(pickChallenge([md5, sha], 'other'), undefined, 'a realm filter excludes foreign realms');
});

t.test('RFC 3261 §22.2: a challenge that cannot be answered is an EPC_ERR_SIP_AUTH fault', async (t) => {
  const opts = { method: 'REGISTER', uri: 'sip:r', username: 'u', password: 'p' };
  const check = (challenge: AuthValue, extra: Record<string, string>, pattern: RegExp): void => {
    let caught: unknown;
    try { answerChallenge(challenge, { ...opts, ...extra }); } catch (e) { caught = e; }
    t.ok(caught instanceof EpcError && caught.code === 'EPC_ERR_SIP_AUTH' && pattern.test(caught.message),
      `rejected with EPC_ERR_SIP_AUTH matching ${pattern}: ${String(caught)}`);
  };
  check({ scheme: 'Bearer', params: {} }, {}, /Bearer/);
  check({ scheme: 'Digest', params: { realm: 'r' } }, {}, /nonce/);
  check({ scheme: 'Digest', params: { realm: 'r', nonce: 'n', algorithm: 'AKAv1-MD5' } }, {}, /AKAv1-MD5/);
  check({ scheme: 'Digest', params: { realm: 'r', nonce: 'n', qop: 'auth-conf' } }, {}, /qop/);
  check({ scheme: 'Digest', params: { realm: 'evil', nonce: 'n' } }, { realm: 'r' }, /evil/);
});

t.test('RFC 7616 §3.3: challenge header quotes qop-options and leaves stale/algorithm as tokens', async (t) => {
  const text = formatDigestChallenge({ scheme: 'Digest', params: {
    realm: 'ims.test', nonce: 'abc', stale: 'true', algorithm: 'SHA-256', qop: 'auth,auth-int', opaque: 'o"q',
  } });
  t.equal(text, 'Digest realm="ims.test", nonce="abc", opaque="o\\"q", stale=true, algorithm=SHA-256, qop="auth,auth-int"');
});

t.test('RFC 3261 §22.4: formatted credentials parse back to the same values', async (t) => {
  const { parseAuthValue } = await import('../../../core/sip/index.js');
  const creds = answerChallenge(rfc7616Challenge('SHA-256'), {
    method: 'REGISTER', uri: 'sip:ims.test', username: 'a"b\\c', password: 'p', cnonce: 'c', nc: 7,
  });
  t.same(parseAuthValue(formatDigestCredentials(creds)), creds);
  const challenge = rfc7616Challenge('MD5-sess');
  t.same(parseAuthValue(formatDigestChallenge(challenge)), challenge);
});
