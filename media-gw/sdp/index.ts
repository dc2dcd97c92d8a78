/**
 * The IMS-ALG SDP rewrite rules (spec-digest §6.3/§8): pure functions from SDP (text, or parsed
 * once by `parseSdp`) and a media plan to SDP text and a per-m-line summary. Applied by our
 * media-gw (which, like rtpengine behind the ng protocol, writes the SDP for the ports it
 * allocated); the IMS-ALG (core/pcscf/alg, which decides what a call may carry) reads offers with
 * them before the gateway allocates anything. Faults a client or peer can cause throw `SdpError`
 * (status 488 or 400, Warning code); a plan missing an entry for an accepted m-line throws
 * `EpcError('EPC_ERR_INVALID_STATE')`.
 */
export { parseSdp, type ParsedSdp, type SdpBody } from './sdp-reading.js';
export { parseWicOffer, type ParseWicOfferOptions } from './parse-wic-offer.js';
export { analyseImsOffer } from './analyse-ims-offer.js';
export { rewriteOfferTowardIms } from './rewrite-offer-toward-ims.js';
export { rewriteAnswerTowardWic } from './rewrite-answer-toward-wic.js';
export { rewriteOfferTowardWic } from './rewrite-offer-toward-wic.js';
export { rewriteAnswerTowardIms } from './rewrite-answer-toward-ims.js';
export { selectRelayableCodecs, matchAnsweredCodecs, sameCodec, type CodecDescription } from './codec-policy.js';
export { SdpError } from './sdp-error.js';
export type {
  DtlsFingerprint,
  DtlsSetup,
  IceCandidate,
  ImsTransport,
  MediaDirection,
  MediaLinePlan,
  MediaLineSummary,
  MediaPlan,
  RelayedCodec,
  SdpRewriteResult,
  WicTransport,
} from './types.js';
