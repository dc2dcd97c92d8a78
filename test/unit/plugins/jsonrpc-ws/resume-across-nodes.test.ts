/**
 * plugins/jsonrpc-ws resume tokens in host.state (issue #15): two plugin instances ("nodes"),
 * each with its own host and ResumeStore, share one TtlStore namespace as two nodes share Redis.
 * A token one node issued is taken on the other; what the shared store holds never has the
 * password, the web token or the resume token in clear.
 */
import t from 'tap';
import { stateKeyOf } from '../../../../core/contract/index.js';
import { MemoryTtlStore } from '../../../../core/state/memory-ttl-store.js';
import { FakeClock } from '../../../support/fake-clock.js';
import { RpcRig, rigShared } from '../../../support/jsonrpc-session-rig.js';

const DROP = { cause: 'remote', code: 1006, reason: '' } as const;

/** A MemoryTtlStore that remembers every key and value written to it. */
class RecordingStore extends MemoryTtlStore {
  readonly writes: string[] = [];

  override set(key: string, value: string, ttlMs: number): Promise<void> {
    this.writes.push(key, value);
    return super.set(key, value, ttlMs);
  }
}

function twoNodes(): { a: ReturnType<typeof rigShared>; b: ReturnType<typeof rigShared>; store: RecordingStore; clock: FakeClock } {
  const clock = new FakeClock(1_000_000);
  const store = new RecordingStore(clock);
  return { a: rigShared({}, store, clock), b: rigShared({}, store, clock), store, clock };
}

t.test('issue #15: a resume token issued on node A is taken on node B, which re-registers with the same +sip.instance and credentials', async (t) => {
  const { a, b, clock } = twoNodes();
  const onA = new RpcRig({}, a);
  const { resumeToken, instanceId } = await onA.register({ impi: 'alice@ims.test', displayName: 'Alice', expires: 3600 });
  await onA.session.onClose(DROP);
  clock.advance(60_000);
  const onB = new RpcRig({}, b);
  const result = await onB.ok('session.resume', { resumeToken });
  t.equal(result['state'], 'registered');
  t.equal(result['instanceId'], instanceId);
  t.equal(onB.ue.options.instanceId, instanceId, 'RFC 5626 §4.2: the same +sip.instance replaces node A\'s binding');
  t.same(onB.ue.options.identity, { impu: 'sip:alice@ims.test', password: 'alicepw', impi: 'alice@ims.test', displayName: 'Alice' });
  t.equal(onB.ue.options.expires, 3600);
  t.equal(b.host.received.length, 1, 'node B sent the REGISTER');
  const again = await new RpcRig({}, a).call('session.resume', { resumeToken });
  t.equal(again.error?.code, -32002, 'single use across nodes: node A cannot take it again');
  t.same([...onA.violations, ...onB.violations], []);
});

t.test('issue #15: the grace period holds across nodes (the token is void on node B after it)', async (t) => {
  const { a, b, clock } = twoNodes();
  const onA = new RpcRig({ resumeGraceSeconds: 30 }, a);
  const { resumeToken } = await onA.register();
  await onA.session.onClose(DROP);
  clock.advance(30_000);
  const late = await new RpcRig({}, b).call('session.resume', { resumeToken });
  t.equal(late.error?.code, -32002);
});

t.test('issue #15: a token taken on node B while node A\'s connection is still open is not brought back when A\'s connection drops', async (t) => {
  const { a, b, store } = twoNodes();
  const onA = new RpcRig({}, a);
  const { resumeToken } = await onA.register();
  const onB = new RpcRig({}, b);
  t.equal((await onB.ok('session.resume', { resumeToken }))['state'], 'registered');
  t.equal(onA.conn.closed, undefined, 'node B cannot close node A\'s live connection');
  await onA.session.onClose(DROP);
  t.equal(await store.get(stateKeyOf(String(resumeToken))), undefined, 'node A\'s park does not store the used token again');
  const reuse = await new RpcRig({}, a).call('session.resume', { resumeToken });
  t.equal(reuse.error?.code, -32002);
});

t.test('issue #15: host.state never holds the password, the web token or the resume token in clear', async (t) => {
  const { a, store } = twoNodes();
  const digest = new RpcRig({}, a);
  const { resumeToken } = await digest.register({ password: 'alicepw-secret' });
  const bearer = new RpcRig({}, a);
  const webToken = 'eyJhbGciOiJFUzI1NiJ9.eyJpbXB1Ijoic2lwOmJvYkBpbXMudGVzdCJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
  const { resumeToken: bearerResume } = await bearer.ok('session.register', { impu: 'sip:bob@ims.test', token: webToken });
  await digest.session.onClose(DROP);
  await bearer.session.onClose(DROP);
  const written = store.writes.join('\n');
  t.ok(store.writes.length >= 4, 'issue and park wrote to host.state');
  t.notOk(written.includes('alicepw-secret'), 'no password');
  t.notOk(Buffer.from(written).includes(Buffer.from('alicepw-secret')), 'no password bytes');
  t.notOk(written.includes(webToken), 'no web token');
  t.notOk(written.includes(webToken.split('.')[1] ?? webToken), 'not even the token\'s claims segment');
  t.notOk(written.includes(String(resumeToken)) || written.includes(String(bearerResume)), 'no resume token: entries are keyed by its SHA-256');
  t.ok(await store.get(stateKeyOf(String(resumeToken))), 'the entry is under SHA-256(token)');
});

t.test('issue #15: an entry cannot be opened with another token (a wrong token cannot decrypt it)', async (t) => {
  const { a, b, store } = twoNodes();
  const onA = new RpcRig({}, a);
  const { resumeToken } = await onA.register();
  await onA.session.onClose(DROP);
  // Someone with write access to the store copies alice's entry under a key they hold the token of.
  const forged = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
  await store.set(stateKeyOf(forged), String(await store.get(stateKeyOf(String(resumeToken)))), 60_000);
  const answer = await new RpcRig({}, b).call('session.resume', { resumeToken: forged });
  t.equal(answer.error?.code, -32002, 'the sealed credential does not open: no registration as alice');
  t.equal(b.host.received.length, 0, 'nothing sent toward the IMS');
});

/** Node B's core can point a registered flow at a new connection (what a cluster core offers). */
function canAdoptFlows(node: ReturnType<typeof rigShared>, outcome: 'ok' | 'gone' = 'ok'): [string, string][] {
  const adopted: [string, string][] = [];
  Object.assign(node.host.sip, {
    adoptRegisteredFlow: (connectionId: string, contactUri: string): Promise<void> => {
      adopted.push([connectionId, contactUri]);
      return outcome === 'ok' ? Promise.resolve() : Promise.reject(new Error('no live binding has that contact'));
    },
  });
  return adopted;
}

t.test('issue #15: where the core re-points the registered flow, node B carries node A\'s registration on with no REGISTER (the UE adopts its snapshot)', async (t) => {
  const { a, b } = twoNodes();
  const adopted = canAdoptFlows(b);
  const onA = new RpcRig({}, a);
  const { resumeToken, instanceId } = await onA.register();
  const snapshotOnA = onA.ue.registrationSnapshot();
  await onA.session.onClose(DROP);
  const onB = new RpcRig({}, b);
  const result = await onB.ok('session.resume', { resumeToken });
  t.equal(result['state'], 'registered');
  t.equal(result['instanceId'], instanceId);
  t.equal(b.host.received.length, 0, 'no REGISTER on Mw from node B');
  t.same(onB.ue.actions, [], 'the UE did not register');
  t.same(adopted, [[onB.conn.id, `sip:${snapshotOnA?.contactUser}@${snapshotOnA?.contactHost}`]], 'node B\'s connection took over the flow of that contact');
  t.equal(onB.ue.options.adopt?.callId, snapshotOnA?.callId, 'the same registration (Call-ID, Contact, CSeq) carries on');
  t.type(result['resumeToken'], 'string', 'and can be resumed again');
  t.same(onB.violations, []);
});

t.test('issue #15: every refresh on node A moves the stored registration, so node B carries on from the latest CSeq', async (t) => {
  const { a, b } = twoNodes();
  canAdoptFlows(b);
  const onA = new RpcRig({}, a);
  const { resumeToken } = await onA.register();
  await onA.ue.register(); // a refresh (R-REG-23): the CSeq moves on
  await onA.session.onClose(DROP);
  const onB = new RpcRig({}, b);
  await onB.ok('session.resume', { resumeToken });
  t.equal(onB.ue.options.adopt?.cseq, 2, 'the refreshed registration, not the first one');
});

t.test('issue #15: when the flow cannot be taken over (binding gone), node B registers again with the same +sip.instance', async (t) => {
  const { a, b } = twoNodes();
  const adopted = canAdoptFlows(b, 'gone');
  const onA = new RpcRig({}, a);
  const { resumeToken, instanceId } = await onA.register();
  await onA.session.onClose(DROP);
  const onB = new RpcRig({}, b);
  const result = await onB.ok('session.resume', { resumeToken });
  t.equal(adopted.length, 1);
  t.equal(result['state'], 'registered');
  t.equal(b.host.received.length, 1, 'a REGISTER instead');
  t.equal(onB.ue.options.adopt, undefined);
  t.equal(onB.ue.options.instanceId, instanceId);
});
