/**
 * RFC 4733 §2.3 telephone-event payloads (the 4-octet event block) and the DTMF digits of
 * §3.2 (events 0-15: 0-9, *, #, A-D). Pure functions over Buffers: the media-gw parses the
 * browser's events on the relay path and writes its own toward the browser.
 */

/** RFC 4733 §3.2 Table 7: event codes 0-15 in order. */
const DIGITS = '0123456789*#ABCD';

/** One telephone-event block (RFC 4733 §2.3 figure 1). */
export interface TelephoneEvent {
  /** Event code 0-255 (0-15 are DTMF digits). */
  readonly event: number;
  /** E bit: the last packets of the event carry it (§2.5.1.4). */
  readonly end: boolean;
  /** Power level in -dBm0, 0-63 (§2.3.4). */
  readonly volume: number;
  /** In RTP timestamp units since the event's start (§2.3.5). */
  readonly duration: number;
}

/** RFC 4733 §2.3: the payload is (a multiple of) four octets. */
export const TELEPHONE_EVENT_PAYLOAD_LENGTH = 4;

/** The DTMF digit of an event code, or undefined for a code that is not one (§3.2). */
export function digitOfEvent(event: number): string | undefined {
  return event >= 0 && event < DIGITS.length ? DIGITS[event] : undefined;
}

/** The event code of a DTMF digit (case-insensitive for A-D), or undefined. */
export function eventOfDigit(digit: string): number | undefined {
  if (digit.length !== 1) return undefined;
  const code = DIGITS.indexOf(digit.toUpperCase());
  return code < 0 ? undefined : code;
}

/** Reads the first event block of `payload`; undefined when it is shorter than four octets. */
export function parseTelephoneEvent(payload: Uint8Array): TelephoneEvent | undefined {
  if (payload.length < TELEPHONE_EVENT_PAYLOAD_LENGTH) return undefined;
  const flags = payload[1] as number;
  return {
    event: payload[0] as number,
    end: (flags & 0x80) !== 0,
    volume: flags & 0x3f,
    duration: ((payload[2] as number) << 8) | (payload[3] as number),
  };
}

/** Writes one event block at `offset` of `target` (the R bit is sent as zero, §2.3.3). */
export function writeTelephoneEvent(target: Buffer, event: TelephoneEvent, offset = 0): void {
  target[offset] = event.event & 0xff;
  target[offset + 1] = (event.end ? 0x80 : 0) | (event.volume & 0x3f);
  target.writeUInt16BE(Math.min(0xffff, Math.max(0, Math.round(event.duration))), offset + 2);
}
