/**
 * A conference focus for the CONF tests (TS 24.147 §5.3.2, RFC 4579 §5), on core/sip over UDP:
 *  - INVITE to the conference factory URI → 200 with `Contact: <sip:conf-N@…>;isfocus` (the
 *    conference URI) and a plain audio answer; the caller is the first participant;
 *  - REFER inside that dialog (or outside it, to the conference URI) with `Refer-To: <party;
 *    method=INVITE>` adds the party, `method=BYE` removes it: 202, then NOTIFY message/sipfrag
 *    `SIP/2.0 200 OK` (RFC 3515 §2.4.4) — no real call is placed to the party;
 *  - SUBSCRIBE `Event: conference` to the conference URI → 200, then a full RFC 4575
 *    conference-info NOTIFY, and one more (version + 1) after every change.
 * Every request it got is kept in `received` for the test's Mw assertions.
 *   const focus = await ConferenceFocus.start();  focus.factoryUri  // sip:conf-factory@127.0.0.1:port
 */
import {
  callId, contacts, createRequest, createResponse, expires as expiresOf, formatNameAddr, formatUri, from, generateTag, getHeader,
  getHeaders, getParam, nameAddrList, parseNameAddr, socketHost, tagOf, to, type NameAddr, type SipRequest, type SipResponse,
} from '../../../core/sip/index.js';
import { SipStack } from '../../../core/sip/stack.js';
import type { ServerTransaction } from '../../../core/sip/transaction/index.js';
import { plainSdp } from '../scripted-uas.js';
import { targetOf } from '../sip-endpoints.js';

/** The dialog the focus holds with a UE: the request that made it and the focus's tag. */
interface FocusDialog {
  readonly request: SipRequest;
  readonly toTag: string;
  /** The focus's Contact in this dialog (RFC 4579 §5.3: the conference URI, isfocus in the INVITE dialog). */
  readonly contact: string;
}

interface Conference {
  readonly uri: string;
  readonly user: string;
  /** Participant URI → display text, in joining order. */
  readonly participants: Map<string, string | undefined>;
  readonly subscribers: FocusDialog[];
  version: number;
}

const escapeXml = (s: string): string => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

export class ConferenceFocus {
  readonly stack: SipStack;
  /** Every request the focus received, in order. */
  readonly received: SipRequest[] = [];
  readonly #conferences = new Map<string, Conference>();
  /** INVITE dialogs by Call-ID. */
  readonly #calls = new Map<string, FocusDialog & { conference: Conference }>();
  #cseq = 1;
  #next = 1;
  #waiters: (() => void)[] = [];

  private constructor(stack: SipStack) {
    this.stack = stack;
  }

  static async start(): Promise<ConferenceFocus> {
    let focus!: ConferenceFocus; // assigned before any datagram can arrive
    const stack = await SipStack.start({
      listeners: ['udp:127.0.0.1:0'],
      onRequest: (request, tx) => focus.#onRequest(request, tx),
      onStrayAck: (ack) => { focus.received.push(ack); },
    });
    focus = new ConferenceFocus(stack);
    return focus;
  }

  #uri(user: string): string {
    const { host, port } = this.stack.localVia('udp');
    return `sip:${user}@${socketHost(host)}:${port}`;
  }

  /** The conference factory URI (what config mmtel.conferenceFactoryUri names). */
  get factoryUri(): string {
    return this.#uri('conf-factory');
  }

  /** The participant URIs of the conference at `uri`. */
  participants(uri: string): string[] {
    return [...(this.#conferences.get(uri)?.participants.keys() ?? [])];
  }

  /** Resolves with the first `method` request received at index `from` or later. */
  waitFor(method: string, from = 0, timeoutMs = 8000): Promise<SipRequest> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`focus: no ${method} within ${timeoutMs} ms`)), timeoutMs);
      const check = (): void => {
        const hit = this.received.slice(from).find((r) => r.method === method);
        if (hit === undefined) { this.#waiters.push(check); return; }
        clearTimeout(timer);
        resolve(hit);
      };
      check();
    });
  }

  close(): Promise<void> {
    return this.stack.close();
  }

  #onRequest(request: SipRequest, tx: ServerTransaction): void {
    this.received.push(request);
    for (const wake of this.#waiters.splice(0)) wake();
    try {
      switch (request.method) {
        case 'INVITE': return this.#onInvite(request, tx);
        case 'REFER': return this.#onRefer(request, tx);
        case 'SUBSCRIBE': return this.#onSubscribe(request, tx);
        case 'BYE': this.#calls.delete(callId(request)); return this.#reply(request, tx, 200);
        default: return this.#reply(request, tx, 200);
      }
    } catch (error) {
      this.#reply(request, tx, 400, { reason: `Bad Request (${(error as Error).message})` });
    }
  }

  #onInvite(request: SipRequest, tx: ServerTransaction): void {
    const existing = this.#calls.get(callId(request));
    if (existing !== undefined) { // a re-INVITE (hold…): answer with the same media
      this.#reply(request, tx, 200, { toTag: existing.toTag, sdp: plainSdp(2), contact: `<${existing.conference.uri}>;isfocus` });
      return;
    }
    // TS 24.147 §5.3.2.3.2: an INVITE to the factory URI creates a conference and its URI.
    const user = `conf-${this.#next++}`;
    const conference: Conference = { uri: this.#uri(user), user, participants: new Map(), subscribers: [], version: 0 };
    this.#conferences.set(conference.uri, conference);
    const caller = this.#identity(request);
    conference.participants.set(caller.uri, caller.displayName);
    const toTag = generateTag();
    this.#calls.set(callId(request), { request, toTag, conference, contact: `<${conference.uri}>;isfocus` });
    this.#reply(request, tx, 200, { toTag, sdp: plainSdp(1), contact: `<${conference.uri}>;isfocus` });
  }

  #onRefer(request: SipRequest, tx: ServerTransaction): void {
    const inDialog = tagOf(to(request)) !== undefined ? this.#calls.get(callId(request)) : undefined;
    const conference = inDialog?.conference ?? this.#conferences.get(formatUri({ ...request.uri, params: [] } as typeof request.uri));
    const referTo = getHeader(request, 'Refer-To');
    if (conference === undefined || referTo === undefined) { this.#reply(request, tx, conference === undefined ? 404 : 400); return; }
    const target = parseNameAddr(referTo, 'Refer-To').uri;
    const method = target.kind === 'sip' ? (getParam(target.params, 'method') ?? 'INVITE').toUpperCase() : 'INVITE';
    const party = formatUri(target.kind === 'sip' ? { ...target, params: target.params.filter((p) => p.name.toLowerCase() !== 'method') } : target);
    const dialog = inDialog ?? { request, toTag: generateTag(), contact: `<${conference.uri}>` };
    this.#reply(request, tx, 202, { toTag: dialog.toTag, contact: dialog.contact });
    // RFC 3515 §2.4.4: the REFER's outcome as sipfrag; the focus "reached" the party at once.
    void this.#inDialog(dialog, 'NOTIFY', {
      headers: [['Event', 'refer'], ['Subscription-State', 'terminated;reason=noresource']],
      body: 'SIP/2.0 200 OK\r\n', contentType: 'message/sipfrag;version=2.0',
    }).then(() => {
      if (method === 'BYE') conference.participants.delete(party); // RFC 4579 §5.10
      else conference.participants.set(party, undefined); // RFC 4579 §5.5
      this.#notifyAll(conference);
    });
  }

  #onSubscribe(request: SipRequest, tx: ServerTransaction): void {
    const conference = this.#conferences.get(formatUri({ ...request.uri, params: [] } as typeof request.uri))
      ?? [...this.#conferences.values()].find((c) => c.subscribers.some((s) => callId(s.request) === callId(request)));
    if ((getHeader(request, 'Event') ?? '').split(';')[0]?.trim() !== 'conference') { this.#reply(request, tx, 489, { reason: 'Bad Event' }); return; }
    if (conference === undefined) { this.#reply(request, tx, 404); return; }
    const expires = Math.min(expiresOf(request) ?? 3600, 3600);
    const known = conference.subscribers.find((s) => callId(s.request) === callId(request));
    const dialog = known ?? { request, toTag: generateTag(), contact: `<${conference.uri}>` };
    if (known === undefined) conference.subscribers.push(dialog);
    this.#reply(request, tx, 200, { toTag: dialog.toTag, headers: [['Expires', String(expires)]], contact: `<${conference.uri}>` });
    if (expires === 0) conference.subscribers.splice(conference.subscribers.indexOf(dialog), 1);
    // RFC 6665 §4.2.1.2: a NOTIFY with the current state follows every accepted SUBSCRIBE.
    void this.#notifyConference(conference, dialog, expires === 0 ? 'terminated;reason=timeout' : `active;expires=${expires}`);
  }

  #notifyAll(conference: Conference): void {
    for (const subscriber of conference.subscribers) void this.#notifyConference(conference, subscriber, 'active;expires=3600');
  }

  /** RFC 4575 §5: a full conference-info document, version counted per conference. */
  #notifyConference(conference: Conference, dialog: FocusDialog, state: string): Promise<SipResponse> {
    conference.version += 1;
    const users = [...conference.participants].map(([entity, display]) => [
      `    <user entity="${escapeXml(entity)}" state="full">`,
      ...(display !== undefined ? [`      <display-text>${escapeXml(display)}</display-text>`] : []),
      `      <endpoint entity="${escapeXml(entity)}"><status>connected</status></endpoint>`,
      '    </user>',
    ].join('\r\n'));
    const body = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="${escapeXml(conference.uri)}" state="full" version="${conference.version}">`,
      '  <conference-description><subject>ad-hoc conference</subject></conference-description>',
      `  <conference-state><user-count>${conference.participants.size}</user-count><active>true</active></conference-state>`,
      '  <users>', ...users, '  </users>',
      '</conference-info>', '',
    ].join('\r\n');
    return this.#inDialog(dialog, 'NOTIFY', {
      headers: [['Event', 'conference'], ['Subscription-State', state]], body, contentType: 'application/conference-info+xml',
    });
  }

  #identity(request: SipRequest): { uri: string; displayName?: string } {
    const pai = nameAddrList(request, 'P-Asserted-Identity').find((na) => na.uri.kind === 'sip');
    const who = pai ?? from(request);
    return { uri: formatUri(who.uri), ...(who.displayName !== undefined ? { displayName: who.displayName } : {}) };
  }

  #reply(request: SipRequest, tx: ServerTransaction, status: number, options: { toTag?: string; sdp?: string; contact?: string; reason?: string; headers?: [string, string][] } = {}): void {
    const headers: [string, string][] = [];
    // RFC 3261 §12.1.1: a dialog-creating answer copies Record-Route.
    if (options.toTag !== undefined && tagOf(to(request)) === undefined) for (const rr of getHeaders(request, 'Record-Route')) headers.push(['Record-Route', rr]);
    if (options.contact !== undefined) headers.push(['Contact', options.contact]);
    else if (['INVITE', 'SUBSCRIBE', 'REFER'].includes(request.method)) headers.push(['Contact', `<${this.#uri('focus')}>`]);
    headers.push(...(options.headers ?? []));
    tx.respond(createResponse(request, status, options.reason, {
      ...(options.toTag !== undefined && tagOf(to(request)) === undefined ? { toTag: options.toTag } : {}),
      headers,
      ...(options.sdp !== undefined ? { body: options.sdp, contentType: 'application/sdp' } : {}),
    }));
  }

  /** A request in the dialog `dialog.request` made (RFC 3261 §12.2.1.1: Record-Route as route set, its Contact as target). */
  #inDialog(dialog: FocusDialog, method: string, options: { headers: [string, string][]; body: string; contentType: string }): Promise<SipResponse> {
    const { request: made, toTag } = dialog;
    const contact = contacts(made)[0];
    const remoteTarget = contact !== undefined && !('star' in contact && contact.star === true) ? (contact as NameAddr).uri : made.uri;
    const routeSet = nameAddrList(made, 'Record-Route');
    const firstRoute = routeSet[0];
    const request = createRequest({
      method, uri: remoteTarget,
      headers: [
        ['Via', this.stack.newVia('udp')], ['Max-Forwards', '70'],
        ['From', `${formatNameAddr(to(made))};tag=${toTag}`], ['To', formatNameAddr(from(made))], ['Call-ID', callId(made)],
        ['CSeq', `${this.#cseq++} ${method}`], ['Contact', dialog.contact],
        ...routeSet.map((route): [string, string] => ['Route', formatNameAddr(route)]),
        ...options.headers, ['Content-Type', options.contentType],
      ],
      body: options.body,
    });
    return new Promise((resolve) => {
      this.stack.transactions.sendRequest(request, targetOf(firstRoute ? firstRoute.uri : remoteTarget, 'udp'), { onFinal: resolve });
    });
  }
}
