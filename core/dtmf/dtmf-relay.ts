/**
 * The `application/dtmf-relay` body of a SIP INFO (the de-facto format Cisco, Asterisk,
 * FreeSWITCH and JsSIP use; RFC 6086 leaves INFO packages to their users):
 *   Signal=5\r\nDuration=160\r\n
 * Signal is one DTMF digit (0-9, *, #, A-D; some senders write 10/11 for * and #), Duration in
 * milliseconds.
 */

/**
 * RFC 4733 §3.2 Table 7: the DTMF digits are events 0-15 in this order, so "10"/"11" are * and #.
 * media-gw/dtmf/telephone-event.ts holds the same table for RTP; signalling keeps its own
 * sixteen characters rather than import the media wing (structure-next §2).
 */
const DTMF_DIGITS = '0123456789*#ABCD';

/** Is `value` one DTMF digit (A-D in either case)? */
function isDtmfDigit(value: string): boolean {
  return value.length === 1 && DTMF_DIGITS.includes(value.toUpperCase());
}

export const DTMF_RELAY_CONTENT_TYPE = 'application/dtmf-relay';

/** Duration written when the source gave none (JsSIP's and Asterisk's default tone length). */
export const DEFAULT_DTMF_DURATION_MS = 100;
/** Bounds an INFO's Duration is clamped to (JsSIP: 40..6000 ms). */
export const MIN_DTMF_DURATION_MS = 40;
export const MAX_DTMF_DURATION_MS = 6000;

export interface DtmfDigit {
  /** One of 0-9 * # A-D (upper case). */
  readonly digit: string;
  readonly durationMs: number;
}

function clampDuration(ms: number): number {
  return Math.min(MAX_DTMF_DURATION_MS, Math.max(MIN_DTMF_DURATION_MS, Math.round(ms)));
}

/**
 * Reads a dtmf-relay body; undefined when it names no DTMF digit. Lines are `name=value`
 * (case-insensitive names, spaces around `=` tolerated, CRLF or LF); unknown lines are ignored.
 */
export function parseDtmfRelay(body: string): DtmfDigit | undefined {
  let digit: string | undefined;
  let durationMs = DEFAULT_DTMF_DURATION_MS;
  for (const line of body.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const name = line.slice(0, eq).trim().toLowerCase();
    const value = line.slice(eq + 1).trim();
    if (name === 'signal') {
      // "10"/"11" for * and # (RFC 4733 event codes, as some gateways write them).
      digit = /^1[01]$/.test(value) ? DTMF_DIGITS[Number(value)] : (isDtmfDigit(value) ? value.toUpperCase() : undefined);
    } else if (name === 'duration' && /^\d{1,6}$/.test(value)) {
      durationMs = Number(value);
    }
  }
  return digit === undefined ? undefined : { digit, durationMs: clampDuration(durationMs) };
}

/** Writes a dtmf-relay body for one digit; throws RangeError for a character that is no DTMF digit. */
export function formatDtmfRelay(digit: string, durationMs = DEFAULT_DTMF_DURATION_MS): string {
  if (!isDtmfDigit(digit)) throw new RangeError(`not a DTMF digit: ${JSON.stringify(digit)}`);
  return `Signal=${digit.toUpperCase()}\r\nDuration=${clampDuration(durationMs)}\r\n`;
}
