/**
 * The JSON-RPC 2.0 over WebSocket W2 plugin (spec-digest §9, issue #5): `plugins: [{ name:
 * jsonrpc-ws }]`. A web client with no SIP knowledge registers, calls and messages with plain
 * JSON-RPC; a virtual Gm UE per connection (core/ua) produces the SIP a TS 24.229 UE would
 * send, so the P-CSCF procedures and the IMS-ALG apply unchanged.
 *
 * Subprotocol (R-JR-1): the IANA WebSocket Subprotocol Name Registry has no JSON-RPC token, so
 * this plugin uses the private token `epcscf.jsonrpc.v1` (RFC 6455 §1.9: a versioned,
 * domain-like name avoids collisions) and the core refuses an upgrade that does not offer it.
 */
import { W2_CONTRACT_VERSION, defineW2Plugin } from '../../core/contract/index.js';
import type { W2Plugin } from '../../core/contract/index.js';
import { JsonRpcDispatcher } from './dispatcher.js';
import { ALL_METHODS } from './methods/all-methods.js';
import { DEFAULT_JSONRPC_WS_OPTIONS, JSONRPC_WS_OPTIONS_SCHEMA, type JsonRpcWsOptions } from './options.js';
import { ResumeStore } from './resume-store.js';
import { apiSchemaValidator } from './schema-validator.js';
import { JsonRpcWsSession, type JsonRpcWsDeps, type VirtualUeFactory } from './session.js';

export { JsonRpcWsSession, CLOSE_POLICY_VIOLATION, CLOSE_UNSUPPORTED_DATA } from './session.js';
export type { JsonRpcWsCounters, JsonRpcWsDeps, VirtualUeFactory } from './session.js';
export { DEFAULT_JSONRPC_WS_OPTIONS, JSONRPC_WS_OPTIONS_SCHEMA } from './options.js';
export type { JsonRpcWsOptions } from './options.js';
export { JsonRpcDispatcher } from './dispatcher.js';
export { ResumeStore } from './resume-store.js';
export { ALL_METHODS } from './methods/all-methods.js';

/** R-JR-1: the private subprotocol token (no IANA-registered token exists for JSON-RPC). */
export const JSONRPC_SUBPROTOCOL = 'epcscf.jsonrpc.v1';
export const JSONRPC_PATH = '/jsonrpc';

export interface JsonRpcWsPluginSetup {
  /** The UE factory; default host.ua.create (core/ua bound to the connection). */
  readonly createUe?: VirtualUeFactory;
}

/** A plugin instance; the default export uses the real core/ua. Tests inject a fake UE here. */
export function createJsonRpcWsPlugin(setup: JsonRpcWsPluginSetup = {}): W2Plugin<JsonRpcWsOptions> {
  return defineW2Plugin<JsonRpcWsOptions>({
    meta: {
      name: 'jsonrpc-ws',
      version: '0.1.0',
      contract: W2_CONTRACT_VERSION,
      description: 'JSON-RPC 2.0 over WebSocket: register, call and message without SIP (a virtual Gm UE per client)',
    },
    // A batch of SDP-carrying requests fits in 1 MiB; anything bigger closes with 1009.
    bindings: [{ path: JSONRPC_PATH, subprotocols: [JSONRPC_SUBPROTOCOL], maxFrameBytes: 1_048_576 }],
    optionsSchema: JSONRPC_WS_OPTIONS_SCHEMA,
    // One instance per load: two servers in one process (tests, embedders) keep their own
    // options, and their own resume tokens unless they share host.state.
    init(host, options) {
      const loaded: JsonRpcWsOptions = { ...DEFAULT_JSONRPC_WS_OPTIONS, ...options };
      const deps: JsonRpcWsDeps = {
        createUe: setup.createUe ?? ((conn, ueOptions) => host.ua.create(conn, ueOptions)),
        // Issue #15: resume tokens live in host.state, so another node sharing it can take them.
        resume: new ResumeStore(host.state),
        dispatcher: new JsonRpcDispatcher(ALL_METHODS, apiSchemaValidator(), host.log),
      };
      return { openSession: (conn) => new JsonRpcWsSession(conn, host, loaded, deps) };
    },
  });
}

export default createJsonRpcWsPlugin();
