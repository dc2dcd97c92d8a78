/**
 * The streams a client may resume (XEP-0198 §5), one registry per loaded plugin. An id is
 * random (192 bits), bound to the bare JID and the credential that enabled it (a resume by
 * another user or with another credential fails as an unknown id would, item-not-found),
 * usable only while its stream is detached (its WebSocket dropped, the grace running) and only
 * once per drop.
 *
 * Issue #15: when a stream detaches, its record goes to host.state (shared by the nodes of a
 * cluster), so a client that reconnects to another node can resume there. The record is stored
 * under SHA-256(id) and sealed under a key derived from the id (core/contract/token-seal.ts):
 * the store holds neither the id, nor the credential (only its digest, sealed), nor the
 * unacknowledged stanzas in clear. Whoever takes the record resumes; the live detached stream
 * object (its UE, calls, timers) stays in this process and is resumed only here.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { openUnderToken, sealUnderToken, stateKeyOf, type TtlStore } from '../../../core/contract/index.js';
import type { SmSnapshot } from './stream-management.js';

export interface ResumableStream {
  readonly bareJid: string;
  /** The stream's login had the secret of this digest (compared in constant time). */
  matchesSecret(secretDigest: Buffer): boolean;
}

/** What another node needs to resume a detached stream without its live object. */
export interface StreamRecord {
  readonly bareJid: string;
  /** The bound full JID (RFC 6120 §7): the resumed stream keeps its resource. */
  readonly fullJid: string;
  /** SHA-256 of the login's mechanism and secret (base64): a resume must log in with the same one. */
  readonly secretDigest: string;
  /** The +sip.instance of the detached stream's registration (for logs: a resume elsewhere registers its own). */
  readonly instanceId: string;
  /** The client rings with XEP-0353 (learnt from its disco#info). */
  readonly supportsJingleMessage: boolean;
  /** XEP-0198 counters and the stanzas the client had not acknowledged when it dropped. */
  readonly sm: SmSnapshot;
}

export type Resumption<S> =
  | { readonly kind: 'local'; readonly stream: S }
  | { readonly kind: 'remote'; readonly record: StreamRecord };

/** The JSON in host.state: who wrote it (so a node removes only its own record), and the sealed record. */
interface StoredEntry {
  readonly v: 1;
  readonly writer: string;
  readonly sealed: string;
}

export class ResumableStreams<S extends ResumableStream> {
  readonly #state: TtlStore;
  readonly #live = new Map<string, S>();
  /** Detached streams of this process → the writer nonce of the record they stored. */
  readonly #detached = new Map<string, string>();

  constructor(state: TtlStore) {
    this.#state = state;
  }

  /** A new id for a stream of this process; `id` given: a stream resumed here from another node keeps its id. */
  issue(stream: S, id = randomBytes(24).toString('base64url')): string {
    this.#live.set(id, stream);
    return id;
  }

  /** The stream dropped: resumable here and, through host.state, on any node for `ttlMs`. */
  async detach(id: string, record: StreamRecord, ttlMs: number): Promise<void> {
    if (!this.#live.has(id)) return;
    const writer = randomBytes(9).toString('base64url');
    this.#detached.set(id, writer);
    const entry: StoredEntry = { v: 1, writer, sealed: sealUnderToken(id, JSON.stringify(record), sealContext(id)) };
    await this.#state.set(stateKeyOf(id), JSON.stringify(entry), ttlMs);
  }

  /** A detached stream of `bareJid` in this process (SASL of a resuming client is checked against it). */
  detachedOf(bareJid: string): S[] {
    return [...this.#detached.keys()].map((id) => this.#live.get(id)).filter((s): s is S => s !== undefined && s.bareJid === bareJid);
  }

  /**
   * The detached stream `id` names, when `bareJid` logged in with the credential of `secretDigest`:
   * this process's live stream if the record is still the one it stored, else the record another
   * node stored. Taken from host.state (one resumption per drop, on one node); undefined when
   * unknown, expired, taken, or another user's or credential's.
   */
  async take(id: string, bareJid: string, secretDigest: Buffer): Promise<Resumption<S> | undefined> {
    const key = stateKeyOf(id);
    const writer = this.#detached.get(id);
    const local = writer === undefined ? undefined : this.#live.get(id);
    let value: string | undefined;
    try {
      value = await this.#state.get(key);
    } catch {
      // host.state unreachable: a stream detached here still resumes here (nobody can take its record now).
      if (local === undefined || local.bareJid !== bareJid || !local.matchesSecret(secretDigest)) return undefined;
      this.#detached.delete(id);
      return { kind: 'local', stream: local };
    }
    const entry = value === undefined ? undefined : parseEntry(value);
    const opened = entry === undefined ? undefined : openUnderToken(id, entry.sealed, sealContext(id));
    const record = opened === undefined ? undefined : JSON.parse(opened) as StreamRecord;
    if (entry === undefined || record === undefined || record.bareJid !== bareJid || !sameDigest(record.secretDigest, secretDigest)) return undefined;
    if ((await this.#state.take(key)) === undefined) return undefined; // another node took it first
    if (local !== undefined && entry.writer === writer) {
      this.#detached.delete(id);
      return { kind: 'local', stream: local };
    }
    return { kind: 'remote', record };
  }

  /** The stream ended here: forgotten, and its record dropped unless another node wrote it since. */
  async revoke(id: string): Promise<void> {
    const writer = this.#detached.get(id);
    this.#live.delete(id);
    this.#detached.delete(id);
    if (writer === undefined) return;
    const key = stateKeyOf(id);
    const value = await this.#state.get(key);
    if (value !== undefined && parseEntry(value)?.writer === writer) await this.#state.delete(key);
  }

  /** Streams of this process that may be resumed (live or detached). */
  get size(): number {
    return this.#live.size;
  }
}

function sealContext(id: string): string {
  return `xmpp-ws sm ${stateKeyOf(id)}`;
}

function parseEntry(value: string): StoredEntry | undefined {
  try {
    const entry = JSON.parse(value) as Partial<StoredEntry>;
    return entry.v === 1 && typeof entry.writer === 'string' && typeof entry.sealed === 'string' ? entry as StoredEntry : undefined;
  } catch {
    return undefined;
  }
}

function sameDigest(stored: string, presented: Buffer): boolean {
  const expected = Buffer.from(stored, 'base64');
  return expected.length === presented.length && timingSafeEqual(expected, presented);
}
