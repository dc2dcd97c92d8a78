/**
 * Completion of calls (CCBS/CCNR, TS 24.642 on RFC 6910): callCompletion.request accepts the
 * offer a failed call carried (call.ended / call.progress `callCompletion`) with a
 * call-completion SUBSCRIBE to the CC monitor; callCompletion.ready tells the client when the
 * callee is free; callCompletion.recall places the CC call (INVITE with the offer's `m`);
 * callCompletion.cancel withdraws the request (SUBSCRIBE Expires 0).
 */
import type { MethodHandler } from '../dispatcher.js';
import { RATE_LIMITED, rpcError } from '../rpc-errors.js';
import { registeredUe, roomForAnotherCall } from './guards.js';

const request: MethodHandler = async (params, ctx) => {
  const ue = registeredUe(ctx);
  const callId = String(params['callId']);
  const book = ctx.calls.completions;
  const offer = book.offer(callId);
  if (book.size >= ctx.options.maxSubscriptions) {
    throw rpcError(RATE_LIMITED, { limit: 'maxSubscriptions', maxSubscriptions: ctx.options.maxSubscriptions, hint: 'cancel a completion-of-calls request first' });
  }
  // A refused SUBSCRIBE (e.g. 480/403 from the monitor) rejects with its SIP status (-32008).
  const completion = await ue.requestCallCompletion(offer);
  book.track(callId, completion);
  return { callId, mode: offer.mode, state: completion.state };
};

const recall: MethodHandler = async (params, ctx) => {
  registeredUe(ctx);
  const completion = ctx.calls.completions.request(String(params['callId']));
  roomForAnotherCall(ctx);
  const call = await completion.recall({ sdp: String(params['sdp']) });
  ctx.calls.track(call);
  return { callId: call.id };
};

const cancel: MethodHandler = async (params, ctx) => {
  const completion = ctx.calls.completions.request(String(params['callId']));
  await completion.cancel();
  return {};
};

export const CALL_COMPLETION_METHODS: Readonly<Record<string, MethodHandler>> = {
  'callCompletion.request': request,
  'callCompletion.recall': recall,
  'callCompletion.cancel': cancel,
};
