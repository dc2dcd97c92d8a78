/**
 * The `host` one loaded plugin gets (contract 2): the SIP core bound to the plugin's own
 * sessions, the virtual-UE factory bound to one of its connections, and the plugin's namespace
 * of the shared TTL store (host.state). The Janus rule: a plugin acts only through its
 * callbacks object, and only for the sessions it was given.
 */
import type { Logger } from 'pino';
import { EpcError } from '../errors.js';
import { W2_CONTRACT_VERSION } from '../contract/contract.js';
import type { W2Host, W2MmtelInfo, W2Observer, W2SipApi, W2UaFactory, W2UtApi, W2UtCore, W2WebAuthInfo } from '../contract/host.js';
import type { SipMessage } from '../sip/model/message.js';
import { MemoryTtlStore } from '../state/memory-ttl-store.js';
import type { TtlStore } from '../state/state-backend.js';
import { createVirtualUe } from '../ua/index.js';

export interface PluginHostInit {
  readonly name: string;
  readonly log: Logger;
  /** The SIP core every plugin shares. */
  readonly sip: W2SipApi;
  readonly observer: W2Observer;
  /** The connection ids of this plugin's open sessions (kept by the W2 server). */
  readonly sessions: ReadonlySet<string>;
  /** `mw.domain` (host.homeDomain). */
  readonly homeDomain?: string;
  /** From config `webAuth` (host.webAuth). */
  readonly webAuth?: W2WebAuthInfo;
  /** Ut (core/ut), when config `ut.xcapRoot` is set (host.ut). */
  readonly ut?: W2UtCore;
  /** From config `mmtel` (host.mmtel). */
  readonly mmtel?: W2MmtelInfo;
  /**
   * Where host.state comes from: the TTL store of a namespace (StateBackend.namespace), called
   * once with the plugin's name. Default: a memory store of this host alone.
   */
  readonly stateNamespace?: (name: string) => TtlStore;
}

export function createPluginHost(init: PluginHostInit): W2Host {
  const { name, sessions, log } = init;
  const core = init.sip;
  /** Connection ids whose flow this plugin kept (keepFlow): still its own after the close. */
  const kept = new Set<string>();
  const owns = (connectionId: string): boolean => sessions.has(connectionId) || kept.has(connectionId);
  const notOwner = (connectionId: string): Promise<never> => Promise.reject(new EpcError(
    'EPC_ERR_PLUGIN_NOT_SESSION_OWNER',
    `plugin "${name}": connection ${connectionId} is not one of this plugin's open sessions`,
  ));
  const adoptRegistered = core.adoptRegisteredFlow?.bind(core);
  const sip: W2SipApi = {
    fromClient(connectionId: string, message: SipMessage): Promise<void> {
      if (!owns(connectionId)) return notOwner(connectionId);
      return core.fromClient(connectionId, message);
    },
    keepFlow(connectionId: string, graceMs: number): void {
      if (!sessions.has(connectionId)) throw new EpcError('EPC_ERR_PLUGIN_NOT_SESSION_OWNER', `plugin "${name}": connection ${connectionId} is not one of this plugin's open sessions`);
      kept.add(connectionId);
      core.keepFlow(connectionId, graceMs);
    },
    adoptFlow(previousConnectionId: string, connectionId: string): Promise<void> {
      if (!kept.has(previousConnectionId)) return notOwner(previousConnectionId);
      if (!sessions.has(connectionId)) return notOwner(connectionId);
      // The adopting connection now owns the flow; the old id stays usable (the UE bound to it).
      return core.adoptFlow(previousConnectionId, connectionId);
    },
    async releaseFlow(connectionId: string): Promise<void> {
      if (!kept.delete(connectionId)) return notOwner(connectionId);
      await core.releaseFlow(connectionId);
    },
    // Issue #15: offered only when the core can re-point a registered flow (a cluster).
    ...(adoptRegistered !== undefined ? {
      adoptRegisteredFlow: (connectionId: string, contactUri: string, expiresAt?: number): Promise<void> => (
        sessions.has(connectionId) ? adoptRegistered(connectionId, contactUri, expiresAt) : notOwner(connectionId)
      ),
    } : {}),
  };
  const ua: W2UaFactory = {
    create(conn, options) {
      const { onSent, ...ueOptions } = options;
      const send = onSent === undefined
        ? (message: SipMessage) => sip.fromClient(conn.id, message)
        : async (message: SipMessage) => {
          try {
            await sip.fromClient(conn.id, message);
          } finally {
            onSent(message);
          }
        };
      // RFC 7118 §5.2: the Via transport follows the WebSocket (WSS over TLS).
      return createVirtualUe({ ...ueOptions, secure: conn.secure, transport: { send }, log });
    },
  };
  const utCore = init.ut;
  // Ut for this plugin's own sessions only (the same rule as host.sip).
  const ut: W2UtApi | undefined = utCore === undefined ? undefined : {
    request: (connectionId, request) => (owns(connectionId) ? utCore.forConnection(connectionId, request) : notOwner(connectionId)),
  };
  // Issue #15: the plugin's namespace is its name, so it never sees another plugin's keys.
  const state = init.stateNamespace?.(name) ?? new MemoryTtlStore();
  return {
    contract: W2_CONTRACT_VERSION, log, sip, ua, observer: init.observer, state,
    ...(ut !== undefined ? { ut } : {}),
    ...(init.homeDomain !== undefined ? { homeDomain: init.homeDomain } : {}),
    ...(init.webAuth !== undefined ? { webAuth: init.webAuth } : {}),
    ...(init.mmtel !== undefined ? { mmtel: init.mmtel } : {}),
  };
}
