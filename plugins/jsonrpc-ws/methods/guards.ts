/** Preconditions shared by the method handlers, each with the application error R-JR-3 names. */
import type { CallState, UaCall, VirtualUe } from '../../../core/contract/index.js';
import type { TrackedCall } from '../call-book.js';
import type { RpcContext } from '../rpc-context.js';
import { EpcError } from '../../../core/contract/index.js';
import { INVALID_PARAMS, NOT_REGISTERED, RATE_LIMITED, WRONG_STATE, rpcError } from '../rpc-errors.js';

/** -32001 unless this connection is registered (R-ORIG-1 would answer 403 anyway; say it plainly). */
export function registeredUe(ctx: RpcContext): VirtualUe {
  const ue = ctx.ue;
  if (ue === undefined || ue.registration.state !== 'registered') {
    throw rpcError(NOT_REGISTERED, { state: ue?.registration.state ?? 'unregistered', hint: 'call session.register (or session.resume) first' });
  }
  return ue;
}

/** The call in one of `states` (and `direction` when given), else -32005 naming its state. */
export function callIn(ctx: RpcContext, callId: unknown, states: readonly CallState[], direction?: UaCall['direction']): TrackedCall {
  const tracked = ctx.calls.require(String(callId));
  const { call } = tracked;
  if (!states.includes(call.state) || (direction !== undefined && call.direction !== direction)) {
    throw rpcError(WRONG_STATE, {
      callId: call.id, state: call.state, direction: call.direction,
      expected: { states, ...(direction !== undefined ? { direction } : {}) },
    });
  }
  return tracked;
}

/** The per-client call bound (issue #5: max calls per client). */
export function roomForAnotherCall(ctx: RpcContext): void {
  if (ctx.calls.size >= ctx.options.maxCallsPerClient) {
    throw rpcError(RATE_LIMITED, { limit: 'maxCallsPerClient', maxCallsPerClient: ctx.options.maxCallsPerClient, hint: 'hang up a call first' });
  }
}

export const LIVE_STATES: readonly CallState[] = ['calling', 'ringing', 'early', 'answering', 'confirmed'];
export const UNANSWERED_INCOMING: readonly CallState[] = ['ringing', 'early'];

/**
 * Issue #11: a client string that reaches SIP, checked by core/ua's grammar check before the UE
 * acts on it; a refusal is -32602 naming the field, and nothing goes out on Mw. (The schemas
 * refuse most of these first; this keeps the field name when a schema is looser than SIP.)
 */
export function checkedField<T>(field: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof EpcError && error.code === 'EPC_ERR_UA_INVALID_ARGUMENT') throw rpcError(INVALID_PARAMS, { field, problem: error.message });
    throw error;
  }
}
