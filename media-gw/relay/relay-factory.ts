import { randomBytes } from 'node:crypto';
import { EpcError } from '../../core/errors.js';
import { ImsLeg } from '../rtp/ims-leg.js';
import { UdpPortAllocator, type PortRange } from '../rtp/port-allocator.js';
import { sharedCertificate, type DtlsFingerprint, type LocalCertificate } from '../webrtc/certificate.js';
import type { DtlsRole } from '../webrtc/dtls-endpoint.js';
import type { IceCredentials, TransportAddress } from '../webrtc/ice-lite-agent.js';
import { WebRtcLeg } from '../webrtc/webrtc-leg.js';
import { CallRelay } from './call-relay.js';
import type { RelayAllocator } from './relay-handle.js';

export interface RelayFactoryOptions {
  /** UDP ports for WebRTC legs (W3, toward WICs). */
  readonly webrtcPorts: PortRange;
  /** UDP ports for IMS legs (Mb); RTP takes the even port, RTCP the odd one. */
  readonly imsPorts: PortRange;
  readonly webrtcHost?: string;
  readonly imsHost?: string;
  /** Calls beyond this are refused with EPC_ERR_MEDIA (resource control). */
  readonly maxCalls?: number;
  readonly idleTimeoutMs?: number;
  readonly consentTimeoutMs?: number;
  readonly certificate?: LocalCertificate;
}

export interface ImsStreamSpec {
  readonly payloadTypes: readonly number[];
  readonly clockRate?: number;
  readonly remoteRtp?: TransportAddress;
  readonly remoteRtcp?: TransportAddress;
  /** RFC 5761 on the IMS side: RTCP on the RTP port instead of port+1. */
  readonly rtcpMux?: boolean;
  /** Browser PT → IMS PT (telephone-event numbering); the reverse map is derived. */
  readonly payloadTypeMap?: ReadonlyMap<number, number>;
}

/** Phase one: what to bind for a call, one entry per relayed m-line. */
export interface CallAllocationSpec {
  readonly streams: readonly { readonly rtcpMux?: boolean }[];
  /** Start the idle timer at once (create()); a gateway arms it at the answer instead. */
  readonly armIdleTimer?: boolean;
}

export interface CallRelaySpec {
  readonly dtlsRole: DtlsRole;
  readonly remoteFingerprints: readonly DtlsFingerprint[];
  readonly remoteIce?: IceCredentials;
  readonly streams: readonly ImsStreamSpec[];
}

/**
 * Creates per-call relays from the configured port ranges and enforces the call limit; tracks
 * live relays so closeAll() can release everything (gateway shutdown).
 */
export class RelayFactory implements RelayAllocator {
  readonly #webrtcPorts: UdpPortAllocator;
  readonly #imsPorts: UdpPortAllocator;
  readonly #options: RelayFactoryOptions;
  readonly #live = new Set<CallRelay>();
  #pending = 0;

  constructor(options: RelayFactoryOptions) {
    this.#options = options;
    this.#webrtcPorts = new UdpPortAllocator(options.webrtcPorts, options.webrtcHost ?? '127.0.0.1');
    this.#imsPorts = new UdpPortAllocator(options.imsPorts, options.imsHost ?? '127.0.0.1');
  }

  get size(): number {
    return this.#live.size;
  }

  async certificate(): Promise<LocalCertificate> {
    return this.#options.certificate ?? sharedCertificate();
  }

  /** Allocate-and-configure in one step, when the WIC's DTLS role and fingerprint are already known. */
  async create(spec: CallRelaySpec): Promise<CallRelay> {
    const relay = await this.allocate({
      streams: spec.streams.map((stream) => ({ ...(stream.rtcpMux !== undefined ? { rtcpMux: stream.rtcpMux } : {}) })),
      armIdleTimer: true,
    });
    relay.webrtc.setRemote({
      dtlsRole: spec.dtlsRole,
      remoteFingerprints: spec.remoteFingerprints,
      ...(spec.remoteIce ? { remoteIce: spec.remoteIce } : {}),
    });
    relay.webrtc.armConsent();
    spec.streams.forEach((stream, index) => {
      relay.configureStream(index, {
        payloadTypes: stream.payloadTypes,
        ...(stream.clockRate !== undefined ? { clockRate: stream.clockRate } : {}),
        ...(stream.payloadTypeMap ? { payloadTypeMap: stream.payloadTypeMap } : {}),
      });
      if (stream.remoteRtp) relay.imsLegs[index]?.setRemote(stream.remoteRtp, stream.remoteRtcp);
    });
    return relay;
  }

  /**
   * Phase one of a call: binds every socket (one WebRTC port, one IMS port or even/odd pair per
   * stream) so the ports can go into the first SDP, before the WIC's DTLS role/fingerprint or
   * the IMS far end are known (a terminating call learns them from the answer). The owner then
   * calls `webrtc.setRemote`, `imsLegs[i].setRemote`, `configureStream`, `webrtc.armConsent`
   * and `armIdleTimer` as the SDP arrives.
   */
  async allocate(spec: CallAllocationSpec): Promise<CallRelay> {
    if (this.#live.size + this.#pending >= (this.#options.maxCalls ?? Infinity)) {
      throw new EpcError('EPC_ERR_MEDIA', `call limit of ${this.#options.maxCalls} reached`);
    }
    if (spec.streams.length === 0) throw new EpcError('EPC_ERR_MEDIA', 'a call needs at least one media stream');
    this.#pending++;
    const opened: ImsLeg[] = [];
    try {
      const certificate = await this.certificate();
      for (const stream of spec.streams) {
        if (stream.rtcpMux) {
          opened.push(new ImsLeg({ rtpSocket: await this.#imsPorts.bindOne() }));
        } else {
          const [rtp, rtcp] = await this.#imsPorts.bindPair();
          opened.push(new ImsLeg({ rtpSocket: rtp, rtcpSocket: rtcp }));
        }
      }
      const socket = await this.#webrtcPorts.bindOne();
      const webrtc = new WebRtcLeg({
        socket,
        certificate,
        ...(this.#options.consentTimeoutMs !== undefined ? { consentTimeoutMs: this.#options.consentTimeoutMs } : {}),
      });
      const relay = new CallRelay({
        webrtc,
        streams: opened.map((ims) => ({
          ims,
          payloadTypes: [],
          // A random SSRC per direction (RFC 3550 §8.1), known before the SDP so it can be announced.
          towardIms: { outputSsrc: randomBytes(4).readUInt32BE(0) },
          towardWebRtc: { outputSsrc: randomBytes(4).readUInt32BE(0) },
        })),
        ...(spec.armIdleTimer && this.#options.idleTimeoutMs !== undefined ? { idleTimeoutMs: this.#options.idleTimeoutMs } : {}),
      });
      this.#live.add(relay);
      const close = relay.close.bind(relay);
      relay.close = () => {
        this.#live.delete(relay);
        return close();
      };
      return relay;
    } catch (error) {
      await Promise.all(opened.map((leg) => leg.close()));
      throw error;
    } finally {
      this.#pending--;
    }
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#live].map((relay) => relay.close()));
  }
}

