/**
 * Server side of SIP digest (RFC 3261 §22.4, RFC 7616 §3.3-3.5): issue challenges and check
 * credentials. Nonces are stateless (see digest-nonce.ts); the only state is the highest
 * nonce count seen per live nonce, for replay protection (RFC 7616 §3.4 / §5.5).
 */
import { timingSafeEqual } from 'node:crypto';
import { EpcError } from '../../errors.js';
import type { AuthValue } from '../model/views.js';
import {
  computeDigestResponse, computeHa1, digestAlgorithm,
  type DigestHashName, type DigestQop,
} from './digest-algorithm.js';
import { NonceSigner } from './digest-nonce.js';
import { NonceCountTracker } from './nonce-count-tracker.js';

export interface DigestServerOptions {
  /** HMAC key for nonces. Random per process by default; share one across cluster nodes. */
  readonly secret?: Uint8Array | string;
  /** How long a nonce stays fresh; after that a correct answer earns `stale` (default 300 s). */
  readonly nonceLifetimeSeconds?: number;
  /** Live nonces tracked for nc replay; beyond this the oldest are forced stale (default 10000). */
  readonly maxTrackedNonces?: number;
  /** Clock in ms (tests). */
  readonly now?: () => number;
}

export interface ChallengeOptions {
  readonly realm: string;
  /** Default `MD5` (what every SIP UA implements); `SHA-256` per RFC 8760. */
  readonly algorithm?: string;
  /** qop-options to offer; default `['auth']`; an empty list gives the RFC 2069 form. */
  readonly qop?: readonly DigestQop[];
  /** RFC 7616 §3.3: tells the client only the nonce was old, its credentials were right. */
  readonly stale?: boolean;
  readonly opaque?: string;
}

/** A stored secret: the password, or H(user:realm:password) for the hash it was made with. */
export type DigestSecret = { readonly password: string } | { readonly ha1: string; readonly hash?: DigestHashName };

export type DigestSecretSource = DigestSecret | undefined | ((username: string, realm: string) => DigestSecret | undefined);

export interface VerifyOptions {
  readonly method: string;
  readonly realm: string;
  readonly secret: DigestSecretSource;
  /** When set, the credentials' `uri` must equal it (RFC 7616 §3.4.6, RFC 3261 §22.4). */
  readonly requestUri?: string;
  /** Body, for qop=auth-int. */
  readonly body?: Uint8Array | string;
  /** qop values accepted; default `['auth', 'auth-int']`. An empty list allows only no-qop. */
  readonly qop?: readonly DigestQop[];
  /** Accept credentials without qop (RFC 2069 form). Default false: no nc, weak replay defence. */
  readonly allowNoQop?: boolean;
}

export type DigestFailure =
  | 'malformed' | 'unsupported-algorithm' | 'wrong-realm' | 'bad-nonce' | 'stale' | 'replay'
  | 'qop-not-allowed' | 'uri-mismatch' | 'unknown-user' | 'bad-response';

export type DigestVerdict =
  | { readonly ok: true; readonly username: string; readonly realm: string; readonly algorithm: string;
      readonly qop?: DigestQop; readonly nc: number }
  | { readonly ok: false; readonly reason: DigestFailure; readonly detail: string };

const REQUIRED = ['username', 'realm', 'nonce', 'uri', 'response'] as const;

export class DigestServer {
  readonly #signer: NonceSigner;
  readonly #lifetimeMs: number;
  readonly #now: () => number;
  readonly #counts: NonceCountTracker;

  constructor(options: DigestServerOptions = {}) {
    this.#signer = new NonceSigner(options.secret);
    this.#lifetimeMs = (options.nonceLifetimeSeconds ?? 300) * 1000;
    this.#now = options.now ?? Date.now;
    this.#counts = new NonceCountTracker(options.maxTrackedNonces ?? 10_000);
  }

  /** A WWW-Authenticate / Proxy-Authenticate value with a fresh nonce. */
  createChallenge(options: ChallengeOptions): AuthValue {
    const algorithm = digestAlgorithm(options.algorithm);
    if (algorithm === undefined) {
      throw new EpcError('EPC_ERR_CONFIG_INVALID', `unsupported digest algorithm ${options.algorithm ?? ''}`);
    }
    const qop = options.qop ?? ['auth'];
    const nonce = this.#signer.issue(
      { realm: options.realm, algorithm: algorithm.token, ...(options.opaque !== undefined ? { opaque: options.opaque } : {}) },
      this.#now());
    const params: Record<string, string> = { realm: options.realm, nonce };
    if (options.opaque !== undefined) params['opaque'] = options.opaque;
    if (options.stale === true) params['stale'] = 'true';
    params['algorithm'] = algorithm.token;
    if (qop.length > 0) params['qop'] = qop.join(',');
    return { scheme: 'Digest', params };
  }

  /**
   * Checks Authorization / Proxy-Authorization credentials. Order matters: the response is
   * checked before freshness so that `stale` is only ever reported for correct credentials
   * (RFC 7616 §3.3), and the nonce count is recorded only for a correct response so that a
   * forged request cannot burn a client's counter.
   */
  verifyCredentials(auth: AuthValue, options: VerifyOptions): DigestVerdict {
    if (auth.scheme.toLowerCase() !== 'digest') return fail('malformed', `scheme ${auth.scheme} is not Digest`);
    for (const name of REQUIRED) {
      if (auth.params[name] === undefined) return fail('malformed', `credentials lack ${name}`);
    }
    const { username = '', realm = '', nonce = '', uri = '', response = '' } = auth.params;
    if (realm !== options.realm) return fail('wrong-realm', `realm "${realm}" is not "${options.realm}"`);
    const algorithm = digestAlgorithm(auth.params['algorithm']);
    if (algorithm === undefined) return fail('unsupported-algorithm', `algorithm ${auth.params['algorithm'] ?? ''}`);
    const opaque = auth.params['opaque'];
    const issuedAt = this.#signer.verify(nonce, {
      realm, algorithm: algorithm.token, ...(opaque !== undefined ? { opaque } : {}),
    });
    if (issuedAt === undefined) return fail('bad-nonce', 'nonce was not issued here for this realm/algorithm/opaque');

    const qopRaw = auth.params['qop']?.toLowerCase();
    const allowedQop = options.qop ?? ['auth', 'auth-int'];
    let qop: DigestQop | undefined;
    let nc = 0;
    if (qopRaw === undefined) {
      if (options.allowNoQop !== true) return fail('qop-not-allowed', 'credentials without qop are not accepted');
    } else {
      if (qopRaw !== 'auth' && qopRaw !== 'auth-int') return fail('qop-not-allowed', `qop ${qopRaw}`);
      if (!allowedQop.includes(qopRaw)) return fail('qop-not-allowed', `qop ${qopRaw} was not offered`);
      qop = qopRaw;
      const ncRaw = auth.params['nc'] ?? '';
      if (!/^[0-9a-fA-F]{8}$/.test(ncRaw)) return fail('malformed', 'nc must be 8 hex digits');
      nc = parseInt(ncRaw, 16);
      if (nc === 0) return fail('malformed', 'nc starts at 00000001');
      if ((auth.params['cnonce'] ?? '') === '') return fail('malformed', 'qop needs a cnonce');
    }
    if (algorithm.session && (auth.params['cnonce'] ?? '') === '') return fail('malformed', `${algorithm.token} needs a cnonce`);
    if (options.requestUri !== undefined && uri !== options.requestUri) {
      return fail('uri-mismatch', `digest uri "${uri}" is not the Request-URI "${options.requestUri}"`);
    }

    const secret = typeof options.secret === 'function' ? options.secret(username, realm) : options.secret;
    if (secret === undefined) return fail('unknown-user', `no credentials for ${username}@${realm}`);
    let ha1: string;
    if ('password' in secret) ha1 = computeHa1(algorithm.hash, username, realm, secret.password);
    else if ((secret.hash ?? 'MD5') === algorithm.hash) ha1 = secret.ha1.toLowerCase();
    else return fail('unsupported-algorithm', `stored HA1 is ${secret.hash ?? 'MD5'}, credentials use ${algorithm.hash}`);

    const expected = computeDigestResponse({
      algorithm, ha1, nonce, method: options.method, uri,
      ...(qop !== undefined ? { qop, nc: auth.params['nc'] ?? '' } : {}),
      ...(auth.params['cnonce'] !== undefined ? { cnonce: auth.params['cnonce'] } : {}),
      ...(options.body !== undefined ? { body: options.body } : {}),
    });
    if (!sameHex(expected, response)) return fail('bad-response', `wrong response for ${username}@${realm}`);

    const now = this.#now();
    const expiresAt = issuedAt + this.#lifetimeMs;
    if (now > expiresAt || this.#counts.forcedStale(issuedAt)) {
      return fail('stale', 'nonce expired; challenge again with stale=true');
    }
    // RFC 7616 §3.4: the server MUST NOT accept an nc it has already seen for this nonce.
    // Without qop there is no nc: such a nonce is good for one request only.
    if (!this.#counts.advance(nonce, nc, issuedAt, expiresAt, now)) {
      return fail('replay', `nonce count ${nc} already used with this nonce`);
    }
    return { ok: true, username, realm, algorithm: algorithm.token, ...(qop !== undefined ? { qop } : {}), nc };
  }
}

function fail(reason: DigestFailure, detail: string): DigestVerdict {
  return { ok: false, reason, detail };
}

function sameHex(expected: string, got: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(got.toLowerCase(), 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
