/**
 * Method dispatch on json-rpc-2.0's JSONRPCServer: params checked against schemas/jsonrpc before
 * a handler runs (→ -32602 naming the field), unknown methods → -32601 naming the method,
 * handler failures mapped by rpc-errors.ts. The envelope rules (batch, ids, notifications) are
 * the session's (envelope.ts); this class only answers one well-formed call.
 */
import { createJSONRPCErrorResponse, JSONRPCServer } from 'json-rpc-2.0';
import type { JSONRPCRequest, JSONRPCResponse } from 'json-rpc-2.0';
import type { Logger } from 'pino';
import type { RpcContext } from './rpc-context.js';
import { INTERNAL_ERROR, INVALID_PARAMS, METHOD_NOT_FOUND, errorMessage, rpcError, toRpcError } from './rpc-errors.js';
import type { ApiSchemaValidator } from './schema-validator.js';

/** A method handler: params already validated against the method's schema. */
export type MethodHandler = (params: Record<string, unknown>, ctx: RpcContext) => unknown;

export class JsonRpcDispatcher {
  readonly #server: JSONRPCServer<RpcContext>;

  constructor(handlers: Readonly<Record<string, MethodHandler>>, validator: ApiSchemaValidator, log: Logger) {
    // Errors are logged by the mapping below (with the connection), not by the library's console.warn.
    const server = new JSONRPCServer<RpcContext>({ errorListener: () => undefined });
    for (const [name, handler] of Object.entries(handlers)) {
      server.addMethod(name, (params: unknown, ctx: RpcContext) => handler(params as Record<string, unknown>, ctx));
    }
    server.applyMiddleware(async (next, request, ctx) => {
      if (!server.hasMethod(request.method)) return next(request, ctx);
      return next({ ...request, params: checkedParams(request, validator) }, ctx);
    });
    server.handleMethodNotFound = async (request: JSONRPCRequest) => (request.id === undefined ? null
      : createJSONRPCErrorResponse(request.id, METHOD_NOT_FOUND, errorMessage(METHOD_NOT_FOUND), {
        method: request.method, hint: 'rpc.discover returns the OpenRPC document with every method',
      }));
    server.mapErrorToJSONRPCErrorResponse = (id, error: unknown) => {
      const mapped = toRpcError(error);
      if (mapped.code === INTERNAL_ERROR) log.error({ err: error }, 'jsonrpc-ws: a method handler failed');
      return createJSONRPCErrorResponse(id, mapped.code, mapped.message, mapped.data);
    };
    this.#server = server;
  }

  /** Answers one call; null for a notification (id undefined), as JSON-RPC 2.0 §4.1 says. */
  async receive(request: JSONRPCRequest, ctx: RpcContext): Promise<JSONRPCResponse | null> {
    return this.#server.receive(request, ctx);
  }
}

/** JSON-RPC 2.0 §4.2 allows by-position params; every method here is by-name (OpenRPC paramStructure). */
function checkedParams(request: JSONRPCRequest, validator: ApiSchemaValidator): Record<string, unknown> {
  const params: unknown = request.params ?? {};
  if (Array.isArray(params)) {
    throw rpcError(INVALID_PARAMS, { field: '', problem: 'params must be an object (by-name); see rpc.discover', method: request.method });
  }
  const violations = validator.check('params', request.method, params) ?? [];
  const first = violations[0];
  if (first !== undefined) {
    throw rpcError(INVALID_PARAMS, { method: request.method, field: first.field, problem: first.message, violations });
  }
  return params as Record<string, unknown>;
}
