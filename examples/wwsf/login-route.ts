/**
 * POST /api/login — the web login of the demo WWSF (TS 24.371 §6: the user authenticates at the
 * WWSF, whose WAF hands the WIC a token for the eP-CSCF). `{ user, password }` → 200 `{ token,
 * impi, impu, expiresAt, displayName }`; a known user with the wrong password, or an unknown
 * user → 401; `guest` (any password) → an IMPU from the pool (scenario 3), 503 when none is free.
 * The endpoint is public: the body is schema-checked and each client address rate-limited.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { GuestPool } from './guest-pool.js';
import type { LoginRateLimit } from './login-rate-limit.js';
import type { TokenIssuer } from './token-issuer.js';
import { guestIdentity } from './user-book.js';
import type { UserBook, WebIdentity } from './user-book.js';

/** The login name that asks for a pooled IMPU (scenario 3). */
export const GUEST_LOGIN = 'guest';

export interface LoginRequestBody {
  readonly user: string;
  readonly password: string;
}

export interface LoginResponseBody {
  readonly token: string;
  readonly impi: string;
  readonly impu: string;
  /** The token's exp, ms since the epoch. */
  readonly expiresAt: number;
  readonly displayName: string;
}

export interface LoginRouteParts {
  readonly users: UserBook;
  readonly guests: GuestPool;
  /** The token issuer (known once the WWSF is bound: iss defaults to its origin). */
  readonly tokens: () => TokenIssuer | undefined;
  readonly rateLimit: LoginRateLimit;
  readonly log: Logger;
  readonly now: () => number;
}

const LOGIN_BODY_SCHEMA = {
  type: 'object',
  required: ['user', 'password'],
  properties: {
    user: { type: 'string', minLength: 1, maxLength: 64 },
    password: { type: 'string', maxLength: 256 },
  },
} as const;

export function registerLoginRoute(app: FastifyInstance, parts: LoginRouteParts): void {
  app.post<{ Body: LoginRequestBody }>('/api/login', {
    bodyLimit: 4096,
    schema: { body: LOGIN_BODY_SCHEMA },
    // Counted before the body is read or checked: garbage costs an attempt too.
    onRequest: async (request, reply) => {
      const decision = parts.rateLimit.attempt(request.ip);
      if (!decision.allowed) {
        await reply.code(429).header('retry-after', String(decision.retryAfterSeconds))
          .send({ error: `too many login attempts from this address: retry in ${decision.retryAfterSeconds} s` });
      }
    },
    preValidation: async (request, reply) => {
      if (!/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? '')) {
        await reply.code(415).send({ error: 'expected a JSON body (Content-Type: application/json)' });
      }
    },
  }, async (request, reply) => {
    void reply.header('cache-control', 'no-store'); // RFC 6749 §5.1: tokens are not cached
    const { user, password } = request.body;
    const tokens = parts.tokens();
    if (tokens === undefined) return reply.code(503).header('retry-after', '1').send({ error: 'the WWSF is starting: try again' });
    let identity: WebIdentity | undefined;
    const guest = user === GUEST_LOGIN;
    if (guest) {
      const impu = parts.guests.lease(parts.now() + tokens.ttlSeconds * 1000);
      if (impu === undefined) {
        parts.log.warn('guest login refused: every pooled IMPU is leased');
        return reply.code(503).header('retry-after', '60').send({ error: 'all guest identities are in use: try again later' });
      }
      identity = guestIdentity(impu);
    } else {
      identity = parts.users.authenticate(user, password);
      if (identity === undefined) {
        parts.log.info({ user, ip: request.ip }, 'login refused');
        return reply.code(401).send({ error: 'unknown user or wrong password' });
      }
    }
    const issued = await tokens.issue(identity, { guest });
    parts.log.info({ impu: issued.impu, kid: issued.kid }, 'token issued');
    const body: LoginResponseBody = { token: issued.token, impi: issued.impi, impu: issued.impu, expiresAt: issued.expiresAt, displayName: identity.displayName };
    return body;
  });
}
