// Issue #15 "Faults": a node takes over a dead node's virtual-UE registration (core/pcscf/cluster/
// flow-adoption.ts) — the survivor's sweep keeps it for cluster.adoptGraceSeconds, adoption moves it
// onto the resuming connection's flow, restores its expiry and makes the old flow key an alias.
import t from 'tap';
import { pino } from 'pino';
import type { W2Connection, W2Session } from '../../../core/contract/session.js';
import { ClusterMembership } from '../../../core/pcscf/cluster/cluster-membership.js';
import { adoptRegisteredFlow, keepForAdoption } from '../../../core/pcscf/cluster/flow-adoption.js';
import { W2Flows } from '../../../core/pcscf/w2-flows.js';
import { MemoryStateBackend } from '../../../core/state/memory-state-backend.js';
import type { RegistrationBinding } from '../../../core/state/registration-store.js';

const log = pino({ level: 'silent' });
const GRACE_MS = 120_000;
const HOUR = 3_600_000;

function connection(id: string, subprotocol = 'epcscf.jsonrpc.v1'): W2Connection {
  return { id, subprotocol, path: '/jsonrpc', remote: { address: '127.0.0.1', port: 40000 }, origin: undefined, secure: false } as unknown as W2Connection;
}
const session = {} as W2Session;

function binding(flowKey: string, user: string, registeredBy: 'client' | 'epcscf', expiresAt: number): RegistrationBinding {
  const contactUri = `sip:${user}@abc123.invalid;transport=ws;ob`;
  return {
    id: `${flowKey} sip:${user}@ims.test ${contactUri}`, aor: `sip:${user}@ims.test`, flowKey, contact: `<${contactUri}>`, contactUri,
    outbound: true, serviceRoute: ['<sip:orig@scscf.ims.test;lr>'], associatedUris: [`sip:${user}@ims.test`], expiresAt, registeredBy,
  };
}

function node(state: MemoryStateBackend, nodeId: string, now: () => number): ClusterMembership {
  return new ClusterMembership({
    state, nodeId, mwContact: `sip:${nodeId}.invalid:5060`, heartbeatMs: 1000, adoptGraceMs: GRACE_MS, log, now,
    releaseDialog: async () => undefined, releaseMediaLeg: async () => undefined,
  });
}

t.test('issue #15: the survivor\'s sweep keeps a dead node\'s virtual-UE bindings for the adopt grace and drops its sip-ws clients\' own', async (t) => {
  let clock = 1_000_000;
  const now = (): number => clock;
  const state = new MemoryStateBackend({ now });
  const a = node(state, 'node-a', now);
  const b = node(state, 'node-b', now);
  await a.start();
  await b.start();
  a.flowOpened('node-a/1');
  a.flowOpened('node-a/2');
  await state.registrations.put(binding('node-a/1', 'alice', 'epcscf', clock + HOUR));
  await state.registrations.put(binding('node-a/2', 'bob', 'client', clock + HOUR));
  let cleaned = false;
  b.onCleanup = () => { cleaned = true; };
  for (let beat = 0; beat < 10 && !cleaned; beat++) { // node A stopped beating (SIGKILL); node B beats on
    clock += 1_000;
    await b.tick();
  }
  const left = await state.registrations.all();
  t.same(left.map((x) => x.aor), ['sip:alice@ims.test'], 'only the virtual UE\'s binding is left; the sip-ws client registers again itself');
  t.equal(left[0]?.expiresAt, clock + GRACE_MS, 'kept for cluster.adoptGraceSeconds, not its whole registration');
  t.equal(await state.flows.holder('node-a/1'), undefined, 'the dead node no longer holds the flow');
  clock += GRACE_MS;
  t.same(await state.registrations.all(), [], 'nobody adopted it within the grace: gone');
  await a.close();
  await b.close();
});

t.test('issue #15: adoption moves the binding onto the resuming flow, restores its expiry, claims the old flow key and aliases it', async (t) => {
  let clock = 1_000_000;
  const now = (): number => clock;
  const state = new MemoryStateBackend({ now });
  const b = node(state, 'node-b', now);
  await b.start();
  const flows = new W2Flows('node-b', (ref) => `tok-${ref.nodeId}-${ref.flow}`);
  const flow = flows.open(connection('c1'), session);
  const registeredUntil = clock + HOUR;
  // What the sweep left of node A's flow 7: alice's binding, shortened to the grace.
  await state.registrations.put(binding('node-a/7', 'alice', 'epcscf', clock + GRACE_MS));
  await state.registrations.put(binding('node-a/8', 'bob', 'client', clock + HOUR));
  clock += 5_000;
  await adoptRegisteredFlow({ registrations: state.registrations, flows, membership: b, now }, flow, 'sip:alice@abc123.invalid', registeredUntil);
  const mine = await state.registrations.byFlow(flow.key);
  t.same(mine.map((x) => x.aor), ['sip:alice@ims.test'], 'alice\'s binding is on the new flow (originating requests and refreshes find it)');
  t.equal(mine[0]?.expiresAt, registeredUntil, 'its expiry is the registrar\'s grant again, not the grace');
  t.same(await state.registrations.byFlow('node-a/7'), [], 'and no longer under the dead flow');
  t.equal(await state.flows.holder('node-a/7'), 'node-b', 'node B claims the old flow key: other nodes forward its requests here');
  t.equal(flows.byRef({ nodeId: 'node-a', flow: 7 }), flow, 'a request with the old flow token (the registrar\'s Path) reaches the new flow');
  t.equal(flows.byKey('node-a/7'), flow, 'and so does a lookup by the old key');
  await t.rejects(adoptRegisteredFlow({ registrations: state.registrations, flows, membership: b, now }, flows.open(connection('c2'), session), 'sip:bob@abc123.invalid'),
    { code: 'EPC_ERR_INVALID_STATE' }, 'a sip-ws client\'s own binding is never adopted (it registers again itself)');
  flows.close('c1');
  t.equal(flows.byRef({ nodeId: 'node-a', flow: 7 }), undefined, 'the alias goes with the flow');
  await b.close();
});

t.test('issue #15: no adoption while a live node holds the flow, nor of this node\'s own flow', async (t) => {
  const clock = 1_000_000;
  const now = (): number => clock;
  const state = new MemoryStateBackend({ now });
  const a = node(state, 'node-a', now);
  const b = node(state, 'node-b', now);
  await a.start();
  await b.start();
  a.flowOpened('node-a/3');
  await new Promise((resolve) => setImmediate(resolve));
  await state.registrations.put(binding('node-a/3', 'alice', 'epcscf', clock + HOUR));
  const flows = new W2Flows('node-b', (ref) => `tok-${ref.flow}`);
  await t.rejects(adoptRegisteredFlow({ registrations: state.registrations, flows, membership: b, now }, flows.open(connection('c1'), session), 'sip:alice@abc123.invalid'),
    { code: 'EPC_ERR_INVALID_STATE', message: /held by a live node/ }, 'node A still beats: its flow is not taken (the plugin registers again)');
  await state.registrations.put(binding('node-b/9', 'carol', 'epcscf', clock + HOUR));
  await t.rejects(adoptRegisteredFlow({ registrations: state.registrations, flows, membership: b, now }, flows.open(connection('c2'), session), 'sip:carol@abc123.invalid'),
    { code: 'EPC_ERR_INVALID_STATE' }, 'a binding on one of this node\'s own flows is not adopted');
  t.same((await keepForAdoption(state.registrations, 'node-a/3', 0, clock)).map((x) => x.aor), ['sip:alice@ims.test'], 'a grace of 0 keeps nothing');
  await a.close();
  await b.close();
});
