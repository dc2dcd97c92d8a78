/**
 * plugins/jsonrpc-ws: call.deflect (TS 24.604 CD) and callCompletion.* (TS 24.642 CCBS/CCNR)
 * against the fake UE: what reaches the UE, and the errors a client can cause.
 */
import t from 'tap';
import { OFFER } from '../../../support/fake-ua.js';
import { RpcRig, settle } from '../../../support/jsonrpc-session-rig.js';

const OFFERED = { uri: 'sip:cc@as.ims.test', mode: 'NR' as const, target: 'sip:dave@ims.test' };

t.test('TS 24.604 CD: call.deflect hands the target to the ringing call; -32005 on an outgoing call, -32602 for a bad target', async (t) => {
  const rig = new RpcRig();
  await rig.register();
  const call = rig.ue.incoming({ uri: 'sip:carol@ims.test' });
  const bad = await rig.call('call.deflect', { callId: call.id, target: 'erin' });
  t.equal(bad.error?.code, -32602, 'not a SIP/tel URI');
  await rig.ok('call.deflect', { callId: call.id, target: 'sip:erin@ims.test' });
  t.same(call.actions, [{ method: 'deflect', args: ['sip:erin@ims.test'] }]);
  await settle();
  t.same(rig.notifications('call.ended').map((n) => n.params?.['sipStatus']), [302], 'call.ended sipStatus 302');
  const { callId } = await rig.ok('call.invite', { to: 'sip:bob@ims.test', sdp: OFFER });
  const wrong = await rig.call('call.deflect', { callId, target: 'sip:erin@ims.test' });
  t.equal(wrong.error?.code, -32005, 'only an incoming call can be deflected');
  t.same(rig.violations, []);
});

t.test('TS 24.642 CCNR: a 180 offer on call.progress; callCompletion.request/recall/cancel; -32004 without an offer or a request', async (t) => {
  const rig = new RpcRig();
  await rig.register();
  const { callId } = await rig.ok('call.invite', { to: 'sip:dave@ims.test', sdp: OFFER });
  const early = await rig.call('callCompletion.recall', { callId, sdp: OFFER });
  t.equal(early.error?.code, -32004, 'no request yet');
  const none = await rig.call('callCompletion.request', { callId });
  t.equal(none.error?.code, -32004, 'no offer yet');
  const call = rig.ue.calls.get(String(callId));
  call?.emit('progress', { status: 180, reason: 'Ringing', callCompletion: OFFERED });
  await settle();
  t.same(rig.notifications('call.progress').at(-1)?.params?.['callCompletion'], { mode: 'NR', uri: 'sip:cc@as.ims.test' }, 'call.progress callCompletion');
  t.same(await rig.ok('callCompletion.request', { callId }), { callId, mode: 'NR', state: 'requested' });
  t.same(rig.ue.actions.at(-1), { method: 'requestCallCompletion', args: [OFFERED] });
  rig.ue.callCompletions[0]?.emit('ready', { state: 'ready' });
  await settle();
  t.same(rig.notifications('callCompletion.ready').map((n) => n.params), [{ callId, mode: 'NR', target: 'sip:dave@ims.test' }]);
  const recall = await rig.ok('callCompletion.recall', { callId, sdp: OFFER });
  t.not(recall['callId'], callId, 'the recall is a new call');
  await rig.ok('callCompletion.cancel', { callId });
  await settle();
  t.same(rig.notifications('callCompletion.ended').map((n) => n.params?.['callId']), [callId]);
  const gone = await rig.call('callCompletion.cancel', { callId });
  t.equal(gone.error?.code, -32004, 'the request is over');
  t.same(rig.violations, []);
});
