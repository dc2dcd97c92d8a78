/**
 * Everything `epcscf` runs in one process, started in dependency order and stopped in reverse:
 *   dev IMS core (when mw.nextHop is unset) → shared state (cluster.redis) → media gateway
 *   control → P-CSCF (Mw) → W2 server (plugins) → admin API and metrics on the same server → listen.
 * Shutdown (the issue: "stops accepting, de-registers what it registered, closes sockets"):
 * the W2 server closes first (no new upgrades; sessions get 1001, and the P-CSCF releases what
 * each session owned), then the P-CSCF closes Mw, then the dev core. A cluster node (issue #15)
 * keeps its virtual UEs' registrations for another node to adopt instead of de-registering them.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { EpcscfConfig } from '../config/config-types.js';
import { Pcscf } from '../pcscf/index.js';
import { mediaFromConfig } from '../pcscf/alg/configured-media.js';
import { createEpcscfServer } from '../server/epcscf-server.js';
import type { EpcscfServer } from '../server/epcscf-server.js';
import type { DevImsCore } from '../../examples/dev-ims-core/index.js';
import { attachAdmin } from './admin-wiring.js';
import { BUILTIN_PLUGINS } from './builtin-plugins.js';
import type { BuiltinPluginRegistry } from './builtin-plugins.js';
import { packageRoot } from './package-root.js';
import { stateFromConfig } from './state-from-config.js';
import type { StateBackend } from '../state/state-backend.js';

export interface RuntimeOptions {
  readonly logger: Logger;
  /** Port of the embedded dev IMS core; default: 5070 or the next free one up to 5079. 0 = any. */
  readonly devCorePort?: number;
  /** Plugins known by name; default BUILTIN_PLUGINS (embedders and tests add their own). */
  readonly builtins?: BuiltinPluginRegistry;
}

export interface EpcscfRuntime {
  /** The config actually used (mw.nextHop filled with the dev core when it runs). */
  readonly config: EpcscfConfig;
  readonly pcscf: Pcscf;
  readonly server: EpcscfServer;
  readonly devCore: DevImsCore | undefined;
  /** The shared state home (cluster.redis); undefined: the P-CSCF's memory stores. */
  readonly state: StateBackend | undefined;
  /** Where media goes ('off' when SDP crosses untouched). */
  readonly media: string;
  /** The bound W2 address. */
  readonly w2: { readonly host: string; readonly port: number };
  /** Idempotent. */
  close(): Promise<void>;
}

const DEV_CORE_PORT = 5070;
const DEV_CORE_PORT_TRIES = 10;

export async function startRuntime(configured: EpcscfConfig, options: RuntimeOptions): Promise<EpcscfRuntime> {
  const stack: (() => Promise<void>)[] = [];
  const unwind = async (): Promise<void> => {
    for (const close of stack.reverse().splice(0)) await close().catch((error: unknown) => options.logger.error({ err: error }, 'close failed'));
  };
  try {
    let config = configured;
    let devCore: DevImsCore | undefined;
    if (configured.mw.useDevCore) {
      devCore = await startDevCore(configured.mw.domain, options.devCorePort, configured.webAuth.integrityProtected);
      const started = devCore;
      stack.push(() => started.close());
      config = { ...configured, mw: { ...configured.mw, nextHop: devCore.uri } };
    }
    // Closed after the P-CSCF (the stack unwinds in reverse): releasing flows still writes to it.
    const state = await stateFromConfig(config, options.logger);
    if (state) stack.push(() => state.close());
    let started: Pcscf | undefined;
    // R-AGW-4: a call whose media failed is released by the P-CSCF.
    const media = await mediaFromConfig(config.media, options.logger, (ngCallId, kind) => {
      void started?.onMediaEvent(ngCallId, kind).catch((error: unknown) => options.logger.error({ err: error }, 'media release failed'));
    }, (ngCallId, digit, durationMs) => {
      // media.dtmf: a browser digit the IMS side did not negotiate as telephone-event goes as INFO.
      void started?.onMediaDtmf(ngCallId, digit, durationMs).catch((error: unknown) => options.logger.error({ err: error }, 'DTMF INFO failed'));
    });
    // The P-CSCF closes the media control with itself; until it exists, the stack does.
    const mediaGuard = media ? () => media.control.close() : undefined;
    if (mediaGuard) stack.push(mediaGuard);
    const flowSecret = config.cluster.flowSecret;
    if (flowSecret === undefined) {
      options.logger.warn('cluster.flowSecret is not set: flow tokens use a random key, so after a restart requests toward existing registrations get 403 instead of 430 until each client re-registers (set cluster.flowSecret or EPCSCF_CLUSTER_FLOW_SECRET)');
    }
    const pcscf = await Pcscf.start({
      config, logger: options.logger.child({ component: 'pcscf' }),
      ...(flowSecret !== undefined ? { flowSecret } : {}),
      ...(media ? { media: media.control } : {}),
      ...(config.media.interfaces ? { mediaInterfaces: config.media.interfaces } : {}),
      // Issue #15: a shared (Redis) backend makes this node a cluster member (pcscf/cluster/).
      ...(state ? { state } : {}),
    });
    started = pcscf;
    // R-REG-9: the dev core registers epcscf's web-authenticated users without a challenge,
    // from epcscf's own Mw address only.
    for (const address of pcscf.mwAddresses) devCore?.trustNode(address);
    if (mediaGuard) stack.splice(stack.indexOf(mediaGuard), 1);
    stack.push(() => pcscf.close());
    const server = await createEpcscfServer(config, {
      sip: pcscf, logger: options.logger, builtins: options.builtins ?? BUILTIN_PLUGINS,
      // Issue #15: plugins' host.state lives in the state home, so a Redis-backed node takes the
      // resume tokens (jsonrpc-ws) and XEP-0198 records (xmpp-ws) another node issued.
      ...(state ? { stateNamespace: (name: string) => state.namespace(name) } : {}),
    });
    stack.push(() => server.close());
    // Issue #15 "Faults", fencing (pcscf/cluster/self-fence.ts): a node a survivor cleaned up while
    // it was stalled closes its W2 sessions with 1001 "going away" (RFC 6455 §7.4.1), as on SIGTERM
    // but without stopping: each session releases through the plugin's onClose and the P-CSCF's
    // flow release, and its client reconnects through the load balancer to a live node.
    const membership = pcscf.clusterMembership;
    if (membership !== undefined) {
      membership.onFenced = () => {
        for (const session of server.w2.sessions()) server.w2.closeSession(session.id, 1001, 'node fenced');
      };
    }
    const admin = await attachAdmin(server, pcscf, config, { log: options.logger, ...(media ? { media: media.control } : {}), ...(state ? { state } : {}) });
    stack.push(async () => admin.detach());
    const w2 = await server.listen();
    let closing: Promise<void> | undefined;
    // Issue #15 "Graceful restart": a cluster node that stops hands its JSON-RPC/XMPP clients'
    // registrations over (kept for cluster.adoptGraceSeconds, not de-registered) before its
    // sessions get 1001; its calls are released as ever. A single node: unchanged.
    const close = (): Promise<void> => {
      pcscf.leaveCluster();
      return unwind();
    };
    return { config, pcscf, server, devCore, state, media: media?.description ?? 'off', w2, close: () => (closing ??= close()) };
  } catch (error) {
    await unwind();
    throw error;
  }
}

async function startDevCore(domain: string, port: number | undefined, integrityProtected: string): Promise<DevImsCore> {
  // Imported lazily: the dev core is an example, loaded only when no real core is configured.
  const { DevImsCore } = await import('../../examples/dev-ims-core/index.js');
  const users = join(packageRoot(), 'examples', 'dev-ims-core', 'users.json');
  const candidates = port !== undefined ? [port] : Array.from({ length: DEV_CORE_PORT_TRIES }, (_, i) => DEV_CORE_PORT + i);
  let lastError: unknown;
  for (const candidate of candidates) {
    try {
      return await DevImsCore.start({ port: candidate, users, domain, integrityProtected });
    } catch (error) {
      lastError = error; // most likely EADDRINUSE: try the next port
    }
  }
  throw lastError;
}
