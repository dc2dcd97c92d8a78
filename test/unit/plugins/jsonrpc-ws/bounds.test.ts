/**
 * plugins/jsonrpc-ws: the per-connection bounds (issue #5) — batch length, requests in flight,
 * request rate (token bucket, -32006, then 1008 on a sustained flood), calls and subscriptions
 * per client — and that one bad client never affects another.
 */
import t from 'tap';
import { OFFER } from '../../../support/fake-ua.js';
import { RpcRig, rigShared, settle } from '../../../support/jsonrpc-session-rig.js';

const discover = (id: number | string) => JSON.stringify({ jsonrpc: '2.0', method: 'rpc.discover', id });

t.test('issue #5 bounds: a batch longer than maxBatch is one -32600 naming the limit', async (t) => {
  const rig = new RpcRig({ maxBatch: 4 });
  await rig.frame(`[${[1, 2, 3, 4, 5].map(discover).join(',')}]`);
  t.equal(rig.messages.length, 1);
  const answer = rig.messages[0];
  t.notOk(Array.isArray(answer));
  if (Array.isArray(answer)) return;
  t.equal(answer?.error?.code, -32600);
  t.equal(answer?.error?.data?.['maxBatch'], 4);
  await rig.frame(`[${[1, 2, 3, 4].map(discover).join(',')}]`);
  const ok = rig.messages[1];
  t.ok(Array.isArray(ok) && ok.length === 4, 'maxBatch itself is fine');
});

t.test('issue #5 bounds: beyond the token bucket each request is -32006; a sustained flood closes with 1008', async (t) => {
  const rig = new RpcRig({ floodBurst: 3, floodRatePerSecond: 1, floodCloseAfter: 4 });
  for (let id = 1; id <= 3; id += 1) await rig.frame(discover(id));
  t.equal(rig.responses().filter((r) => r.result).length, 3, 'the burst is served');
  await rig.frame(discover(4));
  const limited = rig.responses().find((r) => r.id === 4);
  t.equal(limited?.error?.code, -32006);
  t.equal(limited?.error?.data?.['limit'], 'floodRatePerSecond');
  t.equal(rig.conn.closed, undefined, 'one refusal does not close');
  rig.shared.now += 1_000; // one token back
  await rig.frame(discover(5));
  t.ok(rig.responses().find((r) => r.id === 5)?.result, 'the bucket refills at the rate');
  for (let id = 6; id <= 9; id += 1) await rig.frame(discover(id));
  t.same(rig.conn.closed, { code: 1008, reason: 'flood' });
  const notice = rig.notifications('session.error').at(-1);
  t.equal(notice?.params?.['code'], -32006);
  t.match(notice?.params?.['message'], /flood/);
  const framesAtClose = rig.conn.frames.length;
  rig.session.onFrame(discover(10));
  await settle();
  t.equal(rig.conn.frames.length, framesAtClose, 'nothing handled after the cut-off');
});

t.test('issue 11 #11: a sustained flood at 5x the rate is cut off with 1008 although a token trickles in now and then', async (t) => {
  const rig = new RpcRig({ floodBurst: 4, floodRatePerSecond: 10, floodCloseAfter: 20 });
  let sent = 0;
  // 50 requests/s against 10/s: every fifth request finds a fresh token, the rest are refused.
  while (rig.conn.closed === undefined && sent < 200) {
    sent += 1;
    await rig.frame(discover(sent));
    rig.shared.now += 20;
  }
  t.same(rig.conn.closed, { code: 1008, reason: 'flood' }, 'the flood is cut off');
  t.ok(sent <= 40, `soon after floodCloseAfter refusals (${sent} requests sent)`);
});

t.test('issue 11 #11: a client that bursts, then slows down to its rate, is not cut off', async (t) => {
  const rig = new RpcRig({ floodBurst: 4, floodRatePerSecond: 10, floodCloseAfter: 5 });
  let id = 0;
  for (let round = 0; round < 5; round += 1) {
    for (let i = 0; i < 8; i += 1) await rig.frame(discover(++id)); // 4 served, 4 refused
    rig.shared.now += 1_000; // quiet: the bucket refills
  }
  t.equal(rig.conn.closed, undefined, 'refusals separated by calm periods are not a sustained flood');
});

t.test('issue #5 bounds: one flooding client does not affect another (separate buckets, same plugin instance)', async (t) => {
  const shared = rigShared();
  const flooder = new RpcRig({ floodBurst: 2, floodRatePerSecond: 1, floodCloseAfter: 3 }, shared);
  const polite = new RpcRig({ floodBurst: 2, floodRatePerSecond: 1, floodCloseAfter: 3 }, shared);
  for (let id = 1; id <= 6; id += 1) await flooder.frame(discover(id));
  t.equal(flooder.conn.closed?.code, 1008);
  t.ok((await polite.call('rpc.discover')).result);
  t.ok((await polite.register())['state'] === 'registered');
  t.equal(polite.conn.closed, undefined);
});

t.test('issue #5 bounds: a batch spends one token per request', async (t) => {
  const rig = new RpcRig({ floodBurst: 2, floodRatePerSecond: 1, floodCloseAfter: 100 });
  await rig.frame(`[${[1, 2, 3].map(discover).join(',')}]`);
  const batch = rig.messages[0];
  t.ok(Array.isArray(batch));
  if (!Array.isArray(batch)) return;
  t.same(batch.map((m) => m.error?.code ?? 'ok').sort(), [-32006, 'ok', 'ok']);
});

t.test('issue #5 bounds: more than maxInFlight unanswered requests is -32006 naming maxInFlight', async (t) => {
  const rig = new RpcRig({ maxInFlight: 1 }, rigShared({ holdRegister: true }));
  rig.session.onFrame(JSON.stringify({ jsonrpc: '2.0', method: 'session.register', params: { impu: 'sip:alice@ims.test', password: 'pw' }, id: 'slow' }));
  await settle();
  await rig.frame(discover('fast'));
  const refused = rig.responses().find((r) => r.id === 'fast');
  t.equal(refused?.error?.code, -32006);
  t.equal(refused?.error?.data?.['limit'], 'maxInFlight');
  rig.ue.releaseRegister();
  await settle();
  t.equal(rig.responses().find((r) => r.id === 'slow')?.result?.['state'], 'registered');
  t.ok((await rig.call('rpc.discover')).result, 'room again once answered');
});

t.test('issue #5 bounds: maxCallsPerClient — call.invite beyond it is -32006; an incoming call beyond it is rejected 486', async (t) => {
  const rig = new RpcRig({ maxCallsPerClient: 2 });
  await rig.register();
  await rig.ok('call.invite', { to: 'sip:bob@ims.test', sdp: OFFER });
  await rig.ok('call.invite', { to: 'sip:carol@ims.test', sdp: OFFER });
  const third = await rig.call('call.invite', { to: 'sip:dave@ims.test', sdp: OFFER });
  t.equal(third.error?.code, -32006);
  t.equal(third.error?.data?.['limit'], 'maxCallsPerClient');
  const incoming = rig.ue.incoming({ uri: 'sip:eve@ims.test' });
  await settle();
  t.same(incoming.actions[0], { method: 'reject', args: [486, 'Busy Here'] });
  t.same(rig.notifications('call.incoming'), [], 'the client is not bothered');
});

t.test('issue #5 bounds: maxSubscriptions — one more subscription.subscribe is -32006', async (t) => {
  const rig = new RpcRig({ maxSubscriptions: 1 });
  await rig.register();
  await rig.ok('subscription.subscribe', { event: 'reg' });
  const second = await rig.call('subscription.subscribe', { event: 'message-summary' });
  t.equal(second.error?.code, -32006);
  t.equal(second.error?.data?.['limit'], 'maxSubscriptions');
});
