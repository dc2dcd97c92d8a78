import { EpcError } from '../../errors.js';
import { SipParseError } from '../codec/parse-error.js';
import type { SipMessage } from '../model/message.js';
import { parseMessage } from '../codec/parse.js';
import { serializeMessage } from '../codec/serialize.js';
import { buildMalformedReply } from './malformed-reply.js';
import type {
  BoundAddress, FaultListener, MessageListener, MwTransportProtocol, TransportFault, TransportLog, TransportStats,
} from './transport.js';
import { emptyStats, silentLog } from './transport.js';
import type { SipSource, SipTarget } from './types.js';
import { stampReceived } from './via-received.js';

export interface TransportBaseOptions {
  readonly log?: TransportLog;
  /**
   * RFC 3261 §18.2.1 / RFC 3581: stamp `received`/`rport` on the top Via of inbound requests
   * (default true).
   */
  readonly stampReceived?: boolean;
}

/** Listener bookkeeping and the inbound path shared by UDP, TCP and TLS. */
export abstract class TransportBase {
  abstract readonly protocol: MwTransportProtocol;
  readonly stats: TransportStats = emptyStats();
  protected readonly log: TransportLog;
  readonly #stamp: boolean;
  readonly #messageListeners = new Set<MessageListener>();
  readonly #faultListeners = new Set<FaultListener>();
  protected bound: BoundAddress | undefined;

  constructor(options: TransportBaseOptions = {}) {
    this.log = options.log ?? silentLog;
    this.#stamp = options.stampReceived ?? true;
  }

  address(): BoundAddress {
    if (!this.bound) throw new EpcError('EPC_ERR_INVALID_STATE', `${this.protocol} transport is not listening`);
    return this.bound;
  }

  onMessage(listener: MessageListener): () => void {
    this.#messageListeners.add(listener);
    return () => { this.#messageListeners.delete(listener); };
  }

  onFault(listener: FaultListener): () => void {
    this.#faultListeners.add(listener);
    return () => { this.#faultListeners.delete(listener); };
  }

  protected reportFault(fault: TransportFault): void {
    this.log.warn({ code: fault.error.code, action: fault.action, source: fault.source }, fault.error.message);
    for (const listener of this.#faultListeners) {
      try { listener(fault); } catch (err) { this.log.warn({ err }, 'SIP transport fault listener threw'); }
    }
  }

  /**
   * Parses one message and hands it to the listeners. A malformed request is answered through
   * `reply` (RFC 3261 §8.2.6 / §18.2.1), a malformed response dropped (§18.1.2); neither throws.
   */
  protected receive(data: Buffer, source: SipSource, datagram: boolean, reply: (bytes: Buffer) => void): void {
    let message: SipMessage;
    try {
      message = parseMessage(data, { datagram });
      if (message.kind === 'request' && this.#stamp) message = stampReceived(message, source);
    } catch (err) {
      this.#rejectMalformed(data, source, err, reply);
      return;
    }
    this.stats.messagesReceived++;
    for (const listener of this.#messageListeners) {
      try { listener({ message, source }); } catch (err) { this.log.warn({ err }, 'SIP message listener threw'); }
    }
  }

  #rejectMalformed(data: Buffer, source: SipSource, err: unknown, reply: (bytes: Buffer) => void): void {
    this.stats.malformedMessages++;
    if (!(err instanceof SipParseError)) {
      const error = err instanceof EpcError ? err : new EpcError('EPC_ERR_SIP_PARSE', `parser failed: ${String(err)}`, { cause: err });
      this.reportFault({ error, source, action: 'dropped' });
      return;
    }
    const answer = buildMalformedReply(data, err);
    if (!answer) {
      this.reportFault({ error: err, source, action: 'dropped' });
      return;
    }
    try {
      reply(serializeMessage(answer));
      this.stats.malformedAnswered++;
      this.reportFault({ error: err, source, action: 'answered' });
    } catch (sendErr) {
      this.log.debug({ err: sendErr }, 'could not answer a malformed request');
      this.reportFault({ error: err, source, action: 'dropped' });
    }
  }
}

/** `transport:host:port`, the key for connection reuse (IPv6 hosts kept without brackets). */
export function remoteKey(target: Pick<SipTarget, 'host' | 'port'>): string {
  return `${target.host.toLowerCase()}|${target.port}`;
}

export function transportError(message: string, cause?: unknown): EpcError {
  return new EpcError('EPC_ERR_SIP_TRANSPORT', message, cause === undefined ? undefined : { cause });
}
