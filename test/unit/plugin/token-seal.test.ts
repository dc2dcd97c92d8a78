// epcscf/plugin token-seal (issue #15): what a plugin keeps in host.state for a token holder is
// stored under SHA-256(token) and sealed with AES-256-GCM under a key HKDF-derived from the token.
import { createHash } from 'node:crypto';
import t from 'tap';
import { openUnderToken, sealUnderToken, stateKeyOf } from '../../../core/contract/index.js';

const TOKEN = 'q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6';
const SECRET = '{"password":"alicepw"}';

t.test('the storage key is SHA-256(token) and does not contain the token', async (t) => {
  t.equal(stateKeyOf(TOKEN), createHash('sha256').update(TOKEN).digest('base64url'));
  t.notMatch(stateKeyOf(TOKEN), TOKEN);
});

t.test('a sealed secret holds neither the secret nor the token, and opens with the same token and context', async (t) => {
  const sealed = sealUnderToken(TOKEN, SECRET, 'ctx');
  t.notOk(sealed.includes('alicepw'), 'no password text');
  t.notOk(Buffer.from(sealed).includes(Buffer.from('alicepw')), 'no password bytes');
  t.notOk(sealed.includes(Buffer.from('alicepw').toString('base64url').slice(0, 8)), 'not merely base64');
  t.notOk(sealed.includes(TOKEN));
  t.equal(openUnderToken(TOKEN, sealed, 'ctx'), SECRET);
  t.not(sealUnderToken(TOKEN, SECRET, 'ctx'), sealed, 'a fresh IV each time');
});

t.test('a wrong token, another context or an altered value cannot open it', async (t) => {
  const sealed = sealUnderToken(TOKEN, SECRET, 'ctx');
  t.equal(openUnderToken(`${TOKEN}x`, sealed, 'ctx'), undefined, 'wrong token');
  t.equal(openUnderToken(TOKEN, sealed, 'other'), undefined, 'moved to another entry');
  const [v, iv, tag, ct] = sealed.split('.') as [string, string, string, string];
  const flipped = Buffer.from(ct, 'base64url');
  flipped[0] = (flipped[0] ?? 0) ^ 1;
  t.equal(openUnderToken(TOKEN, [v, iv, tag, flipped.toString('base64url')].join('.'), 'ctx'), undefined, 'altered ciphertext');
  t.equal(openUnderToken(TOKEN, 'v1.garbage', 'ctx'), undefined, 'not a sealed value');
  t.equal(openUnderToken(TOKEN, [v, iv, 'AAAA', ct].join('.'), 'ctx'), undefined, 'a short tag is refused');
});
