/**
 * A werift RTCPeerConnection playing the browser on loopback (settings from
 * reference/real-peers.md: loopback host address, STUN/pair filters). It offers PCMU audio (or,
 * built with `{ answerer: true }`, answers an offer), sends RTP packets we build, and records
 * what it receives.
 */
import { RTCPeerConnection, RtpHeader, RtpPacket, usePCMU, type RTCRtpTransceiver } from 'werift';

export interface ReceivedRtp {
  readonly seq: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly payloadType: number;
}

export interface WeriftBrowserOptions {
  /** Terminating side: no transceiver up front; the offer's m-line creates it (answerOffer). */
  readonly answerer?: boolean;
}

export class WeriftBrowser {
  readonly pc: RTCPeerConnection;
  #transceiver: RTCRtpTransceiver | undefined;
  readonly received: ReceivedRtp[] = [];
  #seq = 1000;
  #timestamp = 5000;

  constructor(options: WeriftBrowserOptions = {}) {
    this.pc = new RTCPeerConnection({
      codecs: { audio: [usePCMU()] },
      iceUseIpv6: false,
      iceAdditionalHostAddresses: ['127.0.0.1'],
      iceFilterStunResponse: (_message, address) => address[0] === '127.0.0.1',
      iceFilterCandidatePair: (pair) => pair.remoteCandidate.host === '127.0.0.1' && pair.localCandidate.host === '127.0.0.1',
    });
    if (!options.answerer) this.#transceiver = this.pc.addTransceiver('audio', { direction: 'sendrecv' });
    this.pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => {
        this.received.push({ seq: rtp.header.sequenceNumber, timestamp: rtp.header.timestamp, ssrc: rtp.header.ssrc, payloadType: rtp.header.payloadType });
      });
    });
  }

  get transceiver(): RTCRtpTransceiver {
    const transceiver = this.#transceiver ?? this.pc.getTransceivers()[0];
    if (transceiver === undefined) throw new Error('werift browser: no transceiver yet (answer an offer first)');
    return transceiver;
  }

  /** Answerer side: applies the gateway's offer and returns our answer (sendrecv unless told). */
  async answerOffer(sdp: string, direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive' = 'sendrecv'): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    this.transceiver.setDirection(direction);
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return this.pc.localDescription?.sdp ?? '';
  }

  /** A re-offer from the browser (hold: `sendonly`, resume: `sendrecv`). */
  async reoffer(direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive'): Promise<string> {
    this.transceiver.setDirection(direction);
    return this.offer();
  }

  async offer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return this.pc.localDescription?.sdp ?? '';
  }

  async answer(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
  }

  connected(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.pc.connectionState === 'connected') return resolve();
      const timer = setTimeout(() => reject(new Error(`werift browser stayed ${this.pc.connectionState}`)), timeoutMs);
      this.pc.connectionStateChange.subscribe((state) => {
        if (state === 'connected') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  /** Sends one 20 ms PCMU frame (160 samples). */
  sendFrame(payloadType = 0, marker = false): void {
    const header = new RtpHeader({ payloadType, sequenceNumber: this.#seq & 0xffff, timestamp: this.#timestamp >>> 0, marker });
    this.#seq++;
    this.#timestamp += 160;
    this.transceiver.sender.sendRtp(new RtpPacket(header, Buffer.alloc(160, 0xff))).catch(() => {});
  }

  get ssrc(): number {
    return this.transceiver.sender.ssrc;
  }

  async close(): Promise<void> {
    await this.pc.close();
  }
}
