/**
 * plugins/jsonrpc-ws: the JSON-RPC 2.0 envelope (F-JR-1) and R-JR-4, over a fake connection.
 */
import t from 'tap';
import { RpcRig, rigShared, settle } from '../../../support/jsonrpc-session-rig.js';

t.test('F-JR-1: invalid JSON is answered -32700 Parse error with id null, and the connection stays', async (t) => {
  const rig = new RpcRig();
  await rig.frame('{"jsonrpc": "2.0", "method": "rpc.discover", "id": 1');
  const [answer] = rig.responses();
  t.equal(answer?.id, null);
  t.equal(answer?.error?.code, -32700);
  t.type(answer?.error?.data?.['detail'], 'string', 'data says what was wrong');
  t.equal(rig.conn.closed, undefined);
  const ok = await rig.call('rpc.discover');
  t.ok(ok.result, 'the next request is served');
});

t.test('issue 11 guard: JSON nested deeper than 64 levels is refused -32700 before parsing; 64 levels and brackets in strings are fine', async (t) => {
  const rig = new RpcRig();
  await rig.frame(`{"jsonrpc":"2.0","id":1,"method":"rpc.discover","params":${'{"a":'.repeat(65)}1${'}'.repeat(65)}}`);
  const [answer] = rig.responses();
  t.equal(answer?.id, null);
  t.equal(answer?.error?.code, -32700);
  t.match(answer?.error?.data?.['detail'], /deeper than 64/);
  await rig.frame(`{"jsonrpc":"2.0","id":2,"method":"rpc.discover","params":{"s":"${'['.repeat(500)}\\"${'{'.repeat(500)}"}}`);
  await rig.frame(`{"jsonrpc":"2.0","id":3,"method":"rpc.discover","params":${'['.repeat(63)}${']'.repeat(63)}}`);
  // Both reach the method (which then judges the params): not refused as too deep.
  t.same(rig.responses().slice(1).map((r) => r.id), [2, 3], 'not counted: brackets inside strings; allowed: 64 levels');
  t.ok(rig.responses().slice(1).every((r) => r.error?.code !== -32700));
});

t.test('F-JR-1: an empty batch is one -32600 Invalid Request (a single object, not an array)', async (t) => {
  const rig = new RpcRig();
  await rig.frame('[]');
  t.equal(rig.messages.length, 1);
  const answer = rig.messages[0];
  t.notOk(Array.isArray(answer), 'not an array');
  t.equal((answer as { error?: { code: number } }).error?.code, -32600);
});

t.test('F-JR-1: a batch is answered with one array, without entries for notifications', async (t) => {
  const rig = new RpcRig();
  rig.expect('a', 'call.ice');
  await rig.frame(JSON.stringify([
    { jsonrpc: '2.0', method: 'rpc.discover', id: 'a' },
    { jsonrpc: '2.0', method: 'rpc.discover' },
    { jsonrpc: '2.0', method: 'no.such', id: 7 },
  ]));
  t.equal(rig.messages.length, 1, 'one frame');
  const batch = rig.messages[0];
  t.ok(Array.isArray(batch), 'an array');
  if (!Array.isArray(batch)) return;
  t.equal(batch.length, 2, 'no entry for the notification');
  t.ok(batch.find((m) => m.id === 'a')?.result);
  t.equal(batch.find((m) => m.id === 7)?.error?.code, -32601);
});

t.test('F-JR-1: a batch of only notifications gets no answer at all', async (t) => {
  const rig = new RpcRig();
  await rig.frame(JSON.stringify([{ jsonrpc: '2.0', method: 'rpc.discover' }, { jsonrpc: '2.0', method: 'rpc.discover', params: {} }]));
  t.same(rig.messages, []);
});

t.test('F-JR-1: [1,2,3] answers three -32600 with id null (each entry is an invalid Request)', async (t) => {
  const rig = new RpcRig();
  await rig.frame('[1,2,3]');
  const batch = rig.messages[0];
  t.ok(Array.isArray(batch));
  if (!Array.isArray(batch)) return;
  t.equal(batch.length, 3);
  for (const m of batch) {
    t.equal(m.id, null);
    t.equal(m.error?.code, -32600);
    t.match(m.error?.data?.['reason'], /JSON object/);
  }
});

t.test('F-JR-1: envelope faults are -32600 with the readable id and a reason', async (t) => {
  const rig = new RpcRig();
  await rig.frame(JSON.stringify({ jsonrpc: '1.0', method: 'rpc.discover', id: 5 }));
  await rig.frame(JSON.stringify({ jsonrpc: '2.0', method: 42, id: 6 }));
  await rig.frame(JSON.stringify({ jsonrpc: '2.0', method: 'rpc.discover', params: 'x', id: 7 }));
  await rig.frame(JSON.stringify({ jsonrpc: '2.0', method: 'rpc.discover', id: { no: 1 } }));
  const answers = rig.responses();
  t.same(answers.map((a) => [a.id, a.error?.code]), [[5, -32600], [6, -32600], [7, -32600], [null, -32600]]);
  t.match(answers[0]?.error?.data?.['reason'], /"2.0"/);
  t.match(answers[1]?.error?.data?.['reason'], /method/);
  t.match(answers[2]?.error?.data?.['reason'], /params/);
  t.match(answers[3]?.error?.data?.['reason'], /id/);
});

t.test('F-JR-1: an unknown method is -32601 naming it; rpc.-prefixed names are ours only', async (t) => {
  const rig = new RpcRig();
  const answer = await rig.call('call.teleport', { callId: 'x' });
  t.equal(answer.error?.code, -32601);
  t.equal(answer.error?.data?.['method'], 'call.teleport');
  t.match(answer.error?.data?.['hint'], /rpc\.discover/);
  const reserved = await rig.call('rpc.anythingElse');
  t.equal(reserved.error?.code, -32601);
});

t.test('F-JR-1: params are checked against schemas/jsonrpc: -32602 with data naming the bad field', async (t) => {
  const rig = new RpcRig();
  const missing = await rig.call('session.register', { impu: 'sip:alice@ims.test' });
  t.equal(missing.error?.code, -32602);
  t.equal(missing.error?.data?.['field'], 'password');
  t.match(missing.error?.data?.['problem'], /^is required \(or instead token\)/, 'password or token: the field named is password');
  const wrongType = await rig.call('session.register', { impu: 'sip:alice@ims.test', password: 'x', expires: 'soon' });
  t.equal(wrongType.error?.data?.['field'], 'expires');
  const unknown = await rig.call('session.register', { impu: 'sip:alice@ims.test', password: 'x', colour: 'blue' });
  t.equal(unknown.error?.data?.['field'], 'colour');
  t.equal(unknown.error?.data?.['problem'], 'is not a known parameter');
  const badUri = await rig.call('call.invite', { to: 'bob', sdp: 'v=0\r\n...' });
  t.equal(badUri.error?.code, -32602);
  t.equal(badUri.error?.data?.['field'], 'to');
  const nested = await rig.call('call.ice', { callId: 'c', candidate: { candidate: 5 } });
  t.equal(nested.error?.code, -32602);
  t.match(String(nested.error?.data?.['field']), /^candidate/);
  t.equal(rig.shared.factory.made.length, 0, 'no handler ran');
});

t.test('F-JR-1: by-position params (an array) are -32602: every method is by-name', async (t) => {
  const rig = new RpcRig();
  const answer = await rig.call('session.register', ['sip:alice@ims.test', 'pw']);
  t.equal(answer.error?.code, -32602);
  t.match(answer.error?.data?.['problem'], /by-name/);
});

t.test('F-JR-1: a client notification is never answered, but its failure is reported as session.error', async (t) => {
  const rig = new RpcRig();
  await rig.frame(JSON.stringify({ jsonrpc: '2.0', method: 'call.hangup', params: { callId: 'nope' } }));
  t.same(rig.responses(), [], 'no response object');
  const [error] = rig.notifications('session.error');
  t.equal(error?.params?.['code'], -32004);
  t.equal(error?.params?.['method'], 'call.hangup');
  await rig.frame(JSON.stringify({ jsonrpc: '2.0', method: 'not.a.method' }));
  t.same(rig.responses(), []);
  t.equal(rig.notifications('session.error')[1]?.params?.['code'], -32601, 'an unknown notification is not dropped silently');
  t.same(rig.violations, []);
});

t.test('R-JR-4: a second request with an id still in flight is -32600; the first is answered once', async (t) => {
  const held = new RpcRig({}, rigShared({ holdRegister: true }));
  const frame = JSON.stringify({ jsonrpc: '2.0', method: 'session.register', params: { impu: 'sip:alice@ims.test', password: 'pw' }, id: 'r1' });
  held.session.onFrame(frame);
  await settle();
  held.session.onFrame(frame);
  await settle();
  let answers = held.responses().filter((m) => m.id === 'r1');
  t.equal(answers.length, 1, 'the duplicate is answered at once');
  t.equal(answers[0]?.error?.code, -32600);
  t.match(answers[0]?.error?.data?.['reason'], /duplicate id/);
  held.ue.releaseRegister();
  await settle();
  answers = held.responses().filter((m) => m.id === 'r1');
  t.equal(answers.length, 2, 'the original request gets its own single answer');
  t.equal(answers[1]?.result?.['state'], 'registered');
  // Once answered, the id may be used again.
  const again = await held.call('rpc.discover', undefined, 'r1');
  t.ok(again.result);
  t.equal(held.ue.actions.filter((a) => a.method === 'register').length, 1, 'the duplicate never reached the UE');
});

t.test('R-JR-4: ids 1 and "1" are different ids', async (t) => {
  const rig = new RpcRig();
  await rig.frame(JSON.stringify([{ jsonrpc: '2.0', method: 'rpc.discover', id: 1 }, { jsonrpc: '2.0', method: 'rpc.discover', id: '1' }]));
  const batch = rig.messages[0];
  t.ok(Array.isArray(batch) && batch.every((m) => m.result !== undefined));
});

t.test('RFC 6455 §7.4.1: a binary frame gets session.error and a close with 1003', async (t) => {
  const rig = new RpcRig();
  await rig.frame(new Uint8Array([0x7b, 0x7d]));
  t.equal(rig.notifications('session.error')[0]?.params?.['code'], -32600);
  t.same(rig.conn.closed, { code: 1003, reason: 'text frames only' });
});
