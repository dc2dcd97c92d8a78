/**
 * The three admin resources (registrations, calls, plugin sessions) share one route shape:
 * GET /admin/<name> (a page), GET /admin/<name>/:id, DELETE /admin/<name>/:id. This file
 * declares that shape once; ./admin-api.ts instantiates it per resource.
 */
import type { FastifyInstance } from 'fastify';
import { EpcError } from '../errors.js';
import type { AdminBackend, Awaitable } from './backend.js';
import { SCHEMA_IDS, errorResponses, idParamsSchema, pageQuerySchema, pageSchema, ref } from './schemas.js';

interface AdminResource<T> {
  /** The URL segment and OpenAPI tag: 'registrations'. */
  readonly name: string;
  /** One item in prose: 'registration'. */
  readonly noun: string;
  readonly schemaId: string;
  readonly list: () => Awaitable<readonly T[]>;
  readonly get: (id: string) => Awaitable<T | undefined>;
  readonly terminate: (id: string, reason: string | undefined) => Awaitable<boolean>;
  readonly terminateSummary: string;
  /** Only calls carry a Reason (RFC 3326) toward the far end. */
  readonly acceptsReason?: boolean;
}

const SECURITY = [{ bearerAuth: [] }];

interface PageQuery { limit: number; offset: number }
interface IdParams { id: string }
interface TerminateQuery { reason?: string }

function registerResource<T>(app: FastifyInstance, resource: AdminResource<T>): void {
  const tags = [resource.name];
  const notFound = (id: string): EpcError => new EpcError('EPC_ERR_ADMIN_NOT_FOUND', `no ${resource.noun} with id ${JSON.stringify(id)}`);

  app.get<{ Querystring: PageQuery }>(`/${resource.name}`, {
    schema: {
      tags,
      summary: `List ${resource.name}`,
      security: SECURITY,
      querystring: pageQuerySchema,
      response: { 200: pageSchema(resource.schemaId, `A page of ${resource.name} and how many exist in all`), ...errorResponses([400, 401, 500]) },
    },
  }, async (request) => {
    const all = await resource.list();
    const { limit, offset } = request.query;
    return { total: all.length, items: all.slice(offset, offset + limit) };
  });

  app.get<{ Params: IdParams }>(`/${resource.name}/:id`, {
    schema: {
      tags,
      summary: `Inspect one ${resource.noun}`,
      security: SECURITY,
      params: idParamsSchema,
      response: { 200: { ...ref(resource.schemaId), description: `The ${resource.noun}` }, ...errorResponses([400, 401, 404, 500]) },
    },
  }, async (request) => {
    const item = await resource.get(request.params.id);
    if (item === undefined) throw notFound(request.params.id);
    return item;
  });

  app.delete<{ Params: IdParams; Querystring: TerminateQuery }>(`/${resource.name}/:id`, {
    schema: {
      tags,
      summary: resource.terminateSummary,
      security: SECURITY,
      params: idParamsSchema,
      ...(resource.acceptsReason === true
        ? {
            querystring: {
              type: 'object',
              properties: { reason: { type: 'string', minLength: 1, maxLength: 200, description: 'Text for the RFC 3326 Reason header sent with the BYE/CANCEL' } },
            },
          }
        : {}),
      response: { 204: { type: 'null', description: `The ${resource.noun} is being terminated` }, ...errorResponses([400, 401, 404, 409, 500]) },
    },
  }, async (request, reply) => {
    const reason = resource.acceptsReason === true ? request.query.reason : undefined;
    if (!(await resource.terminate(request.params.id, reason))) throw notFound(request.params.id);
    return reply.code(204).send();
  });
}

/** Mounts the nine resource routes; `app` is the /admin-prefixed, key-guarded context. */
export function registerResourceRoutes(app: FastifyInstance, backend: AdminBackend): void {
  registerResource(app, {
    name: 'registrations',
    noun: 'registration',
    schemaId: SCHEMA_IDS.registration,
    list: () => backend.registrations(),
    get: (id) => backend.registration(id),
    terminate: (id) => backend.terminateRegistration(id),
    terminateSummary: 'Remove a registration (de-registered toward the S-CSCF)',
  });
  registerResource(app, {
    name: 'calls',
    noun: 'call',
    schemaId: SCHEMA_IDS.call,
    list: () => backend.calls(),
    get: (id) => backend.call(id),
    terminate: (id, reason) => backend.terminateCall(id, reason),
    terminateSummary: 'Release a call (BYE, or CANCEL while early, both ways)',
    acceptsReason: true,
  });
  registerResource(app, {
    name: 'sessions',
    noun: 'plugin session',
    schemaId: SCHEMA_IDS.session,
    list: () => backend.sessions(),
    get: (id) => backend.session(id),
    terminate: (id) => backend.terminateSession(id),
    terminateSummary: 'Close a W2 session (the core then releases what it owned)',
  });
}
