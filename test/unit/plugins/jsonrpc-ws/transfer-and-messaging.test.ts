/**
 * plugins/jsonrpc-ws: transfer (RFC 3515 REFER, RFC 3891 Replaces), MESSAGE (RFC 3428),
 * subscriptions (reg RFC 3680, message-summary RFC 3842) and rpc.discover.
 */
import t from 'tap';
import { ANSWER, FakeTransferRequest, OFFER } from '../../../support/fake-ua.js';
import { RpcRig, rigShared, settle } from '../../../support/jsonrpc-session-rig.js';

async function confirmedCall(rig: RpcRig, to = 'sip:bob@ims.test') {
  const { callId } = await rig.ok('call.invite', { to, sdp: OFFER });
  const call = rig.ue.calls.get(String(callId));
  if (call === undefined) throw new Error('no call');
  call.answered(ANSWER);
  return { callId: String(callId), call };
}

t.test('RFC 3515 call.transfer (blind): REFER to the target; NOTIFY sipfrag progress becomes call.transferProgress', async (t) => {
  const rig = new RpcRig();
  await rig.register();
  const { callId, call } = await confirmedCall(rig);
  t.same(await rig.ok('call.transfer', { callId, target: 'sip:carol@ims.test' }), {});
  t.same(call.actions.at(-1), { method: 'transfer', args: ['sip:carol@ims.test'] });
  call.emit('transferprogress', { status: 100, reason: 'Trying', final: false });
  call.emit('transferprogress', { status: 200, reason: 'OK', final: true });
  await settle();
  t.same(rig.notifications('call.transferProgress').map((n) => n.params), [
    { callId, sipStatus: 100, reason: 'Trying', final: false },
    { callId, sipStatus: 200, reason: 'OK', final: true },
  ]);
  t.same(rig.violations, []);
});

t.test('RFC 3891 call.transfer (attended): REFER with Replaces naming the other call of this session', async (t) => {
  const rig = new RpcRig();
  await rig.register();
  const first = await confirmedCall(rig);
  const second = await confirmedCall(rig, 'sip:carol@ims.test');
  await rig.ok('call.transfer', { callId: first.callId, replacesCallId: second.callId });
  t.same(first.call.actions.at(-1), { method: 'transfer', args: [{ call: second.callId }] });
  const self = await rig.call('call.transfer', { callId: first.callId, replacesCallId: first.callId });
  t.equal(self.error?.code, -32005);
  const both = await rig.call('call.transfer', { callId: first.callId, target: 'sip:x@ims.test', replacesCallId: second.callId });
  t.equal(both.error?.code, -32602, 'blind or attended, not both');
  const unknown = await rig.call('call.transfer', { callId: first.callId, replacesCallId: 'nope' });
  t.equal(unknown.error?.code, -32004);
});

t.test('RFC 3515 §2.4: a REFER from the other side is call.transferRequested; acceptTransfer places the new call and NOTIFYs its progress', async (t) => {
  const rig = new RpcRig();
  await rig.register();
  const { callId, call } = await confirmedCall(rig);
  const refer = new FakeTransferRequest('sip:dave@ims.test', { referredBy: 'sip:bob@ims.test', replaces: 'abc%40host;to-tag=1;from-tag=2' });
  call.emit('referred', refer);
  await settle();
  t.same(rig.notifications('call.transferRequested')[0]?.params, { callId, target: 'sip:dave@ims.test', attended: true, referredBy: 'sip:bob@ims.test' });
  const { callId: newCallId } = await rig.ok('call.acceptTransfer', { callId, sdp: OFFER });
  t.same(refer.actions[0], { method: 'accept', args: [] }, '202 Accepted first');
  t.same(rig.ue.actions.at(-1), { method: 'call', args: ['sip:dave@ims.test', { sdp: OFFER, headers: { Replaces: 'abc%40host;to-tag=1;from-tag=2', 'Referred-By': 'sip:bob@ims.test' } }] });
  const newCall = rig.ue.calls.get(String(newCallId));
  newCall?.progress(180);
  newCall?.answered(ANSWER);
  await settle();
  t.same(refer.actions.slice(1), [{ method: 'notify', args: [180, 'Ringing'] }, { method: 'notify', args: [200, 'OK'] }]);
  const again = await rig.call('call.acceptTransfer', { callId, sdp: OFFER });
  t.equal(again.error?.code, -32005, 'the REFER was answered already');
  t.same(rig.violations, []);
});

t.test('RFC 3515 §2.4.5: a transfer call that fails tells the transferor its final status', async (t) => {
  const rig = new RpcRig();
  await rig.register();
  const { callId, call } = await confirmedCall(rig);
  const refer = new FakeTransferRequest('sip:dave@ims.test');
  call.emit('referred', refer);
  const { callId: newCallId } = await rig.ok('call.acceptTransfer', { callId, sdp: OFFER });
  rig.ue.calls.get(String(newCallId))?.end({ cause: 'rejected', status: 486, reason: 'Busy Here' });
  await settle();
  t.same(refer.actions.at(-1), { method: 'notify', args: [486, 'Busy Here'] });
  t.equal(rig.notifications('call.transferRequested')[0]?.params?.['attended'], false);
});

t.test('RFC 3515 call.rejectTransfer: default 603, or the status given; -32005 with no REFER waiting', async (t) => {
  const rig = new RpcRig();
  await rig.register();
  const { callId, call } = await confirmedCall(rig);
  const none = await rig.call('call.rejectTransfer', { callId });
  t.equal(none.error?.code, -32005);
  t.match(none.error?.data?.['hint'], /transferRequested/);
  const refer = new FakeTransferRequest('sip:dave@ims.test');
  call.emit('referred', refer);
  await rig.ok('call.rejectTransfer', { callId });
  t.same(refer.actions, [{ method: 'reject', args: [603] }]);
  const refer2 = new FakeTransferRequest('sip:dave@ims.test');
  call.emit('referred', refer2);
  await rig.ok('call.rejectTransfer', { callId, status: 488 });
  t.same(refer2.actions, [{ method: 'reject', args: [488] }]);
});

t.test('RFC 3428 message.send: MESSAGE with body and type; the result carries the SIP outcome', async (t) => {
  const rig = new RpcRig();
  await rig.register();
  const result = await rig.ok('message.send', { to: 'sip:bob@ims.test', body: 'hello', contentType: 'text/plain;charset=UTF-8' });
  t.same(result, { accepted: true, sipStatus: 200, reason: 'OK' });
  t.same(rig.ue.actions.at(-1), { method: 'message', args: ['sip:bob@ims.test', 'hello', 'text/plain;charset=UTF-8'] });
  const refused = new RpcRig({}, rigShared({ messageOutcome: { status: 404, reason: 'Not Found' } }));
  await refused.register();
  t.same(await refused.ok('message.send', { to: 'sip:nobody@ims.test', body: 'x' }), { accepted: false, sipStatus: 404, reason: 'Not Found' });
  const tooBig = await rig.call('message.send', { to: 'sip:bob@ims.test', body: 'x'.repeat(1301) });
  t.equal(tooBig.error?.code, -32602, 'RFC 3428 §5: over 1300 bytes');
  t.same([...rig.violations, ...refused.violations], []);
});

t.test('RFC 3428: an incoming MESSAGE is message.received with the sender', async (t) => {
  const rig = new RpcRig();
  await rig.register();
  rig.ue.deliverMessage({ from: { uri: 'sip:bob@ims.test', displayName: 'Bob' }, contentType: 'text/plain', body: 'hi alice' });
  await settle();
  t.same(rig.notifications('message.received')[0]?.params, { from: { uri: 'sip:bob@ims.test', displayName: 'Bob', anonymous: false }, contentType: 'text/plain', body: 'hi alice' });
  t.same(rig.violations, []);
});

t.test('RFC 3842 / RFC 3680: subscription.subscribe, NOTIFY bodies as subscription.notify, unsubscribe', async (t) => {
  const rig = new RpcRig();
  await rig.register();
  const { subscriptionId } = await rig.ok('subscription.subscribe', { event: 'message-summary', expires: 3600 });
  t.same(rig.ue.actions.at(-1), { method: 'subscribe', args: ['message-summary', undefined, 3600] });
  const subscription = rig.ue.subscriptions[0];
  const mwi = 'Messages-Waiting: yes\r\nVoice-Message: 2/8 (0/2)\r\n';
  subscription?.emit('notify', { state: 'active', contentType: 'application/simple-message-summary', body: mwi });
  await settle();
  t.same(rig.notifications('subscription.notify')[0]?.params, {
    subscriptionId, event: 'message-summary', state: 'active', contentType: 'application/simple-message-summary', body: mwi,
    // RFC 3842 §5.2: "2/8 (0/2)" = 2 new, 8 old, of which 0 and 2 urgent.
    messageSummary: { messagesWaiting: true, new: 2, old: 8, classes: { voice: { new: 2, old: 8, urgentNew: 0, urgentOld: 2 } } },
  });
  await rig.ok('subscription.unsubscribe', { subscriptionId });
  t.ok(subscription?.unsubscribed);
  const gone = await rig.call('subscription.unsubscribe', { subscriptionId });
  t.equal(gone.error?.code, -32007);
  const reg = await rig.ok('subscription.subscribe', { event: 'reg', target: 'sip:alice@ims.test' });
  rig.ue.subscriptions[1]?.emit('terminated', { status: 408, reason: 'Request Timeout' });
  await settle();
  t.same(rig.notifications('subscription.notify').at(-1)?.params, { subscriptionId: reg['subscriptionId'], event: 'reg', state: 'terminated', sipStatus: 408, reason: 'Request Timeout' });
  const unknownEvent = await rig.call('subscription.subscribe', { event: 'presence' });
  t.equal(unknownEvent.error?.code, -32602);
  t.same(rig.violations, []);
});

t.test('R-JR-3 -32008: a refused SUBSCRIBE carries the SIP status in data', async (t) => {
  const rig = new RpcRig({}, rigShared({ subscribeRejectStatus: 489 }));
  await rig.register();
  const answer = await rig.call('subscription.subscribe', { event: 'reg' });
  t.equal(answer.error?.code, -32008);
  t.equal(answer.error?.data?.['sipStatus'], 489);
});

t.test('RFC 3842 §4.1: an unsolicited NOTIFY (MWI without subscription) is subscription.notify with subscriptionId null', async (t) => {
  const rig = new RpcRig();
  await rig.register();
  rig.ue.emit('unsolicitednotify', { event: 'message-summary', contentType: 'application/simple-message-summary', body: 'Messages-Waiting: no\r\n' });
  await settle();
  t.same(rig.notifications('subscription.notify')[0]?.params, {
    subscriptionId: null, event: 'message-summary', state: 'active', contentType: 'application/simple-message-summary', body: 'Messages-Waiting: no\r\n',
    messageSummary: { messagesWaiting: false, new: 0, old: 0, classes: {} },
  });
  t.same(rig.violations, []);
});

t.test('OpenRPC service discovery: rpc.discover returns the OpenRPC document', async (t) => {
  const rig = new RpcRig();
  const result = await rig.ok('rpc.discover');
  t.equal(result['openrpc'], '1.3.2');
  const names = (result['methods'] as { name: string }[]).map((m) => m.name);
  t.ok(names.includes('call.invite') && names.includes('session.register'));
});
