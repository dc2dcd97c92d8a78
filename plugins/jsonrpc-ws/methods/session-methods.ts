/**
 * session.register / session.resume / session.unregister / session.updateToken (R-JR-2): the
 * connection's virtual UE registers with digest (scenario 1, TS 24.371) or with a web token
 * (scenarios 2/3, R-REG-1) and the outcome comes back as the result — a refused registration is a
 * result with state 'failed' and the SIP status, not an error (R-JR-3), except a refused token:
 * -32009 with the reason phrase the P-CSCF gave (R-REG-4), so a client knows to fetch a new one.
 */
import {
  checkBearerToken, checkDisplayName, checkPrivateIdentity, parseTarget, type RegistrationInfo, type UaIdentity, type VirtualUe,
} from '../../../core/contract/index.js';
import type { MethodHandler } from '../dispatcher.js';
import { registrationParams } from '../notification-params.js';
import type { RpcContext, UeStart } from '../rpc-context.js';
import { NOT_REGISTERED, RESUME_TOKEN_INVALID, TOKEN_REFUSED, WRONG_STATE, rpcError } from '../rpc-errors.js';
import { checkedField } from './guards.js';

interface RegisterParams {
  readonly impu: string;
  readonly impi?: string;
  /** Exactly one of password and token (the schema's oneOf). */
  readonly password?: string;
  readonly token?: string;
  readonly displayName?: string;
  readonly instanceId?: string;
  readonly expires?: number;
}

const register: MethodHandler = async (raw, ctx) => {
  const params = raw as unknown as RegisterParams;
  // Issue #11: identity strings are checked against the SIP grammar before any REGISTER.
  checkedField('impu', () => parseTarget(params.impu, 'impu'));
  if (params.impi !== undefined) checkedField('impi', () => checkPrivateIdentity(params.impi, 'impi'));
  if (params.displayName !== undefined) checkedField('displayName', () => checkDisplayName(params.displayName, 'displayName'));
  if (params.token !== undefined) checkedField('token', () => checkBearerToken(params.token, 'token'));
  refuseWhileRegistered(ctx);
  const identity: UaIdentity = {
    impu: params.impu,
    ...(params.password !== undefined ? { password: params.password } : {}),
    ...(params.token !== undefined ? { token: params.token } : {}),
    ...(params.impi !== undefined ? { impi: params.impi } : {}),
    ...(params.displayName !== undefined ? { displayName: params.displayName } : {}),
  };
  const start: UeStart = {
    identity,
    ...(params.instanceId !== undefined ? { instanceId: params.instanceId } : {}),
    ...(params.expires !== undefined ? { expires: params.expires } : {}),
  };
  return registerWith(ctx, ctx.openUe(start));
};

const resume: MethodHandler = async (raw, ctx) => {
  refuseWhileRegistered(ctx);
  // Issue #15: the token may have been issued by another node sharing host.state.
  const taken = await ctx.resume.take(String(raw['resumeToken']));
  if (taken === undefined) {
    throw rpcError(RESUME_TOKEN_INVALID, { hint: 'the token is unknown, already used or its grace period ran out: call session.register with credentials' });
  }
  // The old connection may still linger (half-open TCP): it lets go without de-registering,
  // since the REGISTER below replaces its binding (RFC 5626 §4.2, same instance-id and reg-id).
  taken.liveHolder?.handOver();
  const { registration } = taken;
  const start: UeStart = {
    identity: registration.identity,
    instanceId: registration.instanceId,
    ...(registration.expires !== undefined ? { expires: registration.expires } : {}),
  };
  // Issue #15: where the core can point the registered flow at this connection, the UE carries
  // the registration on with no REGISTER on Mw; else it registers again with the same instance.
  const snapshot = registration.snapshot;
  if (snapshot !== undefined && snapshot.expiresAt > Date.now() && await ctx.adoptRegisteredFlow(snapshot)) {
    const ue = ctx.openUe({ ...start, adopt: snapshot });
    return registeredResult(ctx, ue, ue.registration);
  }
  return registerWith(ctx, ctx.openUe(start));
};

const unregister: MethodHandler = async (_raw, ctx) => {
  const ue = ctx.ue;
  if (ue === undefined || ue.registration.state !== 'registered') {
    throw rpcError(NOT_REGISTERED, { state: ue?.registration.state ?? 'unregistered', hint: 'nothing to de-register' });
  }
  // The calls of this registration end first (BYE/CANCEL), then REGISTER Expires: 0 (R-REG-24).
  await Promise.all(ctx.calls.ids().map((callId) => ctx.calls.require(callId).call.hangup().catch(() => undefined)));
  const info = await ue.unregister();
  const impu = ctx.impu;
  ctx.closeUe();
  return registrationParams(info, impu);
};

/** R-REG-3: later requests carry the new token (nothing is sent now). */
const updateToken: MethodHandler = async (raw, ctx) => {
  const token = checkedField('token', () => checkBearerToken(raw['token'], 'token'));
  const ue = ctx.ue;
  const state = ue?.registration.state;
  if (ue === undefined || (state !== 'registered' && state !== 'registering')) {
    throw rpcError(NOT_REGISTERED, { state: state ?? 'unregistered', hint: 'call session.register with a token first' });
  }
  if (!ctx.usesToken) {
    throw rpcError(WRONG_STATE, { state, hint: 'this registration uses a password (IMS digest); a token applies only to a registration made with one' });
  }
  ctx.replaceToken(token);
  return { updated: true };
};

export const SESSION_METHODS: Readonly<Record<string, MethodHandler>> = {
  'session.register': register,
  'session.resume': resume,
  'session.unregister': unregister,
  'session.updateToken': updateToken,
};

function refuseWhileRegistered(ctx: RpcContext): void {
  const state = ctx.ue?.registration.state;
  if (state === 'registered' || state === 'registering' || state === 'unregistering') {
    throw rpcError(WRONG_STATE, { state, hint: 'this connection already has a registration: session.unregister first, or open another connection' });
  }
  if (ctx.ue !== undefined) ctx.closeUe(); // a failed or ended registration: start afresh
}

async function registerWith(ctx: RpcContext, ue: VirtualUe): Promise<Record<string, unknown>> {
  let info: RegistrationInfo;
  try {
    info = await ue.register();
  } catch (error) {
    ctx.closeUe();
    throw error;
  }
  if (info.state === 'registered') return registeredResult(ctx, ue, info);
  const result = { ...registrationParams(info, ctx.impu), instanceId: ue.instanceId }; // before closeUe forgets the IMPU
  const refusedToken = ctx.usesToken && isTokenRefusal(info);
  ctx.closeUe();
  if (refusedToken) {
    throw rpcError(TOKEN_REFUSED, {
      sipStatus: info.status, reason: info.reason ?? '',
      hint: info.status === 503 ? 'the issuer\'s keys are unreachable: try again later' : 'get a new token from the WWSF (log in again) and call session.register with it',
    });
  }
  return result;
}

/** A registered UE's result, with a fresh resume token when resume is on. */
async function registeredResult(ctx: RpcContext, ue: VirtualUe, info: RegistrationInfo): Promise<Record<string, unknown>> {
  const result = { ...registrationParams(info, ctx.impu), instanceId: ue.instanceId };
  const resumeToken = await ctx.issueResumeToken();
  if (resumeToken === undefined) return result;
  return { ...result, resumeToken, resumeGraceSeconds: ctx.options.resumeGraceSeconds };
}

/**
 * R-REG-4: the P-CSCF refuses a token with 403 and a reason phrase that says why, or 503 "Token
 * keys unavailable"; a 401/403 from the IMS to a trusted-node REGISTER refuses it just the same.
 * Other failures (408, 504...) are the network's, reported as a failed result like digest ones.
 */
function isTokenRefusal(info: RegistrationInfo): boolean {
  return info.status === 401 || info.status === 403 || (info.reason ?? '').startsWith('Token ');
}
