/**
 * The streams a client may resume (XEP-0198 §5), one registry per loaded plugin. An id is
 * random (192 bits), bound to the bare JID that enabled it (a resume by another user fails as an
 * unknown id would, item-not-found), usable only while its stream is detached (its WebSocket
 * dropped, the grace running) and only once.
 */
import { randomBytes } from 'node:crypto';

export interface ResumableStream {
  readonly bareJid: string;
}

export class ResumableStreams<S extends ResumableStream> {
  readonly #live = new Map<string, S>();
  readonly #detached = new Set<string>();

  issue(stream: S): string {
    const id = randomBytes(24).toString('base64url');
    this.#live.set(id, stream);
    return id;
  }

  detach(id: string): void {
    if (this.#live.has(id)) this.#detached.add(id);
  }

  /** A detached stream of `bareJid` (SASL of a resuming client is checked against it). */
  detachedOf(bareJid: string): S[] {
    return [...this.#detached].map((id) => this.#live.get(id)).filter((s): s is S => s !== undefined && s.bareJid === bareJid);
  }

  /**
   * The detached stream `id` names for this user, attached again (one resumption at a time; the
   * id keeps naming the stream for the next drop, XEP-0198 §5); undefined otherwise.
   */
  take(id: string, bareJid: string): S | undefined {
    const stream = this.#live.get(id);
    if (stream === undefined || !this.#detached.has(id) || stream.bareJid !== bareJid) return undefined;
    this.#detached.delete(id);
    return stream;
  }

  revoke(id: string): void {
    this.#live.delete(id);
    this.#detached.delete(id);
  }

  get size(): number {
    return this.#live.size;
  }
}
