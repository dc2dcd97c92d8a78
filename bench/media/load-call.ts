/**
 * One bench call, set up the way epcscf's IMS-ALG sets up a WebRTC → IMS call: the WIC's offer
 * goes to the gateway with `offerFromWic` (the gateway returns plain RTP/AVP toward IMS), the IMS
 * answer comes back with `answerFromIms` (the gateway returns ICE + DTLS-SRTP toward the WIC),
 * both through NgMediaControl, the ALG's own ng client. Then the WebRTC endpoint does ICE and
 * DTLS against the gateway's WIC-side candidate and both endpoints stream.
 */
import sdpTransform from 'sdp-transform';
import type { MediaControl } from '../../core/pcscf/alg/media-control.js';
import { answerFromIms, offerFromWic, type MediaInterfaces } from '../../core/pcscf/alg/media-requests.js';
import type { LocalCertificate } from '../../media-gw/webrtc/certificate.js';
import { ImsLoadEndpoint } from './ims-endpoint.js';
import type { PortRange } from './port-range.js';
import { RtpStream, type MeasurementWindow } from './rtp-stream.js';
import { WebRtcLoadEndpoint, type GatewayWebRtcSide } from './webrtc-endpoint.js';

export interface LoadCallOptions {
  readonly index: number;
  readonly runId: string;
  readonly control: MediaControl;
  readonly interfaces: MediaInterfaces | undefined;
  readonly certificate: LocalCertificate;
  readonly webrtcPorts: PortRange;
  readonly imsPorts: PortRange;
  readonly window: MeasurementWindow;
  readonly connectTimeoutMs: number;
}

/** The WIC's offer: what a browser sends for one PCMU audio stream, host candidate only. */
export function wicOffer(port: number, ufrag: string, pwd: string, certificate: LocalCertificate, ssrc: number): string {
  return [
    'v=0', `o=- ${ssrc} 2 IN IP4 127.0.0.1`, 's=-', 't=0 0', 'a=group:BUNDLE 0', 'a=msid-semantic: WMS',
    `m=audio ${port} UDP/TLS/RTP/SAVPF 0`, 'c=IN IP4 127.0.0.1', `a=rtcp:${port} IN IP4 127.0.0.1`,
    `a=candidate:1 1 udp 2130706431 127.0.0.1 ${port} typ host generation 0`,
    `a=ice-ufrag:${ufrag}`, `a=ice-pwd:${pwd}`,
    `a=fingerprint:${certificate.fingerprint.algorithm} ${certificate.fingerprint.value}`,
    'a=setup:actpass', 'a=mid:0', 'a=sendrecv', 'a=rtcp-mux', 'a=rtpmap:0 PCMU/8000',
    `a=ssrc:${ssrc} cname:bench`, '',
  ].join('\r\n');
}

/** The IMS party's answer: plain RTP/AVP PCMU (R-ALG-4). */
export function imsAnswer(port: number): string {
  return [
    'v=0', `o=ims-ue ${port} ${port} IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=ptime:20', 'a=sendrecv', '',
  ].join('\r\n');
}

function firstAudio(sdp: string): { session: sdpTransform.SessionDescription; audio: sdpTransform.MediaDescription } {
  const session = sdpTransform.parse(sdp);
  const audio = session.media.find((m) => m.type === 'audio');
  if (audio === undefined) throw new Error(`gateway SDP has no audio m= line:\n${sdp}`);
  return { session, audio };
}

/** Where the gateway wants the IMS side's RTP: c= and m= of its offer toward IMS. */
export function imsSideOf(sdp: string): { address: string; port: number } {
  const { session, audio } = firstAudio(sdp);
  const address = audio.connection?.ip ?? session.connection?.ip;
  if (address === undefined || audio.port === 0) throw new Error(`gateway offer toward IMS has no address/port:\n${sdp}`);
  return { address, port: audio.port };
}

/** The gateway's WebRTC side from its answer toward the WIC (ICE, DTLS, its one candidate). */
export function webRtcSideOf(sdp: string): GatewayWebRtcSide {
  const { session, audio } = firstAudio(sdp);
  const ufrag = audio.iceUfrag ?? session.iceUfrag;
  const pwd = audio.icePwd ?? session.icePwd;
  const fingerprint = audio.fingerprint ?? session.fingerprint;
  if (ufrag === undefined || pwd === undefined || fingerprint === undefined) {
    throw new Error(`gateway answer toward the WIC lacks ICE credentials or a fingerprint:\n${sdp}`);
  }
  const candidate = (audio.candidates ?? []).find((c) => c.transport.toLowerCase() === 'udp' && c.component === 1);
  const address = candidate?.ip ?? audio.connection?.ip ?? session.connection?.ip;
  const port = candidate?.port ?? audio.port;
  if (address === undefined) throw new Error(`gateway answer toward the WIC has no address:\n${sdp}`);
  return {
    address, port, ice: { ufrag, pwd },
    iceLite: session.icelite === 'ice-lite' || /^a=ice-lite/m.test(sdp),
    fingerprints: [{ algorithm: fingerprint.type, value: fingerprint.hash }],
    setup: audio.setup ?? session.setup ?? 'actpass',
  };
}

export class LoadCall {
  readonly callId: string;
  readonly fromTag: string;
  /** WIC → gateway → IMS. */
  readonly uplink: RtpStream;
  /** IMS → gateway → WIC. */
  readonly downlink: RtpStream;
  readonly webrtc: WebRtcLoadEndpoint;
  readonly ims: ImsLoadEndpoint;
  readonly #control: MediaControl;

  private constructor(options: LoadCallOptions, webrtc: WebRtcLoadEndpoint, ims: ImsLoadEndpoint, uplink: RtpStream, downlink: RtpStream) {
    this.callId = `bench-media-${options.runId}-${options.index}`;
    this.fromTag = `wic-${options.index}`;
    this.#control = options.control;
    this.webrtc = webrtc;
    this.ims = ims;
    this.uplink = uplink;
    this.downlink = downlink;
  }

  /** Binds both endpoints, runs offer/answer through the gateway, then ICE and DTLS. */
  static async setUp(options: LoadCallOptions): Promise<LoadCall> {
    const uplink = new RtpStream((0x10000000 + options.index * 2) >>> 0, options.window);
    const downlink = new RtpStream((0x10000000 + options.index * 2 + 1) >>> 0, options.window);
    const webrtcSocket = await options.webrtcPorts.bind();
    const imsSocket = await options.imsPorts.bind().catch((error: unknown) => { webrtcSocket.close(); throw error; });
    const call = new LoadCall(options, new WebRtcLoadEndpoint(webrtcSocket, uplink, downlink), new ImsLoadEndpoint(imsSocket, downlink, uplink), uplink, downlink);
    try {
      const { ufrag, pwd } = call.webrtc.ice.local;
      const tags = { callId: call.callId, fromTag: call.fromTag };
      const towardIms = await options.control.offer(offerFromWic(tags, wicOffer(call.webrtc.localPort, ufrag, pwd, options.certificate, uplink.ssrc), options.interfaces));
      const imsSide = imsSideOf(towardIms.sdp);
      await call.ims.setGateway(imsSide.address, imsSide.port);
      const towardWic = await options.control.answer(answerFromIms({ ...tags, toTag: `ims-${options.index}` }, imsAnswer(call.ims.localPort), options.interfaces));
      await call.webrtc.connect(webRtcSideOf(towardWic.sdp), options.certificate, options.connectTimeoutMs);
      return call;
    } catch (error) {
      await call.close();
      throw error;
    }
  }

  /** Ends the call at the gateway (ng delete) and closes both endpoints. */
  async close(): Promise<void> {
    this.webrtc.close();
    this.ims.close();
    await this.#control.delete({ callId: this.callId }).catch(() => undefined);
  }
}
