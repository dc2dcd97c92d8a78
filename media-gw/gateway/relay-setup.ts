/**
 * Applies what the media-gw/sdp rules read from an SDP (MediaLineSummary per m-line) to a call's
 * relay: the WIC's DTLS role, fingerprint and ICE credentials on the WebRTC leg; the IMS far end
 * (RTP/RTCP address, rtcp-mux, old-style hold) on each IMS leg; the payload type map and clock
 * rate on each stream. Idempotent: applying the same SDP twice changes nothing (an unchanged IMS
 * address keeps what symmetric latching learned).
 */
import type { DtmfMode } from './config.js';
import type { MediaLineSummary, RelayedCodec } from '../sdp/index.js';
import type { EventFormat } from '../rtp/telephone-event-player.js';
import type { GatewayCall } from './gateway-call.js';

/** Formats timed with the audio clock that carry no media of their own (RFC 4733, RFC 3389). */
const HELPER_FORMATS: ReadonlySet<string> = new Set(['telephone-event', 'cn']);

function clockRateOf(codecs: readonly RelayedCodec[]): number | undefined {
  return (codecs.find((codec) => !HELPER_FORMATS.has(codec.encoding.toLowerCase())) ?? codecs[0])?.clockRate;
}

/** Browser PT → IMS PT for the formats whose numbers differ (RFC 3264 §6.1: each side names its own). */
function payloadTypeMapOf(codecs: readonly RelayedCodec[]): Map<number, number> {
  const map = new Map<number, number>();
  for (const codec of codecs) if (codec.wicPayloadType !== codec.imsPayloadType) map.set(codec.wicPayloadType, codec.imsPayloadType);
  return map;
}

/**
 * DTMF interworking (`media.dtmf`): the browser's telephone-event at the main clock rate is
 * consumed by the relay (digits to SIP INFO) when IMS did not negotiate it (`interworked`) or the
 * mode is `info`; it is also the format digits are played toward the browser in.
 */
function dtmfFormatsOf(codecs: readonly RelayedCodec[], clockRate: number | undefined, mode: DtmfMode): { dtmfFromWebRtc?: EventFormat; dtmfTowardWebRtc?: EventFormat } {
  const event = codecs.find((codec) => codec.encoding.toLowerCase() === 'telephone-event' && codec.clockRate === clockRate);
  if (event === undefined) return {};
  const format: EventFormat = { payloadType: event.wicPayloadType, clockRate: event.clockRate };
  const consumed = event.interworked === true || mode === 'info';
  return { ...(consumed ? { dtmfFromWebRtc: format } : {}), dtmfTowardWebRtc: format };
}

/** Where the IMS side asked for media on one m-line, as a comparable key; 'hold' for c=0.0.0.0. */
function imsTargetKey(line: MediaLineSummary): string | undefined {
  const ims = line.ims;
  if (ims === undefined) return undefined;
  if (ims.onHold) return 'hold';
  return `${ims.address} ${ims.port} ${ims.rtcpAddress} ${ims.rtcpPort}`;
}

/** RFC 3264 §6.1: the author of an SDP takes media unless it said sendonly or inactive. */
function receives(direction: MediaLineSummary['direction']): boolean {
  return direction === 'sendrecv' || direction === 'recvonly';
}

/** `author`: the party that wrote the SDP the lines were read from (its direction sets its stream mode). */
export function applyLinesToRelay(call: GatewayCall, lines: readonly MediaLineSummary[], author: 'wic' | 'ims'): void {
  const relay = call.relay;
  const imsTargets = call.imsTargets;
  for (const line of lines) {
    const stream = call.streamOfLine.get(line.index);
    const leg = stream === undefined ? undefined : relay.imsLegs[stream];
    if (stream === undefined || leg === undefined) continue;
    if (!line.accepted) {
      // RFC 3264 §8.2: a stream answered or re-offered with port 0 carries nothing any more.
      if (imsTargets.get(stream) !== 'rejected') leg.setRemote(undefined);
      imsTargets.set(stream, 'rejected');
      continue;
    }
    const clockRate = clockRateOf(line.codecs);
    relay.setStreamMode(stream, author === 'wic' ? { wicReceives: receives(line.direction) } : { imsReceives: receives(line.direction) });
    relay.configureStream(stream, {
      payloadTypes: line.codecs.map((codec) => codec.wicPayloadType),
      ...(clockRate !== undefined ? { clockRate } : {}),
      payloadTypeMap: payloadTypeMapOf(line.codecs),
      ...dtmfFormatsOf(line.codecs, clockRate, call.dtmfMode),
    });
    const key = imsTargetKey(line);
    const ims = line.ims;
    if (key === undefined || ims === undefined || imsTargets.get(stream) === key) continue;
    imsTargets.set(stream, key);
    // RFC 3264 §8.4: c=0.0.0.0 means "send nothing"; a new address re-targets (and re-latches).
    if (ims.onHold) leg.setRemote(undefined);
    else leg.setRemote({ address: ims.address, port: ims.port }, { address: ims.rtcpAddress, port: ims.rtcpPort });
  }
  const webrtcLine = lines.find((line) => line.accepted && line.wic?.fingerprint !== undefined && line.gatewayDtlsRole !== undefined);
  const wic = webrtcLine?.wic;
  if (webrtcLine?.gatewayDtlsRole === undefined || wic?.fingerprint === undefined) return;
  relay.webrtc.setRemote({
    dtlsRole: webrtcLine.gatewayDtlsRole,
    remoteFingerprints: [wic.fingerprint],
    ...(wic.iceUfrag !== undefined && wic.icePwd !== undefined ? { remoteIce: { ufrag: wic.iceUfrag, pwd: wic.icePwd } } : {}),
  });
}
