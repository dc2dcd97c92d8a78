/**
 * Per-connection half of the W2 plugin contract: what the core gives a plugin for one
 * WebSocket client (W2Connection) and what the plugin gives back (W2Session).
 */
import type { SipRequest, SipResponse } from '../sip/model/message.js';

/** One WebSocket message: text frames arrive as string, binary frames as Uint8Array. */
export type W2Frame = string | Uint8Array;

/** The core's view of one connected client, handed to `openSession`. */
export interface W2Connection {
  /** Unique for the life of the process; also the key `host.sip` uses to find this client's flow. */
  readonly id: string;
  /** The subprotocol the core negotiated and echoed (RFC 6455 §4.2.2), e.g. 'sip'. */
  readonly subprotocol: string;
  /** The request path the client connected to (one of the plugin's binding paths). */
  readonly path: string;
  readonly remote: { readonly address: string; readonly port: number };
  /** The Origin header of the handshake; undefined for non-browser clients that send none. */
  readonly origin: string | undefined;
  /** True for wss:// (TLS). RFC 7118 §5.2 uses it to pick the Via transport (WSS vs WS). */
  readonly secure: boolean;
  /**
   * Sends one frame (string → text, Uint8Array → binary). Resolves when handed to the socket;
   * rejects with EPC_ERR_INVALID_STATE once the connection is closing or closed.
   */
  send(frame: W2Frame): Promise<void>;
  /**
   * Closes the connection (RFC 6455 §7.4.1: 1000 normal, 1008 policy violation, 1011 internal
   * error). Idempotent. `onClose` follows with `{ cause: 'plugin' }`.
   */
  close(code?: number, reason?: string): void;
}

/** Why a session ended. `code`/`reason` are what went (or came) on the wire, RFC 6455 §7.4. */
export type SessionCloseCause =
  | 'remote'      // the client closed, or the TCP connection dropped (code 1006)
  | 'plugin'      // the plugin called conn.close()
  | 'fault'       // a plugin hook threw or rejected: closed with 1011
  | 'frame-limit' // a message exceeded maxFrameBytes: closed with 1009
  | 'keepalive'   // no pong to the idle ping: connection terminated
  | 'deadline'    // no first message within w2.limits.firstFrameTimeoutSeconds: closed with 1008
  | 'operator'    // an operator closed it (admin API): the code/reason it chose
  | 'shutdown';   // the server is stopping: closed with 1001

export interface SessionCloseReason {
  readonly cause: SessionCloseCause;
  readonly code: number;
  readonly reason: string;
}

/** What a plugin returns from `openSession`. */
export interface W2Session {
  /**
   * One inbound message. Mandatory. Frames are delivered one at a time in order: the next
   * onFrame waits until a returned promise settles. A throw/rejection is a plugin fault: the
   * core closes this connection with 1011 and counts it; other sessions are unaffected.
   */
  onFrame(frame: W2Frame): void | Promise<void>;
  /**
   * The session is over. Mandatory; called exactly once whatever happens (client close, fault,
   * shutdown). The core cleans up what the session owns in SIP afterwards; the plugin only
   * drops its own state. After it, no other hook of this session is called.
   */
  onClose(reason: SessionCloseReason): void | Promise<void>;
  /**
   * A SIP request for this session's client (terminating INVITE, MESSAGE, NOTIFY, in-dialog
   * BYE...), already through the P-CSCF procedures. The plugin conveys it in its protocol and
   * hands the client's answer back with `host.sip.fromClient`. Optional: a session without it
   * is not reachable, and the core answers such requests with 480 (R-TERM-1).
   */
  onSipRequest?(request: SipRequest): void | Promise<void>;
  /** A SIP response to a request this session's client sent through `host.sip.fromClient`. */
  onSipResponse?(response: SipResponse): void | Promise<void>;
  /** A JSON-safe snapshot for the admin API (mediasoup dump(), Janus query_session). */
  describe?(): Record<string, unknown>;
}
