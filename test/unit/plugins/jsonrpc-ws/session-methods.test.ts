/**
 * plugins/jsonrpc-ws: session.register / resume / unregister, the UE's wiring to the core
 * (host.sip.fromClient one way, ue.receive the other) and what a WebSocket drop does.
 */
import t from 'tap';
import { EpcError } from '../../../../core/errors.js';
import { createResponse, getHeader, type SipRequest } from '../../../../core/sip/index.js';
import { OFFER } from '../../../support/fake-ua.js';
import { RpcRig, rigShared, settle } from '../../../support/jsonrpc-session-rig.js';

const DROP = { cause: 'remote', code: 1006, reason: '' } as const;

function expiresOf(request: SipRequest): string | undefined {
  return getHeader(request, 'Expires');
}

t.test('R-JR-2 session.register: the UE gets the identity, the connection\'s security and instance id; the result says registered', async (t) => {
  const rig = new RpcRig();
  const result = await rig.register({ impi: 'alice@ims.test', displayName: 'Alice', instanceId: 'urn:uuid:2b3c4d5e-0000-4000-8000-00000000abcd', expires: 3600 });
  const ue = rig.ue;
  t.same(ue.options.identity, { impu: 'sip:alice@ims.test', password: 'alicepw', impi: 'alice@ims.test', displayName: 'Alice' });
  t.equal(ue.options.instanceId, 'urn:uuid:2b3c4d5e-0000-4000-8000-00000000abcd');
  t.equal(ue.options.expires, 3600);
  t.equal(ue.options.secure, false, 'Via WS, not WSS, like the connection (RFC 7118 §5.2)');
  t.equal(result['state'], 'registered');
  t.equal(result['instanceId'], 'urn:uuid:2b3c4d5e-0000-4000-8000-00000000abcd');
  t.same(result['associatedUris'], ['sip:alice@ims.test']);
  t.equal(result['sipStatus'], 200);
  t.type(result['resumeToken'], 'string');
  t.equal(result['resumeGraceSeconds'], 120);
  t.equal(rig.notifications('session.registration')[0]?.params?.['state'], 'registered');
  t.same(rig.violations, []);
});

t.test('architecture: the UE\'s SIP goes to host.sip.fromClient with this connection id; SIP from the core goes to ue.receive', async (t) => {
  const rig = new RpcRig();
  await rig.register();
  const [connectionId, message] = rig.shared.host.received[0] ?? [];
  t.equal(connectionId, rig.conn.id);
  t.equal(message?.kind === 'request' ? message.method : undefined, 'REGISTER');
  const register = message as SipRequest;
  const response = createResponse(register, 200, 'OK');
  await rig.session.onSipResponse(response);
  await rig.session.onSipRequest(register);
  t.same(rig.ue.received, [response, register]);
});

t.test('R-JR-3: a refused registration is a result with state failed and the SIP status, not an error', async (t) => {
  const rig = new RpcRig({}, rigShared({ registerOutcome: { state: 'failed', status: 403, reason: 'Forbidden' } }));
  const answer = await rig.call('session.register', { impu: 'sip:alice@ims.test', password: 'wrong' });
  t.equal(answer.error, undefined);
  t.equal(answer.result?.['state'], 'failed');
  t.equal(answer.result?.['sipStatus'], 403);
  t.equal(answer.result?.['reason'], 'Forbidden');
  t.notOk(answer.result?.['resumeToken'], 'nothing to resume');
  t.ok(rig.ue.closed, 'the failed UE is dropped, so a retry starts afresh');
  const retry = await rig.call('session.register', { impu: 'sip:alice@ims.test', password: 'again' });
  t.equal(retry.error, undefined, 'a retry is allowed');
  t.equal(rig.shared.factory.made.length, 2);
  t.same(rig.violations, []);
});

t.test('R-JR-3: a UE fault during register maps to an application error with data, never a silent drop', async (t) => {
  const rig = new RpcRig({}, rigShared({ registerError: new EpcError('EPC_ERR_INVALID_STATE', 'the P-CSCF is shutting down') }));
  const answer = await rig.call('session.register', { impu: 'sip:alice@ims.test', password: 'pw' });
  t.equal(answer.error?.code, -32005);
  t.match(answer.error?.data?.['detail'], /shutting down/);
  const crash = new RpcRig({}, rigShared({ registerError: new TypeError('boom') }));
  const internal = await crash.call('session.register', { impu: 'sip:alice@ims.test', password: 'pw' });
  t.equal(internal.error?.code, -32603);
  t.notMatch(JSON.stringify(internal.error), /boom/, 'no internals leak to the client');
});

t.test('R-JR-2: session.register while registered is -32005 naming the state', async (t) => {
  const rig = new RpcRig();
  await rig.register();
  const again = await rig.call('session.register', { impu: 'sip:alice@ims.test', password: 'alicepw' });
  t.equal(again.error?.code, -32005);
  t.equal(again.error?.data?.['state'], 'registered');
});

t.test('R-REG-24 session.unregister: REGISTER Expires: 0, calls hung up first; -32001 when not registered', async (t) => {
  const rig = new RpcRig();
  const notYet = await rig.call('session.unregister');
  t.equal(notYet.error?.code, -32001);
  t.match(notYet.error?.data?.['hint'], /nothing/);
  const { resumeToken } = await rig.register();
  const { callId } = await rig.ok('call.invite', { to: 'sip:bob@ims.test', sdp: OFFER });
  const call = rig.ue.calls.get(String(callId));
  const result = await rig.ok('session.unregister', {});
  t.equal(result['state'], 'unregistered');
  t.same(call?.actionNames(), ['hangup']);
  const sent = rig.shared.host.received.map(([, m]) => m as SipRequest);
  t.same(sent.map(expiresOf), ['600000', '0']);
  t.ok(rig.ue.closed);
  const resumed = await new RpcRig({}, rig.shared).call('session.resume', { resumeToken });
  t.equal(resumed.error?.code, -32002, 'the resume token died with the registration');
  t.same(rig.violations, []);
});

t.test('issue #5 resume: after a drop, session.resume on a new connection re-registers with the same instance id and credentials', async (t) => {
  const shared = rigShared();
  const first = new RpcRig({}, shared);
  const { resumeToken, instanceId } = await first.register();
  const firstUe = first.ue;
  await first.session.onClose(DROP);
  t.ok(firstUe.closed, 'the old UE is released (ue.close)');
  t.same(firstUe.actions.map((a) => a.method), ['register'], 'no de-registration while the grace runs');
  shared.clock.advance(119_000);
  const second = new RpcRig({}, shared);
  const result = await second.ok('session.resume', { resumeToken });
  t.equal(result['state'], 'registered');
  t.equal(second.ue.options.instanceId, instanceId, 'same +sip.instance (RFC 5626 §4.2 replaces the binding)');
  t.same(second.ue.options.identity, firstUe.options.identity, 'credentials kept, not asked again');
  t.type(result['resumeToken'], 'string');
  t.not(result['resumeToken'], resumeToken, 'a fresh single-use token');
  const reuse = await new RpcRig({}, shared).call('session.resume', { resumeToken });
  t.equal(reuse.error?.code, -32002, 'single use');
  t.same([...first.violations, ...second.violations], []);
});

t.test('issue #5 resume: after the grace period the token is void (-32002)', async (t) => {
  const shared = rigShared();
  const first = new RpcRig({ resumeGraceSeconds: 30 }, shared);
  const { resumeToken } = await first.register();
  await first.session.onClose(DROP);
  shared.clock.advance(30_000);
  const late = await new RpcRig({}, shared).call('session.resume', { resumeToken });
  t.equal(late.error?.code, -32002);
  t.match(late.error?.data?.['hint'], /session\.register/);
  t.equal(shared.state.size, 0, 'nothing kept in host.state');
});

t.test('issue #5 resume: a registration that lapsed before the drop leaves no resume token behind', async (t) => {
  const shared = rigShared();
  const rig = new RpcRig({}, shared);
  const { resumeToken } = await rig.register();
  t.equal(shared.resume.size, 1);
  rig.ue.registration = { state: 'failed', status: 403, reason: 'Forbidden' };
  await rig.session.onClose(DROP);
  t.equal(shared.resume.size, 0, 'the token is revoked, not kept with no grace timer');
  const late = await new RpcRig({}, shared).call('session.resume', { resumeToken });
  t.equal(late.error?.code, -32002);
});

t.test('issue #5 resume: a still-open old connection is closed and does not de-register', async (t) => {
  const shared = rigShared();
  const first = new RpcRig({}, shared);
  const { resumeToken } = await first.register();
  const second = new RpcRig({}, shared);
  const result = await second.ok('session.resume', { resumeToken });
  t.equal(result['state'], 'registered');
  t.same(first.conn.closed, { code: 1000, reason: 'resumed on another connection' });
  await first.session.onClose({ cause: 'plugin', code: 1000, reason: 'resumed on another connection' });
  t.same(first.ue.actions.map((a) => a.method), ['register'], 'the old session sent no REGISTER Expires: 0');
  t.ok(first.ue.closed);
});

t.test('issue #5 resume off (grace 0): onClose sends REGISTER Expires: 0 through the core before releasing the UE', async (t) => {
  const rig = new RpcRig({ resumeGraceSeconds: 0 });
  const result = await rig.register();
  t.notOk(result['resumeToken'], 'no token when resume is off');
  await rig.session.onClose(DROP);
  const sent = rig.shared.host.received.map(([, m]) => m as SipRequest);
  t.same(sent.map(expiresOf), ['600000', '0']);
  t.ok(rig.ue.closed);
});

t.test('WebSocket drop: ue.close() ends the calls (cause connection) and nothing more is sent to the dead client', async (t) => {
  const rig = new RpcRig();
  await rig.register();
  const { callId } = await rig.ok('call.invite', { to: 'sip:bob@ims.test', sdp: OFFER });
  const call = rig.ue.calls.get(String(callId));
  const framesBefore = rig.conn.frames.length;
  await rig.session.onClose(DROP);
  t.equal(call?.state, 'terminated');
  t.equal(rig.conn.frames.length, framesBefore, 'no notification after close');
  t.equal(rig.session.describe()['calls'], 0);
});

t.test('R-JR-2 session.resume on a connection that is registered is -32005', async (t) => {
  const shared = rigShared();
  const first = new RpcRig({}, shared);
  const { resumeToken } = await first.register();
  const answer = await first.call('session.resume', { resumeToken });
  t.equal(answer.error?.code, -32005);
});

t.test('describe(): a JSON-safe snapshot for the admin API', async (t) => {
  const rig = new RpcRig();
  await rig.register();
  const view = rig.session.describe();
  t.equal(view['registration'], 'registered');
  t.equal(view['impu'], 'sip:alice@ims.test');
  t.equal(view['connectionId'], rig.conn.id);
  t.doesNotThrow(() => JSON.stringify(view));
  await settle();
});
