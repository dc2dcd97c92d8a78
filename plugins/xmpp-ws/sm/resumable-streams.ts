/**
 * The streams a client may resume (XEP-0198 §5), one registry per loaded plugin. An id is
 * random (192 bits), bound to the bare JID and the credential that enabled it (a resume by
 * another user or with another credential fails as an unknown id would, item-not-found),
 * usable once per drop.
 *
 * Issue #15: the record of a resumable stream goes to host.state (shared by the nodes of a
 * cluster) as soon as resumption is enabled on a registered stream, again on every
 * registration change (a refresh moves the CSeq and the digest nonce count) and at the drop.
 * So a client whose node crashed (no detach ever ran) resumes on another node from the last
 * live record, and that node carries the registration on (its snapshot) with no REGISTER.
 * The record is stored under SHA-256(id) and sealed under a key derived from the id
 * (core/contract/token-seal.ts): the store holds neither the id, nor the credential (only a
 * salted digest of it, sealed), nor the unacknowledged stanzas in clear. Whoever takes the
 * record resumes; the live stream object (its UE, calls, timers) stays in this process and is
 * resumed only here.
 *
 * Beside the records, a login index (`hasLogin`) says only "this bare JID has a resumable
 * record": keyed by SHA-256 of the bare JID, its value is empty. A node that sees it at SASL
 * lets the client authenticate without a REGISTER, and checks the credential at <resume/>
 * against the record's salted verifier (or registers at <bind/>): see the README's threat model.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  openUnderToken, readRegistrationSnapshot, sealUnderToken, stateKeyOf, type RegistrationSnapshot, type TtlStore,
} from '../../../core/contract/index.js';
import type { SmSnapshot } from './stream-management.js';

export interface ResumableStream {
  readonly bareJid: string;
  /** The stream's login had the secret of this digest (compared in constant time). */
  matchesSecret(secretDigest: Buffer): boolean;
}

/** What another node needs to resume a stream without its live object. */
export interface StreamRecord {
  readonly bareJid: string;
  /** The bound full JID (RFC 6120 §7): the resumed stream keeps its resource. */
  readonly fullJid: string;
  /** The login's credential as a verifier: SHA-256(salt ‖ SHA-256(mechanism, secret)), base64 (verifierOf). */
  readonly secretDigest: string;
  /** The verifier's random salt (base64). */
  readonly secretSalt: string;
  /** The +sip.instance of the stream's registration. */
  readonly instanceId: string;
  /** The client rings with XEP-0353 (learnt from its disco#info). */
  readonly supportsJingleMessage: boolean;
  /**
   * true: written at the drop (the counters and the queue are exact); false: written while the
   * stream was live (its node may have died since: the counters are those of the last write).
   */
  readonly detached: boolean;
  /** The UE's registration (never the password): another node adopts it with no REGISTER (issue #15). */
  readonly registration?: RegistrationSnapshot;
  /** XEP-0198 counters and the stanzas the client had not acknowledged at the write. */
  readonly sm: SmSnapshot;
}

export type Resumption<S> =
  | { readonly kind: 'local'; readonly stream: S }
  | {
    readonly kind: 'remote'; readonly record: StreamRecord;
    /** Stores the record again as it was (a live record whose registration could not be taken over stays for its owner). */
    readonly putBack: (ttlMs: number) => Promise<void>;
  };

/** The JSON in host.state: who wrote it (so a node touches only its own record), and the sealed record. */
interface StoredEntry {
  readonly v: 1;
  readonly writer: string;
  readonly sealed: string;
}

/** What `revoke` found: the record was this node's (or gone), or another node resumed the stream since. */
export type RevokeOutcome = 'revoked' | 'moved';

/** A salted verifier of a login's secret digest (the record's secretDigest and secretSalt). */
export function verifierOf(secretDigest: Buffer, salt: Buffer = randomBytes(16)): { readonly secretDigest: string; readonly secretSalt: string } {
  return { secretDigest: saltedDigest(salt, secretDigest).toString('base64'), secretSalt: salt.toString('base64') };
}

export class ResumableStreams<S extends ResumableStream> {
  readonly #state: TtlStore;
  readonly #live = new Map<string, S>();
  /** Records this process wrote → the writer nonce of the last one (a record another node rewrote is not ours any more). */
  readonly #writers = new Map<string, string>();
  /** Ids of this process's detached streams. */
  readonly #detached = new Set<string>();

  constructor(state: TtlStore) {
    this.#state = state;
  }

  /** A new id for a stream of this process; `id` given: a stream resumed here from another node keeps its id. */
  issue(stream: S, id = randomBytes(24).toString('base64url')): string {
    this.#live.set(id, stream);
    this.#detached.delete(id);
    return id;
  }

  /**
   * Stores (or refreshes) the record of the live stream `id` for `ttlMs`, and the login index of
   * its bare JID. A record another node took or rewrote since this process's last write is left
   * alone (the stream lives there now): false then.
   */
  async store(id: string, record: StreamRecord, ttlMs: number): Promise<boolean> {
    if (!this.#live.has(id)) return false;
    const key = stateKeyOf(id);
    const previous = this.#writers.get(id);
    if (previous !== undefined) {
      const current = await this.#state.get(key);
      if (current === undefined || parseEntry(current)?.writer !== previous) return false;
    }
    const writer = randomBytes(9).toString('base64url');
    this.#writers.set(id, writer);
    const entry: StoredEntry = { v: 1, writer, sealed: sealUnderToken(id, JSON.stringify(record), sealContext(id)) };
    await this.#state.set(key, JSON.stringify(entry), ttlMs);
    await this.#state.set(loginKeyOf(record.bareJid), '', ttlMs);
    return true;
  }

  /** The stream dropped: resumable here and, through host.state, on any node for `ttlMs`. */
  async detach(id: string, record: StreamRecord, ttlMs: number): Promise<void> {
    if (!this.#live.has(id)) return;
    this.#detached.add(id);
    await this.store(id, record, ttlMs);
  }

  /** A detached stream of `bareJid` in this process (SASL of a resuming client is checked against it). */
  detachedOf(bareJid: string): S[] {
    return [...this.#detached].map((id) => this.#live.get(id)).filter((s): s is S => s !== undefined && s.bareJid === bareJid);
  }

  /** Some node holds a resumable record of `bareJid` (its client may resume without a REGISTER at SASL). */
  async hasLogin(bareJid: string): Promise<boolean> {
    return (await this.#state.get(loginKeyOf(bareJid))) !== undefined;
  }

  /**
   * The stream `id` names, when `bareJid` logged in with the credential of `secretDigest`:
   * this process's detached stream if the record is still the one it stored, else the record
   * (a live one when its node died without a detach). Taken from host.state (one resumption
   * per record, on one node); undefined when unknown, expired, taken, another user's or
   * credential's, or live on this node (its connection has not dropped here).
   */
  async take(id: string, bareJid: string, secretDigest: Buffer): Promise<Resumption<S> | undefined> {
    const local = this.#live.get(id);
    if (local !== undefined && !this.#detached.has(id)) return undefined;
    const key = stateKeyOf(id);
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
    const record = entry === undefined ? undefined : recordOf(openUnderToken(id, entry.sealed, sealContext(id)));
    if (entry === undefined || record === undefined || record.bareJid !== bareJid || !verifies(record, secretDigest)) return undefined;
    const taken = await this.#state.take(key);
    if (taken === undefined) return undefined; // another node took it first
    if (local !== undefined && entry.writer === this.#writers.get(id)) {
      this.#detached.delete(id);
      return { kind: 'local', stream: local };
    }
    return { kind: 'remote', record, putBack: (ttlMs) => this.#state.set(key, taken, ttlMs) };
  }

  /**
   * The stream ended here: forgotten, and its record dropped unless another node wrote it since
   * ('moved': that node resumed the stream and carries its registration on).
   */
  async revoke(id: string): Promise<RevokeOutcome> {
    const writer = this.#writers.get(id);
    this.#live.delete(id);
    this.#detached.delete(id);
    this.#writers.delete(id);
    if (writer === undefined) return 'revoked';
    const key = stateKeyOf(id);
    const value = await this.#state.get(key);
    if (value === undefined) return 'revoked';
    if (parseEntry(value)?.writer !== writer) return 'moved';
    await this.#state.delete(key);
    return 'revoked';
  }

  /** Streams of this process that may be resumed (live or detached). */
  get size(): number {
    return this.#live.size;
  }
}

function sealContext(id: string): string {
  return `xmpp-ws sm ${stateKeyOf(id)}`;
}

/** The login index key: SHA-256 of the bare JID (RFC 6120 §1.4 bare JIDs are compared lower-cased here). */
function loginKeyOf(bareJid: string): string {
  return `login.${createHash('sha256').update(`xmpp-ws login ${bareJid.toLowerCase()}`, 'utf8').digest('base64url')}`;
}

function parseEntry(value: string): StoredEntry | undefined {
  try {
    const entry = JSON.parse(value) as Partial<StoredEntry>;
    return entry.v === 1 && typeof entry.writer === 'string' && typeof entry.sealed === 'string' ? entry as StoredEntry : undefined;
  } catch {
    return undefined;
  }
}

/** The opened record; its registration snapshot is checked field by field (a bad one is dropped: the resume registers). */
function recordOf(opened: string | undefined): StreamRecord | undefined {
  if (opened === undefined) return undefined;
  const record = JSON.parse(opened) as StreamRecord;
  if (record.registration === undefined) return record;
  try {
    return { ...record, registration: readRegistrationSnapshot(record.registration) };
  } catch {
    const { registration: _dropped, ...rest } = record;
    return rest;
  }
}

function saltedDigest(salt: Buffer, secretDigest: Buffer): Buffer {
  return createHash('sha256').update(salt).update(secretDigest).digest();
}

function verifies(record: StreamRecord, presented: Buffer): boolean {
  if (typeof record.secretSalt !== 'string' || typeof record.secretDigest !== 'string') return false;
  const expected = Buffer.from(record.secretDigest, 'base64');
  const actual = saltedDigest(Buffer.from(record.secretSalt, 'base64'), presented);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
