/**
 * "Our UAS" and "our UAC" for tests: minimal user agents built on SipStack and its
 * TransactionLayer, with just enough dialog state (RFC 3261 §12) to place and answer basic
 * calls: Call-ID, tags, CSeq, remote target from Contact, route set from Record-Route.
 * Not a product UA (that is core/ua): no re-INVITE, no PRACK, no forking, loose routing only.
 */
import {
  callId, contacts, createRequest, createResponse, cseq, formatNameAddr, from, generateCallId, generateTag,
  getHeaders, getParam, nameAddrList, socketHost, tagOf, to,
  type NameAddr, type SipRequest, type SipResponse, type Uri,
} from '../../core/sip/index.js';
import { SipStack, type SipStackOptions } from '../../core/sip/stack.js';
import { createCancel, type ServerTransaction } from '../../core/sip/transaction/index.js';
import type { SipSource, SipTarget, TransportProtocol } from '../../core/sip/transport/types.js';

type EndpointOptions = Omit<SipStackOptions, 'onRequest' | 'onStrayResponse' | 'onStrayAck'>;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A tiny audio offer/answer (RFC 4566); the peers here never send media. */
function sdp(host: string): string {
  const ip = socketHost(host);
  const family = ip.includes(':') ? 'IP6' : 'IP4';
  return ['v=0', `o=epcscf 1 1 IN ${family} ${ip}`, 's=-', `c=IN ${family} ${ip}`, 't=0 0',
    'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
}

function contactUri(stack: SipStack, user: string, transport: TransportProtocol): string {
  const { host, port } = stack.localVia(transport);
  return `sip:${user}@${host}:${port}${transport === 'udp' ? '' : `;transport=${transport}`}`;
}

/**
 * Where a request for `uri` goes (a one-line RFC 3263 for IP hosts): the URI's host and port,
 * over its `transport` parameter when it names one, else over `fallback`.
 */
export function targetOf(uri: Uri, fallback: TransportProtocol): SipTarget {
  if (uri.kind !== 'sip') throw new Error(`cannot send to a ${uri.kind} URI`);
  const param = getParam(uri.params, 'transport');
  const transport = typeof param === 'string' && ['udp', 'tcp', 'tls'].includes(param.toLowerCase())
    ? param.toLowerCase() as TransportProtocol : fallback;
  const port = uri.port ?? (uri.scheme === 'sips' || transport === 'tls' ? 5061 : 5060);
  return { transport, host: socketHost(uri.host), port };
}

// ---------------------------------------------------------------------------------------------
// UAS

interface UasDialog {
  readonly invite: SipRequest;
  readonly ok: SipResponse;
  readonly tx: ServerTransaction;
  acked: boolean;
  retransmit: ReturnType<typeof setTimeout> | undefined;
}

export interface TestUasOptions extends EndpointOptions {
  /** Time between the 180 and the 200 (default 0: answer at once). A CANCEL can land in it. */
  readonly ringMs?: number;
}

/**
 * Answers INVITE with 180 then 200 (SDP, Contact, To tag, Record-Route copied), takes the ACK,
 * answers BYE 200, CANCEL 200 + 487, OPTIONS 200, anything else 501.
 */
export class TestUas {
  readonly stack: SipStack;
  /** BYEs answered 200 for a dialog we accepted. */
  completedCalls = 0;
  acksReceived = 0;
  cancelledCalls = 0;
  /** BYEs that matched no dialog (answered 481). */
  unknownByes = 0;
  /** 2xx never acknowledged within 64*T1 (RFC 3261 §13.3.1.4). */
  unacknowledgedCalls = 0;
  readonly #dialogs = new Map<string, UasDialog>();
  readonly #ringing = new Map<ServerTransaction, ReturnType<typeof setTimeout>>();
  readonly #ringMs: number;
  #waiters: { count: number; resolve: () => void }[] = [];

  private constructor(stack: SipStack, ringMs: number) {
    this.stack = stack;
    this.#ringMs = ringMs;
  }

  static async start(options: TestUasOptions): Promise<TestUas> {
    // Assigned before any message can arrive: SipStack.start resolves in a microtask, inbound
    // datagrams and segments are macrotasks.
    let uas!: TestUas;
    const { ringMs = 0, ...stackOptions } = options;
    const stack = await SipStack.start({
      ...stackOptions,
      onRequest: (request, tx, source) => uas.#onRequest(request, tx, source),
      onStrayAck: (ack) => uas.#onAck(ack),
    });
    uas = new TestUas(stack, ringMs);
    return uas;
  }

  /** Dialogs answered 200 and not yet ended by a BYE (or given up after 64*T1). */
  get openDialogs(): number {
    return this.#dialogs.size;
  }

  /** A Request-URI that reaches this UAS over `transport`. */
  uri(transport: TransportProtocol, user = 'uas'): string {
    return contactUri(this.stack, user, transport);
  }

  /** Resolves once `count` calls have completed (or rejects after `timeoutMs`). */
  whenCompleted(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.completedCalls >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.completedCalls}/${count} calls completed`)), timeoutMs);
      this.#waiters.push({ count, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }

  async close(): Promise<void> {
    for (const dialog of this.#dialogs.values()) clearTimeout(dialog.retransmit);
    for (const timer of this.#ringing.values()) clearTimeout(timer);
    this.#dialogs.clear();
    this.#ringing.clear();
    await this.stack.close();
  }

  #onRequest(request: SipRequest, tx: ServerTransaction, source: SipSource): void {
    switch (request.method) {
      case 'INVITE': return this.#onInvite(request, tx, source);
      case 'BYE': return this.#onBye(request, tx);
      case 'CANCEL': return this.#onCancel(request, tx);
      case 'OPTIONS':
        tx.respond(createResponse(request, 200, 'OK', { headers: [['Allow', 'INVITE, ACK, BYE, CANCEL, OPTIONS'], ['Accept', 'application/sdp']] }));
        return;
      default:
        tx.respond(createResponse(request, 501, 'Not Implemented'));
    }
  }

  #onInvite(invite: SipRequest, tx: ServerTransaction, source: SipSource): void {
    if (tagOf(to(invite)) !== undefined) {
      // A re-INVITE: out of scope for this endpoint.
      tx.respond(createResponse(invite, 488, 'Not Acceptable Here'));
      return;
    }
    const toTag = generateTag();
    // RFC 3261 §12.1.1: a dialog-creating response copies Record-Route and carries a Contact.
    const headers: [string, string][] = getHeaders(invite, 'Record-Route').map((rr) => ['Record-Route', rr]);
    headers.push(['Contact', `<${contactUri(this.stack, 'uas', source.transport)}>`]);
    tx.respond(createResponse(invite, 180, 'Ringing', { toTag, headers }));
    const answer = (): void => {
      this.#ringing.delete(tx);
      const { host } = this.stack.localVia(source.transport);
      const ok = createResponse(invite, 200, 'OK', { toTag, headers, body: sdp(host), contentType: 'application/sdp' });
      if (!tx.respond(ok)) return; // CANCELled meanwhile (487 already sent)
      const dialog: UasDialog = { invite, ok, tx, acked: false, retransmit: undefined };
      this.#dialogs.set(`${callId(invite)}|${toTag}`, dialog);
      this.#retransmitOk(dialog, this.stack.transactions.timers.t1, 0);
    };
    if (this.#ringMs <= 0) answer();
    else this.#ringing.set(tx, setTimeout(answer, this.#ringMs));
  }

  /**
   * RFC 3261 §13.3.1.4: the UAS core retransmits the 2xx, starting at T1 and doubling up to
   * T2, until the ACK comes; after 64*T1 without one the dialog is given up.
   */
  #retransmitOk(dialog: UasDialog, interval: number, elapsed: number): void {
    const { t1, t2 } = this.stack.transactions.timers;
    if (elapsed >= 64 * t1) {
      this.unacknowledgedCalls++;
      this.#dialogs.delete(`${callId(dialog.invite)}|${tagOf(to(dialog.ok))}`);
      return;
    }
    dialog.retransmit = setTimeout(() => {
      if (dialog.acked) return;
      dialog.tx.respond(dialog.ok);
      this.#retransmitOk(dialog, Math.min(2 * interval, t2), elapsed + interval);
    }, interval);
  }

  #dialogOf(request: SipRequest): UasDialog | undefined {
    return this.#dialogs.get(`${callId(request)}|${tagOf(to(request)) ?? ''}`);
  }

  #stopRetransmitting(dialog: UasDialog): void {
    dialog.acked = true;
    clearTimeout(dialog.retransmit);
  }

  #onAck(ack: SipRequest): void {
    const dialog = this.#dialogOf(ack);
    if (!dialog) return; // §17.2.3 / §13.3.2.6: an ACK for nothing we know is dropped
    if (!dialog.acked) this.acksReceived++;
    this.#stopRetransmitting(dialog);
  }

  #onBye(bye: SipRequest, tx: ServerTransaction): void {
    const dialog = this.#dialogOf(bye);
    if (!dialog) {
      this.unknownByes++;
      // RFC 3261 §15.1.2: a BYE that matches no dialog gets 481.
      tx.respond(createResponse(bye, 481, 'Call/Transaction Does Not Exist'));
      return;
    }
    // A BYE before the ACK (lost on the way) still ends the call: stop the 2xx retransmissions.
    this.#stopRetransmitting(dialog);
    this.#dialogs.delete(`${callId(bye)}|${tagOf(to(bye)) ?? ''}`);
    tx.respond(createResponse(bye, 200, 'OK'));
    this.completedCalls++;
    this.#waiters = this.#waiters.filter((w) => (w.count <= this.completedCalls ? (w.resolve(), false) : true));
  }

  #onCancel(cancel: SipRequest, tx: ServerTransaction): void {
    const invite = this.stack.transactions.findInviteServerTransaction(cancel);
    if (!invite) {
      // RFC 3261 §9.2: no matching INVITE transaction → 481.
      tx.respond(createResponse(cancel, 481, 'Call/Transaction Does Not Exist'));
      return;
    }
    // §9.2: the CANCEL itself is answered 200; the INVITE, if still unanswered, 487.
    tx.respond(createResponse(cancel, 200, 'OK'));
    const ringing = this.#ringing.get(invite);
    if (ringing === undefined) return;
    clearTimeout(ringing);
    this.#ringing.delete(invite);
    const toTag = tagOf(to(invite.finalResponse ?? invite.request)) ?? generateTag();
    invite.respond(createResponse(invite.request, 487, 'Request Terminated', { toTag }));
    this.cancelledCalls++;
  }
}

// ---------------------------------------------------------------------------------------------
// UAC

export interface CallOptions {
  readonly transport: TransportProtocol;
  /** Time between the ACK and the BYE (default 0). */
  readonly holdMs?: number;
  /** Send CANCEL this long after the first provisional response (RFC 3261 §9.1). */
  readonly cancelAfterMs?: number;
}

export interface CallOutcome {
  readonly callId: string;
  /** Provisional statuses received, in order. */
  readonly provisional: number[];
  /** The INVITE's final status (408 on Timer B, 503 on a transport error). */
  readonly status: number;
  /** The BYE's final status, when the call was answered. */
  readonly byeStatus?: number;
  /** The CANCEL's final status, when one was sent. */
  readonly cancelStatus?: number;
  /** 2xx retransmissions that were answered with the same ACK again. */
  readonly ackRetransmissions: number;
  /** 2xx answered and the BYE got 200. */
  readonly ok: boolean;
}

interface UacDialog {
  readonly ack: SipRequest;
  readonly target: SipTarget;
  retransmissions: number;
}

/** Places calls: INVITE → 1xx → 2xx → ACK → BYE → 200 (RFC 3261 §13.2, §12.1.2, §15.1.1). */
export class TestUac {
  readonly stack: SipStack;
  /** Established dialogs by Call-ID, so 2xx retransmissions after Timer M are ACKed too. */
  readonly #dialogs = new Map<string, UacDialog>();

  private constructor(stack: SipStack) {
    this.stack = stack;
  }

  static async start(options: EndpointOptions): Promise<TestUac> {
    let uac!: TestUac; // see TestUas.start
    const stack = await SipStack.start({
      ...options,
      onRequest: (request, tx) => {
        // In-dialog requests from the far end (a BYE from the UAS) are out of scope: refuse.
        tx.respond(createResponse(request, request.method === 'BYE' ? 481 : 501));
      },
      // RFC 6026 §8.4 / RFC 3261 §13.2.2.4: a 2xx retransmission re-sends the same ACK.
      onStrayResponse: (response) => uac.#reAck(response),
    });
    uac = new TestUac(stack);
    return uac;
  }

  async close(): Promise<void> {
    this.#dialogs.clear();
    await this.stack.close();
  }

  async call(targetUri: string, options: CallOptions): Promise<CallOutcome> {
    const { transport } = options;
    const stack = this.stack;
    const local = `<${contactUri(stack, 'uac', transport)}>`;
    const id = generateCallId();
    const invite = createRequest({
      method: 'INVITE', uri: targetUri,
      headers: [
        ['Via', stack.newVia(transport)], ['Max-Forwards', '70'],
        ['From', `<sip:uac@${stack.localVia(transport).host}>;tag=${generateTag()}`], ['To', `<${targetUri}>`],
        ['Call-ID', id], ['CSeq', '1 INVITE'], ['Contact', local], ['Allow', 'INVITE, ACK, BYE, CANCEL, OPTIONS'],
        ['Content-Type', 'application/sdp'],
      ],
      body: sdp(stack.localVia(transport).host),
    });
    const firstHop = targetOf(invite.uri, transport);
    const provisional: number[] = [];
    let cancelStatus: number | undefined;
    let cancelSent: Promise<void> | undefined;

    const final = await new Promise<SipResponse>((resolve) => {
      let settled = false;
      stack.transactions.sendRequest(invite, firstHop, {
        onProvisional: (response) => {
          provisional.push(response.status);
          if (options.cancelAfterMs !== undefined && cancelSent === undefined) {
            cancelSent = sleep(options.cancelAfterMs).then(async () => {
              const cancel = createCancel(invite);
              cancelStatus = (await this.#send(cancel, firstHop)).status;
            });
          }
        },
        onFinal: (response) => {
          if (!settled) {
            settled = true;
            resolve(response);
          } else if (response.status < 300) {
            this.#reAck(response);
          }
        },
      });
    });
    await cancelSent;
    const base = { callId: id, provisional, status: final.status, ...(cancelStatus !== undefined ? { cancelStatus } : {}) };
    if (final.status >= 300 || final.status < 200) return { ...base, ackRetransmissions: 0, ok: false };

    const dialog = this.#establish(invite, final, transport);
    this.#dialogs.set(id, dialog);
    await stack.sendAck(dialog.ack, dialog.target);
    if (options.holdMs) await sleep(options.holdMs);

    const bye = createRequest({
      method: 'BYE', uri: dialog.ack.uri,
      headers: [
        ['Via', stack.newVia(dialog.target.transport)], ['Max-Forwards', '70'],
        ...dialog.ack.headers.filter((h) => h.name === 'From' || h.name === 'To' || h.name === 'Call-ID' || h.name === 'Route')
          .map((h): [string, string] => [h.name, h.value]),
        // RFC 3261 §12.2.1.1: the local CSeq increments for each new in-dialog request.
        ['CSeq', `${cseq(invite).seq + 1} BYE`],
      ],
    });
    const byeResponse = await this.#send(bye, dialog.target);
    this.#dialogs.delete(id);
    return { ...base, byeStatus: byeResponse.status, ackRetransmissions: dialog.retransmissions, ok: byeResponse.status === 200 };
  }

  /**
   * RFC 3261 §12.1.2: the UAC's dialog from the 2xx: remote tag from To, remote target from
   * Contact, route set = Record-Route reversed. §13.2.2.4: the ACK goes to the remote target
   * (through the route set), CSeq number of the INVITE, a new branch.
   */
  #establish(invite: SipRequest, ok: SipResponse, transport: TransportProtocol): UacDialog {
    const contact = contacts(ok)[0];
    const remoteTarget = contact && !('star' in contact && contact.star === true) ? (contact as NameAddr).uri : invite.uri;
    const routeSet = nameAddrList(ok, 'Record-Route').reverse();
    const firstRoute = routeSet[0];
    const target = targetOf(firstRoute ? firstRoute.uri : remoteTarget, transport);
    const ack = createRequest({
      method: 'ACK', uri: remoteTarget,
      headers: [
        ['Via', this.stack.newVia(target.transport)], ['Max-Forwards', '70'],
        ['From', formatNameAddr(from(invite))], ['To', formatNameAddr(to(ok))], ['Call-ID', callId(invite)],
        ['CSeq', `${cseq(invite).seq} ACK`],
        ...routeSet.map((route): [string, string] => ['Route', formatNameAddr(route)]),
      ],
    });
    return { ack, target, retransmissions: 0 };
  }

  #reAck(response: SipResponse): void {
    if (response.status < 200 || response.status >= 300 || cseq(response).method !== 'INVITE') return;
    const dialog = this.#dialogs.get(callId(response));
    if (!dialog) return;
    dialog.retransmissions++;
    this.stack.sendAck(dialog.ack, dialog.target).catch(() => undefined);
  }

  #send(request: SipRequest, target: SipTarget): Promise<SipResponse> {
    return new Promise((resolve) => {
      this.stack.transactions.sendRequest(request, target, { onFinal: resolve });
    });
  }
}
