import type { Server, Socket } from 'node:net';
import { isIP } from 'node:net';
import { connect, createServer, type SecureContextOptions } from 'node:tls';
import { transportError } from './transport-base.js';
import { StreamTransport, type OutboundSocket, type StreamTransportOptions } from './stream-transport.js';
import type { SipTarget } from './types.js';

export interface TlsTransportOptions extends StreamTransportOptions {
  /** PEM private key and certificate chain of this node (server side, and client side for mutual TLS). */
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  /** Trust anchors for peers' certificates (default: Node's bundled CAs). */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** Verify peer certificates on outbound connections (default true; RFC 5922 §7.2). */
  readonly rejectUnauthorized?: boolean;
  /** Ask inbound peers for a client certificate (mutual TLS between SIP servers, RFC 5922 §7.4). */
  readonly requestCert?: boolean;
  readonly minVersion?: SecureContextOptions['minVersion'];
}

/** SIP over TLS (RFC 3261 §26.3.1, RFC 5922), framed like TCP. */
export class TlsTransport extends StreamTransport {
  readonly protocol = 'tls' as const;
  readonly #tls: TlsTransportOptions;

  constructor(options: TlsTransportOptions) {
    super(options);
    this.#tls = options;
  }

  protected createServer(onConnection: (socket: Socket) => void): Server {
    const server = createServer({
      key: this.#tls.key,
      cert: this.#tls.cert,
      ...(this.#tls.ca ? { ca: this.#tls.ca as string | Buffer | (string | Buffer)[] } : {}),
      requestCert: this.#tls.requestCert ?? false,
      rejectUnauthorized: this.#tls.requestCert ?? false,
      minVersion: this.#tls.minVersion ?? 'TLSv1.2',
    }, onConnection);
    // A failed handshake only affects that peer; report it and keep serving.
    server.on('tlsClientError', (err, socket) => {
      this.reportFault({
        error: transportError(`TLS handshake from ${socket.remoteAddress ?? '?'} failed: ${err.message}`, err),
        action: 'closed',
      });
    });
    return server;
  }

  protected connectSocket(target: SipTarget, localAddress: string | undefined): OutboundSocket {
    // RFC 5922 §7.2: the certificate must match the domain we resolved; for a bare address
    // the address itself is checked against the certificate's IP subjectAltNames.
    const servername = target.tlsServerName ?? (isIP(target.host) ? undefined : target.host);
    const socket = connect({
      host: target.host,
      port: target.port,
      key: this.#tls.key,
      cert: this.#tls.cert,
      ...(this.#tls.ca ? { ca: this.#tls.ca as string | Buffer | (string | Buffer)[] } : {}),
      ...(servername ? { servername } : {}),
      ...(localAddress ? { localAddress } : {}),
      rejectUnauthorized: this.#tls.rejectUnauthorized ?? true,
      minVersion: this.#tls.minVersion ?? 'TLSv1.2',
    });
    return { socket, readyEvent: 'secureConnect' };
  }
}
