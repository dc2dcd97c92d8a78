/**
 * ut.get / ut.put / ut.delete: service configuration over Ut (TS 24.623) — the registered user
 * reads and sets its simservs document (communication-diversion, incoming/outgoing-communication-
 * barring, originating-identity-presentation-restriction) through epcscf's XCAP proxy (core/ut,
 * host.ut). The XCAP answer is the result whatever its status; epcscf's own refusals are errors.
 */
import { EpcError, type UtMethod, type UtRequest, type UtResponse } from '../../../core/contract/index.js';
import type { MethodHandler } from '../dispatcher.js';
import type { Params } from '../notification-params.js';
import type { RpcContext } from '../rpc-context.js';
import { INVALID_PARAMS, UT_REFUSED, UT_UNAVAILABLE, rpcError } from '../rpc-errors.js';
import { registeredUe } from './guards.js';

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The request's addressing and preconditions from the params (the schema checked their types). */
function utRequest(method: UtMethod, params: Params): UtRequest {
  const node = text(params['node']);
  const path = text(params['path']);
  const etag = text(params['etag']);
  const xml = text(params['xml']);
  const contentType = text(params['contentType']);
  return {
    method,
    ...(node !== undefined ? { node } : {}),
    ...(path !== undefined ? { path } : {}),
    ...(etag !== undefined ? { ifMatch: etag } : {}),
    ...(params['create'] === true ? { ifNoneMatch: '*' } : {}),
    ...(xml !== undefined ? { body: xml } : {}),
    ...(contentType !== undefined ? { contentType } : {}),
  };
}

function utResult(answer: UtResponse): Params {
  return {
    status: answer.status,
    ...(answer.etag !== undefined ? { etag: answer.etag } : {}),
    ...(answer.contentType !== undefined ? { contentType: answer.contentType } : {}),
    ...(answer.body !== '' ? { xml: answer.body } : {}),
  };
}

async function proxied(ctx: RpcContext, request: UtRequest): Promise<Params> {
  registeredUe(ctx);
  try {
    return utResult(await ctx.utRequest(request));
  } catch (error) {
    if (!(error instanceof EpcError)) throw error;
    if (error.code === 'EPC_ERR_UT_FORBIDDEN') throw rpcError(UT_REFUSED, { problem: error.message });
    if (error.code === 'EPC_ERR_UT_BAD_REQUEST') throw rpcError(INVALID_PARAMS, { problem: error.message });
    if (error.code === 'EPC_ERR_UT_UNAVAILABLE') throw rpcError(UT_UNAVAILABLE, { detail: error.message, hint: 'retry later' });
    throw error;
  }
}

const get: MethodHandler = (params, ctx) => proxied(ctx, utRequest('GET', params));
const put: MethodHandler = (params, ctx) => proxied(ctx, utRequest('PUT', params));
const remove: MethodHandler = (params, ctx) => proxied(ctx, utRequest('DELETE', params));

export const UT_METHODS: Readonly<Record<string, MethodHandler>> = {
  'ut.get': get,
  'ut.put': put,
  'ut.delete': remove,
};
