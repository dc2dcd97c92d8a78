/**
 * SIP digest authentication (RFC 3261 §22, RFC 7616, RFC 8760): the public surface.
 * Client: `answerChallenge` for one challenge, `DigestClient` for nonce reuse and loop
 * protection. Server: `DigestServer` (stateless HMAC nonces, stale, nc replay window).
 * Header text: `formatDigestChallenge` / `formatDigestCredentials` (digest quoting rules).
 */
export {
  computeDigestResponse, computeHa1, digestAlgorithm, digestHash, formatNonceCount,
  type DigestAlgorithm, type DigestHashName, type DigestInputs, type DigestQop,
} from './digest-algorithm.js';
export {
  answerChallenge, generateCnonce, isSupportedDigestChallenge, pickChallenge, type AnswerOptions,
} from './digest-answer.js';
export {
  DigestClient, type DigestClientOptions, type DigestCredentialSource, type DigestCredentials,
  type DigestRequestInfo,
} from './digest-client.js';
export {
  DigestServer, type ChallengeOptions, type DigestFailure, type DigestSecret, type DigestSecretSource,
  type DigestServerOptions, type DigestVerdict, type VerifyOptions,
} from './digest-server.js';
export { formatDigestChallenge, formatDigestCredentials } from './digest-format.js';
export { NonceSigner, type NonceBinding } from './digest-nonce.js';
