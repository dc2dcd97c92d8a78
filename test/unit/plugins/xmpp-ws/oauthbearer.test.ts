// xmpp-ws SASL OAUTHBEARER (RFC 7628) with the WWSF's web token (TS 24.371 scenarios 2/3): the
// client response grammar (§3.1), the JID taken from the token's impu (RFC 7247 §5), the UE
// registering with the token, and the P-CSCF's refusal in SASL's form (R-REG-4).
import t from 'tap';
import { pino } from 'pino';
import { DEFAULT_XMPP_WS_OPTIONS, XmppWsSession } from '../../../../plugins/xmpp-ws/index.js';
import { decodeOauthBearer } from '../../../../plugins/xmpp-ws/stream/sasl-oauthbearer.js';
import { fakeUeFactory, type FakeUeScript, type FakeVirtualUe } from '../../../support/fake-ua.js';
import { unsecuredToken } from '../../../support/web-tokens.js';

const OPEN = '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="ims.test" version="1.0"/>';
const BIND = '<iq xmlns="jabber:client" type="set" id="b1"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>web</resource></bind></iq>';
const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const bearer = (token: string, gs2 = 'n,,'): string => `${gs2}\u0001auth=Bearer ${token}\u0001\u0001`;
const AUTH = (message: string, mechanism = 'OAUTHBEARER'): string => `<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="${mechanism}">${b64(message)}</auth>`;
const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: 'https://wwsf.test', aud: 'epcscf.test', sub: 'alice@ims.test', impu: 'sip:alice@ims.test', exp: Math.floor(Date.now() / 1000) + 300, ...extra,
});
/** Decodable (the plugin only reads it); whether it is valid is the P-CSCF's call, played by the fake UE here. */
const TOKEN = unsecuredToken(claims());

interface Rig {
  session: XmppWsSession;
  frames: string[];
  closed: boolean;
  made: FakeVirtualUe[];
}

function rig(script: FakeUeScript = {}, saslMechanisms: readonly string[] = ['PLAIN', 'OAUTHBEARER']): Rig {
  const factory = fakeUeFactory(script);
  const state = { frames: [] as string[], closed: false, made: factory.made } as Rig;
  state.session = new XmppWsSession({
    id: 'c1', remote: { address: '127.0.0.1', port: 1 },
    send: async (frame) => { state.frames.push(frame); },
    close: () => { state.closed = true; },
  }, {
    createUe: (identity) => factory.create({ identity, secure: false, transport: { send: async () => undefined } }),
    log: pino({ level: 'silent' }),
    options: { ...DEFAULT_XMPP_WS_OPTIONS, domain: 'ims.test' },
    now: Date.now,
    reportFlood: () => undefined,
    saslMechanisms,
  });
  return state;
}

const last = (r: Rig): string => r.frames.at(-1) ?? '';

t.test('RFC 7628 §3.1: the client response, its gs2 header and kvpairs', async (t) => {
  // The RFC's own example (§4.1), with host and port pairs.
  const example = decodeOauthBearer(b64('n,a=user@example.com,\u0001host=server.example.com\u0001port=143\u0001auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\u0001\u0001'));
  t.same(example, { ok: true, response: { authzid: 'user@example.com', token: 'vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==' } });
  t.same(decodeOauthBearer(b64(bearer('abc'))), { ok: true, response: { authzid: '', token: 'abc' } }, 'n,, = no authzid');
  t.same(decodeOauthBearer(b64(bearer('abc', 'y,a=a=2Cb=3Dc@x,'))), { ok: true, response: { authzid: 'a,b=c@x', token: 'abc' } }, 'RFC 5801 saslname escapes');
  t.same(decodeOauthBearer(b64(bearer('abc', 'n,alice@ims.test,'))), { ok: true, response: { authzid: 'alice@ims.test', token: 'abc' } }, 'stanza 12 writes the authzid without a=');
  t.same(decodeOauthBearer(b64('n,,\u0001auth=bearer  abc\u0001\u0001')), { ok: true, response: { authzid: '', token: 'abc' } }, 'the scheme is case-insensitive');
  for (const [message, why] of [
    ['\u0001', 'the lone kvsep answers an error challenge, none was sent'],
    ['p=tls-unique,,\u0001auth=Bearer abc\u0001\u0001', 'channel binding asked for'],
    ['n,a=,\u0001auth=Bearer abc\u0001\u0001', 'empty a='],
    ['n,a=x=41,\u0001auth=Bearer abc\u0001\u0001', 'a bare = in saslname'],
    ['n,,\u0001host=x\u0001\u0001', 'no auth pair'],
    ['n,,\u0001auth=Bearer abc\u0001auth=Bearer def\u0001\u0001', 'two auth pairs'],
    ['n,,\u0001auth=Basic abc\u0001\u0001', 'not Bearer'],
    ['n,,\u0001auth=Bearer a"b\u0001\u0001', 'not a b64token'],
    ['n,,\u0001auth=Bearer abc\u0001', 'no final kvsep'],
    ['n,,auth=Bearer abc', 'no kvsep at all'],
    [`n,,\u0001auth=Bearer ${'a'.repeat(8193)}\u0001\u0001`, 'an oversized token'],
  ] as const) {
    t.same(decodeOauthBearer(b64(message)), { ok: false, condition: 'malformed-request' }, why);
  }
  t.same(decodeOauthBearer('***'), { ok: false, condition: 'incorrect-encoding' });
  t.same(decodeOauthBearer(Buffer.from([0x6e, 0x2c, 0xff]).toString('base64')), { ok: false, condition: 'incorrect-encoding' }, 'not UTF-8');
});

t.test('RFC 7628 / R-XWS-10: OAUTHBEARER is offered beside PLAIN only when the core takes web tokens', async (t) => {
  const on = rig();
  await on.session.onFrame(OPEN);
  t.match(last(on), /<mechanism>PLAIN<\/mechanism><mechanism>OAUTHBEARER<\/mechanism>/);
  const off = rig({}, ['PLAIN']);
  await off.session.onFrame(OPEN);
  t.notMatch(last(off), /OAUTHBEARER/);
  await off.session.onFrame(AUTH(bearer(TOKEN)));
  t.match(last(off), /<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><invalid-mechanism\/><\/failure>/, 'not offered, not taken');
  t.equal(off.made.length, 0);
});

t.test('R-REG-1: OAUTHBEARER registers the UE with the token (no password); the JID is the token\'s impu (RFC 7247 §5)', async (t) => {
  const r = rig();
  await r.session.onFrame(OPEN);
  await r.session.onFrame(AUTH(bearer(TOKEN, 'n,a=alice@ims.test,')));
  t.match(last(r), /^<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl"\/>$/);
  t.same(r.made[0]?.options.identity, { impu: 'sip:alice@ims.test', token: TOKEN }, 'the IMPU is the claim; the token is the credential');
  await r.session.onFrame(OPEN);
  await r.session.onFrame(BIND);
  t.match(last(r), /<jid>alice@ims\.test\/web<\/jid>/);
});

t.test('RFC 7247 §5: a tel impu (scenario 3 pools may hand out numbers) is the JID +number@domain', async (t) => {
  const token = unsecuredToken(claims({ impu: 'tel:+15550100' }));
  const r = rig();
  await r.session.onFrame(OPEN);
  await r.session.onFrame(AUTH(bearer(token)));
  t.match(last(r), /<success /);
  t.equal(r.made[0]?.options.identity.impu, 'tel:+15550100');
  await r.session.onFrame(OPEN);
  await r.session.onFrame(BIND);
  t.match(last(r), /<jid>\+15550100@ims\.test\/web<\/jid>/);
});

t.test('R-REG-4: the P-CSCF\'s refusal is <failure><not-authorized/><text>reason</text></failure>; the client may try again', async (t) => {
  for (const [status, reason, condition] of [
    [403, 'Token expired', 'not-authorized'],
    [403, 'Token IMPU not in pool', 'not-authorized'],
    [503, 'Token keys unavailable', 'not-authorized'],
    [504, 'Server Time-out', 'temporary-auth-failure'],
  ] as const) {
    const r = rig({ registerOutcome: { state: 'failed', status, reason } });
    await r.session.onFrame(OPEN);
    await r.session.onFrame(AUTH(bearer(TOKEN)));
    t.equal(last(r), `<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><${condition}/><text xml:lang="en">${reason}</text></failure>`, `${status} ${reason}`);
    t.ok(r.made[0]?.closed, 'the refused UE is dropped');
    t.notOk(r.closed, 'the stream stays open for another attempt');
  }
});

t.test('R-REG-4: a token the plugin cannot even read never reaches the core: no UE, the reason in <text/>', async (t) => {
  const cases = [
    [bearer('not-a-jwt'), 'not-authorized', 'Token malformed'],
    [bearer(unsecuredToken(claims({ impu: undefined }))), 'not-authorized', 'Token claims invalid'],
    [bearer(unsecuredToken(claims({ impu: 'mailto:alice@ims.test' }))), 'not-authorized', 'Token claims invalid'],
    [bearer(unsecuredToken(claims({ impu: 'sip:alice@elsewhere.test' }))), 'not-authorized', 'Token IMPU mismatch'],
    [bearer(TOKEN, 'n,a=bob@ims.test,'), 'invalid-authzid', 'Token IMPU mismatch'],
  ] as const;
  for (const [message, condition, text] of cases) {
    const r = rig({}, ['PLAIN', 'OAUTHBEARER']);
    await r.session.onFrame(OPEN);
    await r.session.onFrame(AUTH(message));
    t.equal(last(r), `<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><${condition}/><text xml:lang="en">${text}</text></failure>`, text);
    t.equal(r.made.length, 0, 'no UE, so no REGISTER');
  }
  const malformed = rig();
  await malformed.session.onFrame(OPEN);
  await malformed.session.onFrame(AUTH('n,,\u0001auth=Basic x\u0001\u0001'));
  t.equal(last(malformed), '<failure xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><malformed-request/></failure>', 'RFC 6120 §6.5.8');
});

t.test('R-REG-25: closing a token-registered stream leaves the de-registration to the P-CSCF; a PLAIN one de-registers', async (t) => {
  const token = rig();
  await token.session.onFrame(OPEN);
  await token.session.onFrame(AUTH(bearer(TOKEN)));
  await token.session.onFrame(OPEN);
  await token.session.onFrame(BIND);
  await token.session.onClose();
  t.same(token.made[0]?.actions.map((a) => a.method), ['register'], 'no unregister from the plugin');
  t.ok(token.made[0]?.closed);
  const plain = rig();
  await plain.session.onFrame(OPEN);
  await plain.session.onFrame(`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">${b64('\u0000alice\u0000alicepw')}</auth>`);
  await plain.session.onFrame(OPEN);
  await plain.session.onFrame(BIND);
  await plain.session.onClose();
  t.same(plain.made[0]?.actions.map((a) => a.method), ['register', 'unregister']);
});
