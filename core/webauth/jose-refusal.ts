/**
 * Every failure of jose's jwtVerify as one refusal of the table (TOKEN_REFUSAL_REASONS). jose
 * verifies the signature before any claim, so a tampered token is never reported as expired.
 */
import { errors } from 'jose';
import { KeysUnavailableError } from './issuer-key-set.js';
import type { TokenRefusalCode } from './token-refusals.js';

export function refusalOfJoseError(error: unknown): TokenRefusalCode {
  if (error instanceof KeysUnavailableError) return 'keys_unavailable';
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'not_yet_valid';
    if (error.claim === 'aud') return 'audience_not_accepted';
    if (error.claim === 'iss') return 'issuer_unknown';
    return 'claims_invalid'; // a required claim missing or of the wrong type (exp, iat, sub...)
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm_not_allowed';
  if (error instanceof errors.JWKSNoMatchingKey) return 'key_unknown';
  // Two keys fit the header (no kid) and neither verified: the signature is wrong for this issuer.
  if (error instanceof errors.JWKSMultipleMatchingKeys || error instanceof errors.JWSSignatureVerificationFailed) return 'signature_invalid';
  // JWSInvalid, JWTInvalid, JOSENotSupported (crit, b64), anything else: not a token we can read.
  return 'malformed';
}
