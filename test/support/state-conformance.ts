/**
 * The StateBackend contract (core/state/state-backend.ts) as one suite of behaviour, run against
 * every implementation: test/integration/state-backend-conformance.test.ts runs it on Redis
 * (standalone and a one-node Redis Cluster, which refuses any multi-key command across hash
 * slots) and on memory. Time runs for real (Redis expires keys on its own clock), so TTLs are
 * short and waits have margins.
 *
 *   await stateBackendConformance(t, 'redis', async () => new RedisStateBackend({ url, keyPrefix: fresh(), ... }));
 */
import type { Test } from 'tap';
import type { DialogRecord } from '../../core/state/dialog-store.js';
import type { RegistrationBinding } from '../../core/state/registration-store.js';
import type { MediaLegRecord, NodeRecord, StateBackend } from '../../core/state/state-backend.js';

/** A fresh, empty backend for one subtest; the suite closes it. */
export type StateBackendFactory = () => Promise<StateBackend>;

/** Short-lived entries expire after this; the suite waits EXPIRY_WAIT_MS for them to be gone. */
const SHORT_TTL_MS = 200;
const EXPIRY_WAIT_MS = 450;
const LONG_TTL_MS = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const sorted = (values: readonly string[]): string[] => [...values].sort();

export function binding(flowKey: string, aor: string, contactUri: string, overrides: Partial<RegistrationBinding> = {}): RegistrationBinding {
  return {
    id: `${flowKey} ${aor} ${contactUri}`, aor, flowKey, contact: `<${contactUri}>;+sip.instance="<urn:uuid:1>";reg-id=1`, contactUri,
    instanceId: '<urn:uuid:1>', regId: 1, outbound: true,
    serviceRoute: ['<sip:orig@scscf.ims.test;lr>'], associatedUris: [aor, 'tel:+15550100'],
    expiresAt: Date.now() + LONG_TTL_MS, registeredBy: 'client', ...overrides,
  };
}

export function dialog(callId: string, wicTag: string, flowKey: string, overrides: Partial<DialogRecord> = {}): DialogRecord {
  return {
    id: `${callId} ${wicTag}`, callId, wicTag, remoteTag: 'r1', flowKey, direction: 'originating', method: 'INVITE', state: 'early',
    wicNameAddr: '<sip:alice@ims.test>', remoteNameAddr: '<sip:bob@ims.test>', remoteTarget: 'sip:bob@192.0.2.9:5060',
    routeSetTowardIms: ['<sip:scscf.ims.test;lr>'], wicCseq: 1, cseqOffset: { value: 1, invite: { wicSeq: 2, offset: 1 } },
    icid: 'icid-1', createdAt: 1_700_000_000_000, ...overrides,
  };
}

const node = (nodeId: string): NodeRecord => ({ nodeId, mwContact: `sip:${nodeId}.pcscf.test:5060`, startedAt: 1_700_000_000_000 });
const leg = (ngCallId: string, nodeId: string, gateway: string): MediaLegRecord => ({ ngCallId, nodeId, gateway, createdAt: 1_700_000_000_000 });

/** Runs every contract case as a subtest of `t`, each on a fresh backend from `factory`. */
export async function stateBackendConformance(t: Test, kind: StateBackend['kind'], factory: StateBackendFactory): Promise<void> {
  const on = (name: string, body: (t: Test, state: StateBackend) => Promise<void>): Promise<void> =>
    t.test(name, async (t) => {
      const state = await factory();
      t.teardown(() => state.close());
      t.equal(state.kind, kind);
      await body(t, state);
    }).then(() => undefined);

  await on('R-REG-17: a stored binding is found by its flow, by its contact URI and in the full list, unchanged', async (t, state) => {
    const b = binding('n1/1', 'sip:alice@ims.test', 'sip:alice@a1.invalid;transport=ws', { trustedNode: { impi: 'alice@ims.test' } });
    await state.registrations.put(b);
    t.same(await state.registrations.byFlow('n1/1'), [b]);
    t.same(await state.registrations.byContactUri('sip:alice@a1.invalid;transport=ws'), [b]);
    t.same(await state.registrations.all(), [b]);
    t.same(await state.registrations.byFlow('n1/2'), [], 'another flow has none');
    t.same(await state.registrations.byContactUri('sip:alice@other.invalid'), []);
  });

  await on('R-REG-17: a refresh replaces the binding (one binding per id), with its new expiry', async (t, state) => {
    const first = binding('n1/1', 'sip:alice@ims.test', 'sip:alice@a1.invalid');
    await state.registrations.put(first);
    const refreshed = { ...first, expiresAt: first.expiresAt + 30_000, serviceRoute: ['<sip:orig2@scscf.ims.test;lr>'] };
    await state.registrations.put(refreshed);
    t.same(await state.registrations.byFlow('n1/1'), [refreshed]);
    t.same(await state.registrations.byContactUri('sip:alice@a1.invalid'), [refreshed]);
    t.equal((await state.registrations.all()).length, 1);
  });

  await on('R-REG-17: bindings of one flow, and one contact URI bound over two flows, are each found where they belong', async (t, state) => {
    const alice = binding('n1/1', 'sip:alice@ims.test', 'sip:alice@a1.invalid');
    const aliceTel = binding('n1/1', 'tel:+15550100', 'sip:alice@a1.invalid');
    const shared = binding('n2/7', 'sip:alice@ims.test', 'sip:alice@a1.invalid');
    const carol = binding('n1/1', 'sip:carol@ims.test', 'sip:carol@c1.invalid');
    for (const b of [alice, aliceTel, shared, carol]) await state.registrations.put(b);
    t.same(sorted((await state.registrations.byFlow('n1/1')).map((b) => b.id)), sorted([alice.id, aliceTel.id, carol.id]));
    t.same(sorted((await state.registrations.byContactUri('sip:alice@a1.invalid')).map((b) => b.id)), sorted([alice.id, aliceTel.id, shared.id]));
    t.same((await state.registrations.byContactUri('sip:carol@c1.invalid')).map((b) => b.id), [carol.id]);
    t.equal((await state.registrations.all()).length, 4);
  });

  await on('R-REG-24: remove() drops a binding from every lookup; removing an unknown id is harmless', async (t, state) => {
    const alice = binding('n1/1', 'sip:alice@ims.test', 'sip:alice@a1.invalid');
    const bob = binding('n1/1', 'sip:bob@ims.test', 'sip:bob@b1.invalid');
    await state.registrations.put(alice);
    await state.registrations.put(bob);
    await state.registrations.remove(alice.id);
    await state.registrations.remove('n1/1 sip:nobody@ims.test sip:nobody@x.invalid');
    t.same(await state.registrations.byFlow('n1/1'), [bob]);
    t.same(await state.registrations.byContactUri('sip:alice@a1.invalid'), []);
    t.same(await state.registrations.all(), [bob]);
  });

  await on('R-ORIG-9: when a flow dies removeFlow() drops and returns its bindings, and leaves other flows alone', async (t, state) => {
    const a1 = binding('n1/1', 'sip:alice@ims.test', 'sip:alice@a1.invalid');
    const a2 = binding('n1/1', 'tel:+15550100', 'sip:alice@a1.invalid');
    const other = binding('n1/2', 'sip:bob@ims.test', 'sip:bob@b1.invalid');
    for (const b of [a1, a2, other]) await state.registrations.put(b);
    t.same(sorted((await state.registrations.removeFlow('n1/1')).map((b) => b.id)), sorted([a1.id, a2.id]));
    t.same(await state.registrations.byFlow('n1/1'), []);
    t.same(await state.registrations.byContactUri('sip:alice@a1.invalid'), []);
    t.same(await state.registrations.all(), [other]);
    t.same(await state.registrations.removeFlow('n1/1'), [], 'a second removal finds nothing');
  });

  await on('RFC 3261 §10.3: a binding is gone once its expiry passes, from every lookup', async (t, state) => {
    const brief = binding('n1/1', 'sip:alice@ims.test', 'sip:alice@a1.invalid', { expiresAt: Date.now() + SHORT_TTL_MS });
    const lasting = binding('n1/1', 'sip:bob@ims.test', 'sip:bob@b1.invalid');
    const past = binding('n1/1', 'sip:carol@ims.test', 'sip:carol@c1.invalid', { expiresAt: Date.now() - 1 });
    for (const b of [brief, lasting, past]) await state.registrations.put(b);
    t.same(sorted((await state.registrations.byFlow('n1/1')).map((b) => b.id)), sorted([brief.id, lasting.id]), 'an already expired binding is never visible');
    await sleep(EXPIRY_WAIT_MS);
    t.same(await state.registrations.byFlow('n1/1'), [lasting]);
    t.same(await state.registrations.byContactUri('sip:alice@a1.invalid'), []);
    t.same(await state.registrations.all(), [lasting]);
  });

  await on('R-ORIG-10: a dialog is found by id, by Call-ID and by flow, unchanged; an update replaces it', async (t, state) => {
    const early = dialog('call-1@ws.invalid', 'w1', 'n1/1');
    await state.dialogs.put(early);
    t.same(await state.dialogs.get(early.id), early);
    const confirmed = { ...early, state: 'confirmed' as const, remoteCseq: 4, wicTarget: 'sip:alice@a1.invalid;transport=ws' };
    await state.dialogs.put(confirmed);
    t.same(await state.dialogs.get(early.id), confirmed);
    t.same(await state.dialogs.byCallId('call-1@ws.invalid'), [confirmed]);
    t.same(await state.dialogs.byFlow('n1/1'), [confirmed]);
    t.same(await state.dialogs.all(), [confirmed]);
    t.equal(await state.dialogs.get('call-1@ws.invalid other-tag'), undefined);
  });

  await on('R-ORIG-10: dialogs sharing a Call-ID, and dialogs of several flows, are each found where they belong', async (t, state) => {
    const a = dialog('call-1', 'w1', 'n1/1');
    const b = dialog('call-1', 'w2', 'n1/2', { direction: 'terminating' });
    const c = dialog('call-2', 'w3', 'n1/1', { method: 'SUBSCRIBE' });
    for (const d of [a, b, c]) await state.dialogs.put(d);
    t.same(sorted((await state.dialogs.byCallId('call-1')).map((d) => d.id)), sorted([a.id, b.id]));
    t.same(sorted((await state.dialogs.byFlow('n1/1')).map((d) => d.id)), sorted([a.id, c.id]));
    t.same((await state.dialogs.byFlow('n1/2')).map((d) => d.id), [b.id]);
    t.equal((await state.dialogs.all()).length, 3);
  });

  await on('a dialog re-pointed to another flow (an adopted flow) is found under the new flow only', async (t, state) => {
    const d = dialog('call-1', 'w1', 'n1/1');
    await state.dialogs.put(d);
    await state.dialogs.put({ ...d, flowKey: 'n2/9' });
    t.same(await state.dialogs.byFlow('n1/1'), []);
    t.same((await state.dialogs.byFlow('n2/9')).map((x) => x.flowKey), ['n2/9']);
  });

  await on('a removed dialog is gone from every lookup; removing it again is harmless', async (t, state) => {
    const a = dialog('call-1', 'w1', 'n1/1');
    const b = dialog('call-1', 'w2', 'n1/1');
    await state.dialogs.put(a);
    await state.dialogs.put(b);
    await state.dialogs.remove(a.id);
    await state.dialogs.remove(a.id);
    t.equal(await state.dialogs.get(a.id), undefined);
    t.same(await state.dialogs.byCallId('call-1'), [b]);
    t.same(await state.dialogs.byFlow('n1/1'), [b]);
    t.same(await state.dialogs.all(), [b]);
  });

  await on('flow directory: the holder of a flow; a later claim by another node wins; only the holder releases', async (t, state) => {
    await state.flows.claim('a/1', 'a', LONG_TTL_MS);
    await state.flows.claim('a/2', 'a', LONG_TTL_MS);
    t.equal(await state.flows.holder('a/1'), 'a');
    t.same(sorted(await state.flows.heldBy('a')), ['a/1', 'a/2']);
    await state.flows.claim('a/2', 'b', LONG_TTL_MS); // b adopted it
    t.equal(await state.flows.holder('a/2'), 'b');
    t.same(await state.flows.heldBy('a'), ['a/1'], 'a flow adopted by another node is no longer held by the first');
    t.same(await state.flows.heldBy('b'), ['a/2']);
    await state.flows.release('a/2', 'a');
    t.equal(await state.flows.holder('a/2'), 'b', 'a release by a former holder leaves the later claim alone');
    await state.flows.release('a/2', 'b');
    t.equal(await state.flows.holder('a/2'), undefined);
    t.same(await state.flows.heldBy('b'), []);
    t.equal(await state.flows.holder('never/1'), undefined);
  });

  await on('flow directory: a claim not renewed within its TTL expires', async (t, state) => {
    await state.flows.claim('a/1', 'a', SHORT_TTL_MS);
    await state.flows.claim('a/2', 'a', LONG_TTL_MS);
    await sleep(EXPIRY_WAIT_MS);
    t.equal(await state.flows.holder('a/1'), undefined);
    t.same(await state.flows.heldBy('a'), ['a/2']);
  });

  await on('node directory: live while heartbeating, dead once the heartbeat lapses, forgotten on forget()', async (t, state) => {
    await state.nodes.heartbeat(node('a'), LONG_TTL_MS);
    await state.nodes.heartbeat(node('b'), SHORT_TTL_MS);
    await state.flows.claim('b/1', 'b', LONG_TTL_MS);
    t.same(sorted((await state.nodes.live()).map((n) => n.nodeId)), ['a', 'b']);
    t.same(await state.nodes.get('b'), node('b'));
    t.same(await state.nodes.dead(), []);
    await sleep(EXPIRY_WAIT_MS);
    t.same((await state.nodes.live()).map((n) => n.nodeId), ['a']);
    t.equal(await state.nodes.get('b'), undefined);
    t.same(await state.nodes.dead(), ['b'], 'a node whose heartbeat lapsed while it held a flow is dead');
    await state.nodes.forget('b');
    await state.flows.release('b/1', 'b');
    t.same(await state.nodes.dead(), [], 'a forgotten node is not dead any more');
  });

  // What a node that stalled past its death period reads before it heartbeats again (pcscf/cluster/self-fence.ts).
  await on('node directory: a lapsed node stays dead until forgotten, even holding nothing; its own cleanup claim keeps survivors off', async (t, state) => {
    await state.nodes.heartbeat(node('a'), SHORT_TTL_MS);
    await sleep(EXPIRY_WAIT_MS);
    t.equal(await state.nodes.get('a'), undefined);
    t.same(await state.nodes.dead(), ['a'], 'not cleaned up yet: still among the dead');
    t.equal(await state.nodes.claimCleanup('a', 'a', LONG_TTL_MS), true, 'the node itself takes the claim');
    t.equal(await state.nodes.claimCleanup('a', 'b', LONG_TTL_MS), false, 'a survivor cannot clean it up then');
    await state.nodes.forget('a');
    t.same(await state.nodes.dead(), [], 'once forgotten (a survivor\'s cleanup done) it is no longer among the dead');
  });

  await on('node directory: a node that holds a media leg or a flow but never heartbeated is dead', async (t, state) => {
    await state.mediaLegs.put(leg('ng-1', 'ghost', 'in-process'));
    await state.flows.claim('spook/1', 'spook', LONG_TTL_MS);
    t.same(sorted(await state.nodes.dead()), ['ghost', 'spook']);
  });

  await on('node directory: exactly one survivor wins the cleanup of a dead node, until the claim expires', async (t, state) => {
    const outcomes = await Promise.all(['a', 'b', 'c', 'd'].map((by) => state.nodes.claimCleanup('x', by, SHORT_TTL_MS)));
    t.equal(outcomes.filter(Boolean).length, 1, `one winner among concurrent claims (${outcomes.join(', ')})`);
    t.equal(await state.nodes.claimCleanup('x', 'a', SHORT_TTL_MS), false);
    t.equal(await state.nodes.claimCleanup('y', 'a', SHORT_TTL_MS), true, 'claims are per dead node');
    await sleep(EXPIRY_WAIT_MS);
    t.equal(await state.nodes.claimCleanup('x', 'b', SHORT_TTL_MS), true, 'an expired claim can be taken again');
  });

  await on('media legs: found by owning node and by gateway; a re-owned leg moves; a removed leg is gone', async (t, state) => {
    await state.mediaLegs.put(leg('ng-1', 'a', 'gw1'));
    await state.mediaLegs.put(leg('ng-2', 'a', 'gw2'));
    await state.mediaLegs.put(leg('ng-3', 'b', 'gw1'));
    t.same(sorted((await state.mediaLegs.byNode('a')).map((l) => l.ngCallId)), ['ng-1', 'ng-2']);
    t.same(sorted((await state.mediaLegs.byGateway('gw1')).map((l) => l.ngCallId)), ['ng-1', 'ng-3']);
    t.same((await state.mediaLegs.byNode('b')), [leg('ng-3', 'b', 'gw1')]);
    await state.mediaLegs.put(leg('ng-1', 'b', 'gw2')); // a survivor took it over
    t.same((await state.mediaLegs.byNode('a')).map((l) => l.ngCallId), ['ng-2']);
    t.same(sorted((await state.mediaLegs.byNode('b')).map((l) => l.ngCallId)), ['ng-1', 'ng-3']);
    t.same((await state.mediaLegs.byGateway('gw1')).map((l) => l.ngCallId), ['ng-3']);
    await state.mediaLegs.remove('ng-3');
    await state.mediaLegs.remove('ng-3');
    t.same(await state.mediaLegs.byNode('b'), [leg('ng-1', 'b', 'gw2')]);
    t.same(await state.mediaLegs.byGateway('gw1'), []);
  });

  await on('TTL store: set, get, delete; an entry expires after its TTL; namespaces never collide', async (t, state) => {
    const a = state.namespace('jsonrpc-ws');
    const b = state.namespace('xmpp-ws');
    await a.set('k', 'value-a', LONG_TTL_MS);
    await b.set('k', 'value-b', LONG_TTL_MS);
    await a.set('brief', 'x', SHORT_TTL_MS);
    t.equal(await a.get('k'), 'value-a');
    t.equal(await b.get('k'), 'value-b');
    t.equal(await state.namespace('jsonrpc-ws').get('k'), 'value-a', 'the same namespace again sees the same entries');
    await b.delete('k');
    t.equal(await b.get('k'), undefined);
    t.equal(await a.get('k'), 'value-a');
    t.equal(await a.get('brief'), 'x');
    await sleep(EXPIRY_WAIT_MS);
    t.equal(await a.get('brief'), undefined);
    await a.set('k', 'replaced', LONG_TTL_MS);
    t.equal(await a.get('k'), 'replaced');
  });

  await on('TTL store: take() reads and deletes; of concurrent takes exactly one gets the value (single-use tokens)', async (t, state) => {
    const store = state.namespace('jsonrpc-ws');
    await store.set('token', 'secret-state', LONG_TTL_MS);
    const taken = await Promise.all(Array.from({ length: 8 }, () => store.take('token')));
    t.same(taken.filter((v) => v !== undefined), ['secret-state']);
    t.equal(await store.get('token'), undefined);
    t.equal(await store.take('never'), undefined);
  });

  await on('health is ok while the backend serves, and close() is idempotent', async (t, state) => {
    t.same(state.health(), { ok: true });
    await state.close();
    await state.close();
    t.pass('closed twice');
  });
}
