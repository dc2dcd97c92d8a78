// `npm run cluster` (examples/cluster/start.mjs, issue #15): two epcscf processes, a redis-server,
// the dev IMS core and the W2 load balancer come up; two clients on the one W2 port land on
// different nodes (round robin) and exchange a MESSAGE (node 1, cluster.mwUri, forwards to node 2);
// SIGTERM stops every process it started.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { getHeaders, type SipRequest } from '../../core/sip/index.js';
import { startDaemon } from '../support/peers/process.js';
import { JsSipUser, withDeadline } from '../support/wic/jssip-user.js';

const REPO_ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));

interface ClusterJson {
  readonly lb: string;
  readonly mwUri: string;
  readonly redis: string;
  readonly nodes: readonly { readonly nodeId: string; readonly pid: number; readonly w2: string; readonly mw: string }[];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

t.test('npm run cluster: N nodes + Redis + dev IMS core behind one W2 port; clients on two nodes exchange a MESSAGE; SIGTERM stops all by PID', async (t) => {
  const script = await startDaemon({
    name: 'npm run cluster', command: process.execPath,
    args: [join(REPO_ROOT, 'examples/cluster/start.mjs'), '--port', '0', '--json', '--media', 'off', '--nodes', '2'],
    cwd: REPO_ROOT, env: { ...process.env, EPCSCF_FROM_SOURCE: '1', EPCSCF_LOG_LEVEL: 'warn' },
    ready: { kind: 'log', pattern: /"lb":"ws:/ }, readyTimeoutMs: 90_000,
  });
  t.teardown(() => script.stop(8_000));
  const line = script.output().split('\n').find((l) => l.startsWith('{"lb"')) ?? '{}';
  const cluster = JSON.parse(line) as ClusterJson;
  t.equal(cluster.nodes.length, 2, 'two nodes');
  t.match(cluster.redis, /^redis:\/\/127\.0\.0\.1:\d+$/, 'a local Redis');
  t.equal(cluster.mwUri, `sip:${cluster.nodes[0]?.mw.replace(/^udp:/, '')}`, 'cluster.mwUri is node 1\'s Mw address');

  const alice = await JsSipUser.connect({ wsUrl: `${cluster.lb}/sip`, user: 'alice', password: 'alicepw' });
  t.teardown(() => alice.stop());
  const bob = await JsSipUser.connect({ wsUrl: `${cluster.lb}/sip`, user: 'bob', password: 'bobpw' });
  t.teardown(() => bob.stop());
  t.equal(await alice.register(), 200, 'alice registered through the load balancer');
  t.equal(await bob.register(), 200, 'bob registered through the load balancer');

  const bobGot = new Promise<SipRequest>((resolveMessage) => {
    (bob.ua as unknown as NodeJS.EventEmitter).on('newMessage', (e: { originator: string; request: SipRequest }) => {
      if (e.originator === 'remote') resolveMessage(e.request);
    });
  });
  alice.ua.sendMessage('sip:bob@ims.test', 'hello through the cluster');
  await withDeadline(bobGot, 10_000, 'bob receives alice\'s MESSAGE');
  const atBob = bob.capture.frames.find((f) => f.direction === 'received' && f.message?.kind === 'request' && f.message.method === 'MESSAGE')?.message;
  const node1Mw = cluster.nodes[0]?.mw.replace(/^udp:/, '') ?? '?';
  const viaLines = atBob ? getHeaders(atBob, 'Via').flatMap((v) => v.split(',')) : [];
  t.equal(viaLines.filter((v) => v.includes(node1Mw)).length, 2,
    'the MESSAGE crossed node 1 twice (alice\'s originating hop, then the forward to bob\'s node): the two clients sit on different nodes');

  const pids = cluster.nodes.map((n) => n.pid);
  process.kill(script.pid, 'SIGTERM'); // the script alone (not its process group): it stops what it started
  const exit = await withDeadline(script.exited, 15_000, 'the script exits on SIGTERM');
  t.equal(exit.code, 0, 'SIGTERM: the script stopped cleanly');
  t.same(pids.filter(alive), [], 'every node process is gone');
});
