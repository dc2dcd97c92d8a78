/**
 * epcscf/plugin — the one door for W2 plugin authors (package export `epcscf/plugin`): the
 * contract (contract.ts, session.ts, host.ts), the virtual-UE types behind `host.ua`, the SIP
 * model a plugin needs, the error model and FloodGuard. A plugin imports nothing else of
 * epcscf; test/contract/only-door.test.ts holds the built-in plugins and examples to that.
 */
export { W2_CONTRACT_VERSION, defineW2Plugin } from './contract.js';
export type { JsonSchema, W2Binding, W2Plugin, W2PluginInstance, W2PluginMeta } from './contract.js';
export type { SessionCloseCause, SessionCloseReason, W2Connection, W2Frame, W2Session } from './session.js';
export type { PluginUeOptions, W2Host, W2Observer, W2ObserverEvents, W2SipApi, W2MmtelInfo, W2UaFactory, W2UtApi, W2WebAuthInfo } from './host.js';
// Ut (TS 24.623): one XCAP operation on the client's own simservs document (host.ut).
export type { UtMethod, UtRequest, UtResponse } from '../ut/ut-types.js';
export { FloodGuard } from './flood-guard.js';
// host.state (issue #15): the plugin's TTL store, and the token-sealing of what a client's token guards.
export type { TtlStore } from '../state/state-backend.js';
export { openUnderToken, sealUnderToken, stateKeyOf } from './token-seal.js';
export type { FloodLimits } from './flood-guard.js';

// The error model (docs/style.md): coded faults; a SIP outcome of the virtual UE.
export { EpcError, ERROR_CODES } from '../errors.js';
export type { ErrorCode } from '../errors.js';
export { UaRejectedError } from '../ua/index.js';
// Client strings checked where they enter the virtual UE (issue 11 #1/#3): plugins refuse them early with their own error.
export { checkBearerToken, checkBodyType, checkDisplayName, checkPrivateIdentity, parseTarget, targetText } from '../ua/index.js';

// Web tokens (TS 24.371 scenarios 2/3): the reason phrases the core refuses a token with (R-REG-4),
// so a plugin reports the same words in its own protocol (xmpp-ws SASL <text/>, jsonrpc-ws -32009).
export { TOKEN_REFUSAL_REASONS } from '../webauth/token-refusals.js';

// host.ua: the virtual Gm UE (core/ua/api.ts) a non-SIP plugin drives.
export type * from '../ua/api.js';
// A registration a resuming client carries on across nodes (issue #15), checked when read back from host.state.
export { readRegistrationSnapshot, type RegistrationSnapshot, type DigestRealmSnapshot } from '../ua/index.js';
// MWI (TS 24.606): RFC 3842 message-summary bodies as counts, the same in every plugin.
export { parseMessageSummary } from '../ua/message-summary.js';
export type { MessageCounts, MessageSummary } from '../ua/message-summary.js';

// The canonical SIP model and codec (the same stable surface as `epcscf/sip`).
export type {
  SipMessage, SipRequest, SipResponse, SipHeader, SipMethod, Uri, SipUri, TelUri, NameAddr, Clock, TimerHandle,
} from '../sip/index.js';
export {
  parseMessage, serializeMessage, SipParseError, buildMalformedReply, createRequest, createResponse,
  addHeader, setHeader, removeHeader, withBody, getHeader, getHeaders, hasHeader, cseq, callId, from, to,
  tagOf, contentType, mediaTypeOf, bodyText, parseUri, formatUri, getParam, parseNameAddr, formatNameAddr,
  generateTag, generateBranch, generateCallId, systemClock,
} from '../sip/index.js';
// CONF (TS 24.605): RFC 4575 conference-info bodies as a participant list, the same in every plugin.
export { CONFERENCE_INFO_TYPE, parseConferenceInfo } from '../ua/conference-info.js';
export { derivedConferenceFactoryUri } from '../ua/conference-focus.js';
export type { ConferenceInfo, ConferenceInfoState, ConferenceParticipant } from '../ua/conference-info.js';
// DTMF (issue #14): SIP INFO application/dtmf-relay bodies, the same in every plugin.
export { DTMF_RELAY_CONTENT_TYPE, parseDtmfRelay, formatDtmfRelay } from '../dtmf/dtmf-relay.js';
export type { DtmfDigit } from '../dtmf/dtmf-relay.js';
