/**
 * CW (TS 24.615) over JSON-RPC: a waiting call is flagged in call.incoming (with the INVITE's
 * other body parts as typed attachments, R-MMTEL-3), and call.answer `holdOthers` holds every
 * other established call of the session first (TS 24.610 re-INVITE a=sendonly), as a phone does
 * when its user takes the waiting call. Rejecting it busy is call.reject 486 (UDUB).
 */
import type { UaCall } from '../../core/contract/index.js';
import type { Params } from './notification-params.js';
import type { RpcContext } from './rpc-context.js';

/** The CW fields of call.incoming: `waiting` only when true, `attachments` only when there are some. */
export function waitingCallParams(call: UaCall): Params {
  const attachments = call.attachments ?? [];
  return {
    ...(call.waiting === true ? { waiting: true } : {}),
    ...(attachments.length > 0 ? { attachments: attachments.map((a) => ({ contentType: a.contentType, body: a.body })) } : {}),
  };
}

/**
 * Holds the session's other confirmed calls not already held, one re-INVITE each, in parallel.
 * A hold the far end refuses does not stop the answer (the client sees that call's state as it is).
 */
export async function holdOtherCalls(ctx: RpcContext, answering: string): Promise<void> {
  const others = ctx.calls.ids().filter((id) => id !== answering).map((id) => ctx.calls.require(id).call)
    .filter((call) => call.state === 'confirmed' && call.onHold !== true);
  await Promise.all(others.map((call) => call.hold().catch(() => undefined)));
}
