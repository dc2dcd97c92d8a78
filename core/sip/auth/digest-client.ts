/**
 * A stateful digest client: remembers the last challenge per realm so later requests can
 * reuse its nonce with an increasing nonce count (RFC 7616 §3.4, RFC 3261 §22.3), and refuses
 * to answer again when the server rejected the credentials it just sent, which is what
 * keeps a registration from looping on 401 forever.
 */
import type { AuthValue } from '../model/views.js';
import { answerChallenge, generateCnonce, isSupportedDigestChallenge } from './digest-answer.js';
import { digestAlgorithm } from './digest-algorithm.js';
import { ownCopy } from '../own-copy.js';

export interface DigestCredentials {
  readonly username: string;
  readonly password: string;
}

/** Fixed credentials, or a lookup by realm (undefined: no credentials for that realm). */
export type DigestCredentialSource = DigestCredentials | ((realm: string) => DigestCredentials | undefined);

/** What of the request the digest covers. */
export interface DigestRequestInfo {
  readonly method: string;
  /** Request-URI as written in the request line. */
  readonly uri: string;
  readonly body?: Uint8Array | string;
}

export interface DigestClientOptions {
  /** cnonce generator (tests); defaults to 128 random bits. */
  readonly cnonce?: () => string;
}

interface RealmState {
  challenge: AuthValue;
  /** Last nonce count used with `challenge.params.nonce`. */
  nc: number;
  /** True between answering a challenge and hearing that the credentials worked. */
  awaitingVerdict: boolean;
}

export class DigestClient {
  readonly #credentials: DigestCredentialSource;
  readonly #cnonce: () => string;
  readonly #realms = new Map<string, RealmState>();

  constructor(credentials: DigestCredentialSource, options: DigestClientOptions = {}) {
    this.#credentials = credentials;
    this.#cnonce = options.cnonce ?? generateCnonce;
  }

  /**
   * Answers the challenges of a 401/407 (all WWW-Authenticate or Proxy-Authenticate values).
   * Picks the strongest algorithm among realms it holds credentials for (RFC 8760 §2.4).
   * Returns undefined when nothing can be answered, or when the previous answer for that realm
   * was rejected and the new challenge is not `stale=true`: RFC 7616 §3.3 says stale=true
   * means only the nonce was old, so retrying is worthwhile; otherwise the credentials are
   * wrong and repeating them would only loop.
   */
  respond(challenges: readonly AuthValue[], request: DigestRequestInfo): AuthValue | undefined {
    let chosen: { challenge: AuthValue; credentials: DigestCredentials; strength: number } | undefined;
    for (const challenge of challenges) {
      if (!isSupportedDigestChallenge(challenge)) continue;
      const realm = challenge.params['realm'] ?? '';
      const credentials = this.#lookup(realm);
      if (credentials === undefined) continue;
      const previous = this.#realms.get(realm);
      const stale = (challenge.params['stale'] ?? '').toLowerCase() === 'true';
      if (previous?.awaitingVerdict === true && !stale) continue;
      const strength = digestAlgorithm(challenge.params['algorithm'])?.strength ?? 0;
      if (chosen === undefined || strength > chosen.strength) chosen = { challenge, credentials, strength };
    }
    if (chosen === undefined) return undefined;
    const realm = chosen.challenge.params['realm'] ?? '';
    const state: RealmState = { challenge: ownChallenge(chosen.challenge), nc: 1, awaitingVerdict: true };
    this.#realms.set(realm, state);
    return this.#answer(state, chosen.credentials, request);
  }

  /**
   * Credentials for another request in `realm` without waiting for a challenge, reusing the
   * last nonce with the next nonce count (RFC 7616 §3.4: nc counts requests sent with one
   * nonce). Undefined when no challenge from that realm has been seen, or it had no qop (the
   * RFC 2069 form has no nonce count, so a nonce cannot safely be reused).
   */
  authorize(realm: string, request: DigestRequestInfo): AuthValue | undefined {
    const state = this.#realms.get(realm);
    const credentials = this.#lookup(realm);
    if (state === undefined || credentials === undefined) return undefined;
    if (state.challenge.params['qop'] === undefined) return undefined;
    state.nc += 1;
    return this.#answer(state, credentials, request);
  }

  /** The request was not challenged again: the credentials for `realm` (or all) work. */
  accepted(realm?: string): void {
    for (const [name, state] of this.#realms) {
      if (realm === undefined || name === realm) state.awaitingVerdict = false;
    }
  }

  /** Drops what is known about `realm` (or every realm). */
  forget(realm?: string): void {
    if (realm === undefined) this.#realms.clear();
    else this.#realms.delete(realm);
  }

  /**
   * What is remembered per realm (the last challenge and its nonce count), for a UE that another
   * node carries on (core/ua registration-snapshot.ts). The credentials are not part of it.
   */
  snapshot(): { realm: string; scheme: string; params: Record<string, string>; nc: number }[] {
    return [...this.#realms].filter(([, state]) => !state.awaitingVerdict)
      .map(([realm, state]) => ({ realm, scheme: state.challenge.scheme, params: { ...state.challenge.params }, nc: state.nc }));
  }

  /** Takes over remembered challenges (`snapshot()` of another client with the same credentials). */
  restore(realms: readonly { readonly realm: string; readonly scheme: string; readonly params: Readonly<Record<string, string>>; readonly nc: number }[]): void {
    for (const entry of realms) {
      this.#realms.set(entry.realm, { challenge: ownChallenge({ scheme: entry.scheme, params: { ...entry.params } }), nc: entry.nc, awaitingVerdict: false });
    }
  }

  /** Realms with a remembered challenge. */
  get realms(): string[] {
    return [...this.#realms.keys()];
  }

  #lookup(realm: string): DigestCredentials | undefined {
    return typeof this.#credentials === 'function' ? this.#credentials(realm) : this.#credentials;
  }

  #answer(state: RealmState, credentials: DigestCredentials, request: DigestRequestInfo): AuthValue {
    return answerChallenge(state.challenge, {
      method: request.method,
      uri: request.uri,
      username: credentials.username,
      password: credentials.password,
      cnonce: this.#cnonce(),
      nc: state.nc,
      ...(request.body !== undefined ? { body: request.body } : {}),
    });
  }
}

/**
 * The challenge as kept for the realm (a registration keeps it for hours): its values are cut
 * from the whole 401 text, so they are copied rather than keep that message alive (own-copy.ts).
 */
function ownChallenge(challenge: AuthValue): AuthValue {
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(challenge.params)) params[ownCopy(name)] = ownCopy(value);
  return { scheme: ownCopy(challenge.scheme), params, ...(challenge.token !== undefined ? { token: ownCopy(challenge.token) } : {}) };
}
