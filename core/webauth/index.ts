export {
  TOKEN_REFUSAL_REASONS, TOKEN_REFUSAL_CODES, KEYS_UNAVAILABLE_RETRY_AFTER_SECONDS, tokenRefusal,
  type TokenRefusal, type TokenRefusalCode,
} from './token-refusals.js';
export { bearerTokenOf, isBearerAuthorization, parseBearerCredentials, withoutBearer, type BearerInRequest } from './bearer-authorization.js';
export {
  ALLOWED_TOKEN_ALGORITHMS, WebTokenVerifier, canonicalImpu,
  type VerifyContext, type WebTokenGrant, type WebTokenOutcome, type WebTokenVerifierOptions,
} from './web-token-verifier.js';
export { KeysUnavailableError } from './issuer-key-set.js';
export { refusalOfJoseError } from './jose-refusal.js';
export type { JwksSource, WebAuthConfig, WebAuthIssuer } from '../config/config-types.js';
