/**
 * epcscf/sip — the canonical SIP information model and its codec: the stable public entry of
 * the SIP stack (package export `epcscf/sip`).
 */
export type { SipMessage, SipRequest, SipResponse, SipHeader, SipMethod, KnownMethod } from './model/message.js';
export { isRequest } from './model/message.js';
export type { Uri, SipUri, TelUri, AbsoluteUri, SipParam } from './model/uri.js';
export { isSipUri, getParam, hasParam, withParam, withoutParam, socketHost } from './model/uri.js';
export type { NameAddr } from './model/name-addr.js';
export type { Via, CSeq, Contact, ContactBinding, AuthValue, ChargingVector } from './model/views.js';
export { canonicalHeaderName, headerKey } from './model/header-names.js';
export {
  getHeader, getHeaders, hasHeader, vias, topVia, from, to, tagOf, callId, cseq, contacts, nameAddrList,
  maxForwards, contentType, mediaTypeOf, expires, authValues, optionTags, privacy, chargingVector, bodyText,
} from './model/access.js';
export {
  createRequest, createResponse, setHeader, addHeader, removeHeader, withBody, withUri, withHeaders, REASON_PHRASES,
} from './model/edit.js';
export type { RequestInit, ResponseInit, HeaderInput } from './model/edit.js';
export { bodyParts, multipartBoundary, nonSdpParts, sdpOf, withSdp, type BodyPart } from './model/multipart.js';
export { parseMessage } from './codec/parse.js';
export type { ParseOptions } from './codec/parse.js';
export { serializeMessage } from './codec/serialize.js';
export { SipParseError } from './codec/parse-error.js';
export { SipBuildError } from './model/build-error.js';
export { checkHeaderValue, checkHeaderName } from './grammar/header-value.js';
export { checkMediaType, isMediaType, mediaTypeProblem } from './grammar/media-type.js';
export { parseUri, formatUri, isIpHost } from './grammar/uri.js';
export { parseNameAddr, parseContact, formatNameAddr } from './grammar/name-addr.js';
export { parseVia, formatVia } from './grammar/via.js';
export { parseAuthValue, formatAuth } from './grammar/auth.js';
export { splitList } from './grammar/list.js';
export { quote, unquote } from './grammar/quoted.js';
export { generateBranch, generateTag, generateCallId, BRANCH_MAGIC_COOKIE } from './ids.js';
export { EpcError } from '../errors.js';
export * from './auth/digest.js';
export { SipStack, type SipStackOptions } from './stack.js';
export { systemClock, type Clock, type TimerHandle } from './clock.js';
export { buildMalformedReply } from './transport/malformed-reply.js';
