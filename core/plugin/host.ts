/**
 * The host API: the only way a plugin acts on the world (the Janus `janus_callbacks` rule).
 * `W2SipApi` is the seam toward the SIP core: the P-CSCF side implements it, the W2 server
 * only passes it through. It is kept deliberately small; the `core/ua` toolkit for plugins
 * that do not speak SIP themselves will be added here as a separate member.
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { SipMessage, SipRequest, SipResponse } from '../sip/model/message.js';
import type { SessionCloseReason } from './session.js';

/** Options of a locally generated SIP response (RFC 3261 §8.2.6). */
export interface W2ResponseOptions {
  readonly headers?: ReadonlyArray<readonly [name: string, value: string]>;
  readonly body?: Uint8Array | string;
  readonly contentType?: string;
}

/** A request from the IMS side for a session's client (see `W2Session.onSipRequest`). */
export interface W2IncomingSipRequest {
  readonly message: SipRequest;
  /**
   * Answers it (RFC 3261 §8.2.6: Via, From, To (+tag), Call-ID, CSeq copied). A plugin that
   * relays SIP verbatim (sip-ws) may instead pass the client's own response to
   * `host.sip.fromClient`; the core matches either to the same server transaction.
   */
  respond(status: number, reason?: string, options?: W2ResponseOptions): Promise<void>;
}

/** SIP.js-style outcome callbacks of a request sent with `W2SipApi.request`. */
export interface W2RequestDelegate {
  /** A 1xx arrived (100 Trying included). */
  onProgress?(response: SipResponse): void;
}

export interface W2SipApi {
  /**
   * Hands one SIP message that the client of `connectionId` sent over W2 to the core: a
   * request to treat per TS 24.229 §5.2 (the core routes it toward the IMS), or a response
   * to a request the core delivered through `onSipRequest`. Rejects with an EpcError when
   * the core refuses it (SIP outcomes reach the client as SIP responses, not rejections).
   */
  fromClient(connectionId: string, message: SipMessage): Promise<void>;
  /**
   * Sends a request built by the plugin on behalf of the client of `connectionId` (UA role,
   * for non-SIP plugins) and resolves with the final response, whatever its status. Rejects
   * with EPC_ERR_SIP_TIMEOUT / EPC_ERR_SIP_TRANSPORT (RFC 3261 §8.1.3.1: 408 / 503).
   */
  request(connectionId: string, request: SipRequest, delegate?: W2RequestDelegate): Promise<SipResponse>;
}

/** Monitoring events (the mediasoup `observer` idea): never used to drive behaviour. */
export interface W2ObserverEvents {
  sessionopen: [info: { connectionId: string; plugin: string; subprotocol: string; path: string }];
  sessionclose: [info: { connectionId: string; plugin: string; reason: SessionCloseReason }];
  pluginerror: [info: { connectionId: string | undefined; plugin: string; hook: string; error: unknown }];
}

export type W2Observer = EventEmitter<W2ObserverEvents>;

/** Handed to `init` and `openSession`; one per plugin. */
export interface W2Host {
  /** The contract version the core implements (W2_CONTRACT_VERSION). */
  readonly contract: number;
  /** A pino child logger with `{ plugin: meta.name }`. */
  readonly log: Logger;
  readonly sip: W2SipApi;
  readonly observer: W2Observer;
}
