// Issue #15 "Faults" for sip-ws clients, with real peers: a redis-server, Kamailio as the IMS core,
// two epcscf processes and the W2 load balancer of `npm run cluster` (examples/cluster/w2-balancer.mjs),
// so every JsSIP client has ONE W2 URL. JsSIP registers with RFC 5626 outbound (+sip.instance,
// reg-id=1) and, once registered, re-registers by itself whenever its WebSocket comes back
// (RFC 5626 §4.4 flow recovery).
// Placement: round robin over [node A, node B], so the 1st and 3rd clients sit on A, the 2nd and 4th on
// B. cluster.mwUri is A's Mw address (no DNS here, see cluster-two-nodes.test.ts), so the node that
// fails is always B; in production mwUri is a name that reaches every node.
//   SIGKILL B → its clients' WebSockets drop, JsSIP reconnects through the balancer to A and
//   re-registers with the same instance and reg-id; a MESSAGE and an INVITE reach it there; the call
//   B anchored is released toward the IMS by A (BYE at the far end); the clients of A send nothing.
//   SIGTERM B → its clients get close code 1001, reconnect to A, re-register, are reachable, and no
//   binding, flow or node record is left naming B.
// Media: the nodes run with media.mode "off" (test/support/peers/epcscf-node.ts), so there are no
// media legs to free here; the MediaLegDirectory release is covered by test/integration/cluster-routing.
import t, { type Test } from 'tap';
import { startW2Balancer } from '../../examples/cluster/w2-balancer.mjs';
import { SHUTDOWN_DEADLINE_MS } from '../../core/cli/shutdown.js';
import { resolvedRedisConfig } from '../support/redis-config.js';
import { contacts, cseq, getHeader, getParam, unquote, type ContactBinding, type SipRequest, type SipResponse } from '../../core/sip/index.js';
import type { RegistrationBinding } from '../../core/state/registration-store.js';
import { RedisStateBackend } from '../../core/state/redis/index.js';
import { startImsCore } from '../support/epcscf-harness.js';
import { startEpcscfNode, type EpcscfNode } from '../support/peers/epcscf-node.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { startRedis } from '../support/peers/redis.js';
import { JsSipUser, withDeadline } from '../support/wic/jssip-user.js';

const HEARTBEAT_SECONDS = 1;
/** JsSIP reconnects 1–2 s after a drop (connection_recovery_*_interval), then REGISTER + digest: margins for a loaded machine. */
const RECOVERY_BOUND_MS = 10_000;
/** Once the re-REGISTER is through, a terminating request must reach the client this fast. */
const REACH_BOUND_MS = 5_000;
/** 3 missed beats, a beat for the survivor's sweep, the BYE's trip (as cluster-two-nodes.test.ts). */
const RELEASE_BOUND_MS = 12_000;

interface SipWsCluster {
  readonly a: EpcscfNode;
  readonly b: EpcscfNode;
  /** ws://…/sip on the load balancer. */
  readonly sipUrl: string;
  readonly state: RedisStateBackend;
  /** Connects a JsSIP user through the balancer and registers it (the next node in round robin). */
  join(user: string): Promise<JsSipUser>;
}

async function startSipWsCluster(t: Test): Promise<SipWsCluster> {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const mwA = await allocatePort();
  t.teardown(() => releasePort(mwA));
  const cluster = { mwUri: `sip:127.0.0.1:${mwA}`, flowSecret: 'sip-ws-failover-flow-secret-32-chars-long', heartbeatSeconds: HEARTBEAT_SECONDS, redis: { url: redis.url } };
  const [a, b] = await Promise.all([
    startEpcscfNode({ nodeId: 'node-a', mwPort: mwA, nextHop: core.uri('udp'), cluster }),
    startEpcscfNode({ nodeId: 'node-b', nextHop: core.uri('udp'), cluster }),
  ]);
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  const balancer = await startW2Balancer({ backends: [a.w2Port, b.w2Port] });
  t.teardown(() => balancer.close());
  const redisConfig = resolvedRedisConfig({ url: redis.url });
  const state = await RedisStateBackend.connect(redisConfig, { healthPingIntervalMs: 0 });
  t.teardown(() => state.close());
  const sipUrl = `ws://127.0.0.1:${balancer.port}/sip`;
  const users: JsSipUser[] = [];
  t.teardown(() => Promise.all(users.map((u) => u.stop())));
  return {
    a, b, sipUrl, state,
    async join(user) {
      const ua = await JsSipUser.connect({ wsUrl: sipUrl, user, password: user === 'alice' ? 'alicepw' : 'secret' });
      users.push(ua);
      t.equal(await ua.register(), 200, `${user} registered through the load balancer`);
      return ua;
    },
  };
}

/** The P-CSCF's live bindings of `user` in Redis (core/state/redis). */
async function bindingsOf(state: RedisStateBackend, user: string): Promise<RegistrationBinding[]> {
  return (await state.registrations.all()).filter((b) => b.aor === `sip:${user}@ims.test`);
}

/** The one binding of `user`; fails the test when there is not exactly one. */
async function onlyBinding(t: Test, state: RedisStateBackend, user: string): Promise<RegistrationBinding | undefined> {
  const bindings = await bindingsOf(state, user);
  t.equal(bindings.length, 1, `${user} has exactly one binding in Redis (${bindings.map((b) => b.flowKey).join(', ')})`);
  return bindings[0];
}

const registersSentSince = (user: JsSipUser, from: number): SipRequest[] =>
  user.capture.since(from).flatMap((f) => f.direction === 'sent' && f.message?.kind === 'request' && f.message.method === 'REGISTER' ? [f.message] : []);

/** Resolves when `user` gets a 2xx to a REGISTER sent after frame `from`. */
function reRegistered(user: JsSipUser, from: number, timeoutMs: number): Promise<unknown> {
  return user.capture.waitFor((f) => f.direction === 'received' && f.message?.kind === 'response'
    && f.message.status >= 200 && f.message.status < 300 && cseq(f.message).method === 'REGISTER',
  { from, timeoutMs, what: `${user.user}'s re-REGISTER 2xx` });
}

/** The +sip.instance and reg-id of the Contact of a REGISTER (RFC 5626 §4.2). */
function outboundParams(register: SipRequest | undefined): { instance: string | undefined; regId: string | undefined } {
  const contact = register ? getHeader(register, 'Contact') ?? '' : '';
  return { instance: /\+sip\.instance="([^"]+)"/.exec(contact)?.[1], regId: /;reg-id=(\d+)/.exec(contact)?.[1] };
}

/** The bindings a registrar's 2xx to REGISTER lists, as +sip.instance and reg-id. */
function registrarContacts(ok: SipResponse | undefined): { instance: string | undefined; regId: string | undefined }[] {
  if (ok === undefined) return [];
  return contacts(ok).flatMap((c) => 'star' in c && c.star ? [] : [{
    instance: unquote(getParam((c as ContactBinding).params, '+sip.instance')),
    regId: getParam((c as ContactBinding).params, 'reg-id') ?? undefined,
  }]);
}

/** `to` receives a MESSAGE from `from` (RFC 3428) and `from` gets its 200; resolves with the elapsed ms. */
async function messageReaches(from: JsSipUser, to: JsSipUser, body: string): Promise<number> {
  const started = Date.now();
  const events = to.ua as unknown as NodeJS.EventEmitter;
  const got = new Promise<string>((resolve) => {
    const onMessage = (e: { originator: string; request: { body: string } }): void => {
      if (e.originator !== 'remote' || e.request.body !== body) return;
      events.off('newMessage', onMessage);
      resolve(e.request.body);
    };
    events.on('newMessage', onMessage);
  });
  const outcome = new Promise<number>((resolve) => {
    from.ua.sendMessage(to.aor, body, {
      eventHandlers: {
        succeeded: (e: { response: { status_code: number } }) => resolve(e.response.status_code),
        failed: (e: { response?: { status_code: number } | null }) => resolve(e.response?.status_code ?? 0),
      },
    });
  });
  await withDeadline(got, REACH_BOUND_MS, `${to.user} receives ${from.user}'s MESSAGE`, () => to.capture.dump());
  const status = await withDeadline(outcome, REACH_BOUND_MS, `${from.user}'s MESSAGE outcome`);
  if (status !== 200) throw new Error(`${from.user}'s MESSAGE to ${to.user} got ${status}`);
  return Date.now() - started;
}

t.test('issue #15, RFC 5626 §4.4: SIGKILL of the node holding a JsSIP flow → JsSIP reconnects through the load balancer to the survivor and re-registers with the same +sip.instance and reg-id, is reachable there at once, the dead node\'s call is BYEd at the far end, and only the dead node\'s clients re-register', async (t) => {
  const c = await startSipWsCluster(t);
  const bob = await c.join('bob'); // → A
  const alice = await c.join('alice'); // → B
  const carol = await c.join('carol'); // → A
  const dave = await c.join('dave'); // → B
  const before = new Map<string, RegistrationBinding | undefined>();
  for (const user of ['alice', 'bob', 'carol', 'dave']) before.set(user, await onlyBinding(t, c.state, user));
  t.match(before.get('alice')?.flowKey, /^node-b\//, 'alice\'s flow is on node B');
  t.match(before.get('dave')?.flowKey, /^node-b\//, 'dave\'s flow is on node B');
  t.match(before.get('bob')?.flowKey, /^node-a\//, 'bob\'s flow is on node A');
  t.match(before.get('carol')?.flowKey, /^node-a\//, 'carol\'s flow is on node A');
  t.equal(before.get('alice')?.outbound, true, 'alice registered with RFC 5626 outbound');

  // A call anchored on B: alice (B) → Kamailio → bob (A).
  const call = alice.call('sip:bob@ims.test');
  const incoming = await bob.nextIncoming(8000);
  incoming.answer();
  await call.confirmed(8000);
  await withDeadline(incoming.confirmed(), 8000, 'bob gets the ACK');

  const marks = new Map([alice, bob, carol, dave].map((u) => [u, u.capture.frames.length]));
  const mark = (u: JsSipUser): number => marks.get(u) ?? 0;
  const killedAt = Date.now();
  t.equal((await c.b.kill()).signal, 'SIGKILL', 'node B was killed');

  // RFC 5626 §4.4: the flow failed, JsSIP opens a new one (the balancer skips dead B) and re-registers.
  await Promise.all([alice, dave].map((u) => reRegistered(u, mark(u), RECOVERY_BOUND_MS)));
  const recoveredIn = Date.now() - killedAt;
  t.ok(recoveredIn < RECOVERY_BOUND_MS, `alice and dave re-registered ${recoveredIn} ms after the kill (bound ${RECOVERY_BOUND_MS} ms)`);
  t.ok(alice.socket.closeCodes.includes(1006), `alice's WebSocket dropped without a close frame (1006; codes ${alice.socket.closeCodes.join(',')})`);

  // As soon as the re-REGISTER is through, a terminating MESSAGE reaches alice on node A.
  const messageMs = await messageReaches(bob, alice, 'hello alice, on your new flow');
  t.ok(messageMs < REACH_BOUND_MS, `bob's MESSAGE reached alice ${messageMs} ms after her re-REGISTER (bound ${REACH_BOUND_MS} ms)`);

  // The call B anchored: A, the survivor, BYEs it toward the IMS; bob (the far end) hears it.
  const ended = await incoming.ended(RELEASE_BOUND_MS);
  t.equal(ended.event, 'ended', 'bob\'s call ended (it had been answered)');
  t.equal(ended.originator, 'remote', 'by a BYE from the network');
  const bye = bob.capture.since(mark(bob)).find((f) => f.direction === 'received' && f.message?.kind === 'request' && f.message.method === 'BYE')?.message as SipRequest | undefined;
  t.match(bye ? getHeader(bye, 'Reason') ?? '' : '', /SIP;cause=480;text="P-CSCF node failed"/, 'RFC 3326 Reason: the survivor says why');
  t.ok(Date.now() - killedAt < RELEASE_BOUND_MS + 1000, `released ${Date.now() - killedAt} ms after the kill`);

  // The same instance and reg-id, now on A: at the IMS side (the REGISTER alice sent) and in Redis.
  const firstRegister = alice.capture.requests('sent', 'REGISTER')[0];
  const aliceRegisters = registersSentSince(alice, mark(alice));
  const recovered = outboundParams(aliceRegisters[aliceRegisters.length - 1]);
  t.ok(recovered.instance, 'alice\'s re-REGISTER carries +sip.instance');
  t.same(recovered, outboundParams(firstRegister), 'RFC 5626 §4.2: the same +sip.instance and reg-id as her first REGISTER');
  t.equal(recovered.regId, '1', 'reg-id 1');
  // At the IMS side: the registrar's 200 lists its bindings of alice (RFC 3261 §10.3 step 8).
  const atRegistrar = registrarContacts(alice.capture.responses('received', 'REGISTER').at(-1));
  t.same(atRegistrar, [{ instance: recovered.instance, regId: '1' }],
    'Kamailio holds one binding of alice, with the same instance and reg-id (the re-REGISTER replaced it, no stale second contact)');
  const after = await onlyBinding(t, c.state, 'alice');
  t.match(after?.flowKey, /^node-a\//, 'alice\'s binding now names a flow of node A (the dead flow\'s binding was dropped)');
  t.equal(after?.instanceId, before.get('alice')?.instanceId, 'the P-CSCF binding keeps her instance id');
  t.equal(after?.regId, 1, 'and her reg-id');
  t.match((await onlyBinding(t, c.state, 'dave'))?.flowKey, /^node-a\//, 'dave\'s binding too');

  // An INVITE reaches alice on her new flow.
  const second = bob.call('sip:alice@ims.test');
  const ringing = await alice.nextIncoming(REACH_BOUND_MS);
  ringing.answer();
  await second.confirmed(8000);
  t.pass('bob\'s INVITE reached alice on node A and the call is up');
  second.hangup();
  await ringing.ended(8000);

  // No re-registration storm: only the dead node's clients re-registered.
  for (const u of [bob, carol]) {
    t.equal(registersSentSince(u, mark(u)).length, 0, `${u.user} (node A) sent no REGISTER`);
    t.equal((await onlyBinding(t, c.state, u.user))?.flowKey, before.get(u.user)?.flowKey, `${u.user}'s binding is untouched`);
  }
  for (const u of [alice, dave]) {
    const sent = registersSentSince(u, mark(u)).length;
    t.ok(sent >= 1 && sent <= 2, `${u.user} (node B) sent one REGISTER (${sent} incl. the digest challenge round)`);
  }
  t.same(await c.state.flows.heldBy('node-b'), [], 'no flow is left claimed by node B');
});

t.test('issue #15 graceful restart: SIGTERM → the sip-ws client gets close code 1001, reconnects to the other node, re-registers with the same instance and reg-id, is reachable, and no binding is left naming the stopped node', async (t) => {
  const c = await startSipWsCluster(t);
  const bob = await c.join('bob'); // → A
  const alice = await c.join('alice'); // → B
  t.match((await onlyBinding(t, c.state, 'alice'))?.flowKey, /^node-b\//, 'alice\'s flow is on node B');
  const bobFlow = (await onlyBinding(t, c.state, 'bob'))?.flowKey;
  const aliceMark = alice.capture.frames.length;
  const bobMark = bob.capture.frames.length;

  // SIGTERM by hand (EpcscfNode.stop() would SIGKILL after 5 s): the node's own shutdown deadline applies.
  const stoppedAt = Date.now();
  process.kill(c.b.pid, 'SIGTERM');
  await reRegistered(alice, aliceMark, RECOVERY_BOUND_MS);
  t.ok(Date.now() - stoppedAt < RECOVERY_BOUND_MS, `alice re-registered ${Date.now() - stoppedAt} ms after the SIGTERM`);
  t.equal(alice.socket.closeCodes[0], 1001, 'RFC 6455 §7.4.1: node B closed alice\'s WebSocket with 1001 "going away"');
  const exit = await withDeadline(c.b.exited, SHUTDOWN_DEADLINE_MS + 5_000, 'node B exits after SIGTERM');
  t.same(exit, { code: 0, signal: null }, `node B shut down cleanly in ${Date.now() - stoppedAt} ms`, { output: c.b.output() });

  const messageMs = await messageReaches(bob, alice, 'hello alice, after the restart');
  t.ok(messageMs < REACH_BOUND_MS, `bob's MESSAGE reached alice on node A in ${messageMs} ms`);
  const sent = registersSentSince(alice, aliceMark);
  t.same(outboundParams(sent[sent.length - 1]), outboundParams(alice.capture.requests('sent', 'REGISTER')[0]), 'RFC 5626 §4.2: same +sip.instance and reg-id');

  const binding = await onlyBinding(t, c.state, 'alice');
  t.match(binding?.flowKey, /^node-a\//, 'alice\'s one binding names a flow of node A');
  const all = await c.state.registrations.all();
  t.same(all.filter((b) => b.flowKey.startsWith('node-b/')).map((b) => b.id), [], 'no binding left pointing at the stopped node');
  t.same(await c.state.flows.heldBy('node-b'), [], 'no flow claimed by it');
  t.equal(await c.state.nodes.get('node-b'), undefined, 'and the others forgot it (it left, it did not die)');
  t.equal(registersSentSince(bob, bobMark).length, 0, 'bob (node A) sent no REGISTER');
  t.equal((await onlyBinding(t, c.state, 'bob'))?.flowKey, bobFlow, 'bob\'s binding is untouched');
});
