/**
 * The digest computation itself (RFC 7616 §3.4, RFC 2617 §3.2.2, RFC 3261 §22.4): the
 * algorithm table, H(), A1/A2 and the request-digest. No SIP parsing here: callers pass the
 * already-unquoted parameter values.
 */
import { createHash } from 'node:crypto';
import { EpcError } from '../../errors.js';

/** The hash functions RFC 7616 §3.4 and RFC 8760 §2 register for digest. */
export type DigestHashName = 'MD5' | 'SHA-256' | 'SHA-512-256';

export interface DigestAlgorithm {
  /** Canonical token as sent on the wire (`MD5`, `SHA-256-sess`, ...). */
  readonly token: string;
  readonly hash: DigestHashName;
  /** `-sess` variant: A1 also folds in nonce and cnonce (RFC 7616 §3.4.2). */
  readonly session: boolean;
  /** Higher is stronger; RFC 8760 §2.4 lists SHA-512-256, SHA-256, MD5 in that order. */
  readonly strength: number;
}

const NODE_HASH: Record<DigestHashName, string> = {
  'MD5': 'md5',
  'SHA-256': 'sha256',
  'SHA-512-256': 'sha512-256',
};

const STRENGTH: Record<DigestHashName, number> = { 'MD5': 1, 'SHA-256': 2, 'SHA-512-256': 3 };

/**
 * Looks an `algorithm` parameter up. RFC 7616 §3.3: a challenge without one means MD5.
 * Tokens are compared case-insensitively (RFC 7616 §3.3 shows them as case-insensitive tokens).
 * Returns undefined for an algorithm this stack does not implement.
 */
export function digestAlgorithm(token: string | undefined): DigestAlgorithm | undefined {
  const raw = (token ?? 'MD5').trim();
  const upper = raw.toUpperCase();
  const session = upper.endsWith('-SESS');
  const base = session ? upper.slice(0, -5) : upper;
  const hash = (Object.keys(NODE_HASH) as DigestHashName[]).find((name) => name === base);
  if (hash === undefined) return undefined;
  return { token: session ? `${hash}-sess` : hash, hash, session, strength: STRENGTH[hash] };
}

/** H(data) of RFC 7616 §3.4.1: lower-case hex of the hash. */
export function digestHash(hash: DigestHashName, data: string | Uint8Array): string {
  return createHash(NODE_HASH[hash]).update(data).digest('hex');
}

/** H(username ":" realm ":" password): the value a server may store instead of a password. */
export function computeHa1(hash: DigestHashName, username: string, realm: string, password: string): string {
  return digestHash(hash, `${username}:${realm}:${password}`);
}

export type DigestQop = 'auth' | 'auth-int';

export interface DigestInputs {
  readonly algorithm: DigestAlgorithm;
  /** H(username:realm:password) for `algorithm.hash` (before any -sess folding). */
  readonly ha1: string;
  readonly nonce: string;
  readonly method: string;
  /** digest-uri exactly as it appears in the credentials (RFC 3261 §22.4: the Request-URI). */
  readonly uri: string;
  /** Absent for the RFC 2069 compatibility form (no qop offered). */
  readonly qop?: DigestQop;
  /** Eight lower-case hex digits (RFC 7616 §3.4); required with qop. */
  readonly nc?: string;
  /** Required with qop and with a -sess algorithm. */
  readonly cnonce?: string;
  /** Entity body, hashed into A2 for qop=auth-int (RFC 7616 §3.4.3). */
  readonly body?: Uint8Array | string;
}

/** The `response` value of RFC 7616 §3.4.1 (request-digest). */
export function computeDigestResponse(inputs: DigestInputs): string {
  const { algorithm, nonce, qop, cnonce, nc } = inputs;
  const h = (data: string | Uint8Array): string => digestHash(algorithm.hash, data);
  if ((qop !== undefined || algorithm.session) && (cnonce === undefined || cnonce === '')) {
    throw new EpcError('EPC_ERR_SIP_AUTH', `digest ${algorithm.token}${qop ? ` qop=${qop}` : ''} needs a cnonce`);
  }
  // RFC 7616 §3.4.2: for -sess, A1 = H(user:realm:pass) ":" nonce ":" cnonce.
  const ha1 = algorithm.session ? h(`${inputs.ha1}:${nonce}:${cnonce ?? ''}`) : inputs.ha1;
  // RFC 7616 §3.4.3: auth-int adds H(entity-body) to A2; an empty body hashes the empty string.
  const a2 = qop === 'auth-int'
    ? `${inputs.method}:${inputs.uri}:${h(inputs.body ?? '')}`
    : `${inputs.method}:${inputs.uri}`;
  const ha2 = h(a2);
  if (qop === undefined) {
    // RFC 2617 §3.2.2.1 / RFC 2069 compatibility: no qop, no nc, no cnonce.
    return h(`${ha1}:${nonce}:${ha2}`);
  }
  if (nc === undefined || !/^[0-9a-f]{8}$/i.test(nc)) {
    throw new EpcError('EPC_ERR_SIP_AUTH', `digest qop=${qop} needs an 8-hex-digit nc, got ${JSON.stringify(nc)}`);
  }
  return h(`${ha1}:${nonce}:${nc.toLowerCase()}:${cnonce ?? ''}:${qop}:${ha2}`);
}

/** nc as sent on the wire: 8 lower-case hex digits (RFC 7616 §3.4). */
export function formatNonceCount(count: number): string {
  if (!Number.isInteger(count) || count < 1 || count > 0xffffffff) {
    throw new EpcError('EPC_ERR_SIP_AUTH', `nonce count out of range: ${count}`);
  }
  return count.toString(16).padStart(8, '0');
}
