// TS 24.371 scenarios 2/3 over JSON-RPC (R-REG-1..10, 25): a JSON-RPC client registers with a
// web token through epcscf (jsonrpc-ws → core/ua → the real P-CSCF) into the dev IMS core, which
// trusts epcscf's Mw address only. Every message epcscf sent on Mw is captured: a good token
// gives the trusted-node REGISTER and no Bearer on Mw; a bad one the error -32009 carrying the
// P-CSCF's reason, and nothing at all on Mw.
import t, { type Test } from 'tap';
import { JSONRPCErrorException } from 'json-rpc-2.0';
import { getHeader, type SipRequest } from '../../core/sip/index.js';
import { TOKEN_REFUSAL_REASONS } from '../../core/webauth/index.js';
import { RpcWsClient } from '../support/jsonrpc-client.js';
import { bearerOnMw, startWebAuthBed, type WebAuthBed } from '../support/web-auth-bed.js';
import { TEST_ISSUER, hmacToken, nowSeconds, tamper, unsecuredToken } from '../support/web-tokens.js';
import { withDeadline } from '../support/wic/jssip-user.js';

async function client(t: Test, bed: WebAuthBed): Promise<RpcWsClient> {
  const rpc = await RpcWsClient.connect(`${bed.epcscf.baseUrl}/jsonrpc`);
  t.teardown(() => rpc.close());
  return rpc;
}

/** The JSON-RPC error of a request expected to fail. */
async function refusalOf(request: Promise<unknown>): Promise<{ code: number; message: string; data: Record<string, unknown> }> {
  const error = await request.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof JSONRPCErrorException)) throw new Error(`expected a JSON-RPC error, got ${JSON.stringify(error)}`);
  return { code: error.code, message: error.message, data: (error.data ?? {}) as Record<string, unknown> };
}

function registersOn(bed: WebAuthBed, from: number): SipRequest[] {
  return bed.mwSince(from).filter((m): m is SipRequest => m.kind === 'request' && m.method === 'REGISTER');
}

t.test('R-REG-1/9: session.register {impu, token} registers as a trusted node: the Mw REGISTER has the TNA Authorization and no Bearer (R-REG-5)', async (t) => {
  const bed = await startWebAuthBed(t);
  const token = await bed.token();
  const alice = await client(t, bed);
  const mark = bed.mark();
  const result = await alice.request('session.register', { impu: 'sip:alice@ims.test', token });
  t.equal(result['state'], 'registered', 'the dev core registered alice without a challenge');
  t.same(result['associatedUris'], ['sip:alice@ims.test', 'tel:+15550001']);
  const [register, ...more] = registersOn(bed, mark);
  t.equal(more.length, 0, 'one REGISTER on Mw: no challenge round');
  const authorization = register !== undefined ? getHeader(register, 'Authorization') : undefined;
  t.match(authorization, /^Digest username="alice@ims\.test", realm="ims\.test", uri="sip:ims\.test", nonce="", response="", integrity-protected="auth-done"$/, 'R-REG-9: the trusted-node Authorization (IMPI = the token\'s sub)');
  t.ok(register && getHeader(register, 'Path'), 'R-REG-11: Path as on any REGISTER');
  t.same(bearerOnMw(bed.mwSince(mark), token), [], 'R-REG-5: the token never reaches the IMS');
});

t.test('scenario 3: a guest token from the pool registers the pool IMPU', async (t) => {
  const bed = await startWebAuthBed(t);
  const guest = await client(t, bed);
  const mark = bed.mark();
  const result = await guest.request('session.register', { impu: 'sip:guest2@ims.test', token: await bed.guestToken('sip:guest2@ims.test') });
  t.equal(result['state'], 'registered');
  t.equal(result['impu'], 'sip:guest2@ims.test');
  t.match(getHeader(registersOn(bed, mark)[0] as SipRequest, 'Authorization'), /username="guest2@ims\.test".*integrity-protected="auth-done"/);
});

t.test('R-REG-4/10: each bad token is -32009 with {sipStatus: 403, reason} from the P-CSCF, and nothing goes on Mw', async (t) => {
  const bed = await startWebAuthBed(t);
  const now = nowSeconds();
  const claims = { iss: TEST_ISSUER, aud: 'epcscf.test', iat: now, exp: now + 300, sub: 'alice@ims.test', impu: 'sip:alice@ims.test' };
  const cases: [string, string, string, string][] = [
    ['expired', 'sip:alice@ims.test', await bed.token({}, now - 400), TOKEN_REFUSAL_REASONS.expired],
    ['wrong audience', 'sip:alice@ims.test', await bed.token({ aud: 'someone-else.test' }), TOKEN_REFUSAL_REASONS.audience_not_accepted],
    ['unknown issuer', 'sip:alice@ims.test', await bed.token({ iss: 'https://evil.test' }), TOKEN_REFUSAL_REASONS.issuer_unknown],
    ['tampered', 'sip:alice@ims.test', tamper(await bed.token(), { exp: now + 86_400 }), TOKEN_REFUSAL_REASONS.signature_invalid],
    ['alg none', 'sip:alice@ims.test', unsecuredToken(claims), TOKEN_REFUSAL_REASONS.algorithm_not_allowed],
    ['HS256', 'sip:alice@ims.test', await hmacToken(claims), TOKEN_REFUSAL_REASONS.algorithm_not_allowed],
    ['IMPU not the token\'s', 'sip:bob@ims.test', await bed.token(), TOKEN_REFUSAL_REASONS.impu_mismatch],
    ['IMPU outside the pool', 'sip:guest9@ims.test', await bed.guestToken('sip:guest9@ims.test'), TOKEN_REFUSAL_REASONS.impu_not_in_pool],
    ['garbage', 'sip:alice@ims.test', 'not-a-jwt', TOKEN_REFUSAL_REASONS.malformed],
  ];
  const rpc = await client(t, bed);
  for (const [name, impu, token, reason] of cases) {
    const mark = bed.mark();
    const error = await refusalOf(rpc.request('session.register', { impu, token }));
    t.same({ code: error.code, message: error.message, sipStatus: error.data['sipStatus'], reason: error.data['reason'] }, { code: -32009, message: 'Token refused', sipStatus: 403, reason }, `${name} → ${reason}`);
    t.same(bed.mwSince(mark).map((m) => (m.kind === 'request' ? m.method : m.status)), [], `${name}: nothing on Mw`);
  }
  // The same connection may still register with a good token (the refused UE was dropped).
  t.equal((await rpc.request('session.register', { impu: 'sip:alice@ims.test', token: await bed.token() }))['state'], 'registered');
});

t.test('R-REG-25: closing the connection makes epcscf de-register the trusted-node binding on Mw, once, with resume on or off', async (t) => {
  for (const resumeGraceSeconds of [0, 120]) {
    const bed = await startWebAuthBed(t, { jsonRpcOptions: { resumeGraceSeconds } });
    const alice = await client(t, bed);
    await alice.request('session.register', { impu: 'sip:alice@ims.test', token: await bed.token() });
    const mark = bed.mark();
    await alice.close();
    await bed.epcscf.capture.waitFor((e) => e.side === 'mw' && e.direction === 'in' && e.message.kind === 'response' && e.message.status === 200, { from: mark, what: '200 to the de-registration' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const registers = registersOn(bed, mark);
    t.equal(registers.length, 1, `resume ${resumeGraceSeconds} s: one REGISTER Expires: 0, from the P-CSCF (the plugin sends none of its own)`);
    t.equal(registers[0] && getHeader(registers[0], 'Expires'), '0');
    t.match(registers[0] && getHeader(registers[0], 'Authorization'), /integrity-protected="auth-done"/, 'with the trusted-node Authorization');
    t.same(bed.core.location.bindings('alice'), [], 'the dev core holds no binding for alice any more');
  }
});

t.test('R-REG-3: every initial request carries the token; once it expired, session.updateToken with a fresh one lets requests through again', async (t) => {
  const bed = await startWebAuthBed(t, { webAuth: { clockSkewSeconds: 0 } });
  const alice = await client(t, bed);
  const bob = await client(t, bed);
  await bob.request('session.register', { impu: 'sip:bob@ims.test', token: await bed.token({ impu: 'sip:bob@ims.test' }) });
  // Long enough to register and send one message on a loaded machine, short enough to wait out.
  const expiresAt = nowSeconds() + 6;
  const shortLived = await bed.token({ exp: expiresAt });
  t.equal((await alice.request('session.register', { impu: 'sip:alice@ims.test', token: shortLived }))['state'], 'registered');
  const first = await alice.request('message.send', { to: 'sip:bob@ims.test', body: 'while the token lives' });
  t.equal(first['accepted'], true);
  await withDeadline(bob.notification('message.received', (p) => p['body'] === 'while the token lives'), 8000, 'bob gets the first message');
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt * 1000 - Date.now()) + 1100));
  const mark = bed.mark();
  const refused = await alice.request('message.send', { to: 'sip:bob@ims.test', body: 'after expiry' });
  t.same({ accepted: refused['accepted'], sipStatus: refused['sipStatus'], reason: refused['reason'] }, { accepted: false, sipStatus: 403, reason: TOKEN_REFUSAL_REASONS.expired }, 'R-REG-3: the expired token stops new initial requests');
  t.same(bed.mwSince(mark), [], 'and nothing went on Mw');
  t.same(await alice.request('session.updateToken', { token: await bed.token() }), { updated: true });
  const again = await alice.request('message.send', { to: 'sip:bob@ims.test', body: 'with the new token' });
  t.equal(again['accepted'], true, 'the fresh token is carried and accepted');
  await withDeadline(bob.notification('message.received', (p) => p['body'] === 'with the new token'), 8000, 'bob gets the message');
  t.same(bearerOnMw(bed.mwSince(mark), 'eyJ'), [], 'R-REG-5: stripped before Mw');
});
