/**
 * A test double for the browser media API only (RTCPeerConnection, RTCSessionDescription), so
 * that JsSIP can run its real SIP signalling in Node, where there is no WebRTC. Offers and
 * answers are a static audio SDP; ICE gathering completes at once; nothing is ever sent on
 * the network. The SIP signalling under test is still JsSIP's own.
 */

let sessionVersion = 1000;

/** A minimal PCMU audio description (RFC 4566), unique o= per call so offer/answer pairs differ. */
export function staticAudioSdp(port = 40000): string {
  sessionVersion += 1;
  return [
    'v=0',
    `o=- ${sessionVersion} 1 IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP 0 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

interface DescriptionInit {
  readonly type: 'offer' | 'answer' | 'pranswer' | 'rollback';
  readonly sdp: string;
}

export class FakeRTCSessionDescription {
  readonly type: DescriptionInit['type'];
  readonly sdp: string;
  constructor(init: DescriptionInit) {
    this.type = init.type;
    this.sdp = init.sdp;
  }
  toJSON(): DescriptionInit {
    return { type: this.type, sdp: this.sdp };
  }
}

/** What JsSIP's RTCSession touches on an RTCPeerConnection, and nothing more. */
export class FakeRTCPeerConnection extends EventTarget {
  signalingState: 'stable' | 'have-local-offer' | 'have-remote-offer' | 'closed' = 'stable';
  iceGatheringState: 'new' | 'gathering' | 'complete' = 'new';
  iceConnectionState: 'new' | 'connected' | 'closed' = 'new';
  localDescription: FakeRTCSessionDescription | null = null;
  remoteDescription: FakeRTCSessionDescription | null = null;
  readonly #senders: { track: unknown }[] = [];

  async createOffer(): Promise<DescriptionInit> {
    return { type: 'offer', sdp: staticAudioSdp() };
  }

  async createAnswer(): Promise<DescriptionInit> {
    if (this.signalingState !== 'have-remote-offer') throw new Error('createAnswer without a remote offer');
    return { type: 'answer', sdp: staticAudioSdp(40002) };
  }

  async setLocalDescription(description: DescriptionInit): Promise<void> {
    this.localDescription = new FakeRTCSessionDescription(description);
    this.signalingState = description.type === 'offer' ? 'have-local-offer' : 'stable';
    // No candidates to gather: report completion as a browser does after the last candidate.
    this.iceGatheringState = 'complete';
    this.dispatchEvent(new Event('icegatheringstatechange'));
  }

  async setRemoteDescription(description: DescriptionInit): Promise<void> {
    if (typeof description.sdp !== 'string' || !description.sdp.startsWith('v=0')) {
      throw new Error('setRemoteDescription: not an SDP body');
    }
    this.remoteDescription = new FakeRTCSessionDescription(description);
    this.signalingState = description.type === 'offer' ? 'have-remote-offer' : 'stable';
    if (description.type === 'answer') {
      this.iceConnectionState = 'connected';
      this.dispatchEvent(new Event('iceconnectionstatechange'));
    }
  }

  addTrack(track: unknown): { track: unknown } {
    const sender = { track };
    this.#senders.push(sender);
    return sender;
  }

  getSenders(): { track: unknown }[] {
    return [...this.#senders];
  }

  getReceivers(): never[] {
    return [];
  }

  close(): void {
    this.signalingState = 'closed';
    this.iceConnectionState = 'closed';
  }
}

/**
 * Puts the fakes on globalThis (and `window`, which JsSIP probes) unless a real implementation
 * is already there. Idempotent.
 */
export function installFakeWebRtc(): void {
  const scope = globalThis as Record<string, unknown>;
  scope['window'] ??= globalThis;
  scope['RTCPeerConnection'] ??= FakeRTCPeerConnection;
  scope['RTCSessionDescription'] ??= FakeRTCSessionDescription;
}
