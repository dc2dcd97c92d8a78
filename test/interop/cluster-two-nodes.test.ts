// Issue #15 "Several nodes" and "Faults" with real peers: two epcscf nodes, each its own process,
// sharing a real redis-server (cluster.redis) and one flow secret, with Kamailio as the IMS core.
// How Kamailio reaches both nodes without DNS: cluster.mwUri = node A's Mw address, so every Path
// and Mw Record-Route of either node names A; A looks the flow token's holder up in Redis and
// forwards what belongs to a flow of B to B (core/pcscf/cluster/). Alice sits on A, bob on B.
// Then B is SIGKILLed in the middle of a call: A, the survivor, sees B's heartbeat lapse and sends
// the BYE toward the IMS that B never will, built from the dialog B stored in Redis; it reaches
// alice through Kamailio.
import t from 'tap';
import { cseq, getHeader, type SipRequest } from '../../core/sip/index.js';
import { startImsCore } from '../support/epcscf-harness.js';
import { startEpcscfNode, type EpcscfNode } from '../support/peers/epcscf-node.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { startRedis } from '../support/peers/redis.js';
import { JsSipUser, withDeadline } from '../support/wic/jssip-user.js';

const HEARTBEAT_SECONDS = 1;
/** 3 missed beats until B is dead, a beat until A's sweep sees it, then the BYE's trip: with margins for a loaded machine. */
const RELEASE_BOUND_MS = 12_000;

t.test('issue #15: two nodes over real Redis and Kamailio — a MESSAGE and a call between parties on different nodes; SIGKILL of the callee\'s node → the survivor BYEs the call toward the IMS', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const core = await startImsCore();
  t.teardown(() => core.stop());
  const mwA = await allocatePort();
  t.teardown(() => releasePort(mwA));
  const cluster = { mwUri: `sip:127.0.0.1:${mwA}`, flowSecret: 'cluster-interop-flow-secret-32-chars-long', heartbeatSeconds: HEARTBEAT_SECONDS, redis: { url: redis.url } };
  const nodes: EpcscfNode[] = [];
  const [a, b] = await Promise.all([
    startEpcscfNode({ nodeId: 'node-a', mwPort: mwA, nextHop: core.uri('udp'), cluster }),
    startEpcscfNode({ nodeId: 'node-b', nextHop: core.uri('udp'), cluster }),
  ]);
  nodes.push(a, b);
  t.teardown(() => Promise.all(nodes.map((n) => n.stop())));

  const alice = await JsSipUser.connect({ wsUrl: `${a.baseUrl}/sip`, user: 'alice', password: 'alicepw' });
  t.teardown(() => alice.stop());
  const bob = await JsSipUser.connect({ wsUrl: `${b.baseUrl}/sip`, user: 'bob', password: 'secret' });
  t.teardown(() => bob.stop());
  t.equal(await alice.register(), 200, 'alice registered through node A');
  t.equal(await bob.register(), 200, 'bob registered through node B');

  // MESSAGE (RFC 3428): Kamailio sends it along bob's Path, to node A, which forwards it to B.
  const bobGot = new Promise<string>((resolve) => {
    (bob.ua as unknown as NodeJS.EventEmitter).on('newMessage', (e: { originator: string; request: { body: string } }) => {
      if (e.originator === 'remote') resolve(e.request.body);
    });
  });
  const delivered = new Promise<number>((resolve) => {
    alice.ua.sendMessage('sip:bob@ims.test', 'hello bob, from node A', {
      eventHandlers: {
        succeeded: (e: { response: { status_code: number } }) => resolve(e.response.status_code),
        failed: (e: { response?: { status_code: number } | null }) => resolve(e.response?.status_code ?? 0),
      },
    });
  });
  t.equal(await withDeadline(bobGot, 8000, 'bob receives alice\'s MESSAGE'), 'hello bob, from node A', 'the MESSAGE reached bob on node B');
  t.equal(await withDeadline(delivered, 8000, 'alice\'s MESSAGE outcome'), 200, 'and bob\'s 200 came back to alice through B, A and Kamailio');
  const pathOfBob = bob.capture.frames.find((f) => f.direction === 'received' && f.message?.kind === 'request' && f.message.method === 'MESSAGE');
  t.ok(pathOfBob, 'bob saw the MESSAGE on his WebSocket');

  // A call: alice (A) → Kamailio → bob's Path (A) → forwarded to B → bob.
  const call = alice.call('sip:bob@ims.test');
  const incoming = await bob.nextIncoming(8000);
  incoming.answer();
  await call.confirmed(8000);
  await withDeadline(incoming.confirmed(), 8000, 'bob gets the ACK (Kamailio → A → B)');
  t.pass('the call between node A and node B is up, ACK included');

  // B dies without a word (no BYE, no de-registration, its WebSocket just drops).
  const killedAt = Date.now();
  const exit = await b.kill();
  t.equal(exit.signal, 'SIGKILL', 'node B was killed');
  const ended = await call.ended(RELEASE_BOUND_MS);
  const elapsed = Date.now() - killedAt;
  t.equal(ended.event, 'ended', 'alice\'s call ended (it had been answered)');
  t.equal(ended.originator, 'remote', 'by a BYE from the network');
  t.ok(elapsed < RELEASE_BOUND_MS, `the survivor released it ${elapsed} ms after the kill (bound ${RELEASE_BOUND_MS} ms, heartbeat ${HEARTBEAT_SECONDS} s)`);
  const bye = alice.capture.frames.find((f) => f.direction === 'received' && f.message?.kind === 'request' && f.message.method === 'BYE')?.message as SipRequest | undefined;
  t.ok(bye, 'the BYE reached alice');
  if (bye) {
    t.match(getHeader(bye, 'Reason') ?? '', /SIP;cause=480;text="P-CSCF node failed"/, 'RFC 3326 Reason: the survivor says why');
    const invite = alice.capture.frames.find((f) => f.direction === 'sent' && f.message?.kind === 'request' && f.message.method === 'INVITE')?.message as SipRequest | undefined;
    t.equal(getHeader(bye, 'Call-ID'), invite && getHeader(invite, 'Call-ID'), 'for the call between alice and bob');
    t.equal(cseq(bye).seq, 1, 'in bob\'s CSeq space: the next number after the 0 bob never used (the dialog B stored in Redis)');
  }
});
