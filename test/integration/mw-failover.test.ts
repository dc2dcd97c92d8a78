/**
 * Issue 15 "IMS core unreachable or slow: ... failover to the next hop (RFC 3263), ... recovers
 * by itself when the core returns". mw.nextHop is a name whose SRV records (RFC 2782, RFC 3263
 * §4.4) give two Kamailio IMS cores: the preferred one is frozen (SIGSTOP: up but silent, as in
 * an outage). A REGISTER sent there is given up after mw.failover.noAnswerSeconds and goes to
 * the other core at once, rather than after the 32 s of Timer F; the silent core is marked down
 * and skipped; once it is thawed and its Retry-After has passed it is tried again and used.
 */
import t from 'tap';
import { getHeader } from '../../core/sip/index.js';
import type { DnsLookup } from '../../core/sip/resolve/index.js';
import { startEpcscf, startImsCore } from '../support/epcscf-harness.js';
import { RpcWsClient } from '../support/jsonrpc-client.js';
import { freezeProcessTree } from '../support/peers/freeze.js';

t.test('issue 15, RFC 3263 §4.3: a silent preferred core is failed over within noAnswerSeconds, skipped while down, and used again once it answers', async (t) => {
  const [preferred, backup] = await Promise.all([startImsCore(), startImsCore()]);
  t.teardown(() => Promise.all([preferred.stop(), backup.stop()]));
  // RFC 2782: lower priority first; both on loopback.
  const dns: DnsLookup = {
    naptr: async () => [],
    srv: async (name) => (name === '_sip._udp.ims-core.test'
      ? [{ priority: 10, weight: 0, port: preferred.port, name: 'scscf1.ims-core.test' }, { priority: 20, weight: 0, port: backup.port, name: 'scscf2.ims-core.test' }]
      : []),
    a: async (name) => (name.endsWith('.ims-core.test') ? ['127.0.0.1'] : []),
    aaaa: async () => [],
  };
  const epcscf = await startEpcscf({
    nextHop: 'sip:ims-core.test;transport=udp', dns, extraPlugins: [{ name: 'jsonrpc-ws' }],
    mwFailover: { noAnswerSeconds: 0.5 }, nextHopProbe: { intervalSeconds: 0, failuresToDown: 1, retryAfterSeconds: 2 },
  });
  t.teardown(() => epcscf.close());
  const peerOf = (port: number): string => `udp:127.0.0.1:${port}`;
  /** REGISTER transactions (CSeq numbers: UDP retransmissions are one) of `user` sent to the core on `port`. */
  const registersTo = (port: number, user: string): number => new Set(epcscf.capture.entries.flatMap((e) => (e.side === 'mw' && e.direction === 'out'
    && e.peer === peerOf(port) && e.message.kind === 'request' && e.message.method === 'REGISTER' && (getHeader(e.message, 'From') ?? '').includes(`${user}@`)
    ? [getHeader(e.message, 'CSeq')] : []))).size;
  const register = async (user: string, password: string): Promise<{ state: unknown; ms: number }> => {
    const client = await RpcWsClient.connect(`${epcscf.baseUrl}/jsonrpc`);
    t.teardown(() => client.close());
    const started = Date.now();
    const result = await client.request('session.register', { impu: `sip:${user}@ims.test`, password });
    return { state: result['state'], ms: Date.now() - started };
  };

  const frozen = freezeProcessTree(preferred.kamailio.pid ?? 0);
  t.teardown(() => frozen.thaw());
  const alice = await register('alice', 'alicepw');
  t.equal(alice.state, 'registered', 'registered through the backup core');
  t.ok(alice.ms < 5_000, `in ${alice.ms} ms, not after Timer F (32 s)`);
  t.equal(registersTo(preferred.port, 'alice'), 1, 'the first REGISTER went to the preferred core (SRV priority 10)...');
  t.ok(registersTo(backup.port, 'alice') >= 2, '...then to the backup, the digest round trip included');
  t.match(epcscf.pcscf.nextHops.status(), [{ target: peerOf(preferred.port), up: false }], 'the silent core is down (mw.nextHopProbe.failuresToDown 1)');

  const bob = await register('bob', 'secret');
  t.equal(bob.state, 'registered');
  t.ok(bob.ms < 2_000, `while it is down the silent core is skipped: no wait (${bob.ms} ms)`);
  t.equal(registersTo(preferred.port, 'bob'), 0, 'nothing more was sent to it');

  frozen.thaw();
  await new Promise((resolve) => setTimeout(resolve, 2_500)); // its Retry-After (2 s) passes
  const carol = await register('carol', 'secret');
  t.equal(carol.state, 'registered', 'recovered by itself');
  t.ok(registersTo(preferred.port, 'carol') >= 2, 'the preferred core is used again once it answers');
  t.equal(registersTo(backup.port, 'carol'), 0);
  t.ok(epcscf.pcscf.nextHops.status().every((s) => s.up), 'every next hop up again');
});
