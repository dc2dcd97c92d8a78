/**
 * The system under test of bench/scale: one Kamailio IMS core stand-in and K epcscf processes
 * toward it, each with its own W2 and Mw port and its own cluster.nodeId, no shared state: each
 * node's Path names its own Mw address (RFC 3327 §5.2), so the core sends a terminating request
 * back through the node that registered the callee. Every process runs in its own process group
 * (CPU sampled from /proc) and is stopped by PID.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KamailioPeer } from '../../test/support/peers/kamailio.js';
import type { Daemon } from '../../test/support/peers/process.js';
import { benchEpcscfConfigYaml, RAISED_FLOOD } from '../lib/epcscf-config.js';
import { startEpcscfProcess, startImsCore } from '../lib/epcscf-with-core.js';

export interface EpcscfNode {
  readonly nodeId: string;
  /** ws://... the generator connects to. */
  readonly url: string;
  readonly w2Port: number;
  readonly mwPort: number;
  readonly daemon: Daemon;
}

export interface ImsCore {
  readonly port: number;
  readonly peer: KamailioPeer;
  readonly dir: string;
  stop(): Promise<void>;
}

export async function startCore(port: number): Promise<ImsCore> {
  const dir = mkdtempSync(join(tmpdir(), 'epcscf-bench-scale-'));
  let peer: KamailioPeer;
  try {
    peer = await startImsCore(port, dir);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    port, peer, dir,
    async stop() {
      await peer.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface NodePorts {
  readonly w2Port: number;
  readonly mwPort: number;
}

/** Starts one epcscf process per entry of `ports` toward `core`; all or none (a failed start stops the others). */
export async function startNodes(core: ImsCore, ports: readonly NodePorts[], mwTransport: 'udp' | 'tcp'): Promise<EpcscfNode[]> {
  const nodes: EpcscfNode[] = [];
  try {
    for (const [index, { w2Port, mwPort }] of ports.entries()) {
      const nodeId = `bench-node-${index + 1}`;
      const daemon = await startEpcscfProcess({
        w2Port, dir: core.dir, configName: `epcscf-${nodeId}.yaml`,
        configYaml: benchEpcscfConfigYaml({
          w2Port, mwPort, corePort: core.port, mwTransport, nodeId,
          plugins: [{ name: 'sip-ws', options: RAISED_FLOOD }],
        }),
      });
      nodes.push({ nodeId, url: `ws://127.0.0.1:${w2Port}/sip`, w2Port, mwPort, daemon });
    }
  } catch (error) {
    await stopNodes(nodes);
    throw error;
  }
  return nodes;
}

export async function stopNodes(nodes: readonly EpcscfNode[]): Promise<void> {
  for (const node of nodes) await node.daemon.stop(15_000);
}
