import { createSocket, type Socket } from 'node:dgram';
import { EpcError } from '../../core/errors.js';

/** An inclusive UDP port range from configuration (one per side: WebRTC access, IMS core). */
export interface PortRange {
  readonly min: number;
  readonly max: number;
}

/**
 * Binds UDP sockets inside a configured port range. A rotating cursor hands out ports in order so
 * a port freed by one call is not reused by the next one at once (late packets of the old call
 * would land in the new one).
 */
export class UdpPortAllocator {
  #cursor: number;

  constructor(
    readonly range: PortRange,
    readonly host = '127.0.0.1',
  ) {
    if (!(range.min > 0 && range.max <= 65535 && range.min <= range.max)) {
      throw new EpcError('EPC_ERR_CONFIG_INVALID', `media port range ${range.min}-${range.max} is not valid`);
    }
    this.#cursor = range.min;
  }

  /** One socket on any free port of the range. */
  async bindOne(): Promise<Socket> {
    const span = this.range.max - this.range.min + 1;
    for (let tries = 0; tries < span; tries++) {
      const port = this.#advance(1);
      const socket = await this.#tryBind(port);
      if (socket) return socket;
    }
    throw new EpcError('EPC_ERR_MEDIA', `no free UDP port in ${this.range.min}-${this.range.max}`);
  }

  /** RFC 3550 §11: RTP on an even port and RTCP on the next (odd) one. */
  async bindPair(): Promise<readonly [Socket, Socket]> {
    const span = Math.floor((this.range.max - this.range.min + 1) / 2);
    for (let tries = 0; tries < span; tries++) {
      let port = this.#advance(2);
      if (port % 2 === 1) port = port + 1 > this.range.max ? this.range.min + (this.range.min % 2) : port + 1;
      if (port + 1 > this.range.max) continue;
      const rtp = await this.#tryBind(port);
      if (!rtp) continue;
      const rtcp = await this.#tryBind(port + 1);
      if (rtcp) return [rtp, rtcp];
      await closeSocket(rtp);
    }
    throw new EpcError('EPC_ERR_MEDIA', `no free even/odd UDP port pair in ${this.range.min}-${this.range.max}`);
  }

  #advance(step: number): number {
    const port = this.#cursor;
    this.#cursor += step;
    if (this.#cursor > this.range.max) this.#cursor = this.range.min;
    return port;
  }

  #tryBind(port: number): Promise<Socket | undefined> {
    const socket = createSocket({ type: this.host.includes(':') ? 'udp6' : 'udp4' });
    return new Promise((resolve) => {
      const onError = (): void => {
        socket.close();
        resolve(undefined);
      };
      socket.once('error', onError);
      socket.bind({ port, address: this.host, exclusive: true }, () => {
        socket.off('error', onError);
        resolve(socket);
      });
    });
  }
}

/** Closes a dgram socket once; resolves when it is closed (already closed counts). */
export function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // ERR_SOCKET_DGRAM_NOT_RUNNING: already closed
    }
  });
}
