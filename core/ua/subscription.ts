/**
 * A subscription the UE holds (RFC 6665 §4.1): SUBSCRIBE through the Service-Route, the dialog
 * its 2xx or first NOTIFY creates, NOTIFYs answered and reported, refresh before expiry (the
 * R-REG-23 rule TS 24.229 §5.1.2.1 also uses for the reg event), unsubscribe with Expires 0.
 */
import { EventEmitter } from 'node:events';
import {
  bodyText, contentType, cseq, expires as expiresOf, generateCallId, generateTag, getHeader, tagOf, to,
  type SipRequest, type SipResponse,
} from '../sip/index.js';
import type { TimerHandle } from '../sip/clock.js';
import type { SubscriptionEvents, UaSubscription } from './api.js';
import { Dialog } from './dialog.js';
import { buildInitialRequest, respond, type UaContext } from './ua-context.js';
import { UaRejectedError } from './ua-errors.js';
import { refreshDelaySeconds } from './ua-timers.js';

/** What each event package's NOTIFY body is (RFC 3680 §5, RFC 3842 §5). */
const ACCEPT_BY_EVENT: Readonly<Record<string, string>> = {
  reg: 'application/reginfo+xml',
  'message-summary': 'application/simple-message-summary',
  presence: 'application/pidf+xml',
  conference: 'application/conference-info+xml',
  'call-completion': 'application/call-completion', // RFC 6910 §5
};

let nextSubscription = 1;

export class Subscription extends EventEmitter<SubscriptionEvents> implements UaSubscription {
  readonly id = `sub-${nextSubscription++}-${generateTag()}`;
  readonly event: string;
  readonly #ctx: UaContext;
  readonly #onEnd: (sub: Subscription) => void;
  readonly #callId = generateCallId();
  readonly #localTag = generateTag();
  #subscribe: SipRequest | undefined;
  #dialog: Dialog | undefined;
  #refresh: TimerHandle | undefined;
  #ended = false;

  constructor(ctx: UaContext, event: string, onEnd: (sub: Subscription) => void) {
    super();
    this.#ctx = ctx;
    this.event = event;
    this.#onEnd = onEnd;
    ctx.bindDialog(this.#callId, this.#localTag, this);
  }

  /** Initial SUBSCRIBE; resolves on the 2xx, rejects with UaRejectedError otherwise. */
  start(target: string, expires: number): Promise<void> {
    const request = buildInitialRequest(this.#ctx, {
      method: 'SUBSCRIBE', target, callId: this.#callId, fromTag: this.#localTag, contact: true,
      headers: [['Event', this.event], ['Expires', String(expires)], ['Accept', ACCEPT_BY_EVENT[this.event] ?? '*/*']],
    });
    this.#subscribe = request;
    return new Promise((resolve, reject) => {
      this.#ctx.transactions.start(request, {
        onRetry: (retry) => { this.#subscribe = retry; },
        onFinal: (response, sent) => {
          if (response.status >= 200 && response.status < 300) {
            this.#established(sent, response);
            resolve();
          } else {
            this.#end({ status: response.status, reason: response.reason });
            reject(new UaRejectedError(response.status, response.reason, `SUBSCRIBE ${this.event}`));
          }
        },
      });
    });
  }

  #established(request: SipRequest, response: SipResponse): void {
    if (this.#dialog === undefined) {
      this.#dialog = Dialog.asUac(request, response, this.#ctx.local.secure);
    } else if (tagOf(to(response)) === this.#dialog.remoteTag) {
      this.#dialog.refreshTarget(response);
    }
    if (this.#dialog.localSeq < cseq(request).seq) this.#dialog.localSeq = cseq(request).seq;
    const granted = expiresOf(response) ?? 0;
    this.#schedule(granted);
  }

  #schedule(expires: number): void {
    if (this.#refresh !== undefined) this.#ctx.clock.clearTimeout(this.#refresh);
    this.#refresh = undefined;
    if (expires <= 0 || this.#ended) return;
    this.#refresh = this.#ctx.clock.setTimeout(() => {
      this.#refresh = undefined;
      void this.#resubscribe(expires);
    }, refreshDelaySeconds(expires) * 1000);
  }

  #resubscribe(expires: number): Promise<SipResponse | undefined> {
    const dialog = this.#dialog;
    if (dialog === undefined || this.#ended) return Promise.resolve(undefined);
    const request = dialog.createRequest('SUBSCRIBE', this.#ctx.local, {
      headers: [['Event', this.event], ['Expires', String(expires)], ['Accept', ACCEPT_BY_EVENT[this.event] ?? '*/*']],
    });
    return new Promise((resolve) => {
      this.#ctx.transactions.start(request, {
        onRetry: (retry) => { dialog.localSeq = Math.max(dialog.localSeq, cseq(retry).seq); },
        onFinal: (response) => {
          if (expires > 0) {
            if (response.status < 300) this.#schedule(expiresOf(response) ?? expires);
            else this.#end({ status: response.status, reason: response.reason }); // RFC 6665 §4.1.2.2: refresh failed
          }
          resolve(response);
        },
      });
    });
  }

  /** NOTIFY for this subscription (RFC 6665 §4.1.3). */
  receiveRequest(request: SipRequest): void {
    if (request.method !== 'NOTIFY') {
      respond(this.#ctx, request, request.method === 'ACK' ? 200 : 405, undefined, { headers: [['Allow', 'NOTIFY']] });
      return;
    }
    if (this.#dialog === undefined && this.#subscribe !== undefined) this.#dialog = Dialog.fromNotify(this.#subscribe, request, this.#ctx.local.secure);
    if (this.#dialog !== undefined && !this.#dialog.acceptRemoteCseq(request)) {
      respond(this.#ctx, request, 500, 'CSeq Out of Order');
      return;
    }
    this.#dialog?.refreshTarget(request);
    respond(this.#ctx, request, 200, 'OK');
    const [stateRaw, ...params] = (getHeader(request, 'Subscription-State') ?? 'active').split(';').map((p) => p.trim().toLowerCase());
    const state = stateRaw === 'pending' || stateRaw === 'terminated' ? stateRaw : 'active';
    const body = bodyText(request);
    const type = contentType(request);
    this.emit('notify', { state, ...(type !== undefined ? { contentType: type } : {}), ...(body.length > 0 ? { body } : {}) });
    if (state === 'terminated') {
      const reason = params.find((p) => p.startsWith('reason='))?.slice('reason='.length);
      this.#end(reason !== undefined ? { reason } : {});
    }
  }

  /** SUBSCRIBE with Expires: 0 (RFC 6665 §4.1.2.3); 'terminated' follows. */
  async unsubscribe(): Promise<void> {
    if (this.#ended) return;
    const response = await this.#resubscribe(0);
    this.#end(response === undefined ? { reason: 'unsubscribed' } : { status: response.status, reason: 'unsubscribed' });
  }

  /** The connection is gone: no SIP. */
  close(): void {
    this.#end({ reason: 'connection closed' });
  }

  #end(info: { status?: number; reason?: string }): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#refresh !== undefined) this.#ctx.clock.clearTimeout(this.#refresh);
    this.#refresh = undefined;
    this.#ctx.unbindDialog(this.#callId, this.#localTag);
    this.#onEnd(this);
    this.emit('terminated', info);
  }

  describe(): Record<string, unknown> {
    return { id: this.id, event: this.event, callId: this.#callId, established: this.#dialog !== undefined, ended: this.#ended };
  }
}
