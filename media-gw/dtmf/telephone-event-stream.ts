/**
 * RFC 4733 §2.5: one DTMF digit as a sequence of packets on the wire, and the way back. A sender
 * starts the event with the marker bit, repeats the block with a growing duration, and ends with
 * three packets carrying the E bit (§2.5.1.4); all share the RTP timestamp of the event's start.
 * The detector reports each event once, at its first end packet, and takes a new timestamp
 * while the previous event never ended as the previous event's end (§2.5.2.2: end packets lost).
 */
import { digitOfEvent, eventOfDigit, parseTelephoneEvent, TELEPHONE_EVENT_PAYLOAD_LENGTH, writeTelephoneEvent } from './telephone-event.js';

/** A digit the detector read: what the gateway reports for the controller to send as SIP INFO. */
export interface DtmfDigit {
  /** One of 0-9 * # A-D (upper case). */
  readonly digit: string;
  readonly durationMs: number;
}

/** RFC 4733 §2.5.1.4: the final packet is sent three times. */
export const END_PACKET_REPEATS = 3;
/** Power level we send (-10 dBm0, the value RFC 4733's examples and Chromium use). */
export const DEFAULT_EVENT_VOLUME = 10;

/** One packet of a generated event: its 4-octet payload, and whether it carries the marker bit. */
export interface TelephoneEventPacket {
  readonly payload: Buffer;
  readonly marker: boolean;
}

/**
 * The packets of one digit at `clockRate`, one per `intervalMs` (RFC 4733 §2.5.1.2), then the
 * three end packets. Throws RangeError for a character that is no DTMF digit.
 */
export function telephoneEventPackets(digit: string, durationMs: number, clockRate: number, intervalMs = 20): TelephoneEventPacket[] {
  const event = eventOfDigit(digit);
  if (event === undefined) throw new RangeError(`not a DTMF digit: ${JSON.stringify(digit)}`);
  const perInterval = (clockRate * intervalMs) / 1000;
  // §2.5.1.3: a duration that would overflow 16 bits is not sent in one event; we cap it.
  const total = Math.min(0xffff, Math.max(perInterval, Math.round((clockRate * durationMs) / 1000)));
  const packets: TelephoneEventPacket[] = [];
  const block = (duration: number, end: boolean): Buffer => {
    const payload = Buffer.alloc(TELEPHONE_EVENT_PAYLOAD_LENGTH);
    writeTelephoneEvent(payload, { event, end, volume: DEFAULT_EVENT_VOLUME, duration });
    return payload;
  };
  for (let duration = perInterval; duration < total; duration += perInterval) {
    packets.push({ payload: block(duration, false), marker: packets.length === 0 });
  }
  for (let i = 0; i < END_PACKET_REPEATS; i++) packets.push({ payload: block(total, true), marker: packets.length === 0 });
  return packets;
}

/** Turns a stream of telephone-event payloads (with their RTP timestamps) into digits, once each. */
export class TelephoneEventDetector {
  #clockRate: number;
  /** Timestamp of the event in progress (-1: none), its code and latest duration. */
  #timestamp = -1;
  #event = -1;
  #duration = 0;
  #reported = true;

  constructor(clockRate: number) {
    this.#clockRate = clockRate;
  }

  /** A later offer/answer may change the clock rate of the format. */
  set clockRate(rate: number) {
    this.#clockRate = rate;
  }

  /** The digits this packet completes (usually none; one at an event's first end packet). */
  push(payload: Uint8Array, timestamp: number): DtmfDigit[] {
    const block = parseTelephoneEvent(payload);
    if (block === undefined) return [];
    const done: DtmfDigit[] = [];
    if (timestamp !== this.#timestamp) {
      // §2.5.2.2: a new event while the previous was not ended ends the previous.
      if (!this.#reported) this.#report(done);
      this.#timestamp = timestamp;
      this.#event = block.event;
      this.#duration = 0;
      this.#reported = false;
    }
    if (this.#reported) return done; // a repeated end packet (§2.5.1.4)
    this.#duration = Math.max(this.#duration, block.duration);
    if (block.end) this.#report(done);
    return done;
  }

  #report(into: DtmfDigit[]): void {
    this.#reported = true;
    const digit = digitOfEvent(this.#event);
    if (digit === undefined) return; // events past 15 are not DTMF (RFC 4733 §3.2)
    into.push({ digit, durationMs: Math.round((this.#duration * 1000) / this.#clockRate) });
  }
}
