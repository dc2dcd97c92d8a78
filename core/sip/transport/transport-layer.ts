import { EpcError } from '../../errors.js';
import type { SipMessage } from '../model/message.js';
import { hostForUri, isWildcardAddress, parseListenerSpec, type ListenerConfig } from './listener-spec.js';
import type { StreamTransportOptions } from './stream-transport.js';
import { TcpTransport } from './tcp-transport.js';
import { TlsTransport, type TlsTransportOptions } from './tls-transport.js';
import { transportError } from './transport-base.js';
import type { FaultListener, MessageListener, MwTransportProtocol, SipTransport, TransportLog } from './transport.js';
import type { SipSender, SipTarget, TransportProtocol } from './types.js';
import { UdpTransport } from './udp-transport.js';

/** TLS credentials and trust for the `tls:` listener (the stream options come from `stream`). */
export type TlsCredentials = Omit<TlsTransportOptions, keyof StreamTransportOptions>;

export interface SipTransportLayerOptions {
  /** `udp:127.0.0.1:5060`, `tcp:[::1]:5060`, `tls:0.0.0.0:5061` or full configs; one per transport. */
  readonly listeners: readonly (string | ListenerConfig)[];
  /** Required when a `tls:` listener is configured. */
  readonly tls?: TlsCredentials;
  /** Framing limit, idle and connect timeouts for TCP and TLS. */
  readonly stream?: StreamTransportOptions;
  readonly log?: TransportLog;
}

/** The sent-by of our Via for one transport (RFC 3261 §18.1.1): host ready for the wire. */
export interface LocalVia {
  readonly host: string;
  readonly port: number;
}

interface Listener {
  readonly config: ListenerConfig;
  readonly transport: SipTransport;
  via: LocalVia;
}

/**
 * All Mw listeners behind one `SipSender`: `send()` picks the listener by `target.transport`
 * (or by the connection a `connectionId` names), inbound messages of every listener reach
 * `onMessage`, and `localVia()` says what to write in Via for each transport.
 */
export class SipTransportLayer implements SipSender {
  readonly #listeners = new Map<MwTransportProtocol, Listener>();
  readonly #messageListeners = new Set<MessageListener>();
  readonly #faultListeners = new Set<FaultListener>();
  #closed = false;

  private constructor() {}

  /** Creates and binds every listener; if one fails, the others are closed and the error is thrown. */
  static async start(options: SipTransportLayerOptions): Promise<SipTransportLayer> {
    const layer = new SipTransportLayer();
    try {
      for (const entry of options.listeners) {
        const config = typeof entry === 'string' ? parseListenerSpec(entry) : entry;
        await layer.#add(config, options);
      }
    } catch (err) {
      await layer.close();
      throw err;
    }
    return layer;
  }

  async #add(config: ListenerConfig, options: SipTransportLayerOptions): Promise<void> {
    if (this.#listeners.has(config.transport)) {
      throw new EpcError('EPC_ERR_CONFIG_INVALID', `two ${config.transport} listeners configured; one per transport is supported`);
    }
    if (isWildcardAddress(config.host) && !config.advertise) {
      throw new EpcError('EPC_ERR_CONFIG_INVALID',
        `${config.transport} listener on wildcard ${config.host} needs an advertise host for Via (RFC 3261 §18.1.1)`);
    }
    const common = { ...options.stream, ...(options.log ? { log: options.log } : {}) };
    let transport: SipTransport;
    if (config.transport === 'udp') transport = new UdpTransport(common);
    else if (config.transport === 'tcp') transport = new TcpTransport(common);
    else {
      if (!options.tls) throw new EpcError('EPC_ERR_CONFIG_INVALID', 'a tls listener needs tls.key and tls.cert');
      transport = new TlsTransport({ ...common, ...options.tls });
    }
    // Register before binding so close() reaches it even when listen() fails.
    const listener: Listener = { config, transport, via: { host: '', port: 0 } };
    this.#listeners.set(config.transport, listener);
    const bound = await transport.listen(config.host, config.port);
    listener.via = {
      host: hostForUri(config.advertise?.host ?? bound.host),
      port: config.advertise?.port ?? bound.port,
    };
    transport.onMessage((inbound) => {
      for (const l of this.#messageListeners) l(inbound);
    });
    transport.onFault((fault) => {
      for (const l of this.#faultListeners) l(fault);
    });
  }

  /** The listener for one transport, if configured (stats, bound address). */
  transport(protocol: TransportProtocol): SipTransport | undefined {
    return this.#listeners.get(protocol as MwTransportProtocol)?.transport;
  }

  /** Transports that have a listener, in configuration order. */
  get protocols(): MwTransportProtocol[] {
    return [...this.#listeners.keys()];
  }

  /** RFC 3261 §18.1.1: the sent-by host and port to put in our Via for `transport`. */
  localVia(transport: TransportProtocol): LocalVia {
    const listener = this.#listeners.get(transport as MwTransportProtocol);
    if (!listener) throw new EpcError('EPC_ERR_INVALID_STATE', `no ${transport} listener configured`);
    return listener.via;
  }

  async send(message: SipMessage, target: SipTarget): Promise<void> {
    if (this.#closed) throw transportError('SIP transport layer is closed');
    const listener = this.#listeners.get(target.transport as MwTransportProtocol);
    if (!listener) {
      throw transportError(`no ${target.transport} listener to send to ${target.host}:${target.port}`);
    }
    await listener.transport.send(message, target);
  }

  onMessage(listener: MessageListener): () => void {
    this.#messageListeners.add(listener);
    return () => { this.#messageListeners.delete(listener); };
  }

  onFault(listener: FaultListener): () => void {
    this.#faultListeners.add(listener);
    return () => { this.#faultListeners.delete(listener); };
  }

  /** Closes every listener and connection; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#listeners.values()].map((l) => l.transport.close()));
  }
}
