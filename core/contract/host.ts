/**
 * The host API: the only way a plugin acts on the world (the Janus `janus_callbacks` rule).
 * `W2SipApi` is the seam toward the SIP core: the P-CSCF side implements it, the W2 server
 * only passes it through. It is kept deliberately small.
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { SipMessage } from '../sip/model/message.js';
import type { TtlStore } from '../state/state-backend.js';
import type { VirtualUe, VirtualUeOptions } from '../ua/api.js';
import type { UtRequest, UtResponse } from '../ut/ut-types.js';
import type { WebTokenOutcome } from '../webauth/web-token-verifier.js';
import type { SessionCloseReason, W2Connection, W2Session } from './session.js';

/**
 * The seam toward the SIP core ("every plugin speaks Gm-profile SIP to the core"). A plugin
 * hands the core what its client sent, as canonical SIP; the core sends SIP to the client
 * through the session's `onSipRequest` / `onSipResponse` hooks. Plugins that do not speak SIP
 * themselves put `core/ua` (a virtual Gm UE) between their protocol and this seam.
 */
export interface W2SipApi {
  /**
   * One SIP message the client of `connectionId` sent over W2: a request the core treats per
   * TS 24.229 §5.2 (toward the IMS), or a response to a request the core delivered through
   * `onSipRequest`. Resolves once the core has taken it; SIP outcomes reach the client as SIP
   * responses (through `onSipResponse`), never as rejections. Rejects with an EpcError only
   * when the core itself cannot take it (unknown connection, shutting down). The `host.sip` a
   * plugin gets acts only for its own open sessions: another plugin's connection id, or one
   * that is not open, rejects with EPC_ERR_PLUGIN_NOT_SESSION_OWNER.
   */
  fromClient(connectionId: string, message: SipMessage): Promise<void>;
  /**
   * Flow continuity across a signalling drop (issue #12, XEP-0198 resumption): when the
   * connection closes, its RFC 5626 flow (registration bindings, dialogs, media legs, flow
   * token) is kept instead of released, for at most `graceMs`. SIP toward the flow still reaches
   * the closed connection's session hooks, and `fromClient` still takes that connection's id.
   * Within the grace another connection of the same plugin takes it over with `adoptFlow`, or
   * the plugin ends it with `releaseFlow`; when the grace runs out the core releases it as if
   * the connection had just closed (bindings dropped, BYE toward the IMS for live dialogs).
   */
  keepFlow(connectionId: string, graceMs: number): void;
  /**
   * The open connection `connectionId` takes over the kept flow of `previousConnectionId`: the
   * same flow token (so the registrar's Path and the dialogs' Record-Route still name it), its
   * SIP now delivered to `connectionId`'s session; both ids keep addressing it until it ends.
   * Rejects with EPC_ERR_INVALID_STATE when that flow is not kept (expired, released, unknown).
   */
  adoptFlow(previousConnectionId: string, connectionId: string): Promise<void>;
  /** Ends a kept flow now (the release the connection close would have done). */
  releaseFlow(connectionId: string): Promise<void>;
  /**
   * Issue #15, present only where the core shares flows between nodes: the open connection
   * `connectionId` takes over the RFC 5626 flow through which the contact `contactUri` (matched
   * on its user and host) is registered, whichever node made it and whether or not that node is
   * still alive: the flow's token, in the registrar's Path and the dialogs' Record-Route, now
   * reaches this connection. A virtual UE that adopted that registration (VirtualUeOptions.adopt)
   * is then reachable with no REGISTER on Mw. Rejects with EPC_ERR_INVALID_STATE when no live
   * binding has that contact. Absent (one node): the plugin registers again instead.
   * `expiresAt` (epoch ms, the UE's record of the registrar's grant, RegistrationSnapshot.expiresAt)
   * restores the binding's expiry where the dead or leaving node's grace had shortened it.
   */
  adoptRegisteredFlow?(connectionId: string, contactUri: string, expiresAt?: number): Promise<void>;
}

/** A virtual UE's options as a plugin gives them: the connection supplies transport and Via. */
export type PluginUeOptions = Omit<VirtualUeOptions, 'transport' | 'secure'> & {
  /** Called after each SIP message of this UE was taken (or refused) by the core. */
  readonly onSent?: (message: SipMessage) => void;
};

/**
 * The virtual-UE factory (core/ua) for plugins that do not speak SIP themselves: one UE per
 * connection, whose SIP goes to the core as that connection's (`host.sip` bound to `conn.id`),
 * with the Via transport of the connection (RFC 7118 §5.2: WSS when `conn.secure`), logging
 * under the plugin's logger.
 */
export interface W2UaFactory {
  create(conn: W2Connection, options: PluginUeOptions): VirtualUe;
}

/**
 * What the W2 server tells the SIP core about sessions (not visible to plugins): the core
 * learns where to deliver SIP for a connection, and cleans up what it owned when it ends.
 */
export interface W2SipCore extends W2SipApi {
  sessionOpened(connection: W2Connection, session: W2Session): void;
  sessionClosed(connectionId: string, reason: SessionCloseReason): void | Promise<void>;
  /** Ut (core/ut): the AORs registered (live bindings) on this connection's flow. Without it: no Ut. */
  registeredIdentities?(connectionId: string): Promise<readonly string[]>;
  /** Ut REST (core/ut): a web token checked as a REGISTER's would be (core/webauth). */
  verifyWebToken?(token: string, origin: string | undefined): Promise<WebTokenOutcome>;
}

/**
 * Service configuration over Ut (TS 24.623, core/ut) for a plugin's client: one XCAP operation
 * on the simservs document of the identity registered on that connection's flow, proxied to
 * the XCAP server with that identity asserted. Resolves with the XCAP answer whatever its status;
 * rejects with EPC_ERR_UT_FORBIDDEN (not registered, another user's or another document),
 * EPC_ERR_UT_BAD_REQUEST (path, node selector, header or XML body) or EPC_ERR_UT_UNAVAILABLE
 * (no answer in time or in bounds), or EPC_ERR_PLUGIN_NOT_SESSION_OWNER.
 */
export interface W2UtApi {
  request(connectionId: string, request: UtRequest): Promise<UtResponse>;
}

/** The core side of W2UtApi (not visible to plugins): checks identity, then proxies. */
export interface W2UtCore {
  forConnection(connectionId: string, request: UtRequest): Promise<UtResponse>;
}

/** Monitoring events (the mediasoup `observer` idea): never used to drive behaviour. */
/**
 * Why a guard refused or cut off a client (issue 11), the `reason` label of
 * epcscf_w2_refused_total: connection caps, deadlines, flood control, call caps, open SIP
 * transactions per connection, registration bindings per IP.
 */
export type W2RefusalReason =
  | 'connections' | 'connections_per_ip' | 'upgrade_timeout' | 'first_frame_timeout' | 'flood'
  | 'calls_per_client' | 'calls_per_ip' | 'pending_transactions' | 'registrations_per_ip'
  // Issue 15 overload control: request rates, throttled sockets, the per-node bound toward Mw.
  | 'registration_rate_per_client' | 'registration_rate_per_ip' | 'call_rate_per_client' | 'call_rate_per_ip'
  | 'bytes_rate' | 'frames_per_ip' | 'mw_overload'
  // Issue 15, flood: frames/s per connection (throttled), new connections/s per IP (refused at accept).
  | 'frames_rate' | 'connection_rate_per_ip';

export const W2_REFUSAL_REASONS: readonly W2RefusalReason[] = [
  'connections', 'connections_per_ip', 'upgrade_timeout', 'first_frame_timeout', 'flood', 'calls_per_client', 'calls_per_ip',
  'pending_transactions', 'registrations_per_ip',
  'registration_rate_per_client', 'registration_rate_per_ip', 'call_rate_per_client', 'call_rate_per_ip',
  'bytes_rate', 'frames_per_ip', 'mw_overload', 'frames_rate', 'connection_rate_per_ip',
];

export interface W2ObserverEvents {
  sessionopen: [info: { connectionId: string; plugin: string; subprotocol: string; path: string }];
  sessionclose: [info: { connectionId: string; plugin: string; reason: SessionCloseReason }];
  pluginerror: [info: { connectionId: string | undefined; plugin: string; hook: string; error: unknown }];
  /** A guard refused a connection or request, or cut a client off (plugins report floods here). */
  refused: [info: { reason: W2RefusalReason; remoteAddress: string | undefined; connectionId?: string }];
}

export type W2Observer = EventEmitter<W2ObserverEvents>;

/**
 * Web authentication (TS 24.371 scenarios 2/3) as a plugin needs to know it: whether the core
 * takes web tokens, so a plugin offers its token login (xmpp-ws: SASL OAUTHBEARER) only then.
 * The core alone validates tokens (core/webauth, on the REGISTER a plugin's UE sends with
 * `identity.token`); a plugin never sees the keys.
 */
export interface W2WebAuthInfo {
  /** True when config `webAuth.issuers` names at least one issuer. */
  readonly enabled: boolean;
}

/** MMTel settings a plugin's virtual UE needs (config `mmtel`, TS 24.173). */
export interface W2MmtelInfo {
  /** CONF (TS 24.605 §4.2.1): where an ad-hoc conference is created (INVITE to it). */
  readonly conferenceFactoryUri: string;
}

/** Handed to `init`; one per plugin per load. */
export interface W2Host {
  /** The contract version the core implements (W2_CONTRACT_VERSION). */
  readonly contract: number;
  /** A pino child logger with `{ plugin: meta.name }`. */
  readonly log: Logger;
  /** The SIP core, bound to this plugin's own sessions. */
  readonly sip: W2SipApi;
  /** Virtual UEs (core/ua) bound to one of this plugin's connections. */
  readonly ua: W2UaFactory;
  readonly observer: W2Observer;
  /**
   * The home network domain (config `mw.domain`): the domain a plugin's users are named in when
   * its protocol has addresses of its own (xmpp-ws: JIDs user@homeDomain ⇄ sip:user@homeDomain).
   */
  readonly homeDomain?: string;
  /** Web authentication (config `webAuth`); absent where the host does not tell (tests, embedders): treat as off. */
  readonly webAuth?: W2WebAuthInfo;
  /** Ut (config `ut.xcapRoot`); absent when service configuration is off. */
  readonly ut?: W2UtApi;
  /** Config `mmtel`; absent where the host does not tell (tests, embedders): no conference factory. */
  readonly mmtel?: W2MmtelInfo;
  /**
   * The plugin's own key/value store with a TTL per key (issue #15): namespaced by the plugin's
   * name, so a plugin never sees another's keys. On one node it is memory; in a cluster it is the
   * shared state (Redis), so what one node stores another can take (resume tokens, XEP-0198
   * stream records). Values are strings (the plugin's JSON). Every call is asynchronous and may
   * reject with EPC_ERR_STATE_UNAVAILABLE while the shared state cannot be reached. Never store
   * a password or a client's token in clear: key entries by `stateKeyOf(token)` and seal secrets
   * with `sealUnderToken` (core/contract/token-seal.ts). Live objects (sockets, timers) stay in
   * the plugin's memory.
   */
  readonly state: TtlStore;
}
