/**
 * call.deflect: communication deflection by the served user (TS 24.604 CD): the ringing incoming
 * call is answered 302 Moved Temporarily with the deflect-to URI as its only Contact; the
 * network redirects the caller there. call.ended (cause rejected, sipStatus 302) follows.
 */
import { targetText } from '../../../core/contract/index.js';
import type { MethodHandler } from '../dispatcher.js';
import { UNANSWERED_INCOMING, callIn, checkedField } from './guards.js';

const deflect: MethodHandler = async (params, ctx) => {
  const { call } = callIn(ctx, params['callId'], UNANSWERED_INCOMING, 'incoming');
  const target = checkedField('target', () => targetText(params['target'], 'target'));
  await call.deflect(target);
  return {};
};

export const DEFLECT_METHODS: Readonly<Record<string, MethodHandler>> = {
  'call.deflect': deflect,
};
