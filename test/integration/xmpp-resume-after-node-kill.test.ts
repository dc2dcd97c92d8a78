// Issue #15 "Faults": "A node killed (SIGKILL): ... xmpp-ws clients resume on any other node with
// their XEP-0198 id and are registered again without a REGISTER on Mw". Two epcscf nodes, each its
// own process, share a real redis-server (host.state and the cluster state) in front of the
// embedded dev IMS core (run here, so the test counts the REGISTERs it gets). cluster.mwUri names
// node B, so Path and Record-Route of both nodes point at B. An @xmpp/client logs in on node A
// and enables resumption; node A is SIGKILLed (no detach, no de-registration ever runs there);
// once B has seen A die, the client reconnects to B, logs in and resumes its stream: the dev core
// gets no REGISTER for alice, and a MESSAGE from bob (a JSON-RPC user on B) reaches the resumed
// stream along the registration node A made.
import t from 'tap';
import { getHeader } from '../../core/sip/index.js';
import { DevImsCore } from '../../examples/dev-ims-core/index.js';
import { RpcWsClient } from '../support/jsonrpc-client.js';
import { startEpcscfNode, type EpcscfNode } from '../support/peers/epcscf-node.js';
import { allocatePort, releasePort } from '../support/peers/ports.js';
import { startRedis } from '../support/peers/redis.js';
import { XmppJsUser, xml, type XmlNode } from '../support/xmpp-clients.js';

const HEARTBEAT_SECONDS = 1;
/** Until B has declared A dead (3 missed beats, then a beat of its sweep), with margins for a loaded machine. */
const DEATH_NOTICED_MS = 7_000;

interface SmClient {
  readonly streamManagement: { id: string; enabled: boolean; on(event: 'resumed', listener: () => void): void };
  readonly reconnect: { reconnect(): Promise<void> };
  readonly options: { service: string };
}

t.test('issue #15: node A is SIGKILLed; an @xmpp/client resumes its XEP-0198 stream on node B with no REGISTER reaching the IMS core, and a MESSAGE from the core reaches it', async (t) => {
  const redis = await startRedis();
  t.teardown(() => redis.stop());
  const core = await DevImsCore.start({ port: 0 });
  t.teardown(() => core.close());
  const registers: string[] = [];
  const register = core.registrar.register.bind(core.registrar);
  core.registrar.register = (...args: Parameters<typeof register>) => {
    registers.push(getHeader(args[0], 'From') ?? '');
    return register(...args);
  };
  const mwB = await allocatePort();
  t.teardown(() => releasePort(mwB));
  const cluster = { mwUri: `sip:127.0.0.1:${mwB}`, flowSecret: 'xmpp-adopt-flow-secret-of-32-chars-long', heartbeatSeconds: HEARTBEAT_SECONDS, redis: { url: redis.url } };
  const plugins = [{ name: 'xmpp-ws' }, { name: 'jsonrpc-ws' }];
  const nodes: EpcscfNode[] = [];
  const [a, b] = await Promise.all([
    startEpcscfNode({ nodeId: 'node-a', nextHop: core.uri, cluster, plugins }),
    startEpcscfNode({ nodeId: 'node-b', mwPort: mwB, nextHop: core.uri, cluster, plugins }),
  ]);
  nodes.push(a, b);
  t.teardown(() => Promise.all(nodes.map((n) => n.stop())));

  const alice = await XmppJsUser.login({ service: `${a.baseUrl}/xmpp`, domain: 'ims.test', username: 'alice', password: 'alicepw', resource: 'phone' });
  t.teardown(() => alice.stop());
  const client = alice.xmpp as unknown as SmClient;
  await waitFor(() => client.streamManagement.enabled && client.streamManagement.id !== '', 8_000, 'XEP-0198 enabled with resumption');
  const smId = client.streamManagement.id;
  const aliceRegisters = (): number => registers.filter((r) => r.includes('alice@')).length;
  t.ok(aliceRegisters() >= 1, 'alice registered through node A (REGISTER at the core)');
  const before = aliceRegisters();

  const exit = await a.kill();
  t.equal(exit.signal, 'SIGKILL', 'node A was killed: nothing ran there after');
  await new Promise((resolve) => setTimeout(resolve, DEATH_NOTICED_MS));

  // The client reconnects to node B (a load balancer would send it there): SASL, then <resume/>.
  const resumed = new Promise<void>((resolve) => client.streamManagement.on('resumed', resolve));
  client.options.service = `${b.baseUrl}/xmpp`;
  await client.reconnect.reconnect();
  await withDeadline(resumed, 10_000, 'XEP-0198 <resumed/> from node B');
  t.equal(client.streamManagement.id, smId, 'the same stream id');
  t.equal(aliceRegisters(), before, 'no REGISTER for alice reached the IMS core: node B adopted node A\'s registration');

  const bob = await RpcWsClient.connect(`${b.baseUrl}/jsonrpc`);
  t.teardown(() => bob.close());
  await bob.request('session.register', { impu: 'sip:bob@ims.test', password: 'bobpw' });
  const got = alice.next((s: XmlNode) => s.is('message') && s.getChildText('body') === 'reached you on B', 10_000);
  await bob.request('message.send', { to: 'sip:alice@ims.test', body: 'reached you on B' });
  const message = await got;
  t.equal(message.attrs['to'], 'alice@ims.test/phone', 'the MESSAGE from the IMS reached the resumed stream (full JID kept)');
  t.equal(aliceRegisters(), before, 'and still no REGISTER for alice');
  await alice.send(xml('presence', { type: 'unavailable' }));
});

async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms); });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
