/**
 * An IMS-side media source for tests: a UDP socket that sends PCMU RTP (RFC 3550, payload type 0,
 * 20 ms packets, 50 per second) to a peer — what an IMS far end, an announcement server or a
 * music-on-hold player puts on the wire — and counts what it receives back.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { randomInt } from 'node:crypto';

const PCMU_SILENCE = 0xff;
const SAMPLES_PER_PACKET = 160; // 20 ms at 8 kHz

export class RtpToneSource {
  readonly port: number;
  received = 0;
  sent = 0;
  readonly #socket: Socket;
  #timer: NodeJS.Timeout | undefined;
  #sequence = randomInt(0, 0xffff);
  #timestamp = randomInt(0, 0xffffffff);
  readonly #ssrc = randomInt(1, 0xffffffff);

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.port = socket.address().port;
    socket.on('message', () => { this.received++; });
  }

  static async open(): Promise<RtpToneSource> {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    return new RtpToneSource(socket);
  }

  /** Starts (or re-aims) the 50 packets/s stream toward host:port. */
  sendTo(host: string, port: number): void {
    this.stop();
    this.#timer = setInterval(() => {
      const packet = Buffer.alloc(12 + SAMPLES_PER_PACKET, PCMU_SILENCE - 0x10); // a quiet tone, not digital silence
      packet[0] = 0x80; // RTP version 2
      packet[1] = 0; // PT 0 (PCMU), no marker
      packet.writeUInt16BE(this.#sequence, 2);
      packet.writeUInt32BE(this.#timestamp >>> 0, 4);
      packet.writeUInt32BE(this.#ssrc, 8);
      this.#sequence = (this.#sequence + 1) & 0xffff;
      this.#timestamp = (this.#timestamp + SAMPLES_PER_PACKET) >>> 0;
      this.#socket.send(packet, port, host, () => { this.sent++; });
    }, 20);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  close(): void {
    this.stop();
    this.#socket.close();
  }
}

/** The first audio m-line's address and port of an SDP (c= at media or session level). */
export function audioTarget(sdp: string): { host: string; port: number } {
  const port = /^m=audio (\d+) /m.exec(sdp)?.[1];
  const host = /^c=IN IP4 (\S+)/m.exec(sdp.slice(sdp.indexOf('m=audio')))?.[1] ?? /^c=IN IP4 (\S+)/m.exec(sdp)?.[1];
  if (port === undefined || host === undefined) throw new Error(`no audio target in the SDP:\n${sdp}`);
  return { host, port: Number(port) };
}
