import type { EventEmitter } from 'node:events';
import type { SipMessage } from '../sip/index.js';
import type { TransactionLayer } from '../sip/transaction/index.js';
import type { MwTransportProtocol } from '../sip/transport/transport.js';
import type { SipTarget } from '../sip/transport/types.js';
import type { CallLimits } from './call-limits.js';
import type { PcscfCluster } from './cluster/pcscf-cluster.js';
import type { PcscfContext } from './context.js';
import type { DialogSequencer } from './cseq-offset.js';
import type { Forwarder, Side } from './forwarder.js';
import type { NextHopHealth } from './next-hop-health.js';
import type { OwnAddress } from './own-uris.js';
import type { PcscfEvents } from './pcscf-events.js';
import type { PendingTransactions } from './pending-transactions.js';
import type { RequestRates } from './request-rates.js';
import type { RegistrationLimits } from './registration-limits.js';
import type { MwRouting } from './routing.js';
import type { SessionMedia } from './session-media.js';
import type { TrustedNodeDeregistrar } from './trusted-node.js';
import type { W2Flows } from './w2-flows.js';
import type { WebAuthGate } from './web-auth-gate.js';

/**
 * What the P-CSCF procedures (from-wic.ts, from-ims.ts, mid-dialog-from-wic.ts, release.ts,
 * dtmf-interworking.ts) need from the `Pcscf` that wires them: the shared context, both sides'
 * transaction layers and a raw send on each, the forwarder, the W2 flows, the IMS-ALG and the
 * W2 admission gates. The `Pcscf` builds one; the procedures hold no state of their own.
 */
export interface PcscfRelay {
  readonly ctx: PcscfContext;
  /** Mw (toward the IMS) and W2 (toward the WIC) transaction layers. */
  readonly mw: TransactionLayer;
  readonly w2: TransactionLayer;
  /** Stateful forwarding with client transactions on either side (RFC 3261 §16). */
  readonly forwarder: Forwarder;
  readonly flows: W2Flows;
  /** The IMS-ALG around every SDP body (R-AGW-*): a pass-through without a media gateway. */
  readonly media: SessionMedia;
  /** Issue 11 #10: which Mw next hops answer. */
  readonly nextHops: NextHopHealth;
  /** A dialog's WIC-side CSeq steps, one at a time (cseq-offset.ts). */
  readonly cseqSteps: DialogSequencer;
  /** The W2 caps and the web-token gate (issue 11, R-REG-4): admitted per request, released with the flow. */
  readonly admission: W2Admission;
  /** media.dtmf: RFC 4733 ⇄ INFO interworking (issue #14). */
  readonly dtmfMode: 'auto' | 'rfc4733' | 'info';
  /** Monitoring and metrics (never drives behaviour). */
  readonly observer: EventEmitter<PcscfEvents>;
  /** The Mw addresses bound (our Vias, loop detection). */
  readonly mwAddresses: readonly OwnAddress[];
  /** The transport our Path and Record-Route entries name on Mw (the first one listened on). */
  readonly mwTransport: MwTransportProtocol;
  /** RFC 3263 routing toward the IMS: transports, home domain, entry point, DNS. */
  readonly routing: MwRouting;
  /** Our Via for a hop toward `side`. */
  via(side: Side, target: SipTarget, branch: string): string;
  /** Puts a message on the wire toward `side` as it is (no transaction, no Via added), through the monitoring tap. */
  send(message: SipMessage, side: Side, target: SipTarget): Promise<void>;
  /** Issue #15: this node's cluster membership and routing (cluster/); absent for a single node. */
  readonly cluster?: PcscfCluster;
}

/** The per-client limits and the web-token gate a WIC's requests pass (issue 11, R-REG-3/4/25). */
export interface W2Admission {
  readonly pending: PendingTransactions;
  readonly calls: CallLimits;
  readonly registrations: RegistrationLimits;
  /** Issue 15: REGISTERs and initial INVITEs per second, per client and per source IP. */
  readonly rates: RequestRates;
  readonly webAuth: WebAuthGate;
  readonly deregistrar: TrustedNodeDeregistrar;
  /** The Authorization `integrity-protected` value of a trusted-node REGISTER (webAuth.integrityProtected). */
  readonly integrityProtected: string;
}
