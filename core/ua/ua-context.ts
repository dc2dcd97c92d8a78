/**
 * What every part of the virtual UE shares (registration, calls, subscriptions): the local
 * identity and addresses, the clock, the client transactions, the current Service-Route, and
 * the table that routes in-dialog requests to their dialog's owner.
 */
import type { Logger } from 'pino';
import {
  checkMediaType, createRequest, createResponse, formatNameAddr, generateBranch, generateCallId, generateTag, parseUri,
  type SipRequest, type SipResponse,
} from '../sip/index.js';
import type { Clock } from '../sip/clock.js';
import type { ClientTransactions } from './client-transactions.js';
import { ALLOW, type LocalUe } from './ua-local.js';

/** Whoever holds a dialog (a call, a subscription) takes the requests sent inside it. */
export interface DialogOwner {
  receiveRequest(request: SipRequest): void;
}

export interface UaContext {
  readonly local: LocalUe;
  readonly clock: Clock;
  readonly log: Logger;
  readonly transactions: ClientTransactions;
  /** The IMPU we act as, e.g. 'sip:alice@ims.test'. */
  readonly impu: string;
  readonly displayName: string | undefined;
  readonly userAgent: string;
  /** RFC 4028 interval we ask for on INVITE (0 = no session timer). */
  readonly sessionExpires: number;
  /** The Service-Route of the last 200 to REGISTER (RFC 3608 §6), in order. */
  serviceRoute(): readonly string[];
  /** The current web token (scenario 2/3), undefined for a digest UE; it can be replaced (updateToken). */
  bearerToken(): string | undefined;
  bindDialog(callId: string, localTag: string, owner: DialogOwner): void;
  unbindDialog(callId: string, localTag: string): void;
}

/** `"Display" <sip:impu>;tag=x` (RFC 3261 §8.1.1.3). */
export function fromHeader(ctx: UaContext, tag: string): string {
  const uri = parseUri(ctx.impu);
  const value = formatNameAddr(ctx.displayName !== undefined ? { displayName: ctx.displayName, uri, params: [] } : { uri, params: [] });
  return `${value};tag=${tag}`;
}

export interface InitialRequestInit {
  readonly method: string;
  readonly target: string;
  /** The To URI when it is not the Request-URI (a REGISTER names the AOR, RFC 3261 §10.2). */
  readonly to?: string;
  readonly callId?: string;
  readonly fromTag?: string;
  readonly cseq?: number;
  /** Dialog-creating requests carry our Contact (RFC 3261 §8.1.1.8). */
  readonly contact?: boolean;
  readonly supported?: readonly string[];
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: string;
  readonly contentType?: string;
  /**
   * A REGISTER: no Route (RFC 3608 §6: the Service-Route is for other requests; the P-CSCF
   * sends REGISTER to the registrar itself) and no P-Preferred-Identity (the To names the IMPU).
   */
  readonly register?: boolean;
}

/**
 * An initial (out-of-dialog) request as a TS 24.229 §5.1.2A.1 UE sends it: Route = the
 * Service-Route (RFC 3608, R-ORIG-4), P-Preferred-Identity = the IMPU (RFC 3325 §9.2), Allow,
 * Supported, User-Agent, Max-Forwards 70 (RFC 3261 §8.1.1.6), and with a web token
 * `Authorization: Bearer <token>` (R-REG-1; R-REG-3: on every initial request, not only REGISTER).
 */
export function buildInitialRequest(ctx: UaContext, init: InitialRequestInit): SipRequest {
  const headers: [string, string][] = [['Via', ctx.local.via(generateBranch())], ['Max-Forwards', '70']];
  if (init.register !== true) for (const route of ctx.serviceRoute()) headers.push(['Route', route]);
  headers.push(
    ['To', `<${init.to ?? init.target}>`], ['From', fromHeader(ctx, init.fromTag ?? generateTag())],
    ['Call-ID', init.callId ?? generateCallId()], ['CSeq', `${init.cseq ?? 1} ${init.method}`],
  );
  if (init.contact === true) headers.push(['Contact', ctx.local.contact()]);
  if (init.register !== true) headers.push(['P-Preferred-Identity', `<${ctx.impu}>`]);
  headers.push(['Allow', ALLOW]);
  if (init.supported !== undefined && init.supported.length > 0) headers.push(['Supported', init.supported.join(', ')]);
  headers.push(['User-Agent', ctx.userAgent]);
  const token = ctx.bearerToken();
  // RFC 6750 §2.1 / RFC 8898 §4: the b64token form (checkBearerToken vetted its characters).
  if (token !== undefined) headers.push(['Authorization', `Bearer ${token}`]);
  for (const h of init.headers ?? []) headers.push([h[0], h[1]]);
  // RFC 3261 §20.15: the media type is checked against its grammar, not only for CR/LF.
  if (init.body !== undefined && init.body.length > 0) headers.push(['Content-Type', checkMediaType(init.contentType ?? 'application/sdp')]);
  return createRequest({ method: init.method, uri: init.target, headers, ...(init.body !== undefined ? { body: init.body } : {}) });
}

/** Sends a response to a request the core delivered to us (no server transaction state needed). */
export function respond(
  ctx: UaContext, request: SipRequest, status: number, reason?: string,
  init: { headers?: readonly (readonly [string, string])[]; toTag?: string; body?: string; contentType?: string } = {},
): SipResponse {
  const headers: [string, string][] = (init.headers ?? []).map((h) => [h[0], h[1]]);
  const response = createResponse(request, status, reason, {
    headers,
    ...(init.toTag !== undefined ? { toTag: init.toTag } : {}),
    ...(init.body !== undefined ? { body: init.body } : {}),
    // RFC 3261 §20.15: a body always has its Content-Type (SDP unless said otherwise, as in requests):
    // the P-CSCF's IMS-ALG rewrites only what is labelled application/sdp.
    ...(init.body !== undefined && init.body.length > 0 ? { contentType: init.contentType ?? 'application/sdp' } : {}),
  });
  ctx.transactions.sendStateless(response);
  return response;
}
