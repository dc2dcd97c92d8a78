import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import type { EpcscfConfig } from '../config/config-types.js';
import { EpcError } from '../errors.js';
import type { W2SipCore } from '../contract/host.js';
import type { SessionCloseReason, W2Connection, W2Session } from '../contract/session.js';
import {
  bodyText, callId, contentType, createResponse, formatUri, from, generateBranch, maxForwards, optionTags, parseUri, setHeader,
  tagOf, to, addHeader, getParam, vias, SipParseError, type SipMessage, type SipRequest, type SipResponse, type SipUri, type Via,
} from '../sip/index.js';
import { resolveNextHop, type DnsLookup } from '../sip/resolve/index.js';
import { TransactionLayer, type ServerTransaction, type TimerValues } from '../sip/transaction/index.js';
import { SipTransportLayer, hostForUri, viaResponseTarget } from '../sip/transport/index.js';
import type { MwTransportProtocol, TransportStats } from '../sip/transport/transport.js';
import type { SipSender, SipSource, SipTarget } from '../sip/transport/types.js';
import { MemoryDialogStore, dialogId, type DialogRecord, type DialogStore } from '../state/dialog-store.js';
import { MemoryRegistrationStore, type RegistrationStore } from '../state/registration-store.js';
import { ImsAlg, mediaCallId, type MediaLeg } from './alg/ims-alg.js';
import type { MediaControl } from './alg/media-control.js';
import type { MediaInterfaces } from './alg/media-requests.js';
import { CallLimits, type CallRefusalReason } from './call-limits.js';
import { RequestRates, type RequestRateRefusalReason } from './request-rates.js';
import { MwAdmission } from './mw-admission.js';
import { chargingVectorValue, generateIcid } from './charging.js';
import { MediaLegAudit } from './media-audit.js';
import { SessionMedia } from './session-media.js';
import type { PcscfContext } from './context.js';
import {
  DIALOG_CREATING, dtmfInfoRequest, forgetDialog, forgetFailedDialog, hopKey, noteRemoteCseq, recordOriginatingDialog, recordTerminatingDialog, releaseRequest,
  releaseRequestTowardWic, wicDialogOf, wicResponseDialog,
} from './dialog-tracker.js';
import { DTMF_RELAY_CONTENT_TYPE, formatDtmfRelay, parseDtmfRelay } from '../dtmf/index.js';
import { DialogSequencer, ownRequestCseq, requestTowardIms, responseTowardWic, storeCseqOffset, strayResponseTowardWic } from './cseq-offset.js';
import { FlowTokenCodec } from './flow-token.js';
import { Forwarder, popVia, type Side } from './forwarder.js';
import { hasLooped, loopBranch } from './loop-detection.js';
import { stripSecAgree, stripUntrustedHeaders } from './header-hygiene.js';
import { isBearerAuthorization } from '../webauth/bearer-authorization.js';
import { assertOriginatingIdentity, assertTerminatingIdentity, servingBinding } from './identity.js';
import { OwnUris, aorOf, type OwnAddress } from './own-uris.js';
import { PendingTransactions } from './pending-transactions.js';
import { onRegisterResponse, rewriteRegisterTowardIms } from './register.js';
import { RegistrationLimits } from './registration-limits.js';
import { mwTargets, popOwnRoutes, withRouteSet } from './routing.js';
import { endUnrelayedAnswer } from './unrelayed-answer.js';
import { W2Flows, type W2Flow } from './w2-flows.js';
import { NextHopHealth, probeRequest, sendProbe } from './next-hop-health.js';
import { asTrustedNodeRegister, TrustedNodeDeregistrar } from './trusted-node.js';
import { WebAuthGate } from './web-auth-gate.js';
import { WebTokenVerifier, type TokenRefusal, type TokenRefusalCode, type WebTokenOutcome } from '../webauth/index.js';

export interface PcscfOptions {
  readonly config: EpcscfConfig;
  readonly logger?: Logger;
  /** This node's name in flow tokens and ICIDs (cluster-unique). Defaults to the host name. */
  readonly nodeId?: string;
  /** Flow-token HMAC key; every node of a cluster needs the same one. Random by default. */
  readonly flowSecret?: string;
  readonly registrations?: RegistrationStore;
  readonly dialogs?: DialogStore;
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

/** Monitoring only (never drives behaviour): every SIP message on each side. */
export interface PcscfEvents {
  mw: [event: { direction: 'in' | 'out'; message: SipMessage; peer: string }];
  w2: [event: { direction: 'in' | 'out'; connectionId: string; message: SipMessage }];
  /** Every SIP response on either side, status only (metrics). */
  response: [side: 'mw' | 'w2', direction: 'in' | 'out', status: number];
  /** A routing guard refused or dropped a message (issue 11 #2, #9; metrics). */
  guard: [guard: RelayGuard];
  /** The media-leg audit released a leg nothing owned (metrics: epcscf_media_legs_orphaned_total). */
  mediaLegOrphaned: [event: { callId: string; ngCallId: string }];
  /** A request refused by a w2.limits cap (issue 11): calls, open transactions, registrations per IP. */
  refused: [reason: CallRefusalReason | RequestRateRefusalReason | 'pending_transactions' | 'registrations_per_ip' | 'mw_overload', connectionId: string];
  /** A web token was validated (R-REG-4): accepted, or the refusal's code (metrics; the token is never in it). */
  webToken: [outcome: TokenRefusalCode | 'accepted'];
  /** epcscf de-registered trusted-node bindings on Mw itself (R-REG-25): the flow ended or its token expired. */
  trustedNodeDeregistration: [cause: 'flow-ended' | 'token-expired', aor: string];
}

/**
 * The routing guards (issue 11): `unknown-dialog` a WIC's mid-dialog request for no dialog of its
 * flow (481, R-ORIG-10); `stray-ack` a WIC's ACK for no dialog of its flow (dropped); `stray-response`
 * a WIC's response no transaction or dialog claims (dropped); `unprocessable-response` a response
 * the P-CSCF could not process (502 to the client, RFC 3261 §16.7).
 */
export type RelayGuard = 'unknown-dialog' | 'stray-ack' | 'stray-response' | 'unprocessable-response';

/**
 * The eP-CSCF: a stateful proxy between W2 flows (one per WebSocket session) and Mw, applying
 * the TS 24.229 P-CSCF procedures once for every plugin (docs/architecture.md). Requests from a
 * WIC get the registration (§5.2.2), originating (§5.2.6.3) or mid-dialog treatment; requests
 * from the IMS are routed to the flow their Path/Record-Route token names (§5.2.6.4, RFC 5626).
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
  readonly #forwarder: Forwarder;
  readonly #ctx: PcscfContext;
  readonly #nextHop: SipUri | undefined;
  readonly #transports: MwTransportProtocol[];
  readonly #dns: DnsLookup | undefined;
  readonly #mwAddresses: OwnAddress[];
  readonly #media: SessionMedia;
  /** media.dtmf: RFC 4733 ⇄ INFO interworking (issue #14). */
  readonly #dtmfMode: 'auto' | 'rfc4733' | 'info';
  /** A dialog's WIC-side CSeq steps, one at a time (cseq-offset.ts). */
  readonly #cseqSteps = new DialogSequencer();
  readonly #mediaAudit: MediaLegAudit | undefined;
  readonly #calls: CallLimits;
  readonly #pending: PendingTransactions;
  readonly #registrationCap: RegistrationLimits;
  /** Issue 15: REGISTERs and initial INVITEs per second, per client and per source IP. */
  readonly #rates: RequestRates;
  readonly #webAuth: WebAuthGate;
  readonly #webTokens: WebTokenVerifier;
  readonly #integrityProtected: string;
  readonly #deregistrar: TrustedNodeDeregistrar;
  /** Flow releases under way (BYEs, trusted-node de-registrations): close() lets them finish before Mw closes. */
  readonly #releases = new Set<Promise<void>>();
  #closed: Promise<void> | undefined;

  private constructor(transport: SipTransportLayer, options: PcscfOptions, webTokens: WebTokenVerifier) {
    const { config } = options;
    const log = options.logger ?? pino({ level: config.log.level, name: 'epcscf' });
    const nodeId = options.nodeId ?? hostname().replace(/[^A-Za-z0-9-]/g, '') ?? 'epcscf';
    this.#transport = transport;
    this.#transports = transport.protocols;
    this.#dns = options.dns;
    this.#nextHop = config.mw.nextHop ? (parseUri(config.mw.nextHop) as SipUri) : undefined;
    this.#mwAddresses = this.#transports.map((t) => ({ transport: t, ...transport.localVia(t) }));
    const tokens = new FlowTokenCodec(options.flowSecret);
    const w2Address: OwnAddress = { transport: config.w2.tls ? 'wss' : 'ws', host: hostForUri(config.w2.listen.host), port: config.w2.listen.port };
    this.#ctx = {
      nodeId, domain: config.mw.domain, visitedNetworkId: config.mw.visitedNetworkId,
      uris: new OwnUris(this.#mwAddresses, w2Address, tokens),
      registrations: options.registrations ?? new MemoryRegistrationStore(),
      dialogs: options.dialogs ?? new MemoryDialogStore(),
      log: log.child({ component: 'pcscf' }), now: Date.now,
    };
    this.#flows = new W2Flows(nodeId, (ref) => tokens.encode(ref));
    this.#calls = new CallLimits(config.w2.limits, this.#ctx.dialogs);
    this.#pending = new PendingTransactions(config.w2.limits.maxPendingTransactionsPerConnection);
    this.mwAdmission = new MwAdmission(config.mw.overload);
    this.#rates = new RequestRates({
      registrationsPerClient: config.w2.limits.registrationRatePerClient, registrationsPerIp: config.w2.limits.registrationRatePerIp,
      callsPerClient: config.w2.limits.callRatePerClient, callsPerIp: config.w2.limits.callRatePerIp,
    });
    this.#registrationCap = new RegistrationLimits(config.w2.limits.maxRegistrationsPerIp, this.#ctx.registrations, (ip) => this.#flows.fromAddress(ip));
    const alg = options.media ? new ImsAlg({
      control: options.media, log: this.#ctx.log.child({ component: 'ims-alg' }), warnAgent: w2Address.host, now: () => this.#ctx.now(),
      ...(options.mediaInterfaces ? { interfaces: options.mediaInterfaces } : {}),
    }) : undefined;
    this.#media = new SessionMedia(alg, this.#ctx);
    this.#dtmfMode = config.media.dtmf ?? 'auto';
    this.#integrityProtected = config.webAuth.integrityProtected;
    this.#webTokens = webTokens;
    this.#webAuth = new WebAuthGate({
      verifier: webTokens, now: () => this.#ctx.now(), onAccepted: () => this.observer.emit('webToken', 'accepted'),
      onGrantExpired: (flow, aor) => void this.#deregistrar.grantExpired(flow, aor).catch((error: unknown) => this.#ctx.log.error({ err: error }, 'de-registering an expired web-token registration failed')),
    });
    this.#deregistrar = new TrustedNodeDeregistrar({
      ctx: this.#ctx, integrityProtected: this.#integrityProtected, mwTransport: this.#transports[0] ?? 'udp',
      onSent: (cause, aor) => this.observer.emit('trustedNodeDeregistration', cause, aor),
      // Sent like a released session's BYE: toward the entry point, resolved on any outcome.
      send: (request) => mwTargets(request, this.#routing()).then(
        (targets) => (targets[0] === undefined ? undefined : this.#byeToward('mw', request, targets[0])),
        () => undefined,
      ),
    });
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
      onRequest: (req, tx, source) => this.#guard(tx, () => this.#fromMw(req, tx, source)),
      onStrayAck: (ack) => void this.#ackFromMw(ack).catch((e: unknown) => this.#ctx.log.warn({ err: e }, 'ACK from Mw not forwarded')),
      onStrayResponse: (response) => void this.#strayFromMw(response).catch((e: unknown) => this.#ctx.log.debug({ err: e }, 'stray Mw response dropped')),
      onDiscarded: (inbound, reason) => this.#ctx.log.debug({ reason, peer: inbound.source.remoteAddress }, 'Mw message discarded'),
    });
    this.#w2 = new TransactionLayer({
      sender: w2Sender, timers, tryingDelay: 0,
      onRequest: (req, tx, source) => this.#guard(tx, () => this.#fromW2(req, tx, source)),
      onStrayAck: (ack, source) => void this.#ackFromW2(ack, source).catch((e: unknown) => this.#ctx.log.warn({ err: e }, 'ACK from W2 not forwarded')),
      onStrayResponse: (response, source) => void this.#strayFromW2(response, source).catch((e: unknown) => this.#ctx.log.debug({ err: e }, 'stray W2 response dropped')),
      onServerTransactionEnded: (tx) => this.#pending.ended(tx),
    });
    this.#forwarder = new Forwarder({
      layers: { mw: this.#mw, w2: this.#w2 }, via: (side, target, branch) => this.#via(side, target, branch), log: this.#ctx.log,
      branch: loopBranch,
      warnAgent: (side) => (side === 'w2' ? w2Address.host : this.#mwAddresses[0]?.host ?? w2Address.host),
      onUnprocessable: () => this.#guardTrip('unprocessable-response'),
      // Issue 15: the per-node bound toward Mw, and RFC 3263 failover when a target stays silent.
      mwAdmission: this.mwAdmission, noAnswerMs: config.mw.failover.noAnswerMs,
      onOverloaded: (serverTx) => this.observer.emit('refused', 'mw_overload', serverTx.source.connectionId ?? ''),
      onNoAnswer: (request, target) => this.nextHops.observe(request, target, 'timeout'),
    });
    transport.onMessage((inbound) => {
      this.#tapMw('in', inbound.message, inbound.source.transport, inbound.source.remoteAddress, inbound.source.remotePort);
      this.#mw.receive(inbound);
    });
    this.#mediaAudit = alg === undefined ? undefined : new MediaLegAudit({
      alg, dialogs: this.#ctx.dialogs, pendingCallIds: () => this.#forwarder.pendingCallIds(),
      graceMs: config.media.auditGraceSeconds * 1000, now: () => this.#ctx.now(), log: this.#ctx.log.child({ component: 'media-audit' }),
      onOrphan: (leg, ngCallId) => this.observer.emit('mediaLegOrphaned', { callId: leg.callId, ngCallId }),
    });
    this.#mediaAudit?.start(config.media.auditIntervalSeconds * 1000);
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
    this.#flows.open(connection, session);
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
    if (flow) await this.#tracked(this.#releaseFlow(flow));
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

  async releaseFlow(connectionId: string): Promise<void> {
    const flow = this.#flows.byConnection(connectionId);
    // Only a kept flow whose connection is gone: a live connection is released by its close.
    if (flow === undefined || flow.keep === undefined || flow.connection.id !== connectionId) return;
    this.#flows.close(connectionId);
    await this.#tracked(this.#releaseFlow(flow));
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
        return this.#releaseFlow(f);
      }));
      // Sessions that ended just before (the W2 server closes first) may still be de-registering.
      await Promise.allSettled([...this.#releases]);
      this.nextHops.close();
      this.mwAdmission.close();
      this.#mw.close();
      this.#w2.close();
      await this.#media.close();
      await this.#transport.close();
    })();
    return this.#closed;
  }

  // ---- requests from the WIC (W2 side) --------------------------------------------------------------

  async #fromW2(request: SipRequest, tx: ServerTransaction, source: SipSource): Promise<void> {
    // Issue 11: counted from here until the transaction terminates, whatever becomes of it.
    const overCap = this.#pending.opened(tx);
    const flow = this.#flows.byConnection(source.connectionId ?? '');
    if (flow === undefined) return; // the session ended while the request was queued
    if (overCap !== undefined) return this.#refuse(tx, overCap, 'pending_transactions', flow);
    if (this.#refuseEarly(request, tx)) return;
    if (request.method === 'CANCEL') return this.#cancel(this.#w2, request, tx);
    const initial = tagOf(to(request)) === undefined;
    // Issue 15: the rates of what costs the core most (REGISTER, initial INVITE), before anything else.
    const tooFast = initial || request.method === 'REGISTER' ? this.#rates.admit(request, flow.key, flow.connection.remote.address) : undefined;
    if (tooFast !== undefined) return this.#refuse(tx, tooFast.response, tooFast.reason, flow);
    if (request.method === 'REGISTER') return this.#register(request, tx, flow);
    if (!initial) return this.#w2MidDialog(request, tx, flow);
    return this.#originating(request, tx, flow);
  }

  async #register(request: SipRequest, tx: ServerTransaction, flow: W2Flow): Promise<void> {
    const refused = await this.#registrationCap.admit(request, flow);
    if (refused !== undefined) return this.#refuse(tx, refused, 'registrations_per_ip', flow);
    // TS 24.371 scenarios 2/3: a web token makes this a trusted-node registration (R-REG-4, R-REG-9).
    const decision = await this.#webAuth.register(request, flow);
    if (decision.kind === 'refused') return this.#refuseToken(tx, decision.refusal);
    let out = rewriteRegisterTowardIms(request, flow, this.#ctx, this.#transports[0] ?? 'udp');
    if (decision.kind === 'trusted') out = asTrustedNodeRegister(out, decision.grant.impi, this.#ctx, this.#integrityProtected);
    const targets = await this.#mwTargets(out, tx);
    if (targets === undefined) return;
    this.#forwarder.forward({
      serverTx: tx, toward: 'mw', request: out, targets, failureStatus: 504, viaParams: this.#flowViaParam(flow),
      onResponse: async (response) => {
        if (decision.kind !== 'trusted') return onRegisterResponse(request, response, flow, this.#ctx);
        const relayed = await onRegisterResponse(request, response, flow, this.#ctx, { impi: decision.grant.impi });
        const aor = aorOf(to(request).uri);
        if (response.status === 200) {
          const remaining = (await this.#ctx.registrations.byFlow(flow.key)).some((b) => b.aor === aor);
          this.#webAuth.registered(flow, aor, decision, remaining);
        }
        // The WIC has no IMS password to answer a challenge with: the core refused to trust us.
        if (response.status === 401 || response.status === 407) {
          const headers = relayed.headers.filter((h) => !/^(www|proxy)-authenticate$/i.test(h.name));
          return { ...relayed, headers, status: 403, reason: 'Forbidden - trusted-node registration refused by the IMS core' };
        }
        return relayed;
      },
    });
  }

  /** A web token refused (R-REG-4): 403 with the table's reason (503 + Retry-After when keys are unavailable), nothing on Mw. */
  #refuseToken(tx: ServerTransaction, refusal: TokenRefusal): void {
    this.#ctx.log.debug({ reason: refusal.code, callId: safeCallId(tx.request) }, 'web token refused');
    this.observer.emit('webToken', refusal.code);
    const headers: [string, string][] = refusal.retryAfterSeconds === undefined ? [] : [['Retry-After', String(refusal.retryAfterSeconds)]];
    tx.respond(createResponse(tx.request, refusal.status, refusal.reason, { headers }));
  }

  async #originating(request: SipRequest, tx: ServerTransaction, flow: W2Flow): Promise<void> {
    const bindings = await this.#ctx.registrations.byFlow(flow.key);
    const binding = servingBinding(bindings, aorOf(from(request).uri));
    if (binding === undefined) {
      tx.respond(createResponse(request, 403, 'Forbidden - not registered')); // R-ORIG-1
      return;
    }
    // R-REG-3: a web-authenticated flow's initial requests are checked against its token.
    if (flow.webAuth !== undefined || request.headers.some(isBearerAuthorization)) {
      const tokenRefused = await this.#webAuth.initialRequest(request, flow, binding.aor);
      if (tokenRefused !== undefined) return this.#refuseToken(tx, tokenRefused);
    }
    // Issue 11 #4: the call caps, before the IMS-ALG takes any media port.
    const refused = request.method === 'INVITE' ? await this.#calls.admit(request, tx, flow.key, flow.connection.remote.address) : undefined;
    if (refused !== undefined) return this.#refuse(tx, refused.response, refused.reason, flow);
    const popped = popOwnRoutes(request, this.#ctx.uris).request;
    let out = assertOriginatingIdentity(stripSecAgree(stripUntrustedHeaders(popped)), binding);
    // R-ORIG-4 (variant 2): the Route set is the stored Service-Route, whatever the WIC preloaded.
    out = withRouteSet(out, binding.serviceRoute);
    if (DIALOG_CREATING.has(request.method)) out = this.#recordRoute(out, flow, 'toward-mw');
    out = setHeader(out, 'P-Charging-Vector', chargingVectorValue(generateIcid(this.#ctx.nodeId), this.#ctx.origIoi));
    const targets = await this.#mwTargets(out, tx);
    if (targets === undefined) return;
    const leg: MediaLeg = { callId: callId(request), flowKey: flow.key, direction: 'originating' };
    const withMedia = await this.#media.inRequest(out, 'wic', leg, tx);
    if (withMedia === undefined) return;
    this.#forwarder.forward({
      serverTx: tx, toward: 'mw', request: withMedia, targets, viaParams: this.#flowViaParam(flow),
      onResponse: async (response) => {
        await recordOriginatingDialog(request, response, flow, this.#ctx);
        if (response.status >= 300 && DIALOG_CREATING.has(request.method)) await forgetFailedDialog(callId(request), tagOf(from(request)), this.#ctx);
        return this.#media.inResponse(request, response, 'ims', leg);
      },
      onNotRelayed: this.#endUnrelayed('mw', withMedia, leg, tagOf(from(request))),
    });
  }

  /**
   * R-ORIG-10: a request with a To tag belongs to a dialog the P-CSCF recorded on this flow, or it
   * gets 481 and nothing goes on Mw. It then follows the route set the IMS recorded for that
   * dialog, whatever Route the WIC wrote (issue 11 #2: a client never picks where we send).
   */
  async #w2MidDialog(request: SipRequest, tx: ServerTransaction, flow: W2Flow): Promise<void> {
    // From dialog lookup to forwarding, after any own request of the P-CSCF in the dialog (cseq-offset.ts).
    await this.#cseqSteps.run(dialogId(callId(request), tagOf(from(request)) ?? ''), () => this.#w2MidDialogInOrder(request, tx, flow));
  }

  async #w2MidDialogInOrder(request: SipRequest, tx: ServerTransaction, flow: W2Flow): Promise<void> {
    const dialog = await wicDialogOf(request, flow, this.#ctx);
    if (dialog === undefined) {
      this.#guardTrip('unknown-dialog');
      tx.respond(createResponse(request, 481, 'Call/Transaction Does Not Exist'));
      return;
    }
    const popped = popOwnRoutes(request, this.#ctx.uris).request;
    const out = withRouteSet(stripSecAgree(stripUntrustedHeaders(popped)), dialog.routeSetTowardIms);
    const targets = await this.#mwTargets(out, tx, dialog);
    if (targets === undefined) return;
    const leg: MediaLeg = { callId: callId(request), flowKey: flow.key, direction: dialog.direction };
    const withMedia = await this.#media.inRequest(out, 'wic', leg, tx);
    if (withMedia === undefined) return;
    // RFC 3261 §12.2.1.1: above the numbers of the P-CSCF's own requests in the dialog (cseq-offset.ts).
    const renumbered = requestTowardIms(withMedia, dialog);
    if (renumbered.cseqOffset !== undefined) await storeCseqOffset(this.#ctx.dialogs, dialog.id, renumbered.cseqOffset);
    this.#forwarder.forward({
      serverTx: tx, toward: 'mw', request: renumbered.request, targets, viaParams: this.#flowViaParam(flow),
      onResponse: async (response) => {
        if (request.method === 'BYE' && response.status < 300 && response.status >= 200) await forgetDialog(callId(request), tagOf(from(request)), this.#ctx);
        return this.#media.inResponse(request, responseTowardWic(response, request), 'ims', leg);
      },
      onNotRelayed: this.#endUnrelayed('mw', renumbered.request, leg, tagOf(from(request))),
    });
  }

  /**
   * The ACK for a 2xx (its own transaction, RFC 3261 §17.1.1.3): only in an INVITE dialog of this
   * flow, along that dialog's route set (§12.2.1.1). Any other ACK is for nothing we know and is
   * discarded (§16: a proxy has no transaction to give it to), and counted.
   */
  async #ackFromW2(ack: SipRequest, source: SipSource): Promise<void> {
    const flow = this.#flows.byConnection(source.connectionId ?? '');
    const dialog = flow === undefined ? undefined : await wicDialogOf(ack, flow, this.#ctx);
    if (flow === undefined || dialog === undefined || dialog.method !== 'INVITE') {
      this.#guardTrip('stray-ack');
      return;
    }
    let out = withRouteSet(stripUntrustedHeaders(popOwnRoutes(ack, this.#ctx.uris).request), dialog.routeSetTowardIms);
    out = await this.#media.inAck(out, 'wic', flow.key, tagOf(from(ack)));
    out = requestTowardIms(out, dialog).request; // the CSeq its INVITE left with (cseq-offset.ts)
    const target = (await mwTargets(out, this.#routing(), dialogDestination(dialog)))[0];
    if (target === undefined) return;
    await this.#sendStateless(out, 'mw', target);
  }

  // ---- requests from the IMS (Mw side) ---------------------------------------------------------------

  async #fromMw(request: SipRequest, tx: ServerTransaction, _source: SipSource): Promise<void> {
    if (this.#refuseEarly(request, tx)) return;
    if (hasLooped(request, this.#ownMwBranches(request))) {
      tx.respond(createResponse(request, 482, 'Loop Detected')); // RFC 3261 §16.3 step 4
      return;
    }
    if (request.method === 'CANCEL') return this.#cancel(this.#mw, request, tx);
    const popped = popOwnRoutes(request, this.#ctx.uris);
    if (popped.tampered) {
      tx.respond(createResponse(request, 403, 'Forbidden - invalid flow token')); // RFC 5626 §5.3
      return;
    }
    const flow = await this.#terminatingFlow(popped.request, popped.flow);
    if (flow === undefined || flow.session.onSipRequest === undefined) {
      // R-TERM-1 / R-OB-4: the flow is gone: 430 for an outbound flow (`;ob` in its Path), else 480.
      const outbound = popped.outbound;
      tx.respond(createResponse(request, outbound ? 430 : 480, outbound ? 'Flow Failed' : 'Temporarily Unavailable'));
      return;
    }
    const initial = tagOf(to(request)) === undefined;
    const dialog = initial ? undefined : await noteRemoteCseq(popped.request, this.#ctx);
    let out = popped.request;
    if (initial && DIALOG_CREATING.has(request.method)) out = this.#recordRoute(out, flow, 'toward-w2');
    const asReceived = popped.request;
    const leg: MediaLeg = { callId: callId(request), flowKey: flow.key, direction: initial ? 'terminating' : dialog?.direction ?? 'originating' };
    if (!initial && request.method === 'INFO' && await this.#dtmfInfoAsRtp(request, leg, tx)) return;
    const withMedia = await this.#media.inRequest(out, 'ims', leg, tx);
    if (withMedia === undefined) return;
    this.#forwarder.forward({
      serverTx: tx, toward: 'w2', request: withMedia, targets: [this.#flows.targetOf(flow)], failureStatus: 480,
      onResponse: async (response) => {
        let res = response;
        if (res.status > 100 && res.status < 300) {
          const bindings = await this.#ctx.registrations.byFlow(flow.key);
          res = assertTerminatingIdentity(res, request, servingBinding(bindings, aorOf(to(request).uri)));
        }
        if (initial) await recordTerminatingDialog(asReceived, res, flow, this.#ctx);
        if (request.method === 'BYE' && res.status >= 200 && res.status < 300) await forgetDialog(callId(request), tagOf(to(request)), this.#ctx);
        if (initial && res.status >= 300) await forgetFailedDialog(callId(request), tagOf(to(res)), this.#ctx);
        return this.#media.inResponse(request, res, 'wic', leg);
      },
      onNotRelayed: this.#endUnrelayed('w2', withMedia, leg, undefined),
    });
  }

  async #terminatingFlow(request: SipRequest, ref: ReturnType<typeof popOwnRoutes>['flow']): Promise<W2Flow | undefined> {
    if (ref !== undefined) return this.#flows.byRef(ref);
    // No token in Route: a registrar without Path support targets the registered contact.
    const bindings = await this.#ctx.registrations.byContactUri(formatUri(request.uri));
    for (const b of bindings) {
      const flow = this.#flows.byKey(b.flowKey);
      if (flow) return flow;
    }
    return undefined;
  }

  async #ackFromMw(ack: SipRequest): Promise<void> {
    const popped = popOwnRoutes(ack, this.#ctx.uris);
    const flow = popped.flow ? this.#flows.byRef(popped.flow) : await this.#terminatingFlow(popped.request, undefined);
    if (flow === undefined) return;
    const out = await this.#media.inAck(popped.request, 'ims', flow.key, tagOf(to(ack)));
    await this.#sendStateless(out, 'w2', this.#flows.targetOf(flow));
  }

  /**
   * A response no transaction claims (e.g. a 2xx retransmitted after ours ended): routed by Via
   * (RFC 3261 §16.7 / §18.2.2). Ours is on top and names the flow; the WIC's is next.
   */
  async #strayFromMw(response: SipResponse): Promise<void> {
    const top = vias(response)[0];
    if (top === undefined || !this.#isOwnMwVia(top)) return;
    const token = getParam(top.params, 'ftok');
    const ref = typeof token === 'string' ? this.#ctx.uris.flowOfToken(token) : undefined;
    const flow = ref ? this.#flows.byRef(ref) : undefined;
    if (flow === undefined) return;
    // A response to a WIC's request: the WIC's own CSeq number again (cseq-offset.ts).
    const wicTag = tagOf(from(response));
    const dialog = wicTag === undefined ? undefined : await this.#ctx.dialogs.get(dialogId(callId(response), wicTag));
    const out = dialog === undefined || dialog.flowKey !== flow.key ? response : strayResponseTowardWic(response, dialog);
    await this.#sendStatelessResponse(popVia(out), 'w2', this.#flows.targetOf(flow));
  }

  /**
   * A WIC's response no transaction claims (e.g. its 2xx retransmitted after ours ended, RFC 3261
   * §16.7): relayed only under our W2 Via, for a dialog of that flow, to the IMS hop that sent the
   * dialog's request. A next Via naming anything else is a client choosing where we send (issue
   * 11 #2): dropped and counted.
   */
  async #strayFromW2(response: SipResponse, source: SipSource): Promise<void> {
    const flow = this.#flows.byConnection(source.connectionId ?? '');
    const [top, next] = vias(response);
    const w2 = this.#ctx.uris.w2;
    const ours = top !== undefined && top.host === w2.host && top.port === w2.port;
    const dialog = flow === undefined || !ours || next === undefined ? undefined : await wicResponseDialog(response, flow, this.#ctx);
    const target = dialog === undefined || next === undefined ? undefined : viaResponseTarget(next);
    if (target === undefined || hopKey(target) !== dialog?.imsHop) {
      this.#guardTrip('stray-response');
      return;
    }
    await this.#sendStatelessResponse(popVia(response), 'mw', target);
  }

  async #sendStatelessResponse(response: SipResponse, side: Side, target: SipTarget): Promise<void> {
    if (side === 'mw') {
      this.#tapMw('out', response, target.transport, target.host, target.port);
      await this.#transport.send(response, target);
    } else {
      this.#tapW2('out', response, target.connectionId ?? '');
      await this.#flows.send(response, target);
    }
  }

  #isOwnMwVia(via: Via): boolean {
    return this.#mwAddresses.some((a) => a.host === via.host && a.port === (via.port ?? 5060));
  }

  #ownMwBranches(request: SipRequest): string[] {
    return vias(request).filter((v) => this.#isOwnMwVia(v)).map((v) => v.branch ?? '');
  }

  /** Our Mw Via names the flow, so a stray response finds its way back (`;ftok=`). */
  #flowViaParam(flow: W2Flow): string {
    return `;ftok=${flow.token}`;
  }

  // ---- shared ------------------------------------------------------------------------------------------

  /** RFC 3261 §16.3 request validation shared by both sides. Returns true when it answered. */
  #refuseEarly(request: SipRequest, tx: ServerTransaction): boolean {
    if (request.uri.kind === 'absolute') {
      tx.respond(createResponse(request, 416, 'Unsupported URI Scheme')); // RFC 3261 §16.3 step 2
      return true;
    }
    if (request.method !== 'ACK' && maxForwards(request) === 0) {
      tx.respond(createResponse(request, 483, 'Too Many Hops')); // RFC 3261 §16.3 step 3
      return true;
    }
    // RFC 3261 §16.3 step 6; sec-agree is dropped rather than refused (R-REG-15, R-ORIG-6).
    const unsupported = optionTags(request, 'Proxy-Require').filter((t) => t !== 'sec-agree');
    if (unsupported.length > 0) {
      tx.respond(createResponse(request, 420, 'Bad Extension', { headers: [['Unsupported', unsupported.join(', ')]] }));
      return true;
    }
    return false;
  }

  #cancel(layer: TransactionLayer, cancel: SipRequest, tx: ServerTransaction): void {
    const invite = layer.findInviteServerTransaction(cancel);
    if (invite === undefined) {
      tx.respond(createResponse(cancel, 481, 'Call/Transaction Does Not Exist'));
      return;
    }
    // RFC 3261 §16.10: answer the CANCEL ourselves, then cancel the branch we forwarded.
    tx.respond(createResponse(cancel, 200, 'OK'));
    this.#forwarder.cancel(invite);
  }

  /**
   * R-SIPWS-12 double Record-Route: the entry facing the next hop goes on top, so both
   * directions of the dialog find us (Mw entry plain, W2 entry with the flow token).
   */
  #recordRoute(request: SipRequest, flow: W2Flow, direction: 'toward-mw' | 'toward-w2'): SipRequest {
    const mw = this.#ctx.uris.mwRecordRoute(this.#transports[0] ?? 'udp');
    const w2 = this.#ctx.uris.w2RecordRoute(flow.token);
    return addHeader(request, 'Record-Route', direction === 'toward-mw' ? `${mw}, ${w2}` : `${w2}, ${mw}`, { first: true });
  }

  #routing() {
    return {
      transports: this.#transports, homeDomain: this.#ctx.domain,
      ...(this.#nextHop ? { nextHop: this.#nextHop } : {}), ...(this.#dns ? { dns: this.#dns } : {}),
    };
  }

  /** Next-hop targets on Mw, or undefined after answering 503 when nothing resolves (RFC 3263 §4.3). */
  async #mwTargets(request: SipRequest, tx: ServerTransaction, dialog?: DialogRecord): Promise<SipTarget[] | undefined> {
    try {
      const targets = await mwTargets(request, this.#routing(), dialog === undefined ? undefined : dialogDestination(dialog));
      const usable = this.nextHops.usable(targets);
      if (usable.length > 0) return usable;
      if (targets.length > 0) {
        // Issue 11 #10: the next hop is known dead: say so now rather than after Timer B/F (32 s).
        const retryAfter = String(this.nextHops.retryAfterSeconds);
        tx.respond(createResponse(tx.request, 503, 'Service Unavailable - IMS core not responding', { headers: [['Retry-After', retryAfter]] }));
        return undefined;
      }
    } catch (error) {
      this.#ctx.log.warn({ err: error }, 'next hop not resolvable');
    }
    tx.respond(createResponse(tx.request, 503, 'Service Unavailable - no route to the IMS core'));
    return undefined;
  }

  #via(side: Side, target: SipTarget, branch: string): string {
    if (side === 'w2') {
      const w2 = this.#ctx.uris.w2;
      return `SIP/2.0/${target.transport === 'wss' ? 'WSS' : 'WS'} ${w2.host}:${w2.port};branch=${branch}`;
    }
    const a = this.#ctx.uris.mwAddress(target.transport);
    return `SIP/2.0/${target.transport.toUpperCase()} ${a.host}:${a.port};branch=${branch};rport`;
  }

  /** An ACK for a 2xx or a released-session BYE: no transaction state on our side. */
  async #sendStateless(request: SipRequest, side: Side, target: SipTarget): Promise<void> {
    const mf = maxForwards(request);
    const out = addHeader(setHeader(request, 'Max-Forwards', String(mf === undefined ? 70 : Math.max(0, mf - 1))), 'Via', this.#via(side, target, generateBranch()), { first: true });
    if (side === 'mw') {
      this.#tapMw('out', out, target.transport, target.host, target.port);
      await this.#transport.send(out, target);
    } else {
      this.#tapW2('out', out, target.connectionId ?? '');
      await this.#flows.send(out, target);
    }
  }

  /**
   * The W2 connection is gone (R-ORIG-9, R-REG-25): its bindings die (terminating requests now
   * get 430/480), pending INVITEs it originated are cancelled, and confirmed dialogs are
   * released with a BYE toward the IMS.
   */
  async #releaseFlow(flow: W2Flow): Promise<void> {
    this.#webAuth.flowReleased(flow);
    const released = await this.#ctx.registrations.removeFlow(flow.key);
    // R-REG-25: epcscf registered these as a trusted node, so epcscf de-registers them.
    const deregistrations = this.#deregistrar.deregister(flow, released, 'flow-ended');
    this.#calls.releaseFlow(flow.key);
    this.#pending.releaseConnection(flow.connection.id);
    this.#forwarder.cancelFrom(flow.connection.id);
    // The flow owns its media legs: all go with it, early, confirmed or still being set up.
    const sends: Promise<void>[] = [this.#media.releaseFlow(flow.key, 'W2 connection closed')];
    const dialogs = await this.#ctx.dialogs.byFlow(flow.key);
    for (const dialog of dialogs) {
      await this.#ctx.dialogs.remove(dialog.id);
      if (dialog.state !== 'confirmed' || dialog.method !== 'INVITE' || dialog.remoteTarget === '') continue;
      sends.push(this.#byeTowardIms(releaseRequest(dialog)));
    }
    await Promise.all([...sends, deregistrations]);
  }

  /**
   * The media gateway says a call's media is gone (R-AGW-4: consent freshness failed, DTLS
   * failed, or no media for the idle timeout): the session is released both ways — BYE toward
   * the IMS and toward the WIC, each with a Reason — and its media freed. `ngCallId` is the
   * gateway's call id; unknown ids (already released) are ignored.
   */
  async onMediaEvent(ngCallId: string, kind: string): Promise<void> {
    const leg = this.#media.alg?.legOf(ngCallId);
    if (leg === undefined) return;
    this.#ctx.log.warn({ callId: leg.callId, event: kind }, 'media failed: releasing the session (R-AGW-4)');
    await this.#media.release(leg, `media ${kind}`);
    const dialogs = (await this.#ctx.dialogs.byCallId(leg.callId)).filter((d) => d.flowKey === leg.flowKey && d.method === 'INVITE');
    await this.#releaseBothWays(dialogs, `SIP;cause=503;text="media ${kind}"`);
  }

  /**
   * The media gateway consumed a DTMF digit the browser sent as RFC 4733 events that the IMS
   * side did not negotiate (`media.dtmf` auto/info, issue #14): the P-CSCF sends it toward the
   * IMS as SIP INFO application/dtmf-relay in the call's confirmed dialog, with the next WIC-side
   * CSeq: the dialog's CSeq offset grows, so the WIC's later requests are renumbered above it
   * (cseq-offset.ts, RFC 3261 §12.2.2). Resolves false when no confirmed dialog of the leg is
   * known (nothing sent); else once the INFO has its final response (or gave up).
   */
  async onMediaDtmf(ngCallId: string, digit: string, durationMs: number): Promise<boolean> {
    const leg = this.#media.alg?.legOf(ngCallId);
    if (leg === undefined) return false;
    const dialogs = (await this.#ctx.dialogs.byCallId(leg.callId))
      .filter((d) => d.flowKey === leg.flowKey && d.method === 'INVITE' && d.state === 'confirmed' && d.remoteTarget !== '');
    const found = dialogs[0];
    if (found === undefined) return false;
    // In the dialog's CSeq order: after a WIC request being forwarded, before the next one.
    const sent = await this.#cseqSteps.run(found.id, async () => {
      const dialog = await this.#ctx.dialogs.get(found.id);
      if (dialog === undefined || dialog.state !== 'confirmed') return undefined;
      const own = ownRequestCseq(dialog);
      const info = dtmfInfoRequest(dialog, formatDtmfRelay(digit, durationMs), own.seq);
      await storeCseqOffset(this.#ctx.dialogs, dialog.id, own.cseqOffset);
      const target = (await mwTargets(info, this.#routing(), info.uri.kind === 'sip' ? info.uri : undefined).catch(() => []))[0];
      if (target === undefined) return undefined;
      this.#ctx.log.debug({ callId: leg.callId, digit, cseq: own.seq }, 'DTMF from RFC 4733 sent toward IMS as INFO');
      return { outcome: this.#byeToward('mw', info, target) }; // handed to the transaction layer: the next step may go
    });
    if (sent === undefined) return false;
    await sent.outcome;
    return true;
  }

  /**
   * `media.dtmf: rfc4733` (issue #14): an INFO application/dtmf-relay from the IMS is played to
   * the browser as RFC 4733 events by the gateway and answered 200 here (not relayed). True when
   * it was; false (relay the INFO as usual) in other modes, for other bodies, or when the WIC
   * negotiated no telephone-event.
   */
  async #dtmfInfoAsRtp(request: SipRequest, leg: MediaLeg, tx: ServerTransaction): Promise<boolean> {
    if (this.#dtmfMode !== 'rfc4733' || this.#media.alg === undefined) return false;
    if (contentType(request) !== DTMF_RELAY_CONTENT_TYPE) return false;
    const dtmf = parseDtmfRelay(bodyText(request));
    if (dtmf === undefined || !(await this.#media.alg.playDtmfTowardWic(leg, dtmf.digit, dtmf.durationMs))) return false;
    tx.respond(createResponse(request, 200, 'OK'));
    return true;
  }

  /**
   * An operator ends a call (admin API): the dialog's media is freed and BYE goes toward the
   * IMS and toward the WIC with `Reason: Q.850;cause=16` (normal clearing, RFC 3326) and the
   * given text. Resolves false for an unknown dialog; an early dialog is refused (its INVITE
   * transaction is still the client's to cancel).
   */
  async terminateDialog(dialogId: string, why = 'terminated by operator'): Promise<boolean> {
    const dialog = await this.#ctx.dialogs.get(dialogId);
    if (dialog === undefined) return false;
    if (dialog.state !== 'confirmed') throw new EpcError('EPC_ERR_INVALID_STATE', `dialog ${dialogId} is not confirmed yet`);
    this.#ctx.log.info({ callId: dialog.callId, why }, 'releasing a session on request');
    await this.#media.release({ callId: dialog.callId, flowKey: dialog.flowKey, direction: dialog.direction }, why);
    // The text goes inside a quoted-string (RFC 3261 §25.1): no quote, backslash or control
    // character (a CR LF from the admin API's ?reason= would start a header of its own).
    await this.#releaseBothWays([dialog], `Q.850;cause=16;text="${why.replace(/["\\\x00-\x1f\x7f]/g, '')}"`);
    return true;
  }

  /** Forgets the dialogs and sends BYE (with `reason`) toward the IMS and the WIC for confirmed ones. */
  async #releaseBothWays(dialogs: readonly DialogRecord[], reason: string): Promise<void> {
    const sends: Promise<void>[] = [];
    for (const dialog of dialogs) {
      await this.#ctx.dialogs.remove(dialog.id);
      if (dialog.state !== 'confirmed') continue;
      if (dialog.remoteTarget !== '') sends.push(this.#byeTowardIms(releaseRequest(dialog, reason)));
      const flow = this.#flows.byKey(dialog.flowKey);
      const towardWic = releaseRequestTowardWic(dialog, reason);
      if (flow !== undefined && towardWic !== undefined) sends.push(this.#byeToward('w2', towardWic, this.#flows.targetOf(flow)));
    }
    await Promise.all(sends);
  }

  #byeTowardIms(bye: SipRequest): Promise<void> {
    // releaseRequest: the Request-URI is the dialog's remote target, which the IMS gave.
    return mwTargets(bye, this.#routing(), bye.uri.kind === 'sip' ? bye.uri : undefined).then(
      (targets) => (targets[0] === undefined ? undefined : this.#byeToward('mw', bye, targets[0])),
      () => undefined,
    );
  }

  /** Sends a request of our own (a released session's BYE, a trusted-node de-registration) and resolves on its outcome, whatever it is. */
  #byeToward(side: Side, bye: SipRequest, target: SipTarget): Promise<void> {
    return new Promise<void>((resolve) => {
      const request = addHeader(bye, 'Via', this.#via(side, target, generateBranch()), { first: true });
      try {
        (side === 'mw' ? this.#mw : this.#w2).sendRequest(request, target, { onFinal: () => resolve(), onTimeout: () => resolve(), onTransportError: () => resolve() });
      } catch {
        resolve();
      }
      // Do not hold shutdown for long on a silent peer.
      setTimeout(resolve, 2_000).unref();
    });
  }

  /** A w2.limits cap refused the request: answered here, counted, nothing on Mw. */
  #refuse(tx: ServerTransaction, response: SipResponse, reason: PcscfEvents['refused'][0], flow: W2Flow): void {
    this.observer.emit('refused', reason, flow.connection.id);
    tx.respond(response);
  }

  #guardTrip(guard: RelayGuard): void {
    this.#ctx.log.debug({ guard }, 'routing guard: refused or dropped');
    if (this.observer.listenerCount('guard') > 0) this.observer.emit('guard', guard);
  }

  /**
   * `onNotRelayed` of a forwarding toward `side` (RFC 3261 §16.7, issue 11 #9): a 2xx to an INVITE
   * that will not reach the client is acknowledged and its session ended with BYE (each fork's
   * once); when the whole attempt failed (`refusedNow`, the client got 502) an initial INVITE's
   * media and dialog are released too.
   */
  #endUnrelayed(side: Side, forwarded: SipRequest, leg: MediaLeg, wicTagOfRequest: string | undefined) {
    const ended = new Set<string>();
    const initial = tagOf(to(forwarded)) === undefined;
    return async (response: SipResponse, target: SipTarget, refusedNow: boolean): Promise<void> => {
      if (refusedNow && initial) {
        await this.#media.release(leg, `unprocessable ${response.status}`);
        await forgetDialog(callId(forwarded), side === 'mw' ? wicTagOfRequest : tagOf(to(response)), this.#ctx);
      }
      if (forwarded.method !== 'INVITE' || response.status >= 300) return;
      const { ack, bye } = endUnrelayedAnswer(forwarded, response, this.#ctx.uris, side === 'mw', 'SIP;cause=502;text="unprocessable response"');
      await this.#sendStateless(ack, side, target);
      const fork = tagOf(to(response)) ?? '';
      if (!initial || ended.has(fork)) return; // a re-INVITE's dialog lives on; each fork is ended once
      ended.add(fork);
      await this.#byeToward(side, bye, target);
    };
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
      this.#ctx.log.error({ err: error, callId: safeCallId(tx.request) }, 'P-CSCF procedure failed');
      tx.respond(createResponse(tx.request, 500, 'Server Internal Error'));
    });
  }
}

function safeCallId(request: SipRequest): string | undefined {
  try {
    return callId(request);
  } catch {
    return undefined;
  }
}

/** Where a dialog's requests go when its route set is empty and no entry point is set: the remote target the IMS gave. */
function dialogDestination(dialog: DialogRecord): SipUri | undefined {
  if (dialog.remoteTarget === '') return undefined;
  try {
    const uri = parseUri(dialog.remoteTarget);
    return uri.kind === 'sip' ? uri : undefined;
  } catch {
    return undefined;
  }
}
