/**
 * The demo WWSF/WAF (TS 24.371 §6, the operator's web partner): a fastify app that serves the
 * browser WIC, logs users in and hands out short-lived ES256 tokens, and publishes its keys at
 * /.well-known/jwks.json — the only thing epcscf ever sees of it.
 *   GET  /                       the WIC (a directory built by examples/wic-web/build.ts)
 *   GET  /config.json            where the WIC connects: { domain, endpoints, authModes }
 *   POST /api/login              { user, password } → { token, impi, impu, expiresAt, displayName }
 *   GET  /.well-known/jwks.json  RFC 7517 JWK Set (current key + keys retired within the grace)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { GuestPool } from './guest-pool.js';
import { LoginRateLimit } from './login-rate-limit.js';
import type { LoginRateLimitOptions } from './login-rate-limit.js';
import { registerLoginRoute } from './login-route.js';
import { SigningKeys } from './signing-keys.js';
import { registerStaticFiles } from './static-files.js';
import { TokenIssuer } from './token-issuer.js';
import { UserBook } from './user-book.js';
import type { WwsfUsersFile } from './user-book.js';

export const JWKS_PATH = '/.well-known/jwks.json';
export const DEFAULT_TOKEN_TTL_SECONDS = 600;
export const DEFAULT_LOGIN_RATE_LIMIT: LoginRateLimitOptions = { max: 30, windowSeconds: 60 };

/** What the WIC reads from /config.json (interfaces §3). */
export interface WicClientConfig {
  readonly domain: string;
  /** W2 URL per plugin name: `sip-ws`, `jsonrpc-ws`, `xmpp-ws`. */
  readonly endpoints: Readonly<Record<string, string>>;
  readonly authModes: readonly ('web' | 'digest')[];
}

export interface WwsfOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 8080; 0 picks a free port. */
  readonly port?: number;
  /** The tokens' iss; default the WWSF's own origin (http://host:port). */
  readonly issuer?: string;
  /** The iss of guest tokens (scenario 3); default `<issuer>/guest`. */
  readonly guestIssuer?: string;
  /** The tokens' aud: the eP-CSCF they are for; default `epcscf.<domain>`. */
  readonly audience?: string;
  /** A users file path or its content; default examples/wwsf/users.json. */
  readonly users?: string | WwsfUsersFile;
  /** Token lifetime; default 600 s. */
  readonly tokenTtlSeconds?: number;
  /** How long a rotated-out key stays in the JWKS; default the token lifetime + 60 s (its tokens expire first). */
  readonly keyGraceSeconds?: number;
  /** Serve this already built WIC; default: build it (examples/wic-web) into a temporary directory. */
  readonly wicDir?: string;
  /** The W2 endpoints for /config.json; may also be set later with setClientConfig (503 until then). */
  readonly clientConfig?: WicClientConfig;
  readonly loginRateLimit?: LoginRateLimitOptions;
  /** Default: silent. */
  readonly logger?: Logger;
  /** Clock (ms since the epoch), for tests. */
  readonly now?: () => number;
}

export interface Wwsf {
  /** `http://host:port/`: the page a user opens. */
  readonly url: string;
  /** `http://host:port`: the page origin the eP-CSCF should allow. */
  readonly origin: string;
  readonly issuer: string;
  /** The iss of guest tokens: give it `impuPool: guestPool` in the eP-CSCF's webAuth.issuers. */
  readonly guestIssuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
  readonly domain: string;
  readonly guestPool: readonly string[];
  readonly tokenTtlSeconds: number;
  /** The directory the WIC is served from (a temporary build unless `wicDir` was given). */
  readonly wicDir: string;
  /** For `inject()` in tests. */
  readonly app: FastifyInstance;
  /** The kid new tokens are signed with. */
  readonly currentKid: string;
  /** A new signing key (returns its kid); the previous one stays in the JWKS for the grace period. */
  rotateKey(): Promise<string>;
  setClientConfig(config: WicClientConfig): void;
  /** Idempotent. */
  close(): Promise<void>;
}

export async function startWwsf(options: WwsfOptions = {}): Promise<Wwsf> {
  const now = options.now ?? Date.now;
  const log = options.logger ?? pino({ level: 'silent' });
  const users = typeof options.users === 'object' ? new UserBook(options.users) : await UserBook.load(options.users);
  const ttlSeconds = options.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  const keys = await SigningKeys.create({ graceMs: (options.keyGraceSeconds ?? ttlSeconds + 60) * 1000, now });
  const guests = new GuestPool(users.guestPool, now);
  let builtWicDir: string | undefined;
  let clientConfig = options.clientConfig;
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // Shutdown must not wait for a client's keep-alive socket (undici or a browser tab): every request here is short.
    forceCloseConnections: true,
    // A login body is checked as sent: `{"user": 5}` is refused, not turned into "5".
    ajv: { customOptions: { coerceTypes: false } },
  });
  try {
    let wicDir = options.wicDir;
    if (wicDir === undefined) {
      builtWicDir = await mkdtemp(join(tmpdir(), 'epcscf-wic-'));
      const { buildWic } = await import('../wic-web/build.js');
      await buildWic(builtWicDir);
      wicDir = builtWicDir;
    }
    const root = wicDir;
    app.setErrorHandler(errorHandler(log));
    app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `not found: ${request.method} ${request.url}` }));
    // Bound later (the issuer defaults to the bound origin); the routes read it per request.
    let tokenIssuer: TokenIssuer | undefined;
    app.get(JWKS_PATH, async (_request, reply) => reply.header('cache-control', 'public, max-age=60').send(keys.jwks()));
    app.get('/config.json', async (_request, reply) => {
      if (clientConfig === undefined) return reply.code(503).header('retry-after', '1').send({ error: 'the eP-CSCF endpoints are not known yet' });
      return reply.header('cache-control', 'no-cache').send(clientConfig);
    });
    registerLoginRoute(app, {
      users, guests, log, now,
      tokens: () => tokenIssuer,
      rateLimit: new LoginRateLimit(options.loginRateLimit ?? DEFAULT_LOGIN_RATE_LIMIT, now),
    });
    registerStaticFiles(app, () => root);

    const host = options.host ?? '127.0.0.1';
    await app.listen({ host, port: options.port ?? 8080 });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : options.port ?? 8080;
    const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const iss = options.issuer ?? origin;
    const guestIssuer = options.guestIssuer ?? `${iss}/guest`;
    const audience = options.audience ?? `epcscf.${users.domain}`;
    tokenIssuer = new TokenIssuer({ issuer: iss, guestIssuer, audience, ttlSeconds, keys, now });
    let closing: Promise<void> | undefined;
    return {
      url: `${origin}/`, origin, issuer: iss, guestIssuer, audience, jwksUrl: `${origin}${JWKS_PATH}`, domain: users.domain,
      guestPool: guests.impus, tokenTtlSeconds: ttlSeconds, wicDir: root, app,
      get currentKid() { return keys.current.kid; },
      rotateKey: () => keys.rotate(),
      setClientConfig(config) { clientConfig = config; },
      close: () => (closing ??= closeAll(app, builtWicDir)),
    };
  } catch (error) {
    await closeAll(app, builtWicDir);
    throw error;
  }
}

async function closeAll(app: FastifyInstance, builtWicDir: string | undefined): Promise<void> {
  await app.close();
  if (builtWicDir !== undefined) await rm(builtWicDir, { recursive: true, force: true });
}

/** Every error a client can cause is a 4xx `{ error }` in words; anything else a logged 500. */
function errorHandler(log: Logger) {
  return (error: FastifyError, _request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (error.validation !== undefined) return reply.code(400).send({ error: `invalid login request: ${error.message}` });
    switch (error.code) {
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return reply.code(415).send({ error: 'expected a JSON body (Content-Type: application/json)' });
      case 'FST_ERR_CTP_BODY_TOO_LARGE': return reply.code(413).send({ error: 'request body too large' });
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_JSON_BODY': return reply.code(400).send({ error: 'request body is not valid JSON' });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ error: error instanceof SyntaxError ? 'request body is not valid JSON' : error.message });
    }
    log.error({ err: error }, 'WWSF request failed');
    return reply.code(500).send({ error: 'internal error' });
  };
}
