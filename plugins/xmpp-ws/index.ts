/**
 * The XMPP over WebSocket W2 plugin (RFC 7395, spec-digest §10, issue #12): `plugins: [{ name:
 * xmpp-ws }]`. An XMPP client (Conversations, converse.js, @xmpp/client, stanza) logs in with
 * SASL PLAIN (or OAUTHBEARER with a web token), chats and calls with Jingle; a virtual Gm UE per
 * connection (core/ua) registers with the client's password or token and produces the SIP a
 * TS 24.229 UE would send.
 *
 * This file and connection-port.ts are the only ones that touch the plugin contract (manifest,
 * bindings, init, openSession; the per-connection hooks): the session gets its dependencies
 * (XmppWsDeps) from the port instead of the host.
 */
import { EpcError, W2_CONTRACT_VERSION, defineW2Plugin, type W2Plugin, type W2Session } from '../../core/contract/index.js';
import { DEFAULT_XMPP_WS_OPTIONS, XMPP_WS_OPTIONS_SCHEMA, type XmppWsOptions } from './options.js';
import { ConnectionPort } from './connection-port.js';
import { frameParserFor, type XmppWsSession } from './session.js';
import { ResumableStreams } from './sm/resumable-streams.js';
import { SASL_MECHANISMS, WEB_AUTH_SASL_MECHANISMS } from './stream/features.js';
import { closeFrame } from './xml/framing.js';

export { XmppWsSession } from './session.js';
export type { SessionFlows, XmppConnection, XmppUeFactory, XmppWsDeps } from './session.js';
export { ResumableStreams } from './sm/resumable-streams.js';
export { DEFAULT_XMPP_WS_OPTIONS, XMPP_WS_OPTIONS_SCHEMA } from './options.js';
export type { XmppWsOptions } from './options.js';

/** R-XWS-1: RFC 7395 §3.1 subprotocol token. */
export const XMPP_SUBPROTOCOL = 'xmpp';
export const XMPP_PATH = '/xmpp';
/** Largest WebSocket message on /xmpp (the schema's upper bound of maxStanzaBytes). */
export const MAX_FRAME_BYTES = 1_048_576;

export const xmppWsPlugin: W2Plugin<Partial<XmppWsOptions>> = defineW2Plugin<Partial<XmppWsOptions>>({
  meta: {
    name: 'xmpp-ws',
    version: '0.1.0',
    contract: W2_CONTRACT_VERSION,
    description: 'XMPP over WebSocket (RFC 7395) with Jingle: chat and calls for XMPP clients (a virtual Gm UE per client)',
  },
  // One message is one stanza (RFC 7395 §3.3.3): 1 MiB bounds what one client makes the core
  // buffer (the largest maxStanzaBytes allowed). Between maxStanzaBytes and this ceiling a stanza
  // gets its stream error (policy-violation); beyond it the core closes with 1009 (w2.maxFrameBytes,
  // 64 KiB by default, caps it lower still).
  bindings: [{ path: XMPP_PATH, subprotocols: [XMPP_SUBPROTOCOL], maxFrameBytes: MAX_FRAME_BYTES }],
  optionsSchema: XMPP_WS_OPTIONS_SCHEMA,
  // One instance per load (contract 2): the options live in init's closure.
  init(host, settings) {
    const domain = (settings.domain || host.homeDomain || '').toLowerCase();
    if (domain === '') throw new EpcError('EPC_ERR_PLUGIN_OPTIONS_INVALID', 'xmpp-ws: no XMPP domain: set options.domain or mw.domain');
    const options: XmppWsOptions = { ...DEFAULT_XMPP_WS_OPTIONS, ...settings, domain };
    if (options.seeOtherUri !== '') {
      // RFC 7395 §3.6.1: checked once here, so a session never fails to build its redirect.
      try {
        closeFrame(options.seeOtherUri);
      } catch {
        throw new EpcError('EPC_ERR_PLUGIN_OPTIONS_INVALID', `xmpp-ws: seeOtherUri must be a ws:// or wss:// URI, not ${options.seeOtherUri}`);
      }
    }
    // XEP-0198: the resumable streams of this load; a detached stream's record goes to
    // host.state, so a node sharing it can resume the stream (issue #15).
    const streams = new ResumableStreams<XmppWsSession>(host.state);
    // RFC 7628: OAUTHBEARER (the WWSF's web token, TS 24.371 scenarios 2/3) beside PLAIN, only
    // when the core validates web tokens (config webAuth has issuers).
    const saslMechanisms = host.webAuth?.enabled === true ? WEB_AUTH_SASL_MECHANISMS : SASL_MECHANISMS;
    // One parser for every session of this load: parsing is synchronous, one message at a time.
    const parser = frameParserFor(options);
    const shared = { host, options, streams, parser, saslMechanisms };
    return {
      openSession: (conn): W2Session => new ConnectionPort(shared, conn),
    };
  },
});

export default xmppWsPlugin;
