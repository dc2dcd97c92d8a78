/**
 * call.* methods of a call's life (R-JR-2): invite, ring, answer, reject, cancel, hangup,
 * update, hold, resume, dtmf, ice. What the network answers arrives as notifications
 * (call-book.ts); the result of a method only says the request left (R-JR-3).
 */
import { targetText, type OutgoingCallOptions } from '../../../core/contract/index.js';
import type { MethodHandler } from '../dispatcher.js';
import { NO_MEDIA_RESOURCES, rpcError, sipStatusOf } from '../rpc-errors.js';
import { LIVE_STATES, UNANSWERED_INCOMING, callIn, checkedField, registeredUe, roomForAnotherCall } from './guards.js';
import { holdOtherCalls } from '../waiting-calls.js';

/** R-SDP-9 / R-AGW-2: the eIMS-AGW is ICE-lite; trickled candidates are not needed and never reach IMS. */
export const ICE_ABSORBED_REASON = 'absorbed: the media gateway is ICE-lite and learns the browser address from its connectivity checks (R-SDP-9)';

const invite: MethodHandler = async (params, ctx) => {
  const ue = registeredUe(ctx);
  const to = checkedField('to', () => targetText(params['to'], 'to'));
  roomForAnotherCall(ctx);
  const privacy = params['privacy'] as OutgoingCallOptions['privacy'];
  const options: OutgoingCallOptions = { sdp: String(params['sdp']), ...(privacy !== undefined ? { privacy } : {}) };
  const call = await ue.call(to, options).catch((error: unknown) => {
    // R-JR-3: a 503 (no eIMS-AGW capacity, TS 24.229 §5.2.7.2) before the call exists is -32003.
    if (sipStatusOf(error) === 503) throw rpcError(NO_MEDIA_RESOURCES, { sipStatus: 503, hint: 'no media resources; try again later' });
    throw error;
  });
  ctx.calls.track(call);
  return { callId: call.id };
};

const ring: MethodHandler = async (params, ctx) => {
  const { call } = callIn(ctx, params['callId'], UNANSWERED_INCOMING, 'incoming');
  const sdp = params['sdp'];
  await call.ring(typeof sdp === 'string' ? sdp : undefined);
  return {};
};

const answer: MethodHandler = async (params, ctx) => {
  const { call } = callIn(ctx, params['callId'], UNANSWERED_INCOMING, 'incoming');
  // TS 24.615 CW: answering a waiting call holds the others first (TS 24.610 re-INVITE sendonly).
  if (params['holdOthers'] === true) await holdOtherCalls(ctx, call.id);
  // TS 24.608 TIR: the callee withholds its connected identity (Privacy: id in the 200).
  await call.answer(String(params['sdp']), params['privacy'] === 'id' ? { privacy: 'id' } : {});
  return {};
};

const reject: MethodHandler = async (params, ctx) => {
  const { call } = callIn(ctx, params['callId'], UNANSWERED_INCOMING, 'incoming');
  const status = params['status'];
  await call.reject(typeof status === 'number' ? status : 486);
  return {};
};

const cancel: MethodHandler = async (params, ctx) => {
  // RFC 3261 §9.1: only a request without a final response can be cancelled.
  const { call } = callIn(ctx, params['callId'], ['calling', 'ringing', 'early'], 'outgoing');
  await call.cancel();
  return {};
};

const hangup: MethodHandler = async (params, ctx) => {
  const { call } = callIn(ctx, params['callId'], LIVE_STATES);
  await call.hangup();
  return {};
};

const update: MethodHandler = async (params, ctx) => {
  // RFC 3311: UPDATE in an early dialog; RFC 3261 §14: re-INVITE once confirmed.
  const { call } = callIn(ctx, params['callId'], ['early', 'confirmed']);
  return { sdp: await call.update(String(params['sdp'])) };
};

const hold: MethodHandler = async (params, ctx) => {
  const { call } = callIn(ctx, params['callId'], ['confirmed']);
  return { sdp: await call.hold() };
};

const resume: MethodHandler = async (params, ctx) => {
  const { call } = callIn(ctx, params['callId'], ['confirmed']);
  return { sdp: await call.resume() };
};

const dtmf: MethodHandler = async (params, ctx) => {
  const { call } = callIn(ctx, params['callId'], ['confirmed']);
  const digits = String(params['digits']).toUpperCase();
  const durationMs = params['durationMs'];
  await call.dtmf(digits, typeof durationMs === 'number' ? durationMs : undefined);
  return { sent: digits.length };
};

const ice: MethodHandler = async (params, ctx) => {
  ctx.calls.require(String(params['callId']));
  return { absorbed: true, reason: ICE_ABSORBED_REASON };
};

export const CALL_METHODS: Readonly<Record<string, MethodHandler>> = {
  'call.invite': invite,
  'call.ring': ring,
  'call.answer': answer,
  'call.reject': reject,
  'call.cancel': cancel,
  'call.hangup': hangup,
  'call.update': update,
  'call.hold': hold,
  'call.resume': resume,
  'call.dtmf': dtmf,
  'call.ice': ice,
};
