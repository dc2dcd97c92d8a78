/**
 * XEP-0198 counters and the unacknowledged queue of one stream. `h` counts stanzas (message,
 * presence, iq: XEP-0198 §4, nonzas never count) modulo 2^32; the client's `<a h/>` drops what it
 * has handled from the queue, and on resumption what is left is sent again (§5).
 */
import { xmlElement, type XmlElement } from '../xml/element.js';
import { NS } from '../xml/namespaces.js';

/** XEP-0198 §4: h wraps at 2^32. */
const H_MODULO = 2 ** 32;

export function isStanza(element: XmlElement): boolean {
  return element.ns === NS.client && (element.name === 'message' || element.name === 'presence' || element.name === 'iq');
}

/** A valid `h` attribute (an unsigned 32-bit integer), else undefined. */
export function parseH(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,10}$/.test(value)) return undefined;
  const h = Number(value);
  return h < H_MODULO ? h : undefined;
}

/**
 * The counters and unacknowledged stanzas of a detached stream, as another node resumes it
 * (issue #15, resumable-streams.ts). `missing`: unacknowledged stanzas left out (size bound).
 */
export interface SmSnapshot {
  readonly inbound: number;
  readonly outbound: number;
  readonly unacked: readonly { readonly h: number; readonly text: string }[];
  readonly missing: number;
}

export class StreamManagement {
  /** Stanzas received from the client (what our `<a h/>` reports). */
  inbound = 0;
  /** Stanzas sent to the client (the `h` of the last queued one). */
  #outbound = 0;
  readonly #unacked: { readonly h: number; readonly text: string }[] = [];
  readonly #maxQueue: number;
  /** Unacknowledged stanzas older than #unacked that a resumption elsewhere could not bring (see SmSnapshot). */
  #missing = 0;
  /** Stanzas the client never got and nobody can resend (counted once, at the resumption). */
  lost = 0;

  constructor(maxQueue: number, snapshot?: SmSnapshot) {
    this.#maxQueue = maxQueue;
    if (snapshot !== undefined) {
      this.inbound = snapshot.inbound % H_MODULO;
      this.#outbound = snapshot.outbound % H_MODULO;
      this.#unacked.push(...snapshot.unacked);
      this.#missing = snapshot.missing;
    }
  }

  /** The state another node needs to resume: the newest unacknowledged stanzas within `maxBytes`. */
  snapshot(maxBytes: number): SmSnapshot {
    let bytes = 0;
    let first = this.#unacked.length;
    while (first > 0) {
      const size = Buffer.byteLength((this.#unacked[first - 1] as { text: string }).text);
      if (bytes + size > maxBytes) break;
      bytes += size;
      first -= 1;
    }
    return { inbound: this.inbound, outbound: this.#outbound, unacked: this.#unacked.slice(first), missing: this.#missing + first };
  }

  get unacknowledged(): number {
    return this.#unacked.length;
  }

  received(): void {
    this.inbound = (this.inbound + 1) % H_MODULO;
  }

  /** One stanza sent (or queued while detached); false when the queue is full (the stream cannot be resumed faithfully). */
  sent(text: string): boolean {
    this.#outbound = (this.#outbound + 1) % H_MODULO;
    this.#unacked.push({ h: this.#outbound, text });
    return this.#unacked.length <= this.#maxQueue;
  }

  /** The client handled everything up to `h`: drop it. False when h acknowledges more than was sent (XEP-0198 §4: undefined-condition). */
  acknowledge(h: number): boolean {
    const inFlight = (this.#outbound - h + H_MODULO) % H_MODULO;
    if (inFlight > this.#unacked.length + this.#missing) return false;
    // The client still waits for `missing` stanzas a resumption elsewhere could not bring: they
    // are lost, and counted as never sent, so our h and the client's agree from here on.
    const lost = Math.max(0, inFlight - this.#unacked.length);
    this.lost += lost;
    this.#outbound = (this.#outbound - lost + H_MODULO) % H_MODULO;
    this.#missing = 0;
    this.#unacked.splice(0, Math.max(0, this.#unacked.length - inFlight));
    return true;
  }

  /** Stanzas still unacknowledged, oldest first (re-sent after `<resumed/>`). */
  pending(): readonly string[] {
    return this.#unacked.map((entry) => entry.text);
  }

  ackElement(): XmlElement {
    return xmlElement('a', NS.sm, { h: String(this.inbound) });
  }
}
