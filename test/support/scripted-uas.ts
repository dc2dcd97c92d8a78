/**
 * A far end the test drives step by step (where sipp's fixed scenarios cannot: its [last_*]
 * keywords copy the PRACK's Via into the INVITE's 200, RFC 3262 flows need the INVITE's). Built on
 * SipStack: every request is queued for the test with its server transaction; ACKs are queued too.
 *   const uas = await ScriptedUas.start();  const inv = await uas.next('INVITE');
 *   uas.reply(inv, 183, { toTag, sdp, headers: [['Require', '100rel'], ['RSeq', '1']] });
 */
import {
  callId, contacts, createRequest, createResponse, formatNameAddr, from, generateCallId, generateTag, getHeader, getHeaders, nameAddrList, parseUri,
  socketHost, tagOf, to, type NameAddr, type SipRequest, type SipResponse, type Uri,
} from '../../core/sip/index.js';
import type { SipTarget } from '../../core/sip/transport/types.js';
import { targetOf } from './sip-endpoints.js';
import { SipStack } from '../../core/sip/stack.js';
import type { ServerTransaction } from '../../core/sip/transaction/index.js';

export interface Received {
  readonly request: SipRequest;
  /** Undefined for an ACK to a 2xx (no transaction). */
  readonly tx: ServerTransaction | undefined;
}

/** A dialog this far end started with invite(). */
export interface UacDialog {
  readonly response: SipResponse;
  readonly request: SipRequest;
  readonly fromTag: string;
  readonly toTag: string;
}

export interface ReplyOptions {
  readonly toTag?: string;
  readonly sdp?: string;
  readonly headers?: readonly [string, string][];
}

/** Plain RTP/AVP audio from this far end (an IMS peer, no WebRTC). */
export function plainSdp(version: number, port = 41000): string {
  return ['v=0', `o=far 1 ${version} IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
}

export class ScriptedUas {
  readonly stack: SipStack;
  readonly received: Received[] = [];
  #waiters: { method: string; resolve: (r: Received) => void }[] = [];
  #taken = new Set<Received>();
  #cseq = 100;

  private constructor(stack: SipStack) {
    this.stack = stack;
  }

  /** `port`: a fixed UDP port (e.g. one a registrar already has as this user's contact); default any. */
  static async start(port = 0): Promise<ScriptedUas> {
    let uas!: ScriptedUas; // assigned before any datagram can arrive (see TestUas.start)
    const stack = await SipStack.start({
      listeners: [`udp:127.0.0.1:${port}`],
      onRequest: (request, tx) => uas.#push({ request, tx }),
      onStrayAck: (ack) => uas.#push({ request: ack, tx: undefined }),
    });
    uas = new ScriptedUas(stack);
    return uas;
  }

  /** A Request-URI that reaches this UAS. */
  uri(user = 'far'): string {
    const { host, port } = this.stack.localVia('udp');
    return `sip:${user}@${socketHost(host)}:${port}`;
  }

  get contact(): string {
    return `<${this.uri()}>`;
  }

  /** The next not yet taken request of `method` (queued ones first). */
  next(method: string, timeoutMs = 8000): Promise<Received> {
    const queued = this.received.find((r) => r.request.method === method && !this.#taken.has(r));
    if (queued) { this.#taken.add(queued); return Promise.resolve(queued); }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`far end: no ${method} within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({ method, resolve: (r) => { clearTimeout(timer); resolve(r); } });
    });
  }

  /** Answers `received` with `status`; a dialog-creating answer copies Record-Route (RFC 3261 §12.1.1). */
  reply(received: Received, status: number, options: ReplyOptions = {}): void {
    if (!received.tx) throw new Error('an ACK is not answered');
    const headers: [string, string][] = [];
    if (received.request.method === 'INVITE' && options.toTag !== undefined) {
      for (const rr of getHeaders(received.request, 'Record-Route')) headers.push(['Record-Route', rr]);
    }
    if (received.request.method === 'INVITE' || received.request.method === 'UPDATE') headers.push(['Contact', this.contact]);
    headers.push(...(options.headers ?? []));
    received.tx.respond(createResponse(received.request, status, undefined, {
      ...(options.toTag !== undefined ? { toTag: options.toTag } : {}),
      headers,
      ...(options.sdp !== undefined ? { body: options.sdp, contentType: 'application/sdp' } : {}),
    }));
  }

  /**
   * Sends `method` inside the dialog the far end created on `invite` with `toTag` (RFC 3261
   * §12.2.1.1): route set = the INVITE's Record-Route in order, remote target = its Contact, our
   * own CSeq space. Resolves with the final response.
   */
  request(invite: SipRequest, toTag: string, method: string, options: { sdp?: string; headers?: readonly [string, string][]; body?: { contentType: string; text: string } } = {}): Promise<SipResponse> {
    const contact = contacts(invite)[0];
    const remoteTarget = contact && !('star' in contact && contact.star === true) ? (contact as NameAddr).uri : invite.uri;
    const routeSet = nameAddrList(invite, 'Record-Route');
    const firstRoute = routeSet[0];
    const target = targetOf(firstRoute ? firstRoute.uri : remoteTarget, 'udp');
    this.#cseq += 1;
    const request = createRequest({
      method, uri: remoteTarget,
      headers: [
        ['Via', this.stack.newVia('udp')], ['Max-Forwards', '70'],
        ['From', `${formatNameAddr(to(invite))};tag=${toTag}`], ['To', formatNameAddr(from(invite))], ['Call-ID', callId(invite)],
        ['CSeq', `${this.#cseq} ${method}`], ['Contact', this.contact],
        ...routeSet.map((route): [string, string] => ['Route', formatNameAddr(route)]),
        ...(options.headers ?? []),
        ...(options.sdp !== undefined ? [['Content-Type', 'application/sdp'] as [string, string]] : []),
        ...(options.body !== undefined ? [['Content-Type', options.body.contentType] as [string, string]] : []),
      ],
      ...(options.sdp !== undefined ? { body: options.sdp } : options.body !== undefined ? { body: options.body.text } : {}),
    });
    const seq = this.#cseq;
    return new Promise((resolve) => {
      this.stack.transactions.sendRequest(request, target, {
        onFinal: (response) => {
          // RFC 3261 §13.2.2.4: a 2xx to our (re-)INVITE is ACKed end to end, same CSeq number.
          if (method === 'INVITE' && response.status < 300) {
            const ack = createRequest({
              method: 'ACK', uri: remoteTarget,
              headers: [
                ['Via', this.stack.newVia('udp')], ['Max-Forwards', '70'],
                ...request.headers.filter((h) => ['from', 'to', 'call-id', 'route'].includes(h.name.toLowerCase())).map((h): [string, string] => [h.name, h.value]),
                ['CSeq', `${seq} ACK`],
              ],
            });
            this.stack.sendAck(ack, target).catch(() => undefined);
          }
          resolve(response);
        },
      });
    });
  }

  /**
   * An initial INVITE from this far end as `user`, to `target` through the proxy at `via` (RFC
   * 3261 §8.1): resolves with the final response (a 2xx is ACKed along its route set, §12.1.2) and
   * the dialog's identifiers, for a BYE by the test with `bye()`.
   */
  invite(target: string, via: string, options: { user?: string; sdp?: string; headers?: readonly [string, string][] } = {}): Promise<UacDialog> {
    const user = options.user ?? 'far';
    const { host, port } = this.stack.localVia('udp');
    const fromTag = generateTag();
    const id = `${generateTag()}@scripted-uas`;
    this.#cseq += 1;
    const request = createRequest({
      method: 'INVITE', uri: parseUri(target),
      headers: [
        ['Via', this.stack.newVia('udp')], ['Max-Forwards', '70'],
        ['From', `<sip:${user}@ims.test>;tag=${fromTag}`], ['To', `<${target}>`], ['Call-ID', id],
        ['CSeq', `${this.#cseq} INVITE`], ['Contact', `<sip:${user}@${socketHost(host)}:${port}>`],
        ...(options.headers ?? []),
        ...(options.sdp !== undefined ? [['Content-Type', 'application/sdp'] as [string, string]] : []),
      ],
      ...(options.sdp !== undefined ? { body: options.sdp } : {}),
    });
    const seq = this.#cseq;
    return new Promise((resolve) => {
      this.stack.transactions.sendRequest(request, targetOf(parseUri(via), 'udp'), {
        onFinal: (response) => {
          const dialog: UacDialog = { response, request, fromTag, toTag: tagOf(to(response)) ?? '' };
          if (response.status < 300) {
            const { uri, routes, next } = this.#uacRoute(response);
            const ack = createRequest({
              method: 'ACK', uri,
              headers: [
                ['Via', this.stack.newVia('udp')], ['Max-Forwards', '70'], ['From', getHeader(request, 'From') ?? ''],
                ['To', getHeader(response, 'To') ?? ''], ['Call-ID', id], ['CSeq', `${seq} ACK`],
                ...routes.map((r): [string, string] => ['Route', r]),
              ],
            });
            this.stack.sendAck(ack, next).catch(() => undefined);
          }
          resolve(dialog);
        },
      });
    });
  }

  /**
   * An initial INVITE from this far end (a caller in the IMS) to `target`, sent through the
   * proxy `nextHop` (e.g. Kamailio's URI); resolves with the provisional responses and the final
   * one. A non-2xx final is ACKed by the transaction (RFC 3261 §17.1.1.3); a 2xx is not expected.
   */
  offerCall(target: string, nextHop: string, options: { sdp?: string; from?: string } = {}): Promise<{ provisional: SipResponse[]; final: SipResponse }> {
    const request = createRequest({
      method: 'INVITE', uri: parseUri(target),
      headers: [
        ['Via', this.stack.newVia('udp')], ['Max-Forwards', '70'],
        ['From', `<${options.from ?? this.uri('caller')}>;tag=${generateTag()}`], ['To', `<${target}>`], ['Call-ID', generateCallId()],
        ['CSeq', '1 INVITE'], ['Contact', this.contact], ['Content-Type', 'application/sdp'],
      ],
      body: options.sdp ?? plainSdp(1),
    });
    const provisional: SipResponse[] = [];
    return new Promise((resolve) => {
      this.stack.transactions.sendRequest(request, targetOf(parseUri(nextHop), 'udp'), {
        onProvisional: (response) => { provisional.push(response); },
        onFinal: (response) => resolve({ provisional, final: response }),
      });
    });
  }

  /** BYE on a dialog this far end set up with invite(); resolves with the final response. */
  bye(dialog: UacDialog): Promise<SipResponse> {
    const { uri, routes, next } = this.#uacRoute(dialog.response);
    this.#cseq += 1;
    const request = createRequest({
      method: 'BYE', uri,
      headers: [
        ['Via', this.stack.newVia('udp')], ['Max-Forwards', '70'], ['From', getHeader(dialog.request, 'From') ?? ''],
        ['To', getHeader(dialog.response, 'To') ?? ''], ['Call-ID', callId(dialog.request)], ['CSeq', `${this.#cseq} BYE`],
        ...routes.map((r): [string, string] => ['Route', r]),
      ],
    });
    return new Promise((resolve) => this.stack.transactions.sendRequest(request, next, { onFinal: resolve }));
  }

  /** RFC 3261 §12.1.2: the UAC's route set is the 2xx's Record-Route reversed; remote target its Contact. */
  #uacRoute(response: SipResponse): { uri: Uri; routes: string[]; next: SipTarget } {
    const contact = contacts(response)[0];
    const uri = contact && !('star' in contact && contact.star === true) ? (contact as NameAddr).uri : parseUri('sip:invalid');
    const routeSet = [...nameAddrList(response, 'Record-Route')].reverse(); // a copy: the parsed list may be shared
    const first = routeSet[0];
    return { uri, routes: routeSet.map((r) => formatNameAddr(r)), next: targetOf(first ? first.uri : uri, 'udp') };
  }

  newTag(): string {
    return generateTag();
  }

  close(): Promise<void> {
    return this.stack.close();
  }

  #push(received: Received): void {
    this.received.push(received);
    const index = this.#waiters.findIndex((w) => w.method === received.request.method);
    if (index < 0) return;
    const [waiter] = this.#waiters.splice(index, 1);
    this.#taken.add(received);
    waiter?.resolve(received);
  }
}
