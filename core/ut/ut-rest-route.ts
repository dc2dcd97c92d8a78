/**
 * The Ut REST endpoint on the W2 server (for sip-ws clients, which have no message channel to
 * carry Ut): an XCAP root at `ut.restPath`, e.g.
 *   GET  /ut/simservs.ngn.etsi.org/users/sip:alice@ims.example.com/simservs.xml/~~/simservs/communication-diversion
 *   Authorization: Bearer <the web token the client registers with>
 * A Bearer token is verified as for REGISTER (core/webauth) and only its IMPU's document is
 * reached; without one, `ut.passDigestToXcap` decides: the request goes on without any asserted
 * identity (the client's Digest Authorization with it) and the XCAP server's own challenge comes
 * back, or it is answered 401 Bearer. ETag, If-Match and If-None-Match pass through.
 * Browsers (a WIC served by the WWSF) get CORS (Fetch standard): an Origin outside
 * `w2.allowedOrigins` is refused 403 as a W2 upgrade would be (R-WS-4); an allowed one is echoed,
 * with a preflight answer for the Authorization / If-Match headers.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EpcError } from '../errors.js';
import { isOriginAllowed } from '../server/origin-policy.js';
import { parseBearerCredentials } from '../webauth/bearer-authorization.js';
import type { UtService } from './ut-service.js';
import type { UtMethod, UtRequest } from './ut-types.js';
import type { XcapAnswer } from './xcap-client.js';

export interface UtRestOptions {
  /** The endpoint's path prefix (the XCAP root clients use), e.g. `/ut`. */
  readonly restPath: string;
  /** Without a Bearer token: forward (digest with the XCAP server itself) or answer 401. */
  readonly passDigestToXcap: boolean;
  /** `w2.allowedOrigins`: the browser Origins allowed (empty: any). */
  readonly allowedOrigins: readonly string[];
}

/** Fetch standard CORS: what a WIC page on another origin may send and read. */
const CORS_PREFLIGHT = {
  'access-control-allow-methods': 'GET, PUT, DELETE',
  'access-control-allow-headers': 'Authorization, Content-Type, If-Match, If-None-Match',
  'access-control-max-age': '600',
};
const CORS_EXPOSE = 'ETag, WWW-Authenticate';

/** EpcError → the HTTP status a REST client reads (RFC 9110 §15). */
const HTTP_STATUS: Readonly<Partial<Record<string, number>>> = {
  EPC_ERR_UT_FORBIDDEN: 403,
  EPC_ERR_UT_BAD_REQUEST: 400,
  EPC_ERR_UT_UNAVAILABLE: 502,
};

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

function sendAnswer(reply: FastifyReply, answer: XcapAnswer): FastifyReply {
  reply.code(answer.status);
  if (answer.etag !== undefined) reply.header('etag', answer.etag);
  if (answer.wwwAuthenticate !== undefined) reply.header('www-authenticate', answer.wwwAuthenticate);
  if (answer.contentType !== undefined) reply.header('content-type', answer.contentType);
  return reply.send(answer.body);
}

export async function registerUtRoutes(app: FastifyInstance, service: UtService, options: UtRestOptions): Promise<void> {
  const prefix = options.restPath.replace(/\/+$/, '');
  await app.register(async (scope) => {
    // XCAP bodies are XML of several media types (RFC 4825 §15): taken as text, bounded.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: service.maxBodyBytes }, (_request, body, done) => done(null, body));
    // Browsers: an Origin outside the agreement is refused before anything else (R-WS-4's rule).
    scope.addHook('onRequest', async (request, reply) => {
      const origin = headerOf(request, 'origin');
      if (origin === undefined) return;
      if (!isOriginAllowed(origin, options.allowedOrigins)) {
        return reply.code(403).send({ error: 'Forbidden', message: 'this Origin is not allowed (w2.allowedOrigins)' });
      }
      reply.header('access-control-allow-origin', origin).header('vary', 'Origin').header('access-control-expose-headers', CORS_EXPOSE);
      if (request.method === 'OPTIONS') return reply.code(204).headers(CORS_PREFLIGHT).send();
      return undefined;
    });
    scope.options(`${prefix}/*`, async (_request, reply) => reply.code(204).headers(CORS_PREFLIGHT).send());
    scope.route({
      method: ['GET', 'PUT', 'DELETE'],
      url: `${prefix}/*`,
      bodyLimit: service.maxBodyBytes,
      handler: async (request, reply) => {
        // The raw, still percent-encoded path: the checks in simservs-path.ts see what the client sent.
        const raw = request.raw.url ?? '';
        if (raw.includes('?') || raw.includes('#')) return reply.code(400).send({ error: 'Bad Request', message: 'no query or fragment in an XCAP URI' });
        const utRequest: UtRequest = {
          method: request.method as UtMethod,
          path: raw.slice(prefix.length),
          ...(typeof request.body === 'string' ? { body: request.body } : {}),
          ...optional('contentType', headerOf(request, 'content-type')),
          ...optional('ifMatch', headerOf(request, 'if-match')),
          ...optional('ifNoneMatch', headerOf(request, 'if-none-match')),
        };
        const authorization = headerOf(request, 'authorization');
        try {
          if (authorization !== undefined && /^\s*bearer(\s|$)/i.test(authorization)) {
            const token = parseBearerCredentials(authorization);
            if (token === undefined) return reply.code(401).header('www-authenticate', 'Bearer error="invalid_token"').send({ error: 'Unauthorized', message: 'Token malformed' });
            return sendAnswer(reply, await service.forToken(token, headerOf(request, 'origin'), utRequest));
          }
          if (!options.passDigestToXcap) {
            return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'Unauthorized', message: 'send the web token: Authorization: Bearer <token>' });
          }
          return sendAnswer(reply, await service.passThrough(authorization, utRequest));
        } catch (error) {
          if (!(error instanceof EpcError) || HTTP_STATUS[error.code] === undefined) throw error;
          // RFC 6750 §3.1: a refused token says so in the challenge.
          const status = error.code === 'EPC_ERR_UT_FORBIDDEN' && error.message.startsWith('Token ') ? 401 : HTTP_STATUS[error.code] as number;
          if (status === 401) reply.header('www-authenticate', 'Bearer error="invalid_token"');
          return reply.code(status).send({ error: error.code, message: error.message });
        }
      },
    });
  });
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
