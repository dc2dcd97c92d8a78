/**
 * One call the gateway anchors: its relay (sockets bound at the first offer), the two parties'
 * SIP tags, the o= lines the gateway authors toward each side, and the latest offer (an answer
 * is applied against it; a second answer to the same offer, 183 then 200 or a forked to-tag,
 * applies again).
 */
import { randomInt } from 'node:crypto';
import type { MediaLineSummary, ParsedSdp } from '../sdp/index.js';
import type { DtmfMode } from './config.js';
import type { RelayHandle } from '../relay/relay-handle.js';

/** Which party an SDP came from: the browser (W3) or the IMS core (Mb). */
export type CallSide = 'wic' | 'ims';

export interface PendingOffer {
  readonly from: CallSide;
  /** The offerer's tag. */
  readonly fromTag: string;
  /** The offer as parsed when it came: its answers are rewritten against it without parsing it again. */
  readonly sdp: ParsedSdp;
  readonly lines: readonly MediaLineSummary[];
}

export class GatewayCall {
  readonly callId: string;
  readonly relay: RelayHandle;
  /** m-line index → relay stream index (m-lines rejected at the first offer have none). */
  readonly streamOfLine: ReadonlyMap<number, number>;
  /** RFC 8866 §5.2: one o= session id per side, versions bumped with every SDP we author. */
  readonly sessionId = String(randomInt(1, 2 ** 47));
  #versionTowardWic = 0;
  #versionTowardIms = 0;
  wicTag: string | undefined;
  imsTag: string | undefined;
  offer: PendingOffer | undefined;
  /** Per relay stream: the IMS target last taken from SDP ('hold', 'rejected' or address/ports). */
  readonly imsTargets = new Map<number, string>();
  /** True once an answer went through: the idle and consent clocks run from then on. */
  answered = false;
  /** DTMF interworking of this call (`media.dtmf`, media-gw/README.md "DTMF"). */
  readonly dtmfMode: DtmfMode;

  constructor(callId: string, relay: RelayHandle, streamOfLine: ReadonlyMap<number, number>, dtmfMode: DtmfMode = 'auto') {
    this.callId = callId;
    this.relay = relay;
    this.streamOfLine = streamOfLine;
    this.dtmfMode = dtmfMode;
  }

  /** RFC 3264 §8: every new SDP toward a side carries a higher o= version. */
  nextVersion(toward: CallSide): number {
    if (toward === 'wic') return ++this.#versionTowardWic;
    return ++this.#versionTowardIms;
  }

  tagOf(side: CallSide): string | undefined {
    return side === 'wic' ? this.wicTag : this.imsTag;
  }

  setTag(side: CallSide, tag: string): void {
    if (side === 'wic') this.wicTag = tag;
    else this.imsTag = tag;
  }

  /**
   * The a=setup the gateway keeps on the WIC leg once a DTLS role exists (RFC 8842 §5.3: a
   * re-offer/answer that keeps the association keeps the roles); undefined before.
   */
  get wicSetup(): 'active' | 'passive' | undefined {
    const role = this.relay.webrtc.dtlsRole;
    if (role === undefined) return undefined;
    return role === 'server' ? 'passive' : 'active';
  }
}
