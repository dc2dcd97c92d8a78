/**
 * Two P-CSCF nodes of one cluster in one process (issue #15): a shared MemoryStateBackend stands in
 * for Redis (the interop tests use real Redis), a fake IMS core on UDP, and cluster.mwUri naming
 * node A, so every Path and Mw Record-Route points at A. Each node can still be reached on its own
 * Mw port, as a per-request dispatcher (DNS SRV, round robin) on the shared name would do.
 */
import type { Test } from 'tap';
import { resolveConfig } from '../../core/config/index.js';
import { Pcscf, type PcscfOptions } from '../../core/pcscf/index.js';
import { createRequest, getHeader, type SipRequest } from '../../core/sip/index.js';
import { MemoryStateBackend } from '../../core/state/memory-state-backend.js';
import { FakeImsCore } from './fake-ims-core.js';
import { FakeWic, contact, register } from './pcscf-rig.js';
import { allocatePort, releasePort } from './peers/ports.js';

const SECRET = 'cluster-test-flow-secret-of-32-chars!';

export async function clusterNode(
  t: Test, nodeId: string, mwPort: number, mwUri: string, core: FakeImsCore, state: MemoryStateBackend, options: Partial<PcscfOptions> = {},
): Promise<Pcscf> {
  const config = resolveConfig({
    w2: { listen: '127.0.0.1:18080' },
    mw: { listen: [`udp:127.0.0.1:${mwPort}`], nextHop: `sip:127.0.0.1:${core.port};transport=udp`, domain: 'ims.test', visitedNetworkId: 'epcscf.test', nextHopProbe: { intervalSeconds: 0 } },
    cluster: { mwUri, heartbeatSeconds: 0.2 },
    log: { level: 'silent' },
  }, { configDir: process.cwd(), env: {} });
  const pcscf = await Pcscf.start({ config, nodeId, flowSecret: SECRET, state, clustered: true, ...options });
  t.teardown(() => pcscf.close());
  return pcscf;
}

/** Nodes A and B over one state home; cluster.mwUri is A's Mw address. */
export async function twoNodeCluster(t: Test, options: Partial<PcscfOptions> = {}) {
  const core = await FakeImsCore.start();
  t.teardown(() => { core.answerByes(); core.close(); });
  const [portA, portB] = [await allocatePort(), await allocatePort()] as [number, number];
  t.teardown(() => { releasePort(portA); releasePort(portB); });
  const state = new MemoryStateBackend();
  const mwUri = `sip:127.0.0.1:${portA}`;
  const a = await clusterNode(t, 'node-a', portA, mwUri, core, state, options);
  const b = await clusterNode(t, 'node-b', portB, mwUri, core, state, options);
  return { core, state, a, b, portA, portB };
}

/** Registers a WIC over `pcscf` (connection `connectionId`); the core answers 200 echoing Path. */
export async function registerOn(pcscf: Pcscf, connectionId: string, core: FakeImsCore): Promise<{ wic: FakeWic; path: string }> {
  const wic = new FakeWic(connectionId);
  pcscf.sessionOpened(wic.connection, wic);
  await pcscf.fromClient(connectionId, register(1));
  const atCore = await core.request('REGISTER');
  const path = getHeader(atCore, 'Path') ?? '';
  core.answer(atCore, 200, { headers: [
    ['Contact', `${contact};expires=600`], ['Service-Route', `<sip:orig@127.0.0.1:${core.port};lr>`],
    ['P-Associated-URI', '<sip:alice@ims.test>'], ['Path', path],
  ] });
  await wic.response(200, 'REGISTER');
  return { wic, path };
}

/** A terminating INVITE from the core for alice, routed by `route` (her Path), on Via branch z9hG4bK<callId>. */
export function terminatingInvite(core: FakeImsCore, route: string, callId: string): SipRequest {
  return createRequest({ method: 'INVITE', uri: 'sip:alice@df7jal23ls0d.invalid;transport=ws', headers: [
    ['Via', `SIP/2.0/UDP 127.0.0.1:${core.port};branch=z9hG4bK${callId}`], ['Max-Forwards', '68'], ['Route', route],
    ['Record-Route', `<sip:127.0.0.1:${core.port};lr>`], ['From', '<sip:carol@ims.test>;tag=c1'], ['To', '<sip:alice@ims.test>'],
    ['Call-ID', callId], ['CSeq', '1 INVITE'], ['Contact', `<sip:carol@127.0.0.1:${core.port}>`],
  ] });
}
