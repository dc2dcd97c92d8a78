/**
 * CONF (TS 24.605, TS 24.147 §5.3.1, RFC 4579, RFC 4575): conference.create places the call to
 * the conference factory URI; once the focus answered (its Contact carries isfocus = the
 * conference URI) the session SUBSCRIBEs `Event: conference` there and every NOTIFY becomes a
 * conference.participants notification. conference.add / conference.remove REFER the focus
 * with `Refer-To: <party;method=INVITE|BYE>`; the focus's sipfrag comes as call.transferProgress.
 */
import {
  derivedConferenceFactoryUri, parseConferenceInfo, targetText, type UaCall, type VirtualUe,
} from '../../../core/contract/index.js';
import type { MethodHandler } from '../dispatcher.js';
import type { Params } from '../notification-params.js';
import type { RpcContext } from '../rpc-context.js';
import { callIn, checkedField, registeredUe, roomForAnotherCall } from './guards.js';

/** RFC 4575 §5: the participant list a conference-info body carries, as conference.participants params. */
export function participantsParams(callId: string, conferenceUri: string, body: string | undefined): Params | undefined {
  const info = body === undefined ? undefined : parseConferenceInfo(body);
  if (info === undefined) return undefined;
  return {
    callId, conferenceUri, state: info.state,
    ...(info.version !== undefined ? { version: info.version } : {}),
    participants: info.participants.map((p) => ({
      uri: p.entity, state: p.state,
      ...(p.displayText !== undefined && p.displayText.length > 0 ? { displayText: p.displayText } : {}),
      ...(p.status !== undefined && p.status.length > 0 ? { status: p.status } : {}),
    })),
  };
}

/** TS 24.147 §5.3.1.6: the UE subscribes to the conference event package at the conference URI. */
function watchConference(ctx: RpcContext, ue: VirtualUe, call: UaCall): void {
  call.once('answered', (info) => {
    const conferenceUri = info.focus;
    if (conferenceUri === undefined) return; // not a focus (RFC 4579 §5.3): an ordinary call
    ctx.notify('conference.participants', { callId: call.id, conferenceUri, state: 'full', participants: [] });
    ue.subscribe('conference', conferenceUri).then((subscription) => {
      subscription.on('notify', (notified) => {
        const params = participantsParams(call.id, conferenceUri, notified.body);
        if (params !== undefined) ctx.notify('conference.participants', params);
      });
      call.once('ended', () => { subscription.unsubscribe().catch(() => undefined); });
    }, () => undefined); // a focus without the event package: the conference works, the list stays unknown
  });
}

const create: MethodHandler = async (params, ctx) => {
  const ue = registeredUe(ctx);
  roomForAnotherCall(ctx);
  const factory = ctx.conferenceFactoryUri ?? derivedConferenceFactoryUri((ctx.impu ?? '').replace(/^[^@]*@/, '') || 'invalid');
  const call = await ue.call(factory, { sdp: String(params['sdp']) });
  ctx.calls.track(call);
  watchConference(ctx, ue, call);
  return { callId: call.id, factoryUri: factory };
};

const refer = (method: 'INVITE' | 'BYE'): MethodHandler => async (params, ctx) => {
  const { call } = callIn(ctx, params['callId'], ['confirmed']);
  await call.referParty(checkedField('party', () => targetText(params['party'], 'party')), method);
  return {};
};

export const CONFERENCE_METHODS: Readonly<Record<string, MethodHandler>> = {
  'conference.create': create,
  'conference.add': refer('INVITE'),
  'conference.remove': refer('BYE'),
};
