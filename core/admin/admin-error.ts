/**
 * The one error body of the admin API, whatever the status (400, 401, 404, 409, 500, 503):
 * `{ "error": { "code": "EPC_ERR_…", "message": "…" } }`. Handlers throw `EpcError`s; the
 * error handler below turns codes into statuses, so a route never picks a status by hand.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { EpcError } from '../errors.js';
import type { ErrorCode } from '../errors.js';

export interface AdminErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

/** The status each admin-facing code answers with; any other EpcError code is a 500. */
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  EPC_ERR_ADMIN_BAD_REQUEST: 400,
  EPC_ERR_ADMIN_UNAUTHORIZED: 401,
  EPC_ERR_ADMIN_NOT_FOUND: 404,
  // The backend refuses an operation the resource's state forbids (e.g. a call already ending).
  EPC_ERR_INVALID_STATE: 409,
  EPC_ERR_NOT_READY: 503,
};

export function adminErrorBody(code: ErrorCode | string, message: string): AdminErrorBody {
  return { error: { code, message } };
}

function statusOfCode(code: ErrorCode): number {
  return STATUS_BY_CODE[code] ?? 500;
}

/** setErrorHandler for the admin context: every thrown error leaves in the one shape. */
export function handleAdminError(error: FastifyError | EpcError | Error, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof EpcError) {
    const status = statusOfCode(error.code);
    if (status >= 500) request.log.error({ err: error }, 'admin API operation failed');
    void reply.code(status).send(adminErrorBody(error.code, error.message));
    return;
  }
  const fastifyError = error as FastifyError;
  // Schema validation (params, query) and fastify's own 4xx (bad content type, body too large).
  if (fastifyError.validation !== undefined || (fastifyError.statusCode !== undefined && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500)) {
    void reply.code(fastifyError.statusCode ?? 400).send(adminErrorBody('EPC_ERR_ADMIN_BAD_REQUEST', fastifyError.message));
    return;
  }
  request.log.error({ err: error }, 'admin API operation failed');
  // The cause stays in the log: an internal message is no business of an HTTP client.
  void reply.code(500).send(adminErrorBody('EPC_ERR_ADMIN_BACKEND', 'admin operation failed; see the epcscf log'));
}
