// Issue #11 defects 1 and 3, proven end to end: a real JSON-RPC client (json-rpc-2.0 over ws)
// drives epcscf (W2 server + jsonrpc-ws + core/ua + core/pcscf) toward a fake IMS core on UDP
// that parses what arrives on Mw with our own parser (the bytes on the wire, not the model).
// Client strings that the SIP grammar forbids are refused with -32602 naming the field, and
// nothing leaves on Mw; legal but awkward strings (quotes in a display name) are escaped.
import t, { type Test } from 'tap';
import { JSONRPCErrorException } from 'json-rpc-2.0';
import {
  authValues, formatUri, from, getHeader, getHeaders, type SipMessage, type SipRequest,
} from '../../core/sip/index.js';
import { startEpcscf, type EpcscfUnderTest } from '../support/epcscf-harness.js';
import { FakeImsCore } from '../support/fake-ims-core.js';
import { RpcWsClient } from '../support/jsonrpc-client.js';

/** The exact probe of issue #11 defect 1. */
const PAI_PROBE = 'text/plain\r\nP-Asserted-Identity: <sip:boss@ims.test>\r\n\r\n';
const CHALLENGE = 'Digest realm="ims.test", nonce="n0nce1", qop="auth", algorithm=MD5';

interface Rig { core: FakeImsCore; epcscf: EpcscfUnderTest; client: RpcWsClient }

async function setUp(t: Test): Promise<Rig> {
  const core = await FakeImsCore.start();
  t.teardown(() => core.close());
  const epcscf = await startEpcscf({ nextHop: `sip:127.0.0.1:${core.port};transport=udp`, extraPlugins: [{ name: 'jsonrpc-ws' }] });
  t.teardown(() => epcscf.close());
  const client = await RpcWsClient.connect(`${epcscf.baseUrl}/jsonrpc`);
  t.teardown(() => client.close());
  return { core, epcscf, client };
}

/** The registrar: challenges the first REGISTER, accepts the answered one (Service-Route, P-Associated-URI). */
async function playRegistrar(core: FakeImsCore): Promise<{ challenged: SipRequest; answered: SipRequest }> {
  const challenged = await core.request('REGISTER');
  core.answer(challenged, 401, { toTag: 'r1', headers: [['WWW-Authenticate', CHALLENGE]] });
  const answered = await core.request('REGISTER');
  core.answer(answered, 200, { toTag: 'r2', headers: [
    ['Contact', `${getHeader(answered, 'Contact') ?? ''};expires=600`], ['Service-Route', `<sip:orig@127.0.0.1:${core.port};lr>`],
    ['P-Associated-URI', '<sip:alice@ims.test>'], ['Path', getHeader(answered, 'Path') ?? ''],
  ] });
  return { challenged, answered };
}

async function registeredAlice(t: Test, extra: Record<string, unknown> = {}): Promise<Rig & { answered: SipRequest }> {
  const rig = await setUp(t);
  const registrar = playRegistrar(rig.core);
  const result = await rig.client.request('session.register', { impu: 'sip:alice@ims.test', password: 'alicepw', ...extra });
  if (result['state'] !== 'registered') throw new Error(`alice did not register: ${JSON.stringify(result)}`);
  return { ...rig, answered: (await registrar).answered };
}

/** The JSON-RPC error a request answered with (fails the test when it succeeded). */
async function rpcErrorOf(client: RpcWsClient, method: string, params: Record<string, unknown>): Promise<JSONRPCErrorException> {
  try {
    const result = await client.request(method, params);
    throw new Error(`${method} succeeded: ${JSON.stringify(result)}`);
  } catch (error) {
    if (error instanceof JSONRPCErrorException) return error;
    throw error;
  }
}

/** Lets a stray datagram reach the fake core before asserting that none came. */
const quietPeriod = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 300));

const requestsAt = (core: FakeImsCore, method: string): SipRequest[] =>
  core.received.filter((m: SipMessage): m is SipRequest => m.kind === 'request' && m.method === method);

t.test('issue 11 #1: message.send with the PAI probe in contentType is refused with -32602 naming contentType, nothing on Mw', async (t) => {
  const { core, epcscf, client } = await registeredAlice(t);
  const error = await rpcErrorOf(client, 'message.send', { to: 'sip:bob@ims.test', body: 'hi', contentType: PAI_PROBE });
  t.equal(error.code, -32602, 'JSON-RPC invalid params');
  t.equal(error.data?.['field'], 'contentType', 'data names the field');
  await quietPeriod();
  t.same(requestsAt(core, 'MESSAGE'), [], 'the IMS core received no MESSAGE');
  t.same(core.unparsable, [], 'nothing unparsable arrived on Mw either');
  t.same(epcscf.capture.requests('mw', 'out', 'MESSAGE'), [], 'epcscf sent no MESSAGE on Mw');

  // A legal media type with parameters still goes out, with exactly one PAI: ours (R-ORIG-2).
  const sending = client.request('message.send', { to: 'sip:bob@ims.test', body: 'hi', contentType: 'text/plain;charset=UTF-8' });
  const message = await core.request('MESSAGE');
  core.answer(message, 200);
  t.equal((await sending)['sipStatus'], 200);
  t.equal(getHeader(message, 'Content-Type'), 'text/plain;charset=UTF-8');
  t.same(getHeaders(message, 'P-Asserted-Identity'), ['<sip:alice@ims.test>'], 'R-ORIG-2: one PAI, the registered identity');
});

t.test('issue 11 #3: a "to" with URI headers (?X-Evil=1) is refused with -32602 naming the field; no Request-URI with headers, no X-Evil on Mw', async (t) => {
  const { core, epcscf, client } = await registeredAlice(t);
  const evil = 'sip:bob@ims.test?X-Evil=1';
  const message = await rpcErrorOf(client, 'message.send', { to: evil, body: 'hi' });
  t.equal(message.code, -32602);
  t.equal(message.data?.['field'], 'to');
  const invite = await rpcErrorOf(client, 'call.invite', { to: evil, sdp: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' });
  t.equal(invite.code, -32602);
  t.equal(invite.data?.['field'], 'to');
  const subscribe = await rpcErrorOf(client, 'subscription.subscribe', { event: 'reg', target: evil });
  t.equal(subscribe.code, -32602);
  t.equal(subscribe.data?.['field'], 'target');
  await quietPeriod();
  const sent = epcscf.capture.requests('mw', 'out');
  t.same(sent.filter((r) => r.method !== 'REGISTER').map((r) => r.method), [], 'nothing but the REGISTERs went out on Mw');
  for (const m of core.received) {
    if (m.kind === 'request') t.notOk(formatUri(m.uri).includes('?'), `no Request-URI with headers (${m.method})`);
    t.equal(getHeader(m, 'X-Evil'), undefined, 'no X-Evil header');
  }
  t.same(core.unparsable, [], 'nothing unparsable arrived on Mw');
});

t.test('issue 11 #3: session.register with CR/LF in displayName or impi is refused with -32602 naming the field, no REGISTER on Mw', async (t) => {
  const { core, epcscf, client } = await setUp(t);
  for (const [field, value] of [
    ['displayName', 'Alice\r\nX-Evil: 1'], ['displayName', 'Alice\nX-Evil: 1'], ['displayName', 'Alice\r'],
    ['impi', 'alice@ims.test\r\nX-Evil: 1'], ['impi', 'alice", nc=00000099, x="'], ['impi', 'alice\\@ims.test'],
  ] as const) {
    const error = await rpcErrorOf(client, 'session.register', { impu: 'sip:alice@ims.test', password: 'alicepw', [field]: value });
    t.equal(error.code, -32602, `${field} ${JSON.stringify(value)}: invalid params`);
    t.equal(error.data?.['field'], field, 'data names the field');
  }
  await quietPeriod();
  t.same(requestsAt(core, 'REGISTER'), [], 'the IMS core received no REGISTER');
  t.same(core.unparsable, [], 'nothing unparsable arrived on Mw either');
  t.same(epcscf.capture.requests('mw', 'out', 'REGISTER'), [], 'epcscf sent no REGISTER on Mw');
});

t.test('issue 11 #3: quotes and backslashes in displayName are escaped (RFC 3261 §25.1 quoted-pair): one From, one Authorization, no extra parameter', async (t) => {
  const displayName = 'Al"ice \\ "the boss", nc=1\\';
  const { answered } = await registeredAlice(t, { displayName, impi: 'alice@ims.test' });
  t.equal(getHeaders(answered, 'From').length, 1, 'one From line');
  t.equal(from(answered).displayName, displayName, 'the display name reads back exactly');
  t.equal(getHeader(answered, 'X-Evil'), undefined);
  const credentials = authValues(answered, 'Authorization');
  t.equal(credentials.length, 1, 'one Authorization');
  t.same(Object.keys(credentials[0]?.params ?? {}).sort(), ['algorithm', 'cnonce', 'nc', 'nonce', 'qop', 'realm', 'response', 'uri', 'username'],
    'exactly the RFC 7616 §3.4 parameters');
  t.equal(credentials[0]?.params['username'], 'alice@ims.test');
});
