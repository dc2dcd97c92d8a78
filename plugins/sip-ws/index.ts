/**
 * The SIP over WebSocket W2 plugin (RFC 7118): `plugins: [{ name: sip-ws }]`. The core does the
 * handshake (path /sip, subprotocol "sip", RFC 7118 §4.1 / R-SIPWS-1) and the P-CSCF procedures;
 * this plugin only frames SIP messages (codec.ts) and guards the session (session.ts).
 */
import { W2_CONTRACT_VERSION, defineW2Plugin } from '../../core/contract/index.js';
import { DEFAULT_SIP_WS_OPTIONS, SipWsSession } from './session.js';
import type { SipWsOptions } from './session.js';

export { SipWsSession, DEFAULT_SIP_WS_OPTIONS, FLOOD_CLOSE_CODE } from './session.js';
export type { SipWsCounters, SipWsOptions } from './session.js';

export default defineW2Plugin<SipWsOptions>({
  meta: {
    name: 'sip-ws',
    version: '0.1.0',
    contract: W2_CONTRACT_VERSION,
    description: 'SIP over WebSocket (RFC 7118): the client speaks SIP itself',
  },
  // RFC 7118 §4.1: the subprotocol token is "sip". The path is a convention; the config's
  // `path` moves it.
  bindings: [{ path: '/sip', subprotocols: ['sip'] }],
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      maxMessageBytes: {
        type: 'integer', minimum: 256, maximum: 16_777_216, default: DEFAULT_SIP_WS_OPTIONS.maxMessageBytes,
        description: 'largest SIP message in one WebSocket message; a bigger request is answered 513',
      },
      floodRatePerSecond: {
        type: 'number', exclusiveMinimum: 0, default: DEFAULT_SIP_WS_OPTIONS.floodRatePerSecond,
        description: 'messages per second a client may send on average',
      },
      floodBurst: {
        type: 'integer', minimum: 1, default: DEFAULT_SIP_WS_OPTIONS.floodBurst,
        description: 'messages a client may send at once; beyond the bucket the connection closes with 1008 "flood"',
      },
    },
  },
  // One instance per load: two servers in one process (tests, embedders) keep their own options.
  init(host, options) {
    const loaded: SipWsOptions = { ...DEFAULT_SIP_WS_OPTIONS, ...options };
    return { openSession: (conn) => new SipWsSession(conn, host, loaded) };
  },
});
