/**
 * The admin API's access control: one shared bearer key from the configuration, presented as
 * `Authorization: Bearer <key>` (RFC 6750 §2.1). Anything else gets 401 with a
 * `WWW-Authenticate: Bearer` challenge (RFC 6750 §3).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { adminErrorBody } from './admin-error.js';

const ADMIN_REALM = 'epcscf-admin';

/**
 * RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; RFC 7235 §2.1: the scheme is
 * case-insensitive. b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
 * Anchored and free of nested quantifiers: linear on untrusted input.
 */
const BEARER_CREDENTIALS = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The token of an `Authorization` header value, or undefined when it carries no Bearer credentials. */
export function bearerTokenOf(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  return BEARER_CREDENTIALS.exec(authorization)?.[1];
}

/**
 * Compares without leaking, through timing, how much of the key matched: both sides are
 * hashed to the same length first, then compared with timingSafeEqual.
 */
export function keyMatches(presented: string, expected: string): boolean {
  return digestMatches(presented, digestOf(expected));
}

function digestOf(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function digestMatches(presented: string, expectedDigest: Buffer): boolean {
  return timingSafeEqual(digestOf(presented), expectedDigest);
}

/** An onRequest hook admitting only requests that present `key`. */
export function requireBearerKey(key: string): onRequestHookHandler {
  const expectedDigest = digestOf(key);
  return async function checkBearerKey(request: FastifyRequest, reply: FastifyReply) {
    const token = bearerTokenOf(request.headers.authorization);
    if (token !== undefined && digestMatches(token, expectedDigest)) return;
    // RFC 6750 §3.1: no credentials at all → a bare challenge, no error code;
    // credentials that do not match → error="invalid_token".
    const challenge = token === undefined
      ? `Bearer realm="${ADMIN_REALM}"`
      : `Bearer realm="${ADMIN_REALM}", error="invalid_token", error_description="the bearer key is not valid"`;
    await reply
      .code(401)
      .header('www-authenticate', challenge)
      .send(adminErrorBody('EPC_ERR_ADMIN_UNAUTHORIZED', token === undefined
        ? 'this resource needs Authorization: Bearer <admin key>'
        : 'the bearer key is not valid'));
  };
}
