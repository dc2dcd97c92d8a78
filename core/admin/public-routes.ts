/**
 * The routes anyone may read (no bearer key): liveness, readiness and the OpenRPC document of
 * the JSON-RPC plugin. Load balancers and orchestrators probe the first two without secrets.
 */
import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { adminErrorBody } from './admin-error.js';
import type { AdminBackend, AdminReadiness } from './backend.js';
import { SCHEMA_IDS, ref } from './schemas.js';

const PUBLIC = { security: [] as Array<Record<string, string[]>> };

export interface PublicRouteOptions {
  readonly backend: Pick<AdminBackend, 'readiness'>;
  readonly version: string;
  readonly openrpcDocument: object | undefined;
  /** A readiness probe that takes longer than this counts as not ready. */
  readonly readinessTimeoutMs: number;
  /** Register /health here; false when the host app already serves one. */
  readonly health: boolean;
}

export function registerPublicRoutes(app: FastifyInstance, options: PublicRouteOptions): void {
  const startedAt = performance.now();

  if (options.health) {
    app.get('/health', {
      schema: {
        tags: ['health'],
        summary: 'Liveness: the process answers HTTP',
        ...PUBLIC,
        response: {
          200: {
            description: 'Alive',
            type: 'object',
            required: ['status', 'version', 'uptimeSeconds'],
            properties: { status: { type: 'string', enum: ['ok'] }, version: { type: 'string' }, uptimeSeconds: { type: 'number' } },
          },
        },
      },
    }, async () => ({ status: 'ok', version: options.version, uptimeSeconds: Math.round((performance.now() - startedAt) / 1000) }));
  }

  app.get('/ready', {
    schema: {
      tags: ['health'],
      summary: 'Readiness: 200 when every check passes, 503 with the failing checks otherwise',
      ...PUBLIC,
      response: {
        200: { ...ref(SCHEMA_IDS.readiness), description: 'Ready: every check passed' },
        503: { ...ref(SCHEMA_IDS.readiness), description: 'Not ready: the error names the failing checks' },
      },
    },
  }, async (request, reply) => {
    const readiness = await probe(options.backend, options.readinessTimeoutMs).catch((error: unknown): AdminReadiness => {
      request.log.warn({ err: error }, 'readiness probe failed');
      return { ready: false, checks: { probe: { ok: false, detail: error instanceof Error ? error.message : String(error) } } };
    });
    // Ready only when the backend says so and no check contradicts it.
    if (readiness.ready && Object.values(readiness.checks).every((check) => check.ok)) return { ready: true, checks: readiness.checks };
    const failing = Object.entries(readiness.checks).filter(([, check]) => !check.ok)
      .map(([name, check]) => (check.detail === undefined ? name : `${name} (${check.detail})`));
    const message = failing.length > 0 ? `not ready: ${failing.join(', ')}` : 'not ready';
    return reply.code(503).send({ ...adminErrorBody('EPC_ERR_NOT_READY', message), ready: false, checks: readiness.checks });
  });

  if (options.openrpcDocument !== undefined) {
    // Serialised once: the document is static and large enough not to re-stringify per request.
    const body = JSON.stringify(options.openrpcDocument);
    app.get('/openrpc.json', {
      schema: {
        tags: ['json-rpc'],
        summary: 'The OpenRPC document of the JSON-RPC over WebSocket API',
        ...PUBLIC,
        response: { 200: { description: 'OpenRPC 1.x document', type: 'object', additionalProperties: true } },
      },
    }, async (_request, reply) => reply.type('application/json; charset=utf-8').send(body));
  }
}

async function probe(backend: Pick<AdminBackend, 'readiness'>, timeoutMs: number): Promise<AdminReadiness> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`readiness probe took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve(backend.readiness()), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
