/**
 * The gateway thread's side of a relay that runs in a relay worker: a RelayHandle whose commands
 * are posted to the worker in order, with the few facts the gateway reads kept here (ports, ICE
 * credentials, SSRCs from the allocation; the DTLS role from the last setRemote; new ICE
 * credentials reported back after a restart).
 */
import { ERROR_CODES, EpcError, type ErrorCode } from '../../core/errors.js';
import type { MediaCounters } from '../rtp/media-counters.js';
import type { DtlsRole } from '../webrtc/dtls-endpoint.js';
import type { IceCredentials, TransportAddress } from '../webrtc/ice-lite-agent.js';
import type { WebRtcRemote } from '../webrtc/webrtc-leg.js';
import type { CallRelayDelegate, StreamCodecConfig } from './call-relay.js';
import type { ImsLegHandle, RelayHandle, WebRtcLegHandle } from './relay-handle.js';
import type { AllocatedRelay, RelayCommand, RelayReport } from './worker-protocol.js';

/** What a WorkerRelay needs of its worker's channel. */
export interface RelayChannel {
  post(command: RelayCommand): void;
  /** Posts a command that the worker answers (`counters`, `sync`, `close`) and waits for the answer. */
  request(command: (request: number) => RelayCommand): Promise<RelayReport>;
  /** The relay is closed: forget it. */
  release(id: number): void;
}

class WorkerWebRtcLeg implements WebRtcLegHandle {
  dtlsRole: DtlsRole | undefined;
  readonly ice: { localCredentials: IceCredentials };
  readonly localAddress: TransportAddress;
  readonly #relay: WorkerRelay;

  constructor(relay: WorkerRelay, allocated: AllocatedRelay) {
    this.#relay = relay;
    this.ice = { localCredentials: allocated.localIce };
    this.localAddress = allocated.webrtcAddress;
  }

  setRemote(remote: WebRtcRemote): void {
    if (this.#relay.closed) return;
    // WebRtcLeg.setRemote keeps or replaces the association; either way it has this role after.
    this.dtlsRole = remote.dtlsRole;
    this.#relay.post({ kind: 'webrtc-remote', id: this.#relay.id, remote });
  }

  armConsent(): void {
    this.#relay.post({ kind: 'arm-consent', id: this.#relay.id });
  }
}

class WorkerImsLeg implements ImsLegHandle {
  readonly localRtp: TransportAddress;
  readonly localRtcp: TransportAddress;
  readonly rtcpMuxed: boolean;
  readonly #relay: WorkerRelay;
  readonly #index: number;

  constructor(relay: WorkerRelay, index: number, leg: AllocatedRelay['ims'][number]) {
    this.#relay = relay;
    this.#index = index;
    this.localRtp = leg.localRtp;
    this.localRtcp = leg.localRtcp;
    this.rtcpMuxed = leg.rtcpMuxed;
  }

  setRemote(rtp: TransportAddress | undefined, rtcp?: TransportAddress): void {
    this.#relay.post({ kind: 'ims-remote', id: this.#relay.id, index: this.#index, ...(rtp ? { rtp } : {}), ...(rtcp ? { rtcp } : {}) });
  }
}

/** A coded error's code as it came over the worker channel (unknown codes read as EPC_ERR_MEDIA). */
export function errorCodeOf(code: string | undefined): ErrorCode {
  return code !== undefined && code in ERROR_CODES ? (code as ErrorCode) : 'EPC_ERR_MEDIA';
}

export class WorkerRelay implements RelayHandle {
  readonly id: number;
  readonly createdAt: number;
  delegate: CallRelayDelegate | undefined;
  readonly webrtc: WorkerWebRtcLeg;
  readonly imsLegs: readonly WorkerImsLeg[];
  readonly #channel: RelayChannel;
  readonly #ssrcs: readonly number[];
  #closed: Promise<void> | undefined;

  constructor(id: number, channel: RelayChannel, allocated: AllocatedRelay) {
    this.id = id;
    this.#channel = channel;
    this.createdAt = allocated.createdAt;
    this.#ssrcs = allocated.ssrcTowardWebRtc;
    this.webrtc = new WorkerWebRtcLeg(this, allocated);
    this.imsLegs = allocated.ims.map((leg, index) => new WorkerImsLeg(this, index, leg));
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Commands after close are dropped here, as a closed CallRelay ignores them. */
  post(command: RelayCommand): void {
    if (this.#closed === undefined) this.#channel.post(command);
  }

  armIdleTimer(idleTimeoutMs: number): void {
    this.post({ kind: 'arm-idle', id: this.id, idleTimeoutMs });
  }

  configureStream(index: number, config: StreamCodecConfig): void {
    this.post({ kind: 'configure-stream', id: this.id, index, config });
  }

  setStreamMode(index: number, mode: { readonly wicReceives?: boolean; readonly imsReceives?: boolean }): void {
    this.post({ kind: 'stream-mode', id: this.id, index, mode });
  }

  ssrcTowardWebRtc(index = 0): number | undefined {
    return this.#ssrcs[index];
  }

  async readCounters(): Promise<readonly MediaCounters[]> {
    if (this.#closed !== undefined) return [];
    const answer = await this.#channel.request((request) => ({ kind: 'counters', id: this.id, request }));
    return answer.kind === 'counters' ? answer.counters : [];
  }

  async sendDtmf(index: number, digit: string, durationMs: number): Promise<boolean> {
    if (this.#closed !== undefined) return false;
    const answer = await this.#channel.request((request) => ({ kind: 'send-dtmf', id: this.id, request, index, digit, durationMs }));
    return answer.kind === 'done' && answer.ok === true;
  }

  async settled(): Promise<void> {
    if (this.#closed !== undefined) return;
    await this.#channel.request((request) => ({ kind: 'sync', id: this.id, request }));
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.delegate = undefined;
      await this.#channel.request((request) => ({ kind: 'close', id: this.id, request }));
      this.#channel.release(this.id);
    })();
    return this.#closed;
  }

  /** A report from the worker about this relay. */
  onReport(report: RelayReport): void {
    if (report.kind === 'local-ice') {
      this.webrtc.ice.localCredentials = report.localIce;
      return;
    }
    if (report.kind === 'dtmf') {
      if (this.#closed === undefined) this.delegate?.onDtmf?.(report.index, { digit: report.digit, durationMs: report.durationMs });
      return;
    }
    if (report.kind !== 'event' || this.#closed !== undefined) return;
    const delegate = this.delegate;
    switch (report.event) {
      case 'connected': delegate?.onConnected?.(); return;
      case 'idle': delegate?.onIdle?.(); return;
      case 'consent-expired': delegate?.onConsentExpired?.(); return;
      case 'failed': delegate?.onFailed?.(new EpcError(errorCodeOf(report.code), report.message ?? 'DTLS failed')); return;
    }
  }
}
