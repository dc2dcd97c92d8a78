/**
 * The REST admin API, mounted on the W2 fastify instance (the one HTTP server of epcscf) as
 * an encapsulated plugin: its error handler, OpenAPI collection and key guard stay inside it,
 * so the W2 WebSocket routes registered before it behave exactly as they did.
 *
 *   public:  GET /health, GET /ready, GET /openrpc.json, GET /docs (swagger-ui), GET /docs/json
 *   bearer:  GET /metrics, GET|DELETE /admin/{registrations,calls,sessions}[/:id]
 *
 * Without a configured key the guarded half is not mounted at all (404), never left open.
 */
import type { FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { adminErrorBody, handleAdminError } from './admin-error.js';
import type { AdminBackend } from './backend.js';
import { requireBearerKey } from './bearer-auth.js';
import type { EpcscfMetrics } from './metrics.js';
import { registerPublicRoutes } from './public-routes.js';
import { registerResourceRoutes } from './resource-routes.js';
import { SHARED_SCHEMAS, errorResponses } from './schemas.js';

export interface AdminApiOptions {
  /** The admin bearer key from configuration; undefined or empty: /admin/* and /metrics are not served. */
  readonly bearerKey: string | undefined;
  readonly backend: AdminBackend;
  /** Served at /metrics; registerAdminApi binds it to `backend` for the scrape-time gauges. */
  readonly metrics: EpcscfMetrics;
  /** schemas/openrpc.json, served at /openrpc.json when given. */
  readonly openrpcDocument?: object;
  /** epcscf's version, reported by /health and the OpenAPI info. */
  readonly version: string;
  /** /ready answers 503 when the backend's readiness takes longer (default 3000 ms). */
  readonly readinessTimeoutMs?: number;
}

/** A key shorter than this is accepted but logged: it is guessable. */
const MIN_RECOMMENDED_KEY_LENGTH = 16;

export async function registerAdminApi(app: FastifyInstance, options: AdminApiOptions): Promise<void> {
  const key = options.bearerKey === undefined || options.bearerKey === '' ? undefined : options.bearerKey;
  // A /health the host app already serves wins; two registrations would fail boot.
  const healthTaken = app.hasRoute({ method: 'GET', url: '/health' });
  options.metrics.bindBackend(options.backend);

  await app.register(async (admin) => {
    await admin.register(fastifySwagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'epcscf admin API',
          version: options.version,
          description: 'Inspect and terminate registrations, calls and W2 plugin sessions; health, readiness and Prometheus metrics.',
        },
        components: {
          securitySchemes: {
            // RFC 6750: Authorization: Bearer <admin key from the configuration>.
            bearerAuth: { type: 'http', scheme: 'bearer', description: 'The admin key from the epcscf configuration' },
          },
        },
      },
      refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json['$id'] === 'string' ? json['$id'] : `def-${i}`) },
    });
    for (const schema of SHARED_SCHEMAS) admin.addSchema(schema);
    admin.setErrorHandler(handleAdminError);

    if (healthTaken) admin.log.warn('admin API: GET /health is already served by the host app; the admin /health is not mounted');
    registerPublicRoutes(admin, {
      backend: options.backend,
      version: options.version,
      openrpcDocument: options.openrpcDocument,
      readinessTimeoutMs: options.readinessTimeoutMs ?? 3_000,
      health: !healthTaken,
    });

    if (key === undefined) {
      admin.log.warn('admin API: no bearer key configured, so /admin/* and /metrics are not served (set one to enable them)');
      await admin.register(async (disabled) => {
        disabled.setNotFoundHandler(async (_request, reply) => reply.code(404).send(adminErrorBody('EPC_ERR_ADMIN_NOT_FOUND', 'the admin API is disabled: no bearer key is configured')));
      }, { prefix: '/admin' });
    } else {
      if (key.length < MIN_RECOMMENDED_KEY_LENGTH) admin.log.warn(`admin API: the bearer key is shorter than ${MIN_RECOMMENDED_KEY_LENGTH} characters`);
      await admin.register(async (guarded) => {
        guarded.addHook('onRequest', requireBearerKey(key));
        guarded.get('/metrics', {
          schema: {
            tags: ['metrics'],
            summary: 'Prometheus text exposition (format 0.0.4)',
            security: [{ bearerAuth: [] }],
            response: { 200: { description: 'Prometheus metrics', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errorResponses([401]) },
          },
        }, async (_request, reply) => reply.type(options.metrics.contentType).send(await options.metrics.metrics()));
        await guarded.register(async (resources) => {
          resources.setNotFoundHandler(async (request, reply) => reply.code(404).send(adminErrorBody('EPC_ERR_ADMIN_NOT_FOUND', `no admin route ${request.method} ${request.url}`)));
          registerResourceRoutes(resources, options.backend);
        }, { prefix: '/admin' });
      });
    }

    await admin.register(fastifySwaggerUi, { routePrefix: '/docs' });
  });
}
