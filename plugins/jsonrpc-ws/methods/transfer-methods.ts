/**
 * Call transfer (RFC 3515 REFER, RFC 3891 Replaces): call.transfer asks the other party to call
 * someone else (blind: a target URI; attended: another call of this session); call.acceptTransfer
 * / call.rejectTransfer answer the other party's REFER (call.transferRequested).
 */
import { targetText, type UaTransferRequest } from '../../../core/contract/index.js';
import type { TrackedCall } from '../call-book.js';
import type { MethodHandler } from '../dispatcher.js';
import { WRONG_STATE, rpcError } from '../rpc-errors.js';
import { callIn, checkedField, registeredUe, roomForAnotherCall } from './guards.js';

const transfer: MethodHandler = async (params, ctx) => {
  const { call } = callIn(ctx, params['callId'], ['confirmed']);
  const replacesCallId = params['replacesCallId'];
  if (typeof replacesCallId === 'string') {
    // RFC 3891: the transferee replaces our other dialog, so that one must be up too.
    const other = callIn(ctx, replacesCallId, ['confirmed']).call;
    if (other.id === call.id) throw rpcError(WRONG_STATE, { callId: call.id, hint: 'replacesCallId must name another call of this session' });
    await call.transfer(other);
  } else {
    await call.transfer(checkedField('target', () => targetText(params['target'], 'target')));
  }
  return {};
};

const acceptTransfer: MethodHandler = async (params, ctx) => {
  const ue = registeredUe(ctx);
  const tracked = ctx.calls.require(String(params['callId']));
  const request = pendingTransferOf(tracked);
  roomForAnotherCall(ctx);
  tracked.pendingTransfer = undefined;
  await request.accept(); // 202 Accepted (RFC 3515 §2.4.2)
  const headers: Record<string, string> = {};
  if (request.replaces !== undefined) headers['Replaces'] = request.replaces;
  if (request.referredBy !== undefined) headers['Referred-By'] = request.referredBy;
  try {
    const call = await ue.call(request.target, { sdp: String(params['sdp']), headers });
    ctx.calls.track(call, request);
    return { callId: call.id };
  } catch (error) {
    // RFC 3515 §2.4.5: the transferor still learns the outcome.
    await request.notify(500, 'Server Internal Error').catch(() => undefined);
    throw error;
  }
};

const rejectTransfer: MethodHandler = async (params, ctx) => {
  const tracked = ctx.calls.require(String(params['callId']));
  const request = pendingTransferOf(tracked);
  tracked.pendingTransfer = undefined;
  const status = params['status'];
  await request.reject(typeof status === 'number' ? status : 603);
  return {};
};

function pendingTransferOf(tracked: TrackedCall): UaTransferRequest {
  const request = tracked.pendingTransfer;
  if (request === undefined) {
    throw rpcError(WRONG_STATE, { callId: tracked.call.id, state: tracked.call.state, hint: 'no transfer request is waiting on this call (see call.transferRequested)' });
  }
  return request;
}

export const TRANSFER_METHODS: Readonly<Record<string, MethodHandler>> = {
  'call.transfer': transfer,
  'call.acceptTransfer': acceptTransfer,
  'call.rejectTransfer': rejectTransfer,
};
