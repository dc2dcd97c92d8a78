#!/usr/bin/env node
// `npm run cluster` (package.json "scripts"): an epcscf cluster on this machine, issue #15.
//   N epcscf nodes (default 2), each its own process (core/cli/epcscf.mjs) with a generated config,
//   sharing a local redis-server (cluster.redis) and one flow secret; cluster.mwUri = node 1's Mw
//   address (no DNS needed: node 1 forwards to the node holding a flow);
//   the dev IMS core (examples/dev-ims-core, in this process) unless --ims names a core;
//   a small TCP load balancer for W2: one port, round robin over the nodes' W2 ports.
// Prints the addresses (and `--json`: one JSON line with them and the PIDs). SIGTERM/SIGINT stops
// everything by PID. See examples/cluster/README.md.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startW2Balancer } from './w2-balancer.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HOST = '127.0.0.1';

const { values: flags } = parseArgs({
  options: {
    nodes: { type: 'string', default: '2' },
    port: { type: 'string', default: '8080' },
    ims: { type: 'string' },
    redis: { type: 'string' },
    media: { type: 'string', default: 'in-process' },
    'heartbeat-seconds': { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  process.stdout.write(`npm run cluster -- [--nodes N] [--port W2_LB_PORT] [--ims SIP_URI] [--redis redis://URL] [--media in-process|off] [--heartbeat-seconds S] [--json]
  --nodes N            epcscf nodes (default 2)
  --port P             the W2 load balancer's port (default 8080; 0 = any free one)
  --ims URI            the IMS core entry (mw.nextHop); default: the dev IMS core started here
  --redis URL          an existing Redis; default: a redis-server started here on a free port
  --media MODE         media.mode of every node (default in-process, each node its own port ranges)
  --heartbeat-seconds  cluster.heartbeatSeconds (default 2: a killed node's calls are released in ~6 s)
  --json               print one JSON line {lb, nodes[{nodeId,pid,w2,mw}], redis, ims} instead of the banner
`);
  process.exit(0);
}
const nodeCount = Number(flags.nodes);
if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 16) fail('--nodes: an integer from 1 to 16');

const children = new Map(); // pid → { name, child }
const cleanups = [];
let stopping = false;

function fail(message) {
  process.stderr.write(`npm run cluster: ${message}\n`);
  process.exit(2);
}

/** A free TCP (and, for Mw, UDP) port on loopback, from the kernel. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function tcpAccepts(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

async function waitFor(what, probe, timeoutMs) {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(100)) {
    if (await probe()) return;
  }
  throw new Error(`${what} not up within ${timeoutMs} ms`);
}

function start(name, command, args, env = {}) {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  children.set(child.pid, { name, child });
  child.once('exit', (code, signal) => {
    children.delete(child.pid);
    if (!stopping) process.stderr.write(`npm run cluster: ${name} (pid ${child.pid}) exited (${signal ?? code})\n`);
  });
  return child;
}

async function startRedis() {
  if (flags.redis) return { url: flags.redis };
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-cluster-redis-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const child = start('redis-server', 'redis-server', ['--bind', HOST, '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning']);
  await waitFor('redis-server', () => tcpAccepts(port), 10_000);
  return { url: `redis://${HOST}:${port}`, pid: child.pid };
}

async function startImsCore() {
  if (flags.ims) return { uri: flags.ims, core: undefined };
  // The dev IMS core is TypeScript: loaded through tsx, in this process.
  const { register } = await import('tsx/esm/api');
  register();
  const { DevImsCore } = await import(new URL('../dev-ims-core/index.ts', import.meta.url).href);
  const core = await DevImsCore.start({ host: HOST, port: 0, domain: 'ims.test' });
  cleanups.push(() => core.close());
  return { uri: core.uri, core };
}

async function main() {
  const redis = await startRedis();
  const ims = await startImsCore();
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-cluster-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const flowSecret = randomBytes(24).toString('base64url');
  const nodes = [];
  for (let i = 0; i < nodeCount; i++) nodes.push({ nodeId: `node-${i + 1}`, w2: await freePort(), mw: await freePort() });
  const mwUri = `sip:${HOST}:${nodes[0].mw}`;
  for (const [i, node] of nodes.entries()) {
    const config = {
      w2: {
        listen: `${HOST}:${node.w2}`, allowedOrigins: [],
        // Behind the W2 balancer every client arrives from its address: the per-source-IP limits
        // would count them all as one (a node's clients reconnecting after a SIGKILL would be
        // refused). Lifted here; the per-connection limits still hold.
        limits: {
          maxConnectionsPerIp: 10000, connectionRatePerIp: { ratePerSecond: 1000, burst: 5000 },
          framesPerIp: { ratePerSecond: 100000, burst: 200000 }, maxCallsPerIp: 10000, maxRegistrationsPerIp: 10000,
          registrationRatePerIp: { ratePerSecond: 1000, burst: 5000 }, callRatePerIp: { ratePerSecond: 500, burst: 2000 },
        },
      },
      plugins: [{ name: 'sip-ws' }, { name: 'jsonrpc-ws' }, { name: 'xmpp-ws' }],
      mw: { listen: [`udp:${HOST}:${node.mw}`], nextHop: ims.uri, domain: 'ims.test', visitedNetworkId: 'epcscf.test' },
      media: flags.media === 'off' ? { mode: 'off' } : {
        mode: 'in-process',
        // One machine: each node's gateway gets its own port ranges.
        gateway: { webrtc: { host: HOST, ports: { min: 40000 + i * 500, max: 40499 + i * 500 } }, ims: { host: HOST, ports: { min: 48000 + i * 500, max: 48499 + i * 500 } } },
      },
      cluster: { nodeId: node.nodeId, mwUri, flowSecret, heartbeatSeconds: Number(flags['heartbeat-seconds']), redis: { url: redis.url } },
      log: { level: process.env.EPCSCF_LOG_LEVEL ?? 'warn' },
    };
    const file = join(dir, `${node.nodeId}.json`);
    writeFileSync(file, JSON.stringify(config, null, 2));
    node.pid = start(node.nodeId, process.execPath, [join(ROOT, 'core/cli/epcscf.mjs'), '--config', file]).pid;
    ims.core?.trustNode({ transport: 'udp', host: HOST, port: node.mw });
  }
  for (const node of nodes) await waitFor(node.nodeId, () => tcpAccepts(node.w2), 60_000);
  const balancer = await startW2Balancer({ host: HOST, port: Number(flags.port), backends: nodes.map((n) => n.w2) });
  cleanups.unshift(() => balancer.close());
  const lb = `ws://${HOST}:${balancer.port}`;
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ lb, mwUri, redis: redis.url, ims: ims.uri, nodes: nodes.map((n) => ({ ...n, w2: `ws://${HOST}:${n.w2}`, mw: `udp:${HOST}:${n.mw}` })) })}\n`);
  } else {
    process.stdout.write([
      `epcscf cluster: ${nodeCount} node(s) behind one W2 port (round robin)`,
      '',
      `  W2 (load balancer): ${lb}  (sip-ws ${lb}/sip, jsonrpc-ws ${lb}/jsonrpc, xmpp-ws ${lb}/xmpp)`,
      ...nodes.map((n) => `  ${n.nodeId}: pid ${n.pid}, W2 ws://${HOST}:${n.w2}, Mw udp:${HOST}:${n.mw}`),
      `  cluster.mwUri (Path/Record-Route of every node): ${mwUri}`,
      `  Redis: ${redis.url}${redis.pid ? ` (pid ${redis.pid})` : ''}`,
      `  IMS core: ${ims.uri}${ims.core ? ' (the dev IMS core, users alice/alicepw, bob/bobpw, carol/carolpw @ims.test)' : ''}`,
      '',
      `kill -9 a node's pid to see a survivor release its calls toward the IMS; Ctrl-C (SIGTERM) stops all.`,
      '',
    ].join('\n'));
  }
}

async function stop(code) {
  if (stopping) return;
  stopping = true;
  const exits = [...children.values()].map(({ child }) => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, 5_000).unref();
  }));
  // The nodes first (they release their flows and write to Redis), then Redis and the rest.
  await Promise.all(exits);
  for (const cleanup of cleanups) await Promise.resolve(cleanup()).catch(() => undefined);
  process.exit(code);
}

process.once('SIGTERM', () => void stop(0));
process.once('SIGINT', () => void stop(0));
main().catch((error) => {
  process.stderr.write(`npm run cluster: ${error instanceof Error ? error.message : String(error)}\n`);
  void stop(1);
});
