/**
 * Plays DTMF digits as RFC 4733 packets into one outgoing RTP stream (toward the browser, when
 * an INFO dtmf-relay from IMS is converted, `media.dtmf: rfc4733`). The packets share the
 * stream's SSRC and sequence numbering with the media relayed into it (RtpStreamRewriter
 * reserves their numbers), are paced one per 20 ms (RFC 4733 §2.5.1.2), and digits queue one
 * after the other. stop() drops what is still queued.
 */
import { telephoneEventPackets } from '../dtmf/index.js';
import type { RtpStreamRewriter } from './stream-rewriter.js';

const INTERVAL_MS = 20;
/** RFC 4733 §2.5.1.2 leaves the gap to the sender; 40 ms keeps digits apart at any receiver. */
const GAP_MS = 40;

export interface EventTarget {
  readonly rewriter: RtpStreamRewriter;
  send(packet: Buffer): void;
}

export interface EventFormat {
  readonly payloadType: number;
  readonly clockRate: number;
}

export class TelephoneEventPlayer {
  readonly #target: EventTarget;
  #tail: Promise<void> = Promise.resolve();
  /** Pending pauses: stop() ends them at once (the play promise then resolves, sending nothing more). */
  #pauses = new Map<NodeJS.Timeout, () => void>();
  #stopped = false;

  constructor(target: EventTarget) {
    this.#target = target;
  }

  /** Queues one digit; resolves once its last packet left. Throws RangeError for a non-digit. */
  play(digit: string, durationMs: number, format: EventFormat): Promise<void> {
    const packets = telephoneEventPackets(digit, durationMs, format.clockRate, INTERVAL_MS);
    const run = this.#tail.then(() => this.#playPackets(packets, format));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  stop(): void {
    this.#stopped = true;
    for (const [timer, resolve] of this.#pauses) {
      clearTimeout(timer);
      resolve();
    }
    this.#pauses.clear();
  }

  async #playPackets(packets: ReturnType<typeof telephoneEventPackets>, format: EventFormat): Promise<void> {
    if (this.#stopped) return;
    const rewriter = this.#target.rewriter;
    const timestamp = rewriter.reserveTimestamp();
    for (const [index, event] of packets.entries()) {
      if (this.#stopped) return;
      const packet = Buffer.alloc(12 + event.payload.length);
      packet[0] = 0x80; // RFC 3550 §5.1: V=2, no padding, extension or CSRC
      packet[1] = (event.marker ? 0x80 : 0) | (format.payloadType & 0x7f);
      packet.writeUInt16BE(rewriter.reserveSequence(), 2);
      packet.writeUInt32BE(timestamp, 4);
      packet.writeUInt32BE(rewriter.outputSsrc, 8);
      event.payload.copy(packet, 12);
      this.#target.send(packet);
      await this.#sleep(index === packets.length - 1 ? GAP_MS : INTERVAL_MS);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pauses.delete(timer);
        resolve();
      }, ms);
      this.#pauses.set(timer, resolve);
    });
  }
}
