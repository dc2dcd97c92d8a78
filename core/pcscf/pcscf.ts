import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import type { EpcscfConfig } from '../config/config-types.js';
import { EpcError } from '../errors.js';
import type { W2SipCore } from '../contract/host.js';
import type { SessionCloseReason, W2Connection, W2Session } from '../contract/session.js';
import { createResponse, formatUri, generateBranch, parseUri, SipParseError, type SipMessage, type SipUri } from '../sip/index.js';
import { resolveNextHop, type DnsLookup } from '../sip/resolve/index.js';
import { TransactionLayer, type ServerTransaction, type TimerValues } from '../sip/transaction/index.js';
import { SipTransportLayer, hostForUri } from '../sip/transport/index.js';
import type { MwTransportProtocol, TransportStats } from '../sip/transport/transport.js';
import type { SipSender, SipTarget } from '../sip/transport/types.js';
import { MemoryDialogStore, type DialogRecord, type DialogStore } from '../state/dialog-store.js';
import { MemoryRegistrationStore, type RegistrationStore } from '../state/registration-store.js';
import type { StateBackend } from '../state/state-backend.js';
import type { ClusterMembership } from './cluster/cluster-membership.js';
import { adoptRegisteredFlow } from './cluster/flow-adoption.js';
import { composeCluster, type PcscfCluster } from './cluster/pcscf-cluster.js';
import { recordedMediaControl } from './cluster/recorded-media-control.js';
import { ImsAlg, mediaCallId } from './alg/ims-alg.js';
import type { MediaControl } from './alg/media-control.js';
import type { MediaInterfaces } from './alg/media-requests.js';
import { CallLimits } from './call-limits.js';
import type { PcscfContext } from './context.js';
import { DialogSequencer } from './cseq-offset.js';
import { releaseRequest } from './dialog-tracker.js';
import { dtmfTowardIms } from './dtmf-interworking.js';
import { FlowTokenCodec } from './flow-token.js';
import { Forwarder, type Side } from './forwarder.js';
import { ackFromIms, requestFromIms, strayResponseFromIms } from './from-ims.js';
import { ackFromWic, requestFromWic, strayResponseFromWic } from './from-wic.js';
import { loopBranch } from './loop-detection.js';
import { MediaLegAudit } from './media-audit.js';
import { NextHopHealth, probeRequest, sendProbe } from './next-hop-health.js';
import { OwnUris, sharedMwAddress, type OwnAddress } from './own-uris.js';
import type { PcscfEvents } from './pcscf-events.js';
import { PendingTransactions } from './pending-transactions.js';
import { RegistrationLimits } from './registration-limits.js';
import { RequestRates } from './request-rates.js';
import { MwAdmission } from './mw-admission.js';
import { byeTowardIms, releaseOnMediaEvent, releaseW2Flow, sendOwnRequest, terminateByOperator } from './release.js';
import type { PcscfRelay } from './relay.js';
import { guardTrip, safeCallId, sendStateless } from './relay-steps.js';
import { mwTargets, type MwRouting } from './routing.js';
import { SessionMedia } from './session-media.js';
import { TrustedNodeDeregistrar } from './trusted-node.js';
import { W2Flows } from './w2-flows.js';
import { WebAuthGate } from './web-auth-gate.js';
import { WebTokenVerifier, type WebTokenOutcome } from '../webauth/index.js';
import { answeredStateUnavailable } from './state-unavailable.js';

export type { PcscfEvents, RelayGuard } from './pcscf-events.js';

export interface PcscfOptions {
  readonly config: EpcscfConfig;
  readonly logger?: Logger;
  /** This node's name in flow tokens and ICIDs (cluster-unique). Defaults to the host name. */
  readonly nodeId?: string;
  /** Flow-token HMAC key; every node of a cluster needs the same one. Random by default. */
  readonly flowSecret?: string;
  readonly registrations?: RegistrationStore;
  readonly dialogs?: DialogStore;
  /**
   * The state home (core/state): registrations, dialogs and the cluster directories. Default: a
   * private memory one (one node). `registrations`/`dialogs` above, when given, take precedence.
   */
  readonly state?: StateBackend;
  /**
   * Run as a node of a cluster over `state` (issue #15, cluster/): claim flows in its flow
   * directory, heartbeat, forward requests for flows other nodes hold, release dead nodes' calls.
   * Default: when `state` is shared (Redis). Tests set it over a MemoryStateBackend shared in one process.
   */
  readonly clustered?: boolean;
  readonly timers?: Partial<TimerValues>;
  readonly dns?: DnsLookup;
  /**
   * The media gateway the IMS-ALG drives (our media-gw in-process or over ng, or rtpengine).
   * Without one, SDP crosses untouched (signalling only). Closed with the P-CSCF.
   */
  readonly media?: MediaControl;
  /** rtpengine `direction` interface names (media.interfaces). */
  readonly mediaInterfaces?: MediaInterfaces;
  /** The web-token verifier (default: one built from config.webAuth). */
  readonly webTokens?: WebTokenVerifier;
}

/**
 * The eP-CSCF: a stateful proxy between W2 flows (one per WebSocket session) and Mw, applying
 * the TS 24.229 P-CSCF procedures once for every plugin (docs/architecture.md). Requests from a
 * WIC get the registration (§5.2.2), originating (§5.2.6.3) or mid-dialog treatment
 * (from-wic.ts); requests from the IMS are routed to the flow their Path/Record-Route token
 * names (§5.2.6.4, RFC 5626; from-ims.ts); sessions end in release.ts. This class wires them:
 * transports, transaction layers, the forwarder and the gates, handed to the procedures as one
 * `PcscfRelay` (relay.ts).
 */
export class Pcscf implements W2SipCore {
  readonly observer = new EventEmitter<PcscfEvents>();
  /** Issue 11 #10: which Mw next hops answer (503 at once toward a dead one; /ready, metrics). */
  readonly nextHops: NextHopHealth;
  /** Issue 15: requests toward Mw without an answer yet, bounded per node (a queue, then 503). */
  readonly mwAdmission: MwAdmission;
  readonly #transport: SipTransportLayer;
  readonly #mw: TransactionLayer;
  readonly #w2: TransactionLayer;
  readonly #flows: W2Flows;
  readonly #ctx: PcscfContext;
  readonly #nextHop: SipUri | undefined;
  readonly #transports: MwTransportProtocol[];
  readonly #dns: DnsLookup | undefined;
  readonly #mwAddresses: OwnAddress[];
  readonly #media: SessionMedia;
  readonly #mediaAudit: MediaLegAudit | undefined;
  readonly #webTokens: WebTokenVerifier;
  /** What the procedures act through (relay.ts). */
  readonly #relay: PcscfRelay;
  /** Flow releases under way (BYEs, trusted-node de-registrations): close() lets them finish before Mw closes. */
  readonly #releases = new Set<Promise<void>>();
  /** Issue #15: this node's cluster membership and routing; undefined for a single node. */
  readonly #cluster: PcscfCluster | undefined;
  /**
   * Issue #15, W2SipCore: `connectionId` takes over the virtual-UE registration of `contactUri`
   * another node made (cluster/flow-adoption.ts). Present only on a cluster node: on one node the
   * plugin registers again.
   */
  readonly adoptRegisteredFlow?: (connectionId: string, contactUri: string, expiresAt?: number) => Promise<void>;
  #closed: Promise<void> | undefined;

  private constructor(transport: SipTransportLayer, options: PcscfOptions, webTokens: WebTokenVerifier) {
    const { config } = options;
    const log = options.logger ?? pino({ level: config.log.level, name: 'epcscf' });
    const nodeId = options.nodeId ?? config.cluster.nodeId ?? hostname().replace(/[^A-Za-z0-9-]/g, '') ?? 'epcscf';
    this.#transport = transport;
    this.#transports = transport.protocols;
    this.#dns = options.dns;
    this.#nextHop = config.mw.nextHop ? (parseUri(config.mw.nextHop) as SipUri) : undefined;
    this.#mwAddresses = this.#transports.map((t) => ({ transport: t, ...transport.localVia(t) }));
    const tokens = new FlowTokenCodec(options.flowSecret);
    const w2Address: OwnAddress = { transport: config.w2.tls ? 'wss' : 'ws', host: hostForUri(config.w2.listen.host), port: config.w2.listen.port };
    const state = options.state;
    const clustered = state !== undefined && (options.clustered ?? state.kind !== 'memory');
    const shared = config.cluster.mwUri === undefined ? undefined : sharedMwAddress(parseUri(config.cluster.mwUri));
    this.#ctx = {
      nodeId, domain: config.mw.domain, visitedNetworkId: config.mw.visitedNetworkId,
      uris: new OwnUris(this.#mwAddresses, w2Address, tokens, { ...(shared ? { shared } : {}), peerW2Entries: clustered }),
      registrations: options.registrations ?? state?.registrations ?? new MemoryRegistrationStore(),
      dialogs: options.dialogs ?? state?.dialogs ?? new MemoryDialogStore(),
      log: log.child({ component: 'pcscf' }), now: Date.now,
    };
    // Issue #15: a cluster node's flow numbers never repeat across its restarts (6 bytes in the token).
    this.#flows = new W2Flows(nodeId, (ref) => tokens.encode(ref), clustered ? Date.now() : 1);
    // Issue #15: in a cluster the media-leg directory records who owns each leg.
    const mediaControl = options.media && clustered && state ? recordedMediaControl(options.media, state.mediaLegs, { nodeId, gateway: mediaGatewayName(config), log: this.#ctx.log }) : options.media;
    const alg = mediaControl ? new ImsAlg({
      control: mediaControl, log: this.#ctx.log.child({ component: 'ims-alg' }), warnAgent: w2Address.host, now: () => this.#ctx.now(),
      ...(options.mediaInterfaces ? { interfaces: options.mediaInterfaces } : {}),
    }) : undefined;
    this.#media = new SessionMedia(alg, this.#ctx);
    this.#webTokens = webTokens;
    const routing: MwRouting = {
      transports: this.#transports, homeDomain: this.#ctx.domain,
      ...(this.#nextHop ? { nextHop: this.#nextHop } : {}), ...(this.#dns ? { dns: this.#dns } : {}),
    };
    const webAuth = new WebAuthGate({
      verifier: webTokens, now: () => this.#ctx.now(), onAccepted: () => this.observer.emit('webToken', 'accepted'),
      onGrantExpired: (flow, aor) => void deregistrar.grantExpired(flow, aor).catch((error: unknown) => this.#ctx.log.error({ err: error }, 'de-registering an expired web-token registration failed')),
    });
    const deregistrar = new TrustedNodeDeregistrar({
      ctx: this.#ctx, integrityProtected: config.webAuth.integrityProtected, mwTransport: this.#transports[0] ?? 'udp',
      onSent: (cause, aor) => this.observer.emit('trustedNodeDeregistration', cause, aor),
      // Sent like a released session's BYE: toward the entry point, resolved on any outcome.
      send: (request) => mwTargets(request, routing).then(
        (targets) => (targets[0] === undefined ? undefined : sendOwnRequest(this.#relay, 'mw', request, targets[0])),
        () => undefined,
      ),
    });
    const pending = new PendingTransactions(config.w2.limits.maxPendingTransactionsPerConnection);
    const mwSender: SipSender = {
      send: (message, target) => {
        this.#tapMw('out', message, target.transport, target.host, target.port);
        return transport.send(message, target);
      },
    };
    const w2Sender: SipSender = {
      send: (message, target) => {
        this.#tapW2('out', message, target.connectionId ?? '');
        return this.#flows.send(message, target);
      },
    };
    const timers = options.timers ?? {};
    let probeCseq = 0;
    this.nextHops = new NextHopHealth({
      probe: config.mw.nextHopProbe, log: this.#ctx.log,
      // RFC 3263: the configured entry point, resolved like any request toward it.
      probeTargets: async () => (this.#nextHop ? resolveNextHop(this.#nextHop, { transports: this.#transports, ...(this.#dns ? { dns: this.#dns } : {}) }) : []),
      sendProbe: (target, deadlineMs) => {
        const own = this.#ctx.uris.mwAddress(target.transport);
        const uri = this.#nextHop ? formatUri(this.#nextHop) : `sip:${hostForUri(target.host)}:${target.port}`;
        const probe = probeRequest(uri, this.#via('mw', target, generateBranch()), `sip:${hostForUri(own.host)}:${own.port}`, ++probeCseq);
        return sendProbe(this.#mw, probe, target, deadlineMs);
      },
    });
    this.#mw = new TransactionLayer({
      sender: mwSender, timers,
      onClientOutcome: (request, target, outcome) => this.nextHops.observe(request, target, outcome),
      onRequest: (req, tx, source) => this.#guard(tx, () => requestFromIms(this.#relay, req, tx, source)),
      onStrayAck: (ack) => void ackFromIms(this.#relay, ack).catch((e: unknown) => this.#ctx.log.warn({ err: e }, 'ACK from Mw not forwarded')),
      onStrayResponse: (response) => void strayResponseFromIms(this.#relay, response).catch((e: unknown) => this.#ctx.log.debug({ err: e }, 'stray Mw response dropped')),
      onDiscarded: (inbound, reason) => this.#ctx.log.debug({ reason, peer: inbound.source.remoteAddress }, 'Mw message discarded'),
      // Issue #15: a cluster node's INVITE transactions are also indexed by the IMS's Via (cluster/cluster-invites.ts).
      ...(clustered ? { onServerTransactionEnded: (tx: ServerTransaction) => this.#cluster?.invites.ended(tx) } : {}),
    });
    this.#w2 = new TransactionLayer({
      sender: w2Sender, timers, tryingDelay: 0,
      onRequest: (req, tx, source) => this.#guard(tx, () => requestFromWic(this.#relay, req, tx, source)),
      onStrayAck: (ack, source) => void ackFromWic(this.#relay, ack, source).catch((e: unknown) => this.#ctx.log.warn({ err: e }, 'ACK from W2 not forwarded')),
      onStrayResponse: (response, source) => void strayResponseFromWic(this.#relay, response, source).catch((e: unknown) => this.#ctx.log.debug({ err: e }, 'stray W2 response dropped')),
      onServerTransactionEnded: (tx) => pending.ended(tx),
    });
    this.mwAdmission = new MwAdmission(config.mw.overload);
    const forwarder = new Forwarder({
      layers: { mw: this.#mw, w2: this.#w2 }, via: (side, target, branch) => this.#via(side, target, branch), log: this.#ctx.log,
      branch: loopBranch,
      warnAgent: (side) => (side === 'w2' ? w2Address.host : this.#mwAddresses[0]?.host ?? w2Address.host),
      onUnprocessable: () => guardTrip(this.#relay, 'unprocessable-response'),
      // Issue 15: the per-node bound toward Mw, and RFC 3263 failover when a target stays silent.
      mwAdmission: this.mwAdmission, noAnswerMs: config.mw.failover.noAnswerMs,
      onOverloaded: (serverTx) => this.observer.emit('refused', 'mw_overload', serverTx.source.connectionId ?? ''),
      onNoAnswer: (request, target) => this.nextHops.observe(request, target, 'timeout'),
    });
    this.#cluster = clustered && state ? this.#joinCluster(state, config, options.media, forwarder, routing) : undefined;
    const membership = this.#cluster?.membership;
    if (membership !== undefined) {
      this.adoptRegisteredFlow = async (connectionId, contactUri, expiresAt) => {
        const flow = this.#flows.byConnection(connectionId);
        if (flow === undefined || !flow.alive) throw new EpcError('EPC_ERR_INVALID_STATE', `no open W2 flow for connection ${connectionId}`);
        await adoptRegisteredFlow({ registrations: this.#ctx.registrations, flows: this.#flows, membership, now: this.#ctx.now }, flow, contactUri, expiresAt);
      };
    }
    this.#relay = {
      ...(this.#cluster ? { cluster: this.#cluster } : {}),
      ctx: this.#ctx, mw: this.#mw, w2: this.#w2, forwarder, flows: this.#flows, media: this.#media, nextHops: this.nextHops,
      cseqSteps: new DialogSequencer(),
      admission: {
        pending, webAuth, deregistrar, integrityProtected: config.webAuth.integrityProtected,
        calls: new CallLimits(config.w2.limits, this.#ctx.dialogs),
        registrations: new RegistrationLimits(config.w2.limits.maxRegistrationsPerIp, this.#ctx.registrations, (ip) => this.#flows.fromAddress(ip)),
        rates: new RequestRates({
          registrationsPerClient: config.w2.limits.registrationRatePerClient, registrationsPerIp: config.w2.limits.registrationRatePerIp,
          callsPerClient: config.w2.limits.callRatePerClient, callsPerIp: config.w2.limits.callRatePerIp,
        }),
      },
      dtmfMode: config.media.dtmf ?? 'auto',
      observer: this.observer, mwAddresses: this.#mwAddresses, mwTransport: this.#transports[0] ?? 'udp', routing,
      via: (side, target, branch) => this.#via(side, target, branch),
      send: (message, side, target) => this.#send(message, side, target),
    };
    transport.onMessage((inbound) => {
      this.#tapMw('in', inbound.message, inbound.source.transport, inbound.source.remoteAddress, inbound.source.remotePort);
      this.#mw.receive(inbound);
    });
    this.#mediaAudit = alg === undefined ? undefined : new MediaLegAudit({
      alg, dialogs: this.#ctx.dialogs, pendingCallIds: () => forwarder.pendingCallIds(),
      graceMs: config.media.auditGraceSeconds * 1000, now: () => this.#ctx.now(), log: this.#ctx.log.child({ component: 'media-audit' }),
      onOrphan: (leg, ngCallId) => this.observer.emit('mediaLegOrphaned', { callId: leg.callId, ngCallId }),
    });
    this.#mediaAudit?.start(config.media.auditIntervalSeconds * 1000);
  }

  /** Issue #15: this node in the cluster (the logic is in cluster/). */
  #joinCluster(state: StateBackend, config: EpcscfConfig, media: MediaControl | undefined, forwarder: Forwarder, routing: MwRouting): PcscfCluster {
    const own = this.#ctx.uris.mwAddress(this.#transports[0] ?? 'udp');
    return composeCluster({
      state, nodeId: this.#ctx.nodeId, log: this.#ctx.log.child({ component: 'cluster' }),
      mwContact: `sip:${own.host}:${own.port};transport=${own.transport}`, heartbeatMs: config.cluster.heartbeatSeconds * 1000,
      adoptGraceMs: config.cluster.adoptGraceSeconds * 1000,
      uris: this.#ctx.uris, registrations: this.#ctx.registrations, forwarder, routing: () => routing,
      sendStateless: (request, target) => sendStateless(this.#relay, request, 'mw', target),
      // What the dead node would have sent had its flow closed (R-ORIG-9), with the reason it did not.
      releaseDialog: (dialog) => byeTowardIms(this.#relay, releaseRequest(dialog, 'SIP;cause=480;text="P-CSCF node failed"')),
      releaseMediaLeg: async (leg) => {
        if (media === undefined || leg.gateway === 'in-process') return; // died with its node
        // A pool (media-pool.ts) frees it on the gateway the directory names.
        if (media.deleteOn !== undefined) { await media.deleteOn(leg.gateway, { callId: leg.ngCallId }).catch(() => undefined); return; }
        if (leg.gateway !== mediaGatewayName(config)) return;
        await media.delete({ callId: leg.ngCallId }).catch(() => undefined);
      },
    });
  }

  static async start(options: PcscfOptions): Promise<Pcscf> {
    const { config } = options;
    const tls = config.mw.tls ? { cert: await readFile(config.mw.tls.cert), key: await readFile(config.mw.tls.key) } : undefined;
    const transport = await SipTransportLayer.start({
      listeners: config.mw.listen.map((l) => `${l.transport}:${hostForUri(l.host)}:${l.port}`),
      ...(tls ? { tls } : {}),
    });
    let webTokens: WebTokenVerifier;
    try {
      webTokens = options.webTokens ?? await WebTokenVerifier.create(config.webAuth);
    } catch (error) {
      await transport.close();
      throw error;
    }
    const pcscf = new Pcscf(transport, options, webTokens);
    pcscf.nextHops.start();
    try {
      await pcscf.#cluster?.membership.start();
    } catch (error) {
      await pcscf.close();
      throw error;
    }
    return pcscf;
  }

  /** The Mw addresses actually bound (port 0 in the config becomes the real port). */
  get mwAddresses(): readonly OwnAddress[] {
    return this.#mwAddresses;
  }

  /** Counters of each Mw transport (malformed messages, framing errors...: metrics). */
  mwTransportStats(): { readonly transport: MwTransportProtocol; readonly stats: Readonly<TransportStats> }[] {
    return this.#transports.flatMap((transport) => {
      const stats = this.#transport.transport(transport)?.stats;
      return stats ? [{ transport, stats }] : [];
    });
  }

  /** Issue #15: this node's cluster membership (undefined for a single node). */
  get clusterMembership(): ClusterMembership | undefined {
    return this.#cluster?.membership;
  }

  get registrations(): RegistrationStore {
    return this.#ctx.registrations;
  }

  get dialogs(): DialogStore {
    return this.#ctx.dialogs;
  }

  /** Live W2 flows (admin views). */
  flows(): { connectionId: string; flow: string; plugin: string }[] {
    return this.#flows.all().map((f) => ({ connectionId: f.connection.id, flow: f.key, plugin: f.connection.subprotocol }));
  }

  /** The gateway's call id for a dialog's media, when the IMS-ALG holds a leg for it (admin views). */
  mediaLegOf(dialog: DialogRecord): string | undefined {
    const ngCallId = mediaCallId({ callId: dialog.callId, flowKey: dialog.flowKey, direction: dialog.direction });
    return this.#media.alg?.legOf(ngCallId) === undefined ? undefined : ngCallId;
  }

  /** WIC legs with media on the gateway now (metrics). */
  get mediaLegCount(): number {
    return this.#media.alg?.legCount ?? 0;
  }

  /**
   * One pass of the media-leg audit now (it also runs every media.auditIntervalSeconds):
   * resolves with the number of orphaned legs released (0 without a media gateway).
   */
  auditMedia(): Promise<number> {
    return this.#mediaAudit?.run() ?? Promise.resolve(0);
  }

  // ---- W2SipCore -------------------------------------------------------------------------------

  sessionOpened(connection: W2Connection, session: W2Session): void {
    const flow = this.#flows.open(connection, session);
    this.#cluster?.membership.flowOpened(flow.key);
  }

  /** Ut (TS 24.623, core/ut): the AORs with a live binding on this connection's flow. */
  async registeredIdentities(connectionId: string): Promise<readonly string[]> {
    const flow = this.#flows.byConnection(connectionId);
    if (flow === undefined || !flow.alive) return [];
    return [...new Set((await this.#ctx.registrations.byFlow(flow.key)).map((binding) => binding.aor))];
  }

  /** Ut REST (core/ut): a web token checked as for REGISTER (core/webauth), origin included. */
  verifyWebToken(token: string, origin: string | undefined): Promise<WebTokenOutcome> {
    return this.#webTokens.verify(token, { origin });
  }

  async sessionClosed(connectionId: string, _reason: SessionCloseReason): Promise<void> {
    const kept = this.#flows.byConnection(connectionId);
    if (kept?.keep !== undefined && kept.connection.id === connectionId) {
      // Issue #12: the plugin keeps the flow for a resumption; the grace starts now.
      const keep = kept.keep;
      keep.timer = setTimeout(() => void this.releaseFlow(connectionId).catch((error: unknown) => {
        this.#ctx.log.error({ err: error, connectionId }, 'releasing a kept flow failed');
      }), keep.graceMs);
      keep.timer.unref();
      return;
    }
    const flow = this.#flows.close(connectionId);
    if (flow) await this.#tracked(releaseW2Flow(this.#relay, flow));
  }

  #tracked(release: Promise<void>): Promise<void> {
    this.#releases.add(release);
    const forget = (): void => {
      this.#releases.delete(release);
    };
    release.then(forget, forget);
    return release;
  }

  keepFlow(connectionId: string, graceMs: number): void {
    const flow = this.#flows.byConnection(connectionId);
    if (flow === undefined) throw new EpcError('EPC_ERR_INVALID_STATE', `no W2 flow for connection ${connectionId}`);
    if (flow.keep?.timer !== undefined) clearTimeout(flow.keep.timer);
    flow.keep = { graceMs, timer: undefined };
  }

  async adoptFlow(previousConnectionId: string, connectionId: string): Promise<void> {
    const flow = this.#flows.byConnection(previousConnectionId);
    const adopting = this.#flows.byConnection(connectionId);
    if (flow === undefined || flow.keep === undefined || flow.keep.timer === undefined) {
      throw new EpcError('EPC_ERR_INVALID_STATE', `the flow of connection ${previousConnectionId} is not kept`);
    }
    if (adopting === undefined || adopting === flow) throw new EpcError('EPC_ERR_INVALID_STATE', `no open W2 flow for connection ${connectionId}`);
    clearTimeout(flow.keep.timer);
    flow.keep = undefined;
    // The adopting connection's own flow is fresh (nothing registered on it yet): release it
    // quietly, then the kept flow (its token in Path and Record-Route) moves over.
    await this.#ctx.registrations.removeFlow(adopting.key);
    this.#flows.adopt(flow, adopting.connection, adopting.session);
  }

  /**
   * SIGTERM in a cluster (issue #15 "Graceful restart"): the flows released from now on keep their
   * virtual-UE registrations for cluster.adoptGraceSeconds, neither dropped nor de-registered, so
   * the clients resume on another node with no REGISTER. A single node: nothing changes.
   */
  leaveCluster(): void {
    this.#cluster?.membership.leave();
  }

  async releaseFlow(connectionId: string): Promise<void> {
    const flow = this.#flows.byConnection(connectionId);
    // Only a kept flow whose connection is gone: a live connection is released by its close.
    if (flow === undefined || flow.keep === undefined || flow.connection.id !== connectionId) return;
    this.#flows.close(connectionId);
    await this.#tracked(releaseW2Flow(this.#relay, flow));
  }

  async fromClient(connectionId: string, message: SipMessage): Promise<void> {
    if (this.#closed) throw new EpcError('EPC_ERR_INVALID_STATE', 'the P-CSCF is shutting down');
    const flow = this.#flows.byConnection(connectionId);
    if (flow === undefined) throw new EpcError('EPC_ERR_INVALID_STATE', `no W2 flow for connection ${connectionId}`);
    this.#tapW2('in', message, connectionId);
    this.#w2.receive({ message, source: this.#flows.sourceOf(flow) });
  }

  /** Releases every flow (BYE toward the IMS for live dialogs), then closes Mw. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#mediaAudit?.stop();
      await Promise.all(this.#flows.all().map((f) => {
        this.#flows.close(f.connection.id);
        return releaseW2Flow(this.#relay, f);
      }));
      // Sessions that ended just before (the W2 server closes first) may still be de-registering.
      await Promise.allSettled([...this.#releases]);
      await this.#cluster?.membership.close();
      this.nextHops.close();
      this.mwAdmission.close();
      this.#mw.close();
      this.#w2.close();
      await this.#media.close();
      await this.#transport.close();
    })();
    return this.#closed;
  }

  /**
   * The media gateway says a call's media is gone (R-AGW-4): the session is released both ways
   * (release.ts). Unknown gateway call ids (already released) are ignored.
   */
  onMediaEvent(ngCallId: string, kind: string): Promise<void> {
    return releaseOnMediaEvent(this.#relay, ngCallId, kind);
  }

  /**
   * A DTMF digit the gateway consumed as RFC 4733 goes toward the IMS as SIP INFO (issue #14,
   * dtmf-interworking.ts). Resolves false when no confirmed dialog of the leg is known.
   */
  onMediaDtmf(ngCallId: string, digit: string, durationMs: number): Promise<boolean> {
    return dtmfTowardIms(this.#relay, ngCallId, digit, durationMs);
  }

  /**
   * An operator ends a call (admin API): media freed, BYE both ways with `Reason: Q.850;cause=16`
   * (release.ts). False for an unknown dialog; an early dialog is refused (EPC_ERR_INVALID_STATE).
   */
  terminateDialog(dialogId: string, why = 'terminated by operator'): Promise<boolean> {
    return terminateByOperator(this.#relay, dialogId, why);
  }

  #via(side: Side, target: SipTarget, branch: string): string {
    if (side === 'w2') {
      const w2 = this.#ctx.uris.w2;
      return `SIP/2.0/${target.transport === 'wss' ? 'WSS' : 'WS'} ${w2.host}:${w2.port};branch=${branch}`;
    }
    const a = this.#ctx.uris.mwAddress(target.transport);
    return `SIP/2.0/${target.transport.toUpperCase()} ${a.host}:${a.port};branch=${branch};rport`;
  }

  /** A message put on the wire as it is (stateless ACK, BYE, relayed stray response), through the tap. */
  async #send(message: SipMessage, side: Side, target: SipTarget): Promise<void> {
    if (side === 'mw') {
      this.#tapMw('out', message, target.transport, target.host, target.port);
      await this.#transport.send(message, target);
    } else {
      this.#tapW2('out', message, target.connectionId ?? '');
      await this.#flows.send(message, target);
    }
  }

  /**
   * The monitoring tap (never drives behaviour). Events are built only when someone listens;
   * `response` carries just the status, so counting responses costs no event object.
   */
  #tapMw(direction: 'in' | 'out', message: SipMessage, transport: string, host: string, port: number): void {
    if (message.kind === 'response' && this.observer.listenerCount('response') > 0) this.observer.emit('response', 'mw', direction, message.status);
    if (this.observer.listenerCount('mw') > 0) this.observer.emit('mw', { direction, message, peer: `${transport}:${host}:${port}` });
  }

  #tapW2(direction: 'in' | 'out', message: SipMessage, connectionId: string): void {
    if (message.kind === 'response' && this.observer.listenerCount('response') > 0) this.observer.emit('response', 'w2', direction, message.status);
    if (this.observer.listenerCount('w2') > 0) this.observer.emit('w2', { direction, connectionId, message });
  }

  /** Runs an async procedure for a server transaction; a fault answers 500 (or the parse status). */
  #guard(tx: ServerTransaction, work: () => Promise<void>): void {
    void work().catch((error: unknown) => {
      if (error instanceof SipParseError) {
        tx.respond(createResponse(tx.request, typeof error.status === 'number' ? error.status : 400, error.reason));
        return;
      }
      if (answeredStateUnavailable(tx, error, this.#ctx.log)) return;
      this.#ctx.log.error({ err: error, callId: safeCallId(tx.request) }, 'P-CSCF procedure failed');
      tx.respond(createResponse(tx.request, 500, 'Server Internal Error'));
    });
  }
}

/** Which gateway carries this node's media legs, as the cluster's media-leg directory names it. */
function mediaGatewayName(config: EpcscfConfig): string {
  return config.media.mode === 'ng' && config.media.ng ? `ng:${config.media.ng.address.host}:${config.media.ng.address.port}` : 'in-process';
}
