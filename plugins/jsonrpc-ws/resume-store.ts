/**
 * Registration resume across WebSocket drops (issue #5), on any node (issue #15): a registered
 * session holds a token; when its connection closes the token is parked for the grace period,
 * and session.resume on a new connection, on this node or another sharing host.state, takes it
 * and re-registers with the same +sip.instance (RFC 5626 §4.2: the same instance-id and reg-id
 * replace the old flow's binding at the registrar) and the same credentials, so the client
 * does not ask its user again. Tokens are single-use and random (192 bits).
 *
 * What host.state holds, under SHA-256(token): the resumable registration (IMPU, IMPI, display
 * name, instance id, expires) with its credential (password or web token) sealed under a key
 * derived from the token (core/contract/token-seal.ts): the shared store never has the token,
 * nor the credential in clear. What stays in this process: the live holder (the session still
 * open with the token), told to let go when a resume on this node takes its token.
 */
import { randomBytes } from 'node:crypto';
import {
  openUnderToken, readRegistrationSnapshot, sealUnderToken, stateKeyOf, type RegistrationSnapshot, type TtlStore, type UaIdentity,
} from '../../core/contract/index.js';

export interface ResumableRegistration {
  readonly identity: UaIdentity;
  readonly instanceId: string;
  readonly expires?: number;
  /**
   * The virtual UE's registration as it stands (Call-ID, CSeq, Contact, Service-Route, digest
   * state; never the password): where the core can re-point the flow, a resume adopts it with
   * no REGISTER on Mw (issue #15). Kept fresh on every refresh.
   */
  readonly snapshot?: RegistrationSnapshot;
}

/** The live session that holds a token; told to let go when a new connection takes over. */
export interface ResumeHolder {
  handOver(): void;
}

export interface TakenRegistration {
  readonly registration: ResumableRegistration;
  /** Set when the old connection is still open on this node (half-open TCP, a second tab): it must be closed. */
  readonly liveHolder: ResumeHolder | undefined;
}

/**
 * How long a token lives while its session is open (the grace starts only at the drop). Bounded
 * so that a node that dies without parking its tokens does not leave them usable for ever; in
 * that time a client of the dead node can still resume on another one.
 */
export const LIVE_TOKEN_TTL_MS = 24 * 3600 * 1000;

/** The JSON kept in host.state: everything but the credential in clear. */
interface StoredRegistration {
  readonly v: 1;
  readonly impu: string;
  readonly impi?: string;
  readonly displayName?: string;
  readonly instanceId: string;
  readonly expires?: number;
  readonly snapshot?: RegistrationSnapshot;
  /** `{"password":…}` or `{"token":…}`, sealed under the resume token. */
  readonly credential: string;
}

type Credential = { readonly password: string } | { readonly token: string } | Record<string, never>;

export class ResumeStore {
  readonly #state: TtlStore;
  /** token → the open session on this node that holds it. */
  readonly #holders = new Map<string, ResumeHolder>();

  constructor(state: TtlStore) {
    this.#state = state;
  }

  /** Tokens held by open sessions of this node. */
  get size(): number {
    return this.#holders.size;
  }

  /** A new token for a live session's registration, stored before it is handed to the client. */
  async issue(registration: ResumableRegistration, holder: ResumeHolder): Promise<string> {
    const token = randomBytes(24).toString('base64url');
    await this.#state.set(stateKeyOf(token), stored(token, registration), LIVE_TOKEN_TTL_MS);
    this.#holders.set(token, holder);
    return token;
  }

  /** The live registration's credential changed (session.updateToken): a resume uses the new one. */
  async amend(token: string, registration: ResumableRegistration): Promise<void> {
    if (!this.#holders.has(token)) return;
    await this.#state.set(stateKeyOf(token), stored(token, registration), LIVE_TOKEN_TTL_MS);
  }

  /**
   * The holder's connection closed: the token stays usable for `graceMs`, then it is void. Taken
   * and stored again rather than read: a token another node took meanwhile is not brought back.
   */
  async park(token: string, graceMs: number): Promise<void> {
    this.#holders.delete(token);
    const key = stateKeyOf(token);
    const value = await this.#state.take(key);
    if (value !== undefined) await this.#state.set(key, value, graceMs);
  }

  /** Single use: removes the token and returns what it resumes, or undefined when unknown, used or expired. */
  async take(token: string): Promise<TakenRegistration | undefined> {
    const liveHolder = this.#holders.get(token);
    this.#holders.delete(token);
    const value = await this.#state.take(stateKeyOf(token));
    if (value === undefined) return undefined;
    const registration = opened(token, value);
    return registration === undefined ? undefined : { registration, liveHolder };
  }

  async revoke(token: string): Promise<void> {
    this.#holders.delete(token);
    await this.#state.delete(stateKeyOf(token));
  }
}

function sealContext(token: string): string {
  return `jsonrpc-ws resume ${stateKeyOf(token)}`;
}

function stored(token: string, registration: ResumableRegistration): string {
  const { identity } = registration;
  const credential: Credential = identity.password !== undefined ? { password: identity.password }
    : identity.token !== undefined ? { token: identity.token } : {};
  const value: StoredRegistration = {
    v: 1,
    impu: identity.impu,
    ...(identity.impi !== undefined ? { impi: identity.impi } : {}),
    ...(identity.displayName !== undefined ? { displayName: identity.displayName } : {}),
    instanceId: registration.instanceId,
    ...(registration.expires !== undefined ? { expires: registration.expires } : {}),
    ...(registration.snapshot !== undefined ? { snapshot: registration.snapshot } : {}),
    credential: sealUnderToken(token, JSON.stringify(credential), sealContext(token)),
  };
  return JSON.stringify(value);
}

/** The registration, or undefined when the entry is not one of ours or the token does not open it. */
function opened(token: string, value: string): ResumableRegistration | undefined {
  let entry: Partial<StoredRegistration>;
  try {
    entry = JSON.parse(value) as Partial<StoredRegistration>;
  } catch {
    return undefined;
  }
  if (entry.v !== 1 || typeof entry.impu !== 'string' || typeof entry.instanceId !== 'string' || typeof entry.credential !== 'string') return undefined;
  const sealed = openUnderToken(token, entry.credential, sealContext(token));
  if (sealed === undefined) return undefined;
  const credential = JSON.parse(sealed) as { password?: string; token?: string };
  const identity: UaIdentity = {
    impu: entry.impu,
    ...(typeof credential.password === 'string' ? { password: credential.password } : {}),
    ...(typeof credential.token === 'string' ? { token: credential.token } : {}),
    ...(typeof entry.impi === 'string' ? { impi: entry.impi } : {}),
    ...(typeof entry.displayName === 'string' ? { displayName: entry.displayName } : {}),
  };
  const snapshot = snapshotOf(entry.snapshot);
  return {
    identity, instanceId: entry.instanceId,
    ...(typeof entry.expires === 'number' ? { expires: entry.expires } : {}),
    ...(snapshot !== undefined ? { snapshot } : {}),
  };
}

/** A snapshot read back from the store is checked field by field; a bad one is dropped (the resume registers instead). */
function snapshotOf(value: unknown): RegistrationSnapshot | undefined {
  if (value === undefined) return undefined;
  try {
    return readRegistrationSnapshot(value);
  } catch {
    return undefined;
  }
}
