/**
 * A caller the test drives step by step — here the TS 24.615 CW AS toward a served user: it
 * INVITEs through a proxy (Kamailio) with any body and headers, ACKs a 2xx along the dialog's
 * route set (RFC 3261 §12.1.2: the 2xx's Record-Route reversed), answers what the callee sends in
 * the dialog (a hold re-INVITE, a BYE) through the ScriptedUas it is built on, and hangs up.
 *   const caller = await ScriptedCaller.start(core.uri('udp'));
 *   const call = caller.invite('sip:bob@ims.test', { body, contentType });  await call.final;
 */
import {
  contacts, createRequest, formatNameAddr, generateCallId, generateTag, nameAddrList, parseUri, to,
  type NameAddr, type SipResponse, type Uri,
} from '../../core/sip/index.js';
import { ScriptedUas, type Received } from './scripted-uas.js';
import { targetOf } from './sip-endpoints.js';

export interface InviteOptions {
  readonly from?: string;
  readonly body?: string;
  readonly contentType?: string;
  readonly headers?: readonly [string, string][];
}

export class OutgoingDialog {
  readonly callId = generateCallId();
  readonly fromTag = generateTag();
  readonly provisional: SipResponse[] = [];
  /** The final response to the INVITE (a 2xx is ACKed before this resolves). */
  readonly final: Promise<SipResponse>;
  readonly #caller: ScriptedCaller;
  readonly #from: string;
  readonly #target: string;
  #ok: SipResponse | undefined;
  #cseq = 1;
  #provisionalWaiters: ((r: SipResponse) => void)[] = [];

  constructor(caller: ScriptedCaller, target: string, options: InviteOptions) {
    this.#caller = caller;
    this.#target = target;
    this.#from = options.from ?? '<sip:cw-as@ims.test>';
    const stack = caller.uas.stack;
    const invite = createRequest({
      method: 'INVITE', uri: target,
      headers: [
        ['Via', stack.newVia('udp')], ['Max-Forwards', '70'], ['From', `${this.#from};tag=${this.fromTag}`], ['To', `<${target}>`],
        ['Call-ID', this.callId], ['CSeq', '1 INVITE'], ['Contact', caller.uas.contact], ['Allow', 'INVITE, ACK, CANCEL, BYE, UPDATE, PRACK'],
        ...(options.headers ?? []),
        ...(options.contentType !== undefined ? [['Content-Type', options.contentType] as [string, string]] : []),
      ],
      ...(options.body !== undefined ? { body: options.body } : {}),
    });
    this.final = new Promise((resolve) => {
      stack.transactions.sendRequest(invite, caller.proxy, {
        onProvisional: (response) => {
          this.provisional.push(response);
          for (const wake of this.#provisionalWaiters.splice(0)) wake(response);
        },
        onFinal: (response) => {
          if (response.status < 300 && this.#ok === undefined) {
            this.#ok = response;
            void this.#send('ACK', 1).catch(() => undefined);
          }
          resolve(response);
        },
      });
    });
  }

  /** The first provisional response with `status` (already received ones first). */
  provisionalWith(status: number, timeoutMs = 8000): Promise<SipResponse> {
    const seen = this.provisional.find((r) => r.status === status);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`CW AS: no ${status} within ${timeoutMs} ms`)), timeoutMs);
      const wait = (r: SipResponse): void => {
        if (r.status === status) { clearTimeout(timer); resolve(r); } else this.#provisionalWaiters.push(wait);
      };
      this.#provisionalWaiters.push(wait);
    });
  }

  /** BYE in the established dialog; resolves with its final response. */
  bye(): Promise<SipResponse> {
    this.#cseq += 1;
    return this.#send('BYE', this.#cseq);
  }

  /** ACK (no transaction) or an in-dialog request along the route set of the 2xx (RFC 3261 §12.2.1.1). */
  #send(method: 'ACK' | 'BYE', seq: number): Promise<SipResponse> {
    const ok = this.#ok;
    if (ok === undefined) return Promise.reject(new Error(`CW AS: ${method} before a 2xx`));
    const stack = this.#caller.uas.stack;
    const contact = contacts(ok)[0];
    const remoteTarget: Uri = contact && !('star' in contact && contact.star === true) ? (contact as NameAddr).uri : parseUri(this.#target);
    const routeSet = [...nameAddrList(ok, 'Record-Route')].reverse(); // a copy: the parsed list is cached
    const first = routeSet[0];
    const next = targetOf(first ? first.uri : remoteTarget, 'udp');
    const request = createRequest({
      method, uri: remoteTarget,
      headers: [
        ['Via', stack.newVia('udp')], ['Max-Forwards', '70'], ['From', `${this.#from};tag=${this.fromTag}`], ['To', formatNameAddr(to(ok))],
        ['Call-ID', this.callId], ['CSeq', `${seq} ${method}`],
        ...routeSet.map((route): [string, string] => ['Route', formatNameAddr(route)]),
      ],
    });
    if (method === 'ACK') return stack.sendAck(request, next).then(() => ok);
    return new Promise((resolve) => stack.transactions.sendRequest(request, next, { onFinal: resolve }));
  }
}

export class ScriptedCaller {
  readonly uas: ScriptedUas;
  /** Where initial INVITEs go (the IMS core's proxy). */
  readonly proxy: ReturnType<typeof targetOf>;

  private constructor(uas: ScriptedUas, proxyUri: string) {
    this.uas = uas;
    this.proxy = targetOf(parseUri(proxyUri), 'udp');
  }

  /** `port`: the UDP port to listen on (default any). */
  static async start(proxyUri: string, port = 0): Promise<ScriptedCaller> {
    return new ScriptedCaller(await ScriptedUas.start(port), proxyUri);
  }

  invite(target: string, options: InviteOptions = {}): OutgoingDialog {
    return new OutgoingDialog(this, target, options);
  }

  /** The next request the callee sent in one of our dialogs (re-INVITE, BYE...). */
  next(method: string, timeoutMs?: number): Promise<Received> {
    return this.uas.next(method, timeoutMs);
  }

  close(): Promise<void> {
    return this.uas.close();
  }
}

