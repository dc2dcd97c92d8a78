/**
 * plugins/jsonrpc-ws: the call.* methods and the call notifications (R-JR-2, R-JR-3), against
 * the fake UE playing the network.
 */
import t from 'tap';
import { EpcError } from '../../../../core/errors.js';
import { UaRejectedError } from '../../../../core/ua/index.js';
import { ANSWER, OFFER, type FakeUaCall } from '../../../support/fake-ua.js';
import { RpcRig, rigShared, settle } from '../../../support/jsonrpc-session-rig.js';

async function registered(rig = new RpcRig()): Promise<RpcRig> {
  await rig.register();
  return rig;
}

async function outgoing(rig: RpcRig, to = 'sip:bob@ims.test'): Promise<{ callId: string; call: FakeUaCall }> {
  const { callId } = await rig.ok('call.invite', { to, sdp: OFFER });
  const call = rig.ue.calls.get(String(callId));
  if (call === undefined) throw new Error('no call');
  return { callId: String(callId), call };
}

t.test('R-JR-2 call.invite: INVITE with the offer and privacy; the result names the call', async (t) => {
  const rig = await registered();
  const { callId } = await rig.ok('call.invite', { to: 'sip:bob@ims.test', sdp: OFFER, privacy: 'id' });
  t.type(callId, 'string');
  t.same(rig.ue.actions.find((a) => a.method === 'call')?.args, ['sip:bob@ims.test', { sdp: OFFER, privacy: 'id' }]);
  t.same(rig.violations, []);
});

t.test('R-JR-3 -32001: call.invite, message.send and subscription.subscribe need a registration', async (t) => {
  const rig = new RpcRig();
  for (const [method, params] of [
    ['call.invite', { to: 'sip:bob@ims.test', sdp: OFFER }],
    ['message.send', { to: 'sip:bob@ims.test', body: 'hi' }],
    ['subscription.subscribe', { event: 'reg' }],
  ] as const) {
    const answer = await rig.call(method, params);
    t.equal(answer.error?.code, -32001, method);
    t.match(answer.error?.data?.['hint'], /session\.register/);
  }
});

t.test('R-JR-2: 180, 183 with SDP, 200 become call.progress and call.answered; BYE from the other side call.ended remote', async (t) => {
  const rig = await registered();
  const { callId, call } = await outgoing(rig);
  call.progress(180);
  call.progress(183, ANSWER);
  call.answered(ANSWER);
  call.end({ cause: 'remote' });
  await settle();
  t.same(rig.notifications('call.progress').map((n) => n.params), [
    { callId, sipStatus: 180, reason: 'Ringing' },
    { callId, sipStatus: 183, reason: 'Session Progress', sdp: ANSWER },
  ]);
  t.same(rig.notifications('call.answered').map((n) => n.params), [{ callId, sdp: ANSWER }]);
  t.same(rig.notifications('call.ended').map((n) => n.params), [{ callId, cause: 'remote' }]);
  const after = await rig.call('call.hangup', { callId });
  t.equal(after.error?.code, -32004, 'an ended call is unknown');
  t.same(rig.violations, []);
});

t.test('R-JR-3: a SIP failure is call.ended with sipStatus and the Reason header, not an error', async (t) => {
  const rig = await registered();
  const { callId, call } = await outgoing(rig);
  call.end({ cause: 'rejected', status: 486, reason: 'Busy Here', reasonHeader: 'SIP;cause=486;text="Busy Here"' });
  await settle();
  t.same(rig.notifications('call.ended')[0]?.params, { callId, cause: 'rejected', sipStatus: 486, reason: 'SIP;cause=486;text="Busy Here"' });
  t.same(rig.responses().filter((r) => r.error), [], 'no error answer');
});

t.test('R-JR-3 -32003: EPC_ERR_MEDIA or a 503 before the call exists is "no media resources"', async (t) => {
  const media = await registered(new RpcRig({}, rigShared({ callError: new EpcError('EPC_ERR_MEDIA', 'media-gw down') })));
  const a = await media.call('call.invite', { to: 'sip:bob@ims.test', sdp: OFFER });
  t.equal(a.error?.code, -32003);
  t.match(a.error?.data?.['hint'], /try again/);
  const busy = new UaRejectedError(503, 'Service Unavailable', 'INVITE');
  const overloaded = await registered(new RpcRig({}, rigShared({ callError: busy })));
  const b = await overloaded.call('call.invite', { to: 'sip:bob@ims.test', sdp: OFFER });
  t.equal(b.error?.code, -32003);
  t.equal(b.error?.data?.['sipStatus'], 503);
});

t.test('R-TERM-4 call.incoming: caller identity, privacy as anonymous, the offer; ring, answer, ACK → call.answered', async (t) => {
  const rig = await registered();
  const call = rig.ue.incoming({ uri: 'sip:carol@ims.test', displayName: 'Carol' });
  const hidden = rig.ue.incoming({ uri: 'sip:anonymous@anonymous.invalid', displayName: 'Secret', anonymous: true }, null);
  await settle();
  const [shown, anonymous] = rig.notifications('call.incoming');
  t.same(shown?.params, { callId: call.id, from: { uri: 'sip:carol@ims.test', displayName: 'Carol', anonymous: false }, sdp: OFFER });
  t.same(anonymous?.params, { callId: hidden.id, from: { uri: 'sip:anonymous@anonymous.invalid', anonymous: true } }, 'RFC 3323: no display name, no sdp for an offerless INVITE');
  await rig.ok('call.ring', { callId: call.id });
  await rig.ok('call.ring', { callId: call.id, sdp: ANSWER });
  await rig.ok('call.answer', { callId: call.id, sdp: ANSWER });
  t.same(call.actions, [
    { method: 'ring', args: [undefined] }, { method: 'ring', args: [ANSWER] }, { method: 'answer', args: [ANSWER] },
  ]);
  call.answered();
  await settle();
  t.same(rig.notifications('call.answered').map((n) => n.params), [{ callId: call.id }]);
  const late = await rig.call('call.answer', { callId: call.id, sdp: ANSWER });
  t.equal(late.error?.code, -32005, 'answering twice is the wrong state');
  t.equal(late.error?.data?.['state'], 'confirmed');
  t.same(rig.violations, []);
});

t.test('R-JR-2 call.reject: default 486, or the status given; -32005 on an outgoing call', async (t) => {
  const rig = await registered();
  const first = rig.ue.incoming({ uri: 'sip:carol@ims.test' });
  const second = rig.ue.incoming({ uri: 'sip:carol@ims.test' });
  await rig.ok('call.reject', { callId: first.id });
  await rig.ok('call.reject', { callId: second.id, status: 603 });
  t.same(first.actions[0], { method: 'reject', args: [486, undefined] });
  t.same(second.actions[0], { method: 'reject', args: [603, undefined] });
  const { callId } = await outgoing(rig);
  const wrong = await rig.call('call.reject', { callId });
  t.equal(wrong.error?.code, -32005);
  t.equal(wrong.error?.data?.['direction'], 'outgoing');
  const badStatus = await rig.call('call.reject', { callId, status: 200 });
  t.equal(badStatus.error?.code, -32602, 'a 2xx is no rejection');
});

t.test('RFC 3261 §9.1 call.cancel: only an unanswered outgoing call; call.hangup ends any live call', async (t) => {
  const rig = await registered();
  const { callId, call } = await outgoing(rig);
  await rig.ok('call.cancel', { callId });
  t.same(call.actionNames(), ['cancel']);
  call.answered(ANSWER);
  const late = await rig.call('call.cancel', { callId });
  t.equal(late.error?.code, -32005);
  await rig.ok('call.hangup', { callId });
  t.same(call.actionNames(), ['cancel', 'hangup']);
  await settle();
  t.same(rig.notifications('call.ended').map((n) => n.params), [{ callId, cause: 'local' }]);
  const incoming = rig.ue.incoming({ uri: 'sip:carol@ims.test' });
  const cancelIncoming = await rig.call('call.cancel', { callId: incoming.id });
  t.equal(cancelIncoming.error?.code, -32005, 'an incoming call is rejected, not cancelled');
});

t.test('RFC 3311 / 24.610: call.update (early or confirmed), call.hold and call.resume (confirmed) return the answer SDP', async (t) => {
  const rig = await registered();
  const { callId, call } = await outgoing(rig);
  const tooEarly = await rig.call('call.hold', { callId });
  t.equal(tooEarly.error?.code, -32005);
  t.equal(tooEarly.error?.data?.['state'], 'calling');
  call.progress(183, ANSWER);
  t.same(await rig.ok('call.update', { callId, sdp: OFFER }), { sdp: ANSWER }, 'UPDATE in the early dialog');
  call.answered(ANSWER);
  t.same(await rig.ok('call.hold', { callId }), { sdp: ANSWER });
  t.same(await rig.ok('call.resume', { callId }), { sdp: ANSWER });
  t.same(call.actionNames(), ['update', 'hold', 'resume']);
  t.same(rig.violations, []);
});

t.test('TS 24.610: the other side holding/resuming becomes call.updated with its direction and held', async (t) => {
  const rig = await registered();
  const { callId, call } = await outgoing(rig);
  call.answered(ANSWER);
  call.emit('updated', { sdp: ANSWER, direction: 'sendonly' });
  call.emit('updated', { sdp: ANSWER, direction: 'sendrecv' });
  await settle();
  t.same(rig.notifications('call.updated').map((n) => [n.params?.['direction'], n.params?.['held'], n.params?.['callId']]), [
    ['sendonly', true, callId], ['sendrecv', false, callId],
  ]);
  t.same(rig.violations, []);
});

t.test('R-JR-2 call.dtmf: digits (upper-cased) and duration to the UE; only [0-9A-D*#]', async (t) => {
  const rig = await registered();
  const { callId, call } = await outgoing(rig);
  call.answered(ANSWER);
  t.same(await rig.ok('call.dtmf', { callId, digits: '12#a', durationMs: 160 }), { sent: 4 });
  t.same(call.actions.at(-1), { method: 'dtmf', args: ['12#A', 160] });
  const bad = await rig.call('call.dtmf', { callId, digits: '12x' });
  t.equal(bad.error?.code, -32602);
  t.equal(bad.error?.data?.['field'], 'digits');
});

t.test('R-SDP-9 call.ice: candidates (and null = end) are absorbed and say why; an unknown call is -32004', async (t) => {
  const rig = await registered();
  const { callId, call } = await outgoing(rig);
  const result = await rig.ok('call.ice', { callId, candidate: { candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host', sdpMid: '0', sdpMLineIndex: 0 } });
  t.equal(result['absorbed'], true);
  t.match(result['reason'], /ICE-lite/);
  t.same(await rig.ok('call.ice', { callId, candidate: null }), result);
  t.same(call.actions, [], 'nothing reaches the UE or the IMS');
  const unknown = await rig.call('call.ice', { callId: 'nope', candidate: null });
  t.equal(unknown.error?.code, -32004);
  t.equal(unknown.error?.data?.['callId'], 'nope');
  t.same(rig.violations, []);
});

t.test('R-JR-3 -32005: a UE refusal (EPC_ERR_INVALID_STATE) of a call method is "wrong state" with detail', async (t) => {
  const rig = await registered();
  const { callId, call } = await outgoing(rig);
  call.answered(ANSWER);
  call.hold = async () => { throw new EpcError('EPC_ERR_INVALID_STATE', 'a re-INVITE is already in progress'); };
  const answer = await rig.call('call.hold', { callId });
  t.equal(answer.error?.code, -32005);
  t.match(answer.error?.data?.['detail'], /re-INVITE/);
});
