/**
 * The IMS side of one bench call: a plain RTP/AVP endpoint (an IMS UE or MGW, R-ALG-4) on one
 * UDP socket. It sends its stream to the gateway's IMS-facing port from the offer SDP and
 * measures what the gateway relays to it from the WebRTC side. RTCP would arrive on port + 1
 * (no rtcp-mux toward IMS), which this endpoint does not bind: nothing is measured on it.
 */
import type { Socket } from 'node:dgram';
import { rtpHeaderLength } from '../../media-gw/rtp/rtp-header.js';
import type { RtpStream } from './rtp-stream.js';
import { connectSocket } from './port-range.js';

export class ImsLoadEndpoint {
  readonly #socket: Socket;
  readonly #outgoing: RtpStream;
  readonly #incoming: RtpStream;
  #connected = false;
  dropped = 0;

  constructor(socket: Socket, outgoing: RtpStream, incoming: RtpStream) {
    this.#socket = socket;
    this.#outgoing = outgoing;
    this.#incoming = incoming;
    socket.on('message', this.#onDatagram);
  }

  get localPort(): number {
    return this.#socket.address().port;
  }

  /**
   * Where the gateway listens for this call's IMS side (c= and m= of the offer toward IMS). The
   * socket is connected to it: sends are synchronous (see connectSocket), and the stream's one
   * packet buffer can be rewritten right after each send.
   */
  async setGateway(address: string, port: number): Promise<void> {
    await connectSocket(this.#socket, port, address);
    this.#connected = true;
  }

  sendMedia(): boolean {
    if (!this.#connected) return false;
    this.#socket.send(this.#outgoing.next());
    return true;
  }

  close(): void {
    this.#socket.off('message', this.#onDatagram);
    try { this.#socket.close(); } catch { /* already closed */ }
  }

  #onDatagram = (data: Buffer): void => {
    const headerLength = rtpHeaderLength(data, data.length);
    if (headerLength < 0) {
      this.dropped++;
      return;
    }
    this.#incoming.onReceived(data, headerLength, data.length);
  };
}
