/**
 * One dialog as RFC 3261 §12 defines it: Call-ID, local and remote tags, the local and remote
 * CSeq, the route set and the remote target, and how a request inside it is built (§12.2.1.1).
 */
import {
  callId, contacts, createRequest, cseq, formatUri, from, generateBranch, getHeader, getHeaders, parseNameAddr, tagOf, to,
  type ContactBinding, type HeaderInput, type SipRequest, type SipResponse, type Uri,
} from '../sip/index.js';
import type { LocalUe } from './ua-local.js';

function contactUri(message: SipRequest | SipResponse): Uri | undefined {
  return contacts(message).find((c): c is ContactBinding => !('star' in c && c.star))?.uri;
}

export interface InDialogInit {
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: string;
  readonly contentType?: string;
}

export class Dialog {
  readonly callId: string;
  readonly localTag: string;
  remoteTag: string;
  /** From (UAC) / To (UAS) value with our tag, as it goes in every request we send. */
  readonly localHeader: string;
  /** The remote party's header value with its tag. */
  remoteHeader: string;
  localSeq: number;
  remoteSeq: number | undefined;
  routeSet: string[];
  remoteTarget: Uri;
  readonly secure: boolean;

  private constructor(init: {
    callId: string; localTag: string; remoteTag: string; localHeader: string; remoteHeader: string; localSeq: number;
    remoteSeq: number | undefined; routeSet: string[]; remoteTarget: Uri; secure: boolean;
  }) {
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.localHeader = init.localHeader;
    this.remoteHeader = init.remoteHeader;
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.routeSet = init.routeSet;
    this.remoteTarget = init.remoteTarget;
    this.secure = init.secure;
  }

  /**
   * RFC 3261 §12.1.2: the UAC's dialog from a 1xx/2xx with a To tag: route set = Record-Route
   * reversed, remote target = Contact, local CSeq = the request's.
   */
  static asUac(request: SipRequest, response: SipResponse, secure: boolean): Dialog {
    return new Dialog({
      callId: callId(request), localTag: tagOf(from(request)) ?? '', remoteTag: tagOf(to(response)) ?? '',
      localHeader: getHeader(request, 'From') ?? '', remoteHeader: getHeader(response, 'To') ?? '',
      localSeq: cseq(request).seq, remoteSeq: undefined,
      routeSet: getHeaders(response, 'Record-Route').reverse(),
      remoteTarget: contactUri(response) ?? request.uri, secure,
    });
  }

  /**
   * RFC 3261 §12.1.1: the UAS's dialog from the request: route set = Record-Route in order,
   * remote target = Contact, remote CSeq = the request's, local CSeq starts empty (we use 0).
   */
  static asUas(request: SipRequest, localTag: string, secure: boolean): Dialog {
    return new Dialog({
      callId: callId(request), localTag, remoteTag: tagOf(from(request)) ?? '',
      localHeader: `${getHeader(request, 'To') ?? ''};tag=${localTag}`, remoteHeader: getHeader(request, 'From') ?? '',
      localSeq: 0, remoteSeq: cseq(request).seq,
      routeSet: getHeaders(request, 'Record-Route'),
      remoteTarget: contactUri(request) ?? from(request).uri, secure,
    });
  }

  /**
   * RFC 6665 §4.1.2.4: a NOTIFY may arrive before the 2xx to SUBSCRIBE and creates the dialog:
   * route set = its Record-Route in order, remote target = its Contact.
   */
  static fromNotify(subscribe: SipRequest, notify: SipRequest, secure: boolean): Dialog {
    return new Dialog({
      callId: callId(subscribe), localTag: tagOf(from(subscribe)) ?? '', remoteTag: tagOf(from(notify)) ?? '',
      localHeader: getHeader(subscribe, 'From') ?? '', remoteHeader: getHeader(notify, 'From') ?? '',
      localSeq: cseq(subscribe).seq, remoteSeq: undefined,
      routeSet: getHeaders(notify, 'Record-Route'),
      remoteTarget: contactUri(notify) ?? subscribe.uri, secure,
    });
  }

  /** RFC 3261 §12.2.1.2 / §13.2.2.4: the 2xx confirming an early dialog recomputes the route set. */
  confirmWith(response: SipResponse): void {
    this.routeSet = getHeaders(response, 'Record-Route').reverse();
    this.remoteHeader = getHeader(response, 'To') ?? this.remoteHeader;
    this.refreshTarget(response);
  }

  /** RFC 3261 §12.2: a target refresh (re-INVITE, UPDATE, their 2xx) replaces the remote target. */
  refreshTarget(message: SipRequest | SipResponse): void {
    const uri = contactUri(message);
    if (uri !== undefined) this.remoteTarget = uri;
  }

  /**
   * RFC 3261 §12.2.2: a request with a CSeq lower than the last one is out of order (500);
   * a higher one is remembered. ACK and CANCEL carry the INVITE's number and are not checked.
   */
  acceptRemoteCseq(request: SipRequest): boolean {
    if (request.method === 'ACK' || request.method === 'CANCEL') return true;
    const seq = cseq(request).seq;
    if (this.remoteSeq !== undefined && seq <= this.remoteSeq) return false;
    this.remoteSeq = seq;
    return true;
  }

  /**
   * RFC 3261 §12.2.1.1: a request inside the dialog. Request-URI = remote target, Route = the
   * route set (loose routing, RFC 3261 §16.12), From/To with the tags, CSeq + 1 (ACK reuses
   * `ackOf`'s number). A target-refresh request carries our Contact.
   */
  createRequest(method: string, local: LocalUe, init: InDialogInit = {}, ackOf?: number): SipRequest {
    const seq = ackOf ?? ++this.localSeq;
    const headers: [string, string][] = [['Via', local.via(generateBranch())], ['Max-Forwards', '70']];
    for (const route of this.routeSet) headers.push(['Route', route]);
    headers.push(['To', this.remoteHeader], ['From', this.localHeader], ['Call-ID', this.callId], ['CSeq', `${seq} ${method}`]);
    if (method === 'INVITE' || method === 'UPDATE' || method === 'SUBSCRIBE' || method === 'NOTIFY' || method === 'REFER') {
      headers.push(['Contact', local.contact()]);
    }
    for (const h of init.headers ?? []) headers.push([h[0], h[1]]);
    if (init.body !== undefined && init.body.length > 0) headers.push(['Content-Type', init.contentType ?? 'application/sdp']);
    const request: { method: string; uri: Uri; headers: HeaderInput; body?: string } = { method, uri: this.remoteTarget, headers };
    if (init.body !== undefined) request.body = init.body;
    return createRequest(request);
  }

  /** The remote party's URI (its AOR, from the From/To value). */
  get remoteUri(): string {
    try {
      return formatUri(this.remoteHeader.length > 0 ? parseNameAddr(this.remoteHeader, 'To').uri : this.remoteTarget);
    } catch {
      return formatUri(this.remoteTarget);
    }
  }
}
