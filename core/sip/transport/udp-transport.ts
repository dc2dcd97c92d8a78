import { createSocket, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import { EpcError } from '../../errors.js';
import type { SipMessage } from '../model/message.js';
import { socketHost } from '../model/uri.js';
import { serializeMessage } from '../codec/serialize.js';
import { TransportBase, transportError, type TransportBaseOptions } from './transport-base.js';
import type { BoundAddress, SipTransport } from './transport.js';
import type { SipSource, SipTarget } from './types.js';

/** Largest UDP payload over IPv4 (65535 - 20 IP - 8 UDP). */
const MAX_DATAGRAM = 65_507;

export type UdpTransportOptions = TransportBaseOptions;

/**
 * SIP over UDP (RFC 3261 §18): one socket both listens and sends, so requests leave from the
 * port in our Via sent-by and responses to them come back here. Each datagram is exactly one
 * message (parsed in datagram mode: Content-Length may be absent, §18.3).
 */
const UDP_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * dgram resolves the address of every unconnected send, and Node's lookup answers even an IP
 * literal on a later tick: one extra turn of the event loop per datagram. Targets are resolved
 * addresses already (RFC 3263 happens before the transport), so a literal is answered at once.
 */
function literalFirstLookup(hostname: string, options: LookupOneOptions, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const family = isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dnsLookup(hostname, options, callback);
}

export class UdpTransport extends TransportBase implements SipTransport {
  readonly protocol = 'udp' as const;
  #socket: Socket | undefined;
  #closed = false;

  constructor(options: UdpTransportOptions = {}) {
    super(options);
  }

  async listen(host: string, port: number): Promise<BoundAddress> {
    if (this.#socket || this.#closed) throw new EpcError('EPC_ERR_INVALID_STATE', 'UDP transport already listening or closed');
    const bindHost = socketHost(host);
    const socket = createSocket({ type: isIPv6(bindHost) ? 'udp6' : 'udp4', lookup: literalFirstLookup });
    this.#socket = socket;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(transportError(`UDP bind ${host}:${port} failed: ${err.message}`, err));
      socket.once('error', onError);
      socket.bind(port, bindHost, () => { socket.off('error', onError); resolve(); });
    }).catch((err: unknown) => { this.#socket = undefined; socket.close(); throw err; });
    const local = socket.address();
    this.bound = { host: local.address, port: local.port };
    // Bursts (hundreds of clients registering at once) overflow the default ~208 KB buffer and
    // cost a retransmission timer each; ask for more (the kernel caps it at net.core.rmem_max).
    try {
      socket.setRecvBufferSize(UDP_RECEIVE_BUFFER_BYTES);
      socket.setSendBufferSize(UDP_RECEIVE_BUFFER_BYTES);
    } catch {
      // Not fatal: the kernel keeps its default.
    }
    socket.on('message', (data, rinfo) => {
      const source: SipSource = {
        transport: 'udp', remoteAddress: rinfo.address, remotePort: rinfo.port,
        localAddress: local.address, localPort: local.port,
      };
      // RFC 3581: a malformed request is answered to the packet's source, the only address known.
      this.receive(data, source, true, (bytes) => { if (!this.#closed) socket.send(bytes, rinfo.port, rinfo.address); });
    });
    socket.on('error', (err) => {
      // Unconnected UDP sockets only see local errors here (ICMP is not reported); keep serving.
      this.reportFault({ error: transportError(`UDP socket error: ${err.message}`, err), action: 'dropped' });
    });
    return this.bound;
  }

  async send(message: SipMessage, target: SipTarget): Promise<void> {
    const socket = this.#socket;
    if (!socket || this.#closed) throw transportError('UDP transport is not listening');
    const bytes = serializeMessage(message);
    if (bytes.length > MAX_DATAGRAM) {
      throw new EpcError('EPC_ERR_SIP_TOO_LARGE', `SIP message of ${bytes.length} bytes does not fit a UDP datagram`);
    }
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => reject(transportError(`UDP send to ${target.host}:${target.port} failed: ${err.message}`, err));
      try {
        socket.send(bytes, target.port, socketHost(target.host), (err) => { if (err) fail(err); else resolve(); });
      } catch (err) {
        fail(err as Error); // e.g. the socket closed meanwhile, or an invalid port
      }
    });
    this.stats.messagesSent++;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
