import { connect, createServer, type Server, type Socket } from 'node:net';
import { StreamTransport, type OutboundSocket, type StreamTransportOptions } from './stream-transport.js';
import type { SipTarget } from './types.js';

export type TcpTransportOptions = StreamTransportOptions;

/** SIP over TCP (RFC 3261 §18), framed by Content-Length. */
export class TcpTransport extends StreamTransport {
  readonly protocol = 'tcp' as const;

  constructor(options: TcpTransportOptions = {}) {
    super(options);
  }

  protected createServer(onConnection: (socket: Socket) => void): Server {
    return createServer(onConnection);
  }

  protected connectSocket(target: SipTarget, localAddress: string | undefined): OutboundSocket {
    const socket = connect({ host: target.host, port: target.port, ...(localAddress ? { localAddress } : {}) });
    return { socket, readyEvent: 'connect' };
  }
}
