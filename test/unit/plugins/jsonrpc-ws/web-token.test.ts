/**
 * plugins/jsonrpc-ws with web tokens (TS 24.371 scenarios 2/3): session.register {impu, token}
 * (exactly one of password and token), a refused token as -32009 carrying the P-CSCF's status
 * and reason (R-REG-4), session.updateToken (R-REG-3), and what a drop does to a token
 * registration (R-REG-25: the P-CSCF de-registers it, not the plugin).
 */
import t from 'tap';
import { getHeader, type SipRequest } from '../../../../core/sip/index.js';
import { RpcRig, rigShared } from '../../../support/jsonrpc-session-rig.js';

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZUBpbXMudGVzdCIsImltcHUiOiJzaXA6YWxpY2VAaW1zLnRlc3QifQ.c2ln';
const NEXT_TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZUBpbXMudGVzdCJ9.bmV4dA';
const DROP = { cause: 'remote', code: 1006, reason: '' } as const;

function registersSent(rig: RpcRig): SipRequest[] {
  return rig.shared.host.received.map(([, m]) => m).filter((m): m is SipRequest => m.kind === 'request' && m.method === 'REGISTER');
}

t.test('R-REG-1: session.register {impu, token} gives the UE the token and no password; the result says registered', async (t) => {
  const rig = new RpcRig();
  const result = await rig.ok('session.register', { impu: 'sip:alice@ims.test', token: TOKEN });
  t.same(rig.ue.options.identity, { impu: 'sip:alice@ims.test', token: TOKEN });
  t.equal(result['state'], 'registered');
  t.type(result['resumeToken'], 'string');
  t.same(rig.violations, []);
});

t.test('session.register: password and token are exclusive, one is required: -32602 naming the field, nothing sent', async (t) => {
  const rig = new RpcRig();
  const both = await rig.call('session.register', { impu: 'sip:alice@ims.test', password: 'alicepw', token: TOKEN });
  t.equal(both.error?.code, -32602);
  t.equal(both.error?.data?.['field'], 'token');
  t.match(both.error?.data?.['problem'], /together with password/);
  const neither = await rig.call('session.register', { impu: 'sip:alice@ims.test' });
  t.equal(neither.error?.code, -32602);
  t.equal(neither.error?.data?.['field'], 'password');
  t.match(neither.error?.data?.['problem'], /or instead token/);
  const badToken = await rig.call('session.register', { impu: 'sip:alice@ims.test', token: 'two words' });
  t.equal(badToken.error?.code, -32602);
  t.equal(badToken.error?.data?.['field'], 'token');
  const noImpu = await rig.call('session.register', { token: TOKEN });
  t.equal(noImpu.error?.data?.['field'], 'impu', 'a missing impu is still named first');
  t.equal(rig.shared.factory.made.length, 0, 'no UE, no REGISTER');
  t.same(rig.shared.host.received, []);
});

t.test('R-REG-4: a token the P-CSCF refuses (403 "Token expired") is -32009 with data {sipStatus, reason}; the UE is dropped and a retry starts afresh', async (t) => {
  const rig = new RpcRig({}, rigShared({ registerOutcome: { state: 'failed', status: 403, reason: 'Token expired' } }));
  const answer = await rig.call('session.register', { impu: 'sip:alice@ims.test', token: TOKEN });
  t.equal(answer.error?.code, -32009);
  t.equal(answer.error?.message, 'Token refused');
  t.equal(answer.error?.data?.['sipStatus'], 403);
  t.equal(answer.error?.data?.['reason'], 'Token expired');
  t.match(answer.error?.data?.['hint'], /new token/);
  t.ok(rig.ue.closed, 'the refused UE is dropped');
  const again = await rig.call('session.register', { impu: 'sip:alice@ims.test', token: NEXT_TOKEN });
  t.equal(again.error?.code, -32009, 'a retry is allowed (and refused the same by this scripted core)');
  t.equal(rig.shared.factory.made.length, 2);
  t.same(rig.violations, []);
});

t.test('R-REG-4: 503 "Token keys unavailable" is -32009 too, with a retry-later hint', async (t) => {
  const rig = new RpcRig({}, rigShared({ registerOutcome: { state: 'failed', status: 503, reason: 'Token keys unavailable' } }));
  const answer = await rig.call('session.register', { impu: 'sip:alice@ims.test', token: TOKEN });
  t.equal(answer.error?.code, -32009);
  t.same({ sipStatus: answer.error?.data?.['sipStatus'], reason: answer.error?.data?.['reason'] }, { sipStatus: 503, reason: 'Token keys unavailable' });
  t.match(answer.error?.data?.['hint'], /later/);
});

t.test('R-JR-3: a token registration the network times out (504) stays a failed result, like a digest one', async (t) => {
  const rig = new RpcRig({}, rigShared({ registerOutcome: { state: 'failed', status: 504, reason: 'Server Time-out' } }));
  const answer = await rig.call('session.register', { impu: 'sip:alice@ims.test', token: TOKEN });
  t.equal(answer.error, undefined);
  t.equal(answer.result?.['state'], 'failed');
  t.equal(answer.result?.['sipStatus'], 504);
});

t.test('a digest registration refused 403 stays a failed result (-32009 is for tokens only)', async (t) => {
  const rig = new RpcRig({}, rigShared({ registerOutcome: { state: 'failed', status: 403, reason: 'Forbidden' } }));
  const answer = await rig.call('session.register', { impu: 'sip:alice@ims.test', password: 'pw' });
  t.equal(answer.error, undefined);
  t.equal(answer.result?.['sipStatus'], 403);
});

t.test('R-REG-3: session.updateToken replaces the UE\'s token (nothing sent now), and session.resume re-registers with the new one', async (t) => {
  const shared = rigShared();
  const rig = new RpcRig({}, shared);
  const registered = await rig.ok('session.register', { impu: 'sip:alice@ims.test', token: TOKEN });
  const sent = shared.host.received.length;
  t.same(await rig.ok('session.updateToken', { token: NEXT_TOKEN }), { updated: true });
  t.equal(rig.ue.token, NEXT_TOKEN, 'the UE carries the new token');
  t.equal(shared.host.received.length, sent, 'no SIP for the update itself');
  await rig.session.onClose(DROP);
  const next = new RpcRig({}, shared);
  const resumed = await next.ok('session.resume', { resumeToken: registered['resumeToken'] });
  t.equal(resumed['state'], 'registered');
  t.same(next.ue.options.identity, { impu: 'sip:alice@ims.test', token: NEXT_TOKEN }, 'the resume uses the latest token');
  t.same(rig.violations, []);
  t.same(next.violations, []);
});

t.test('session.updateToken: -32001 without a registration, -32005 on a password registration, -32602 for a malformed token', async (t) => {
  const rig = new RpcRig();
  const none = await rig.call('session.updateToken', { token: TOKEN });
  t.equal(none.error?.code, -32001);
  await rig.register();
  const digest = await rig.call('session.updateToken', { token: TOKEN });
  t.equal(digest.error?.code, -32005);
  t.match(digest.error?.data?.['hint'], /password/);
  const bad = await rig.call('session.updateToken', { token: 'a"b' });
  t.equal(bad.error?.code, -32602);
  t.equal(bad.error?.data?.['field'], 'token');
  const missing = await rig.call('session.updateToken', {});
  t.equal(missing.error?.data?.['field'], 'token');
  t.same(rig.ue.actions.filter((a) => a.method === 'updateToken'), [], 'the UE was never touched');
});

t.test('R-REG-25: with resume off, a dropped token registration is left to the P-CSCF (no REGISTER Expires: 0 from the plugin); a digest one is de-registered', async (t) => {
  const token = new RpcRig({ resumeGraceSeconds: 0 });
  await token.ok('session.register', { impu: 'sip:alice@ims.test', token: TOKEN });
  await token.session.onClose(DROP);
  t.same(registersSent(token).map((r) => getHeader(r, 'Expires')), ['600000'], 'only the REGISTER; the core de-registers the trusted-node binding');
  t.ok(token.ue.closed);
  const digest = new RpcRig({ resumeGraceSeconds: 0 });
  await digest.register();
  await digest.session.onClose(DROP);
  t.same(registersSent(digest).map((r) => getHeader(r, 'Expires')), ['600000', '0'], 'digest: REGISTER Expires: 0 from the plugin');
});
