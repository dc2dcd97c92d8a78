/**
 * The MediaPlan the media-gw/sdp rules write SDP from: the ports, ICE-lite credentials, certificate
 * fingerprint and SSRCs of the sockets the gateway allocated for a call. The same plan (one
 * version higher) serves every later offer/answer, so a re-INVITE lands on the same ports.
 */
import type { MediaLinePlan, MediaPlan } from '../sdp/index.js';
import type { DtlsFingerprint } from '../webrtc/certificate.js';
import type { CallSide, GatewayCall } from './gateway-call.js';

export interface PlanAddresses {
  /** Written into SDP toward the WIC (c=, o=, the host candidate). */
  readonly wic: string;
  /** Written into SDP toward IMS (c=, o=). */
  readonly ims: string;
}

/** RFC 8445 §5.1.2.1: host candidate priority with type preference 126, local preference 65535, component 1. */
const HOST_CANDIDATE_PRIORITY = (126 << 24) + (65535 << 8) + 255;

export interface PlanRequest {
  readonly call: GatewayCall;
  readonly addresses: PlanAddresses;
  readonly fingerprint: DtlsFingerprint;
  /** The side the SDP being written goes to (its o= version is bumped). */
  readonly toward: CallSide;
  /** The gateway's a=setup when a WIC offers actpass (R-ALG-1). */
  readonly wicSetup: 'active' | 'passive';
}

export function mediaPlanFor(request: PlanRequest): MediaPlan {
  const { call, addresses } = request;
  const webrtc = call.relay.webrtc;
  const ice = webrtc.ice.localCredentials;
  const legs = call.relay.imsLegs;
  const lineCount = Math.max(-1, ...call.streamOfLine.keys()) + 1;
  const lines: (MediaLinePlan | undefined)[] = [];
  for (let index = 0; index < lineCount; index++) {
    const stream = call.streamOfLine.get(index);
    const leg = stream === undefined ? undefined : legs[stream];
    if (stream === undefined || leg === undefined) {
      lines.push(undefined);
      continue;
    }
    const ssrc = call.relay.ssrcTowardWebRtc(stream);
    lines.push({
      imsPort: leg.localRtp.port,
      ...(leg.rtcpMuxed ? {} : { imsRtcpPort: leg.localRtcp.port }),
      wicPort: webrtc.localAddress.port,
      wicIceUfrag: ice.ufrag,
      wicIcePwd: ice.pwd,
      wicFingerprint: request.fingerprint,
      wicSetup: request.wicSetup,
      // R-ICE-1: ICE-lite, one host candidate per m-line (rtcp-mux: component 1 only).
      wicCandidates: [{
        foundation: '1', component: 1, transport: 'udp', priority: HOST_CANDIDATE_PRIORITY,
        address: addresses.wic, port: webrtc.localAddress.port, type: 'host',
      }],
      // werift-based peers drop RTP from SSRCs the SDP did not announce (real-peers media finding 2).
      ...(ssrc !== undefined ? { wicSsrc: ssrc } : {}),
    });
  }
  return {
    imsAddress: addresses.ims,
    wicAddress: addresses.wic,
    sessionId: call.sessionId,
    sessionVersion: call.nextVersion(request.toward),
    lines,
    // DTMF interworking: the browser keeps telephone-event; its events become SIP INFO.
    keepWicTelephoneEvent: call.dtmfMode !== 'rfc4733',
  };
}
