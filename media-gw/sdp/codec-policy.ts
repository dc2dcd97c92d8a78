/**
 * Which codecs the media-gw relays without transcoding, and how codecs on the two legs are
 * matched. Issue #4: passthrough when both sides share one of PCMU, PCMA, G722, Opus (+
 * telephone-event, CN tolerated) for audio, VP8 or H264 for video; anything else (AMR, EVS,
 * iSAC, VP9, AV1, RED, FEC, RTX) is removed, because relaying it would need a transcoder
 * (R-COD-2; offers that need one are a follow-up and are not faked here).
 */

/** One payload format of an m-line, as read from the m= list, `a=rtpmap` and `a=fmtp`. */
export interface CodecDescription {
  readonly payloadType: number;
  /** Encoding name as written (case kept for output), '' for an unknown dynamic type. */
  readonly encoding: string;
  readonly clockRate: number;
  readonly channels?: number;
  readonly fmtp?: string;
}

/** RFC 3551 §6 static payload types an RTP/AVP peer may list without `a=rtpmap` (e.g. sipp's `m=audio ... RTP/AVP 0`). */
const STATIC_PAYLOAD_TYPES: ReadonlyMap<number, { encoding: string; clockRate: number }> = new Map([
  [0, { encoding: 'PCMU', clockRate: 8000 }],
  [3, { encoding: 'GSM', clockRate: 8000 }],
  [4, { encoding: 'G723', clockRate: 8000 }],
  [8, { encoding: 'PCMA', clockRate: 8000 }],
  [9, { encoding: 'G722', clockRate: 8000 }],
  [13, { encoding: 'CN', clockRate: 8000 }],
  [18, { encoding: 'G729', clockRate: 8000 }],
  [26, { encoding: 'JPEG', clockRate: 90000 }],
  [31, { encoding: 'H261', clockRate: 90000 }],
  [34, { encoding: 'H263', clockRate: 90000 }],
]);

export function staticPayloadType(payloadType: number): { encoding: string; clockRate: number } | undefined {
  return STATIC_PAYLOAD_TYPES.get(payloadType);
}

/** Codecs carrying the media itself: at least one must survive for an m-line to be relayed. */
const RELAYABLE_MEDIA_CODECS: Readonly<Record<string, readonly { name: string; clockRate: number; channels: number }[]>> = {
  audio: [
    { name: 'pcmu', clockRate: 8000, channels: 1 },
    { name: 'pcma', clockRate: 8000, channels: 1 },
    // RFC 3551 §4.5.2: G722 is signalled with an 8000 clock although it samples at 16 kHz.
    { name: 'g722', clockRate: 8000, channels: 1 },
    // RFC 7587 §7: opus is always opus/48000/2 in SDP.
    { name: 'opus', clockRate: 48000, channels: 2 },
  ],
  video: [
    { name: 'vp8', clockRate: 90000, channels: 1 },
    { name: 'h264', clockRate: 90000, channels: 1 },
  ],
};

/**
 * Helper formats relayed only next to a media codec of the same clock rate: RFC 4733
 * telephone-event and RFC 3389 CN are timed with the audio clock, and the gateway does not
 * re-clock them (R-COD-3: mapping 48000 <-> 8000 would need re-timestamping, i.e. transcoding).
 */
const CLOCK_BOUND_AUDIO_FORMATS: ReadonlySet<string> = new Set(['telephone-event', 'cn']);

function channelsOf(codec: CodecDescription): number {
  return codec.channels ?? 1;
}

function isRelayableMediaCodec(kind: string, codec: CodecDescription): boolean {
  const table = RELAYABLE_MEDIA_CODECS[kind];
  if (table === undefined) return false;
  const name = codec.encoding.toLowerCase();
  return table.some((entry) => entry.name === name && entry.clockRate === codec.clockRate && entry.channels === channelsOf(codec));
}

function isClockBoundFormat(kind: string, codec: CodecDescription): boolean {
  return kind === 'audio' && CLOCK_BOUND_AUDIO_FORMATS.has(codec.encoding.toLowerCase());
}

/** True for the formats that carry media (not telephone-event / CN). */
export function isMediaCodec(kind: string, codec: CodecDescription): boolean {
  return !isClockBoundFormat(kind, codec) && codec.encoding !== '';
}

/**
 * Keeps, in the offerer's preference order, the formats the gateway can relay. Returns an
 * empty list when no media codec survives (telephone-event or CN alone carry no call).
 */
export function selectRelayableCodecs(kind: string, codecs: readonly CodecDescription[]): CodecDescription[] {
  const media = codecs.filter((codec) => isRelayableMediaCodec(kind, codec));
  if (media.length === 0) return [];
  const clockRates = new Set(media.map((codec) => codec.clockRate));
  return codecs.filter(
    (codec) => isRelayableMediaCodec(kind, codec) || (isClockBoundFormat(kind, codec) && clockRates.has(codec.clockRate)),
  );
}

function fmtpParameter(fmtp: string | undefined, name: string): string | undefined {
  if (fmtp === undefined) return undefined;
  for (const part of fmtp.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim().toLowerCase() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Whether an answer's format is the same codec as an offer's (so the gateway can pass the
 * payload through). Name, clock rate and channels must agree (RFC 3264 §6.1: payload type
 * numbers may differ). For H.264 the packetization mode must agree (RFC 6184 §8.2.2: it is not
 * negotiable downwards) and so must the profile (profile_idc and profile-iop, the first two bytes
 * of profile-level-id: 42e0 constrained baseline is not 4200 baseline); the level may differ.
 */
export function sameCodec(offered: CodecDescription, answered: CodecDescription): boolean {
  if (offered.encoding.toLowerCase() !== answered.encoding.toLowerCase()) return false;
  if (offered.clockRate !== answered.clockRate || channelsOf(offered) !== channelsOf(answered)) return false;
  if (offered.encoding.toLowerCase() === 'h264') {
    const mode = (codec: CodecDescription): string => fmtpParameter(codec.fmtp, 'packetization-mode') ?? '0';
    if (mode(offered) !== mode(answered)) return false;
    const profile = (codec: CodecDescription): string => (fmtpParameter(codec.fmtp, 'profile-level-id') ?? '420010').slice(0, 4).toLowerCase();
    if (profile(offered) !== profile(answered)) return false;
  }
  return true;
}

export interface MatchedCodec {
  readonly offered: CodecDescription;
  readonly answered: CodecDescription;
}

/**
 * Pairs each answered format with the offered format it accepts, in the answer's order.
 * Formats an answer invents (not in the offer) are dropped, as are non-relayable ones. Empty
 * when no media codec matched.
 */
export function matchAnsweredCodecs(
  kind: string,
  offered: readonly CodecDescription[],
  answered: readonly CodecDescription[],
): MatchedCodec[] {
  const relayableOffered = selectRelayableCodecs(kind, offered);
  const matches: MatchedCodec[] = [];
  const used = new Set<number>();
  for (const answer of answered) {
    // Prefer the offer entry with the same payload type, then any equivalent one.
    const candidates = relayableOffered.filter((offer) => !used.has(offer.payloadType) && sameCodec(offer, answer));
    const chosen = candidates.find((offer) => offer.payloadType === answer.payloadType) ?? candidates[0];
    if (chosen === undefined) continue;
    used.add(chosen.payloadType);
    matches.push({ offered: chosen, answered: answer });
  }
  if (!matches.some((match) => isMediaCodec(kind, match.answered))) return [];
  const clockRates = new Set(matches.filter((match) => isMediaCodec(kind, match.answered)).map((match) => match.answered.clockRate));
  return matches.filter((match) => isMediaCodec(kind, match.answered) || clockRates.has(match.answered.clockRate));
}
