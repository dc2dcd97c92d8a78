/**
 * The system under test of bench/soak: a local redis-server (the cluster's state home), one
 * Kamailio IMS core stand-in, two epcscf nodes (dist/ build, sip-ws + jsonrpc-ws) sharing Redis,
 * one flow secret and cluster.mwUri = node 1's Mw address (as `npm run cluster` and the cluster
 * interop test run them: node 1 forwards a request for a flow node 2 holds), and two
 * epcscf-media-gw processes (dist/, each its own ng port and half of 44000-45999), gateway i
 * belonging to node i. Every process is its own process group, stopped by PID.
 *
 * The nodes run media.mode off: the generator's SIP and JSON-RPC clients send plain RTP/AVP
 * offers, which the IMS-ALG refuses (488) in front of a gateway. The media calls are driven
 * straight at the gateways over ng with the ALG's own requests (bench/soak/media-load.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type RedisPeer } from '../../test/support/peers/redis.js';
import type { Daemon } from '../../test/support/peers/process.js';
import { allocatePorts, releasePort } from '../../test/support/peers/ports.js';
import { RAISED_FLOOD, RAISED_RATES } from '../lib/epcscf-config.js';
import { startEpcscfProcess } from '../lib/epcscf-with-core.js';
import { startOurGateway, type GatewayUnderTest } from '../media/gateways.js';
import { startCore, type ImsCore } from '../scale/nodes.js';

export interface SoakNode {
  readonly nodeId: string;
  readonly daemon: Daemon;
  /** ws://127.0.0.1:port (plugins add /sip, /jsonrpc). */
  readonly baseUrl: string;
  readonly mwPort: number;
}

export interface SoakSystem {
  readonly redis: RedisPeer;
  readonly core: ImsCore;
  readonly nodes: readonly SoakNode[];
  readonly gateways: readonly GatewayUnderTest[];
  /** Label → PID of every process whose holdings are sampled. */
  readonly processes: Readonly<Record<string, number>>;
  stop(): Promise<void>;
}

/** The media ports of gateway i of 2: the bench/media range 44000-45999 cut in halves. */
const GATEWAY_PORT_SLICES = [{ min: 44000, max: 44999 }, { min: 45000, max: 45999 }] as const;

function nodeConfig(index: number, ports: { w2: number; mw: number }, mwUri: string, corePort: number, redisUrl: string, flowSecret: string): string {
  return JSON.stringify({
    w2: {
      listen: `127.0.0.1:${ports.w2}`, allowedOrigins: [],
      // Every generator client connects from 127.0.0.1 (see bench/lib/epcscf-config.ts).
      limits: { maxConnections: 100000, maxConnectionsPerIp: 100000, maxCallsPerIp: 1000000, maxRegistrationsPerIp: 1000000, maxPendingTransactionsPerConnection: 100000, ...RAISED_RATES },
    },
    plugins: [{ name: 'sip-ws', options: RAISED_FLOOD }, { name: 'jsonrpc-ws', options: RAISED_FLOOD }],
    mw: { listen: [`udp:127.0.0.1:${ports.mw}`], nextHop: `sip:127.0.0.1:${corePort};transport=udp`, domain: 'ims.test', visitedNetworkId: 'epcscf.test' },
    media: { mode: 'off' },
    cluster: { nodeId: `soak-node-${index + 1}`, mwUri, flowSecret, heartbeatSeconds: 2, redis: { url: redisUrl, keyPrefix: 'soak:' } },
    log: { level: 'warn' },
  });
}

export async function startSoakSystem(): Promise<SoakSystem> {
  const [corePort, ng1, ng2, w21, mw1, w22, mw2] = await allocatePorts(7) as [number, number, number, number, number, number, number];
  const nodePorts = [{ w2: w21, mw: mw1 }, { w2: w22, mw: mw2 }];
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-bench-soak-'));
  const started: { stop(): Promise<unknown> }[] = [];
  const stopAll = async (): Promise<void> => {
    for (const part of started.reverse()) await part.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    for (const port of [corePort, ng1, ng2, w21, mw1, w22, mw2]) releasePort(port);
  };
  try {
    const redis = await startRedis();
    started.push(redis);
    const core = await startCore(corePort);
    started.push(core);
    const gateways: GatewayUnderTest[] = [];
    for (const [i, ngPort] of [ng1, ng2].entries()) {
      const gateway = await startOurGateway({ ngPort, maxCalls: 500, ports: GATEWAY_PORT_SLICES[i] as { min: number; max: number }, fromSource: false, relayWorkers: 0 });
      gateways.push(gateway);
      started.push(gateway);
    }
    const flowSecret = randomBytes(24).toString('base64url');
    const mwUri = `sip:127.0.0.1:${mw1}`;
    const nodes: SoakNode[] = [];
    for (const [i, ports] of nodePorts.entries()) {
      const daemon = await startEpcscfProcess({
        w2Port: ports.w2, dir, configName: `soak-node-${i + 1}.json`,
        configYaml: nodeConfig(i, ports, mwUri, corePort, redis.url, flowSecret),
        exposeGc: true, // the launcher's SIGUSR2 hook: heap after a full GC (run.ts, the leak figure beside RSS)
      });
      started.push({ stop: () => daemon.stop(15_000) });
      nodes.push({ nodeId: `soak-node-${i + 1}`, daemon, baseUrl: `ws://127.0.0.1:${ports.w2}`, mwPort: ports.mw });
    }
    const processes: Record<string, number> = {};
    for (const node of nodes) processes[`epcscf ${node.nodeId}`] = node.daemon.pid;
    for (const [i, gateway] of gateways.entries()) processes[`media-gw ${i + 1}`] = gateway.pid;
    processes['redis-server'] = redis.pid;
    return { redis, core, nodes, gateways, processes, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
