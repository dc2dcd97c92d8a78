// core/ua with a web token (TS 24.371 scenarios 2/3): the Bearer credential on REGISTER and on
// every initial request (R-REG-1, R-REG-3), the P-CSCF's refusal reported with its reason
// (R-REG-4), and a token replaced on a live UE.
import t from 'tap';
import { authValues, getHeader, type SipRequest } from '../../../core/sip/index.js';
import { checkBearerToken } from '../../../core/ua/index.js';
import { makeUe, OFFER, registeredUe, reply, settle } from '../../support/ua-fake-core.js';

const TOKEN = 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZUBpbXMudGVzdCIsImltcHUiOiJzaXA6YWxpY2VAaW1zLnRlc3QifQ.c2lnbmF0dXJl';
const NEXT_TOKEN = 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImsyIn0.eyJzdWIiOiJhbGljZUBpbXMudGVzdCJ9.b3RoZXItc2lnbmF0dXJl';
const tokenIdentity = { identity: { impu: 'sip:alice@ims.test', token: TOKEN } };

/** The Bearer token a request carries, read back with our own parser (RFC 6750 §2.1 form). */
function bearerOf(request: SipRequest): string | undefined {
  const value = authValues(request, 'Authorization')[0];
  return value?.scheme === 'Bearer' ? value.token : undefined;
}

t.test('R-REG-1: the REGISTER of a token UE carries Authorization: Bearer <token> (RFC 6750 §2.1 / RFC 8898), and nothing else', async (t) => {
  const { ue, transport } = makeUe(t, tokenIdentity);
  void ue.register();
  const register = transport.last('REGISTER');
  t.equal(getHeader(register, 'Authorization'), `Bearer ${TOKEN}`, 'the b64token form');
  t.equal(bearerOf(register), TOKEN, 'our parser reads it as a Bearer token');
  t.equal(transport.requests('REGISTER').length, 1);
});

t.test('R-REG-3: every initial request of a token UE carries the Bearer token (INVITE, MESSAGE, SUBSCRIBE) and the refresh REGISTER too', async (t) => {
  const { ue, transport, clock } = await registeredUe(t, tokenIdentity, 600);
  void ue.call('sip:bob@ims.test', { sdp: OFFER });
  void ue.message('sip:bob@ims.test', 'hi');
  void ue.subscribe('reg').catch(() => undefined);
  t.equal(bearerOf(transport.last('INVITE')), TOKEN, 'INVITE');
  t.equal(bearerOf(transport.last('MESSAGE')), TOKEN, 'MESSAGE');
  t.equal(bearerOf(transport.last('SUBSCRIBE')), TOKEN, 'SUBSCRIBE');
  clock.advance(300_000);
  t.equal(transport.requests('REGISTER').length, 2, 'refreshed at half of 600 s (R-REG-23)');
  t.equal(bearerOf(transport.last('REGISTER')), TOKEN, 'the refresh carries the token');
});

t.test('a digest UE sends no Authorization before a challenge (the Bearer header is the token UE\'s only)', async (t) => {
  const { ue, transport } = await registeredUe(t);
  void ue.message('sip:bob@ims.test', 'hi');
  t.equal(getHeader(transport.last('MESSAGE'), 'Authorization'), undefined);
});

t.test('R-REG-4: a 403 "Token expired" ends the registration as failed with that reason, with no retry', async (t) => {
  const { ue, transport } = makeUe(t, tokenIdentity);
  const events: string[] = [];
  ue.on('registration', (info) => events.push(`${info.state} ${info.status ?? ''} ${info.reason ?? ''}`.trim()));
  const done = ue.register();
  ue.receive(reply(transport.last('REGISTER'), 403, { toTag: 'p', reason: 'Token expired' }));
  const info = await done;
  t.equal(info.state, 'failed');
  t.equal(info.status, 403);
  t.equal(info.reason, 'Token expired', 'the P-CSCF reason phrase reaches the plugin');
  t.same(ue.registration, info);
  t.same(events, ['registering', 'failed 403 Token expired']);
  t.equal(transport.requests('REGISTER').length, 1, 'no second REGISTER');
});

t.test('R-REG-4: 503 "Token keys unavailable" to the first REGISTER fails it with that reason (no binding to keep)', async (t) => {
  const { ue, transport } = makeUe(t, tokenIdentity);
  const done = ue.register();
  ue.receive(reply(transport.last('REGISTER'), 503, { toTag: 'p', reason: 'Token keys unavailable' }));
  const info = await done;
  t.equal(info.state, 'failed');
  t.equal(info.status, 503);
  t.equal(info.reason, 'Token keys unavailable');
});

t.test('a token UE never answers a digest challenge: a 401 ends the registration as failed', async (t) => {
  const { ue, transport } = makeUe(t, tokenIdentity);
  const done = ue.register();
  ue.receive(reply(transport.last('REGISTER'), 401, { toTag: 'x', headers: [['WWW-Authenticate', 'Digest realm="ims.test", nonce="n", qop="auth"']] }));
  const info = await done;
  t.equal(info.state, 'failed');
  t.equal(info.status, 401);
  t.equal(transport.requests('REGISTER').length, 1);
});

t.test('R-REG-3: updateToken replaces the token for every later request (refresh REGISTER, MESSAGE); nothing is sent by the update itself', async (t) => {
  const { ue, transport, clock } = await registeredUe(t, tokenIdentity, 600);
  const before = transport.sent.length;
  ue.updateToken(NEXT_TOKEN);
  t.equal(transport.sent.length, before, 'no request on update');
  t.equal(ue.describe()['credential'], 'token');
  void ue.message('sip:bob@ims.test', 'hi');
  t.equal(bearerOf(transport.last('MESSAGE')), NEXT_TOKEN);
  clock.advance(300_000);
  t.equal(bearerOf(transport.last('REGISTER')), NEXT_TOKEN, 'the refresh carries the new token');
  t.equal(getHeader(transport.last('REGISTER'), 'Authorization'), `Bearer ${NEXT_TOKEN}`, 'one Authorization, the new one');
});

t.test('issue #11: a token that could break the header, a token beside a password, or updateToken on a digest UE are refused before any SIP', async (t) => {
  for (const bad of ['', 'a b', 'abc\r\nVia: x', 'abc"', 'ab=c', 'x'.repeat(8193)]) {
    t.throws(() => makeUe(t, { identity: { impu: 'sip:alice@ims.test', token: bad } }), { code: 'EPC_ERR_UA_INVALID_ARGUMENT' }, `refused: ${JSON.stringify(bad.slice(0, 20))}`);
  }
  t.throws(() => makeUe(t, { identity: { impu: 'sip:alice@ims.test', token: TOKEN, password: 'alicepw' } }), /not both/);
  const digest = makeUe(t);
  t.throws(() => digest.ue.updateToken(TOKEN), { code: 'EPC_ERR_UA_INVALID_ARGUMENT' });
  const { ue, transport } = makeUe(t, tokenIdentity);
  t.throws(() => ue.updateToken('bad token'), { code: 'EPC_ERR_UA_INVALID_ARGUMENT' });
  void ue.register();
  t.equal(bearerOf(transport.last('REGISTER')), TOKEN, 'a refused update keeps the old token');
  ue.close();
  t.throws(() => ue.updateToken(NEXT_TOKEN), { code: 'EPC_ERR_UA_CLOSED' }, 'a closed UE takes no token');
  await settle();
});

t.test('RFC 6750 §2.1: checkBearerToken takes b64token (base64url JWTs, base64 with + / and = padding)', async (t) => {
  t.equal(checkBearerToken(TOKEN), TOKEN);
  t.equal(checkBearerToken('abc+/~-._=='), 'abc+/~-._==');
});
