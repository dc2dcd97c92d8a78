import t from 'tap';
import { bearerTokenOf, keyMatches } from '../../../core/admin/bearer-auth.js';

t.test('RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token, the scheme case-insensitive (RFC 7235 §2.1)', async (t) => {
  t.equal(bearerTokenOf('Bearer abc'), 'abc');
  t.equal(bearerTokenOf('bearer abc'), 'abc');
  t.equal(bearerTokenOf('BeArEr   abc'), 'abc', 'one or more spaces');
  t.equal(bearerTokenOf('Bearer mF_9.B5f-4.1JqM'), 'mF_9.B5f-4.1JqM', 'the RFC 6750 §2.1 example token');
  t.equal(bearerTokenOf('Bearer a~b+c/d=='), 'a~b+c/d==', 'b64token characters and trailing "="');
  t.equal(bearerTokenOf('Bearer abc '), 'abc', 'trailing whitespace tolerated');
});

t.test('RFC 6750 §2.1: anything that is not Bearer credentials yields no token', async (t) => {
  for (const value of [undefined, '', 'Bearer', 'Bearer ', 'Basic YWRtaW46a2V5', 'Bearerabc', 'Bearer a b', 'Bearer a=b', 'Bearer "abc"', 'Bearer abc,def', ' Bearer abc', 'Bearer =abc', 'Token abc']) {
    t.equal(bearerTokenOf(value), undefined, JSON.stringify(value));
  }
});

t.test('untrusted Authorization values are parsed in linear time (no regex backtracking)', async (t) => {
  const hostile = `Bearer ${'a'.repeat(100_000)} ${'='.repeat(100_000)}!`;
  const started = Date.now();
  t.equal(bearerTokenOf(hostile), undefined);
  t.ok(Date.now() - started < 200);
});

t.test('the key comparison is exact whatever the lengths (constant-time over digests)', async (t) => {
  t.equal(keyMatches('secret-key', 'secret-key'), true);
  t.equal(keyMatches('secret-key', 'secret-kez'), false);
  t.equal(keyMatches('secret-key', 'secret-key-longer'), false);
  t.equal(keyMatches('', 'secret-key'), false);
  t.equal(keyMatches('Secret-Key', 'secret-key'), false, 'keys are case-sensitive');
  t.equal(keyMatches('ключ', 'ключ'), true, 'non-ASCII keys compare by their UTF-8 bytes');
});
