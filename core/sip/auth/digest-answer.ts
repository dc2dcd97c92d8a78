/**
 * Answering one SIP digest challenge (RFC 3261 §22.2-22.3, RFC 7616 §3.4, RFC 8760): answer a
 * WWW-Authenticate / Proxy-Authenticate challenge with credentials.
 */
import { randomBytes } from 'node:crypto';
import { EpcError } from '../../errors.js';
import type { AuthValue } from '../model/views.js';
import {
  computeDigestResponse, computeHa1, digestAlgorithm, formatNonceCount,
  type DigestAlgorithm, type DigestQop,
} from './digest-algorithm.js';

export interface AnswerOptions {
  readonly method: string;
  /** The Request-URI exactly as written in the request line (RFC 3261 §22.4: digest-uri). */
  readonly uri: string;
  readonly username: string;
  readonly password: string;
  /**
   * The realm these credentials belong to. When set, a challenge from another realm is
   * refused rather than answered, so a password is never spent on a realm it is not for.
   */
  readonly realm?: string;
  /** Fixed cnonce (tests, vectors); a random one is drawn otherwise. */
  readonly cnonce?: string;
  /** Nonce count for this nonce, 1 for the first use (RFC 7616 §3.4). */
  readonly nc?: number;
  /** Request body, used only for qop=auth-int. */
  readonly body?: Uint8Array | string;
}

/** True for a Digest challenge whose algorithm this stack implements. */
export function isSupportedDigestChallenge(challenge: AuthValue): boolean {
  return challenge.scheme.toLowerCase() === 'digest'
    && challenge.params['nonce'] !== undefined
    && challenge.params['realm'] !== undefined
    && digestAlgorithm(challenge.params['algorithm']) !== undefined;
}

/**
 * Picks the challenge to answer among several (RFC 8760 §2.4: a UAS lists them in its order of
 * preference, SHA-512-256 / SHA-256 before MD5; RFC 7616 §3.7: a client uses the strongest it
 * supports). Strongest algorithm wins; on a tie the topmost one. `realm` restricts the choice.
 */
export function pickChallenge(challenges: readonly AuthValue[], realm?: string): AuthValue | undefined {
  let best: AuthValue | undefined;
  let bestStrength = 0;
  for (const challenge of challenges) {
    if (!isSupportedDigestChallenge(challenge)) continue;
    if (realm !== undefined && challenge.params['realm'] !== realm) continue;
    const strength = digestAlgorithm(challenge.params['algorithm'])?.strength ?? 0;
    if (strength > bestStrength) { best = challenge; bestStrength = strength; }
  }
  return best;
}

/** The qop-options of a challenge (RFC 7616 §3.3: a quoted, comma-separated list). */
function offeredQops(challenge: AuthValue): string[] {
  const raw = challenge.params['qop'];
  if (raw === undefined) return [];
  return raw.split(',').map((q) => q.trim().toLowerCase()).filter((q) => q.length > 0);
}

function chooseQop(challenge: AuthValue): DigestQop | undefined {
  const offered = offeredQops(challenge);
  if (offered.length === 0) return undefined; // RFC 2069 compatibility form
  // auth protects the request line only but is what every IMS core and Kamailio accept;
  // auth-int is used when it is the only option offered.
  if (offered.includes('auth')) return 'auth';
  if (offered.includes('auth-int')) return 'auth-int';
  throw new EpcError('EPC_ERR_SIP_AUTH', `digest challenge offers no supported qop (${offered.join(', ')})`);
}

/** A fresh client nonce: 128 random bits, base64url (no characters that need quoting). */
export function generateCnonce(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Builds the Authorization / Proxy-Authorization credentials answering `challenge`
 * (RFC 7616 §3.4, RFC 3261 §22.2). Throws `EPC_ERR_SIP_AUTH` when the challenge cannot be
 * answered (not Digest, unknown algorithm or qop, another realm).
 */
export function answerChallenge(challenge: AuthValue, options: AnswerOptions): AuthValue {
  if (challenge.scheme.toLowerCase() !== 'digest') {
    throw new EpcError('EPC_ERR_SIP_AUTH', `cannot answer a ${challenge.scheme} challenge with digest credentials`);
  }
  const realm = challenge.params['realm'];
  const nonce = challenge.params['nonce'];
  if (realm === undefined || nonce === undefined) {
    throw new EpcError('EPC_ERR_SIP_AUTH', 'digest challenge lacks realm or nonce (RFC 7616 §3.3)');
  }
  if (options.realm !== undefined && options.realm !== realm) {
    throw new EpcError('EPC_ERR_SIP_AUTH', `challenge realm "${realm}" is not the credentials' realm "${options.realm}"`);
  }
  const algorithm = digestAlgorithm(challenge.params['algorithm']);
  if (algorithm === undefined) {
    throw new EpcError('EPC_ERR_SIP_AUTH', `unsupported digest algorithm ${challenge.params['algorithm'] ?? ''}`);
  }
  const qop = chooseQop(challenge);
  const needsCnonce = qop !== undefined || algorithm.session;
  const cnonce = needsCnonce ? options.cnonce ?? generateCnonce() : undefined;
  const nc = qop !== undefined ? formatNonceCount(options.nc ?? 1) : undefined;
  const response = computeDigestResponse({
    algorithm,
    ha1: computeHa1(algorithm.hash, options.username, realm, options.password),
    nonce, method: options.method, uri: options.uri,
    ...(qop !== undefined ? { qop } : {}),
    ...(nc !== undefined ? { nc } : {}),
    ...(cnonce !== undefined ? { cnonce } : {}),
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  return { scheme: 'Digest', params: credentialParams(challenge, algorithm, {
    username: options.username, realm, nonce, uri: options.uri, response, qop, nc, cnonce,
  }) };
}

interface CredentialFields {
  username: string; realm: string; nonce: string; uri: string; response: string;
  qop: DigestQop | undefined; nc: string | undefined; cnonce: string | undefined;
}

function credentialParams(challenge: AuthValue, algorithm: DigestAlgorithm, f: CredentialFields): Record<string, string> {
  const params: Record<string, string> = {
    username: f.username, realm: f.realm, nonce: f.nonce, uri: f.uri, response: f.response,
  };
  // Echo the algorithm only when the challenge named one: RFC 2617-era servers (and
  // RFC 3261 §22.4 examples) do not expect it otherwise.
  if (challenge.params['algorithm'] !== undefined) params['algorithm'] = algorithm.token;
  if (f.cnonce !== undefined) params['cnonce'] = f.cnonce;
  // RFC 7616 §3.4: opaque MUST be returned unchanged.
  const opaque = challenge.params['opaque'];
  if (opaque !== undefined) params['opaque'] = opaque;
  if (f.qop !== undefined) params['qop'] = f.qop;
  if (f.nc !== undefined) params['nc'] = f.nc;
  return params;
}
