/**
 * Loopback UDP sockets for the load endpoints, bound in a fixed port range (the bench owns
 * 44000-47999: the gateways' ranges and these). Ports are handed out round-robin; one that is
 * taken (another process, a socket still closing) is skipped.
 */
import { createSocket, type Socket } from 'node:dgram';

/** 1 MiB: a burst of relayed packets must not overflow the default ~208 KiB receive buffer. */
const RECEIVE_BUFFER_BYTES = 1 << 20;

export class PortRange {
  #next: number;

  constructor(readonly min: number, readonly max: number) {
    this.#next = min;
  }

  /** A udp4 socket bound on 127.0.0.1 at the next free port of the range. */
  async bind(): Promise<Socket> {
    const size = this.max - this.min + 1;
    for (let attempt = 0; attempt < size; attempt++) {
      const port = this.#next;
      this.#next = port >= this.max ? this.min : port + 1;
      const socket = await tryBind(port);
      if (socket !== undefined) return socket;
    }
    throw new Error(`no free UDP port in ${this.min}-${this.max}`);
  }
}

function tryBind(port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket({ type: 'udp4', recvBufferSize: RECEIVE_BUFFER_BYTES });
    const onError = (): void => {
      try { socket.close(); } catch { /* never bound */ }
      resolve(undefined);
    };
    socket.once('error', onError);
    socket.bind({ port, address: '127.0.0.1', exclusive: true }, () => {
      socket.off('error', onError);
      // A send error (ICMP port unreachable once the gateway closed a port) is not fatal.
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}

/**
 * Connects a load endpoint's socket to the gateway. A connected UDP socket sends synchronously: Node's
 * `send(buf, port, address)` defers the send to a DNS-lookup callback (process.nextTick) even for
 * an IP literal, so a buffer rewritten before then (the next packet of the same stream in a
 * catch-up burst, a ring slot reused) would go out with the wrong bytes. It also only receives
 * from the gateway, so nothing else reaches the measurements.
 */
export function connectSocket(socket: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}
