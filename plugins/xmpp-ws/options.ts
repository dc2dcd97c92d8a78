/** Options of the xmpp-ws plugin (config `plugins: [{ name: xmpp-ws, options: {...} }]`). */
import type { JsonSchema } from '../../core/contract/index.js';
import { DEFAULT_FRAME_LIMITS } from './xml/frame-parser.js';

export interface XmppWsOptions {
  /** The XMPP domain clients open streams to; default (empty) = mw.domain, so JIDs and IMPUs share it. */
  readonly domain: string;
  /** Largest WebSocket message (one stanza, RFC 7395 §3.3.3), UTF-8 bytes; bigger = policy-violation. */
  readonly maxStanzaBytes: number;
  /** Deepest element nesting in one stanza. */
  readonly maxDepth: number;
  /** Most attributes (namespace declarations count) on one element. */
  readonly maxAttributes: number;
  /** Most children under one element. */
  readonly maxChildren: number;
  /** Token bucket per connection: stanzas per second on average ... */
  readonly floodRatePerSecond: number;
  /** ... and at once; the first stanza beyond the bucket ends the stream with policy-violation. */
  readonly floodBurst: number;
  /** SASL attempts per stream before the stream is closed (RFC 6120 §6.4.5 lets the server limit retries). */
  readonly maxAuthAttempts: number;
  /** Calls (incoming + outgoing) one client may have at once. */
  readonly maxCallsPerClient: number;
  /** How long an outgoing session-initiate or a session-accept without candidates waits for trickled ones (ms). */
  readonly trickleWaitMs: number;
  /** XEP-0198: how long a dropped stream (its registration, its calls) waits for <resume/>; 0 = no resumption. */
  readonly resumeGraceSeconds: number;
  /** XEP-0198: most unacknowledged stanzas kept for a client; beyond it the stream cannot be resumed faithfully. */
  readonly smMaxQueue: number;
  /**
   * RFC 7395 §3.6.1: a ws:/wss: endpoint every new stream is sent to (`<close see-other-uri/>` in
   * answer to the client's first `<open/>`), e.g. while this node is drained; '' = serve here.
   */
  readonly seeOtherUri: string;
}

export const DEFAULT_XMPP_WS_OPTIONS: XmppWsOptions = {
  domain: '',
  maxStanzaBytes: DEFAULT_FRAME_LIMITS.maxBytes,
  maxDepth: DEFAULT_FRAME_LIMITS.maxDepth,
  maxAttributes: DEFAULT_FRAME_LIMITS.maxAttributes,
  maxChildren: DEFAULT_FRAME_LIMITS.maxChildren,
  floodRatePerSecond: 20,
  floodBurst: 60,
  maxAuthAttempts: 3,
  maxCallsPerClient: 4,
  trickleWaitMs: 300,
  resumeGraceSeconds: 120,
  smMaxQueue: 500,
  seeOtherUri: '',
};

const D = DEFAULT_XMPP_WS_OPTIONS;

export const XMPP_WS_OPTIONS_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    domain: { type: 'string', maxLength: 253, default: D.domain, description: 'XMPP domain of the users (JID user@domain = IMPU sip:user@domain); empty = mw.domain' },
    maxStanzaBytes: { type: 'integer', minimum: 1024, maximum: 1_048_576, default: D.maxStanzaBytes, description: 'largest stanza (one WebSocket message) in UTF-8 bytes; bigger ends the stream with policy-violation' },
    maxDepth: { type: 'integer', minimum: 4, maximum: 256, default: D.maxDepth, description: 'deepest element nesting in a stanza; deeper ends the stream with policy-violation' },
    maxAttributes: { type: 'integer', minimum: 8, maximum: 1024, default: D.maxAttributes, description: 'attributes (namespace declarations included) on one element' },
    maxChildren: { type: 'integer', minimum: 8, maximum: 10_000, default: D.maxChildren, description: 'children under one element' },
    floodRatePerSecond: { type: 'number', exclusiveMinimum: 0, default: D.floodRatePerSecond, description: 'stanzas per second a client may send on average' },
    floodBurst: { type: 'integer', minimum: 1, default: D.floodBurst, description: 'stanzas a client may send at once; beyond the bucket the stream ends with policy-violation' },
    maxAuthAttempts: { type: 'integer', minimum: 1, maximum: 20, default: D.maxAuthAttempts, description: 'SASL attempts per stream before it is closed' },
    maxCallsPerClient: { type: 'integer', minimum: 1, maximum: 100, default: D.maxCallsPerClient, description: 'concurrent calls per client; beyond it an incoming call is refused 486' },
    trickleWaitMs: { type: 'integer', minimum: 0, maximum: 5000, default: D.trickleWaitMs, description: 'ms a candidate-less Jingle offer/answer waits for trickled candidates before the SIP goes out' },
    resumeGraceSeconds: { type: 'integer', minimum: 0, maximum: 3600, default: D.resumeGraceSeconds, description: 'XEP-0198: seconds a dropped stream keeps its registration and calls for <resume/>; 0 disables resumption' },
    smMaxQueue: { type: 'integer', minimum: 10, maximum: 10_000, default: D.smMaxQueue, description: 'XEP-0198: unacknowledged stanzas kept per client; beyond it a live stream ends with policy-violation, a detached one is released' },
    seeOtherUri: { type: 'string', maxLength: 2048, pattern: '^(wss?://[^\\s<>"]+)?$', default: D.seeOtherUri, description: 'RFC 7395 §3.6.1: a ws:// or wss:// endpoint every new stream is redirected to (<close see-other-uri/> in answer to <open/>), e.g. to drain this node; empty = no redirect' },
  },
};
