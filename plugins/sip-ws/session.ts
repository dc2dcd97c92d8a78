/**
 * One SIP-over-WebSocket client (RFC 7118). The plugin is a thin framing layer: SIP the client
 * sends goes to the core unchanged (`host.sip.fromClient`), SIP the core delivers goes out as one
 * WebSocket message each. The P-CSCF procedures (Path, flow tokens, Record-Route...) are core's.
 */
import { EpcError } from '../../core/contract/index.js';
import type { W2Host } from '../../core/contract/index.js';
import type { SessionCloseReason, W2Connection, W2Frame, W2Session } from '../../core/contract/index.js';
import { addHeader, createResponse, generateTag } from '../../core/contract/index.js';
import type { SipMessage, SipParseError, SipRequest, SipResponse } from '../../core/contract/index.js';
import { buildMalformedReply } from '../../core/contract/index.js';
import { decodeFrame, encodeMessage, KEEPALIVE_PONG } from './codec.js';
import { FloodGuard } from '../../core/contract/index.js';
import type { FloodLimits } from '../../core/contract/index.js';

export interface SipWsOptions {
  /** Largest SIP message accepted in one frame; a bigger request gets 513 (RFC 3261 §21.5.14). */
  readonly maxMessageBytes: number;
  /** Token bucket per session: messages per second on average ... */
  readonly floodRatePerSecond: number;
  /** ... and at once. Beyond it the session is closed with 1008 "flood". */
  readonly floodBurst: number;
}

export const DEFAULT_SIP_WS_OPTIONS: SipWsOptions = {
  maxMessageBytes: 65_536,
  floodRatePerSecond: 50,
  floodBurst: 200,
};

/** RFC 3261 §20.43 warn-agent: a pseudonym is allowed where a host:port would reveal nothing useful. */
const WARN_AGENT = 'epcscf';

/** RFC 6455 §7.4.1: 1008 = policy violation. */
export const FLOOD_CLOSE_CODE = 1008;

/** Counters for describe() (the admin API). */
export interface SipWsCounters {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  requestsIn: number;
  responsesIn: number;
  requestsOut: number;
  responsesOut: number;
  keepAlives: number;
  malformed: number;
  malformedAnswered: number;
  coreRefused: number;
}

/** One limits object per options object, shared by its sessions (not one per connection). */
const limitsByOptions = new WeakMap<SipWsOptions, FloodLimits>();

function floodLimitsOf(options: SipWsOptions): FloodLimits {
  let limits = limitsByOptions.get(options);
  if (limits === undefined) {
    limits = { ratePerSecond: options.floodRatePerSecond, burst: options.floodBurst };
    limitsByOptions.set(options, limits);
  }
  return limits;
}

export class SipWsSession implements W2Session {
  readonly #conn: W2Connection;
  readonly #host: W2Host;
  readonly #options: SipWsOptions;
  readonly #flood: FloodGuard;
  readonly #openedAt = Date.now();
  readonly #counters: SipWsCounters = {
    framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, requestsIn: 0, responsesIn: 0,
    requestsOut: 0, responsesOut: 0, keepAlives: 0, malformed: 0, malformedAnswered: 0, coreRefused: 0,
  };
  #flooded = false;
  #closed = false;

  constructor(conn: W2Connection, host: W2Host, options: SipWsOptions = DEFAULT_SIP_WS_OPTIONS, now: () => number = Date.now) {
    this.#conn = conn;
    this.#host = host;
    this.#options = options;
    this.#flood = new FloodGuard(floodLimitsOf(options), now);
  }

  async onFrame(frame: W2Frame): Promise<void> {
    if (this.#closed || this.#flooded) return;
    this.#counters.framesIn += 1;
    this.#counters.bytesIn += typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength;
    if (!this.#flood.take()) {
      this.#flooded = true;
      this.#host.log.warn({ connectionId: this.#conn.id, remote: this.#conn.remote }, 'sip-ws: client exceeds the message rate, closing with 1008');
      this.#host.observer.emit('refused', { reason: 'flood', remoteAddress: this.#conn.remote.address, connectionId: this.#conn.id });
      this.#conn.close(FLOOD_CLOSE_CODE, 'flood');
      return;
    }
    const decoded = decodeFrame(frame, this.#options.maxMessageBytes);
    switch (decoded.kind) {
      case 'ignore':
        return;
      case 'ping':
        this.#counters.keepAlives += 1;
        await this.#send(KEEPALIVE_PONG);
        return;
      case 'malformed':
        await this.#onMalformed(decoded.bytes, decoded.error);
        return;
      case 'message':
        await this.#toCore(decoded.message);
        return;
    }
  }

  onSipRequest(request: SipRequest): Promise<void> {
    this.#counters.requestsOut += 1;
    return this.#send(encodeMessage(request));
  }

  onSipResponse(response: SipResponse): Promise<void> {
    this.#counters.responsesOut += 1;
    return this.#send(encodeMessage(response));
  }

  onClose(reason: SessionCloseReason): void {
    this.#closed = true;
    this.#host.log.debug({ connectionId: this.#conn.id, ...reason, counters: this.#counters }, 'sip-ws: session closed');
  }

  describe(): Record<string, unknown> {
    return {
      connectionId: this.#conn.id,
      remote: `${this.#conn.remote.address}:${this.#conn.remote.port}`,
      secure: this.#conn.secure,
      openedAt: new Date(this.#openedAt).toISOString(),
      flooded: this.#flooded,
      ...this.#counters,
    };
  }

  async #toCore(message: SipMessage): Promise<void> {
    if (message.kind === 'request') this.#counters.requestsIn += 1;
    else this.#counters.responsesIn += 1;
    try {
      await this.#host.sip.fromClient(this.#conn.id, message);
    } catch (error) {
      // The core could not take the message at all (shutting down, session unknown): that is
      // not this client's fault, so the connection stays; a request is answered 503
      // (RFC 3261 §21.5.4), anything else is dropped.
      if (!(error instanceof EpcError)) throw error;
      this.#counters.coreRefused += 1;
      this.#host.log.warn({ connectionId: this.#conn.id, err: error }, 'sip-ws: the SIP core refused a message');
      if (message.kind === 'request' && message.method !== 'ACK') {
        // RFC 3261 §8.2.6.2: a response generated here carries a To tag.
        await this.#send(encodeMessage(createResponse(message, 503, 'Service Unavailable', { toTag: generateTag() })));
      }
    }
  }

  /**
   * RFC 3261 §16.3 / §21.4.1 and the issue: a malformed request is answered (400 or the status
   * the parser names: 505, 501, 513...) with the reason in the reason phrase and a Warning 399;
   * a malformed response is discarded (RFC 3261 §18.1.2). The connection survives either way.
   */
  async #onMalformed(bytes: Buffer, error: SipParseError): Promise<void> {
    this.#counters.malformed += 1;
    // RFC 7118: the WebSocket is this client's alone, so the answer needs no Via to find it.
    const reply = buildMalformedReply(bytes, error, { sameConnection: true });
    this.#host.log.info({ connectionId: this.#conn.id, reason: error.reason, answered: reply !== undefined }, 'sip-ws: malformed SIP from client');
    if (reply === undefined) return;
    this.#counters.malformedAnswered += 1;
    // RFC 3261 §20.43: warn-code 399 (miscellaneous), warn-agent a pseudonym, text quoted.
    const text = error.reason.replace(/["\\\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, 200);
    await this.#send(encodeMessage(addHeader(reply, 'Warning', `399 ${WARN_AGENT} "${text}"`)));
  }

  async #send(frame: W2Frame): Promise<void> {
    await this.#conn.send(frame);
    this.#counters.framesOut += 1;
    this.#counters.bytesOut += typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength;
  }
}

