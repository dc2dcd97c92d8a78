/**
 * Why a web token was refused, and what the client is told (interfaces §1, R-REG-4): every
 * refusal is a SIP `403` with exactly one of these reason phrases — never a challenge, since a
 * bearer token is not digest — and nothing goes on Mw. The keys are the `reason` label of
 * `epcscf_web_token_refusals_total`. Other protocols (JSON-RPC, XMPP SASL) carry the same phrases.
 */
export const TOKEN_REFUSAL_REASONS = {
  malformed: 'Token malformed',
  algorithm_not_allowed: 'Token algorithm not allowed',
  issuer_unknown: 'Token issuer unknown',
  key_unknown: 'Token key unknown',
  signature_invalid: 'Token signature invalid',
  expired: 'Token expired',
  not_yet_valid: 'Token not yet valid',
  audience_not_accepted: 'Token audience not accepted',
  claims_invalid: 'Token claims invalid',
  impu_mismatch: 'Token IMPU mismatch',
  impu_not_in_pool: 'Token IMPU not in pool',
  origin_not_allowed: 'Token origin not allowed',
  /** Not the client's fault: the issuer's JWKS URL could not be fetched (503 with Retry-After). */
  keys_unavailable: 'Token keys unavailable',
} as const;

export type TokenRefusalCode = keyof typeof TOKEN_REFUSAL_REASONS;

export const TOKEN_REFUSAL_CODES = Object.keys(TOKEN_REFUSAL_REASONS) as readonly TokenRefusalCode[];

/** Retry-After (seconds) of a `503 Token keys unavailable`. */
export const KEYS_UNAVAILABLE_RETRY_AFTER_SECONDS = 30;

/** A refusal as a SIP outcome: the status, the exact reason phrase, and Retry-After for 503. */
export interface TokenRefusal {
  readonly code: TokenRefusalCode;
  readonly status: 403 | 503;
  readonly reason: (typeof TOKEN_REFUSAL_REASONS)[TokenRefusalCode];
  readonly retryAfterSeconds?: number;
}

export function tokenRefusal(code: TokenRefusalCode): TokenRefusal {
  if (code === 'keys_unavailable') {
    return { code, status: 503, reason: TOKEN_REFUSAL_REASONS[code], retryAfterSeconds: KEYS_UNAVAILABLE_RETRY_AFTER_SECONDS };
  }
  return { code, status: 403, reason: TOKEN_REFUSAL_REASONS[code] };
}
