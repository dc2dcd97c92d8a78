/**
 * Completion of calls (CCBS/CCNR, TS 24.642 on RFC 6910) and communication deflection (TS 24.604
 * CD) for Jingle clients. No XEP covers either, so the gateway uses the project's documented
 * `urn:epcscf:mmtel:0` extension (plugins/xmpp-ws/README.md "MMTel extensions"):
 * - offer: the session-terminate of a failed call (486 → <busy/>) or, for CCNR, a session-info
 *   carries <call-completion xmlns='urn:epcscf:mmtel:0' mode='BS|NR|NL'/> inside <jingle/>;
 * - request: <iq type='set' to='<callee>'><call-completion xmlns='urn:epcscf:mmtel:0'
 *   sid='<the failed session>'/></iq> → call-completion SUBSCRIBE; the IQ result follows its 2xx,
 *   item-not-found when that session offered nothing, service-unavailable when it was refused;
 * - ready: <message type='headline' from='<callee>'><call-completion xmlns='urn:epcscf:mmtel:0'
 *   sid='…' state='ready' mode='BS' target='sip:…'/></message> (NOTIFY cc-state: ready);
 * - recall: a session-initiate whose <jingle/> carries <call-completion xmlns='urn:epcscf:mmtel:0'
 *   sid='<the failed session>'/> becomes the CC call (INVITE with the m= URI parameter);
 * - deflection: the callee's session-terminate (before session-accept) carrying
 *   <deflect xmlns='urn:epcscf:mmtel:0' to='sip:…'/> → 302 with that Contact.
 */
import { UaRejectedError, type UaCallCompletion, type UaCallCompletionOffer, type VirtualUe } from '../../../core/contract/index.js';
import { iqResult, SERVICE_UNAVAILABLE, stanza, stanzaError } from '../stanza/stanza-builders.js';
import { childOf, xmlElement, type XmlElement } from '../xml/element.js';
import { MMTEL_NS } from './mmtel-identity.js';

/** Offers kept for sessions that ended: the most recent ones. */
const MAX_OFFERS = 16;

export interface CallCompletionLink {
  readonly fullJid: string;
  send(element: XmlElement): void;
}

/** <call-completion mode='BS'/>, the offer inside a session-terminate / session-info. */
export function callCompletionOfferElement(offer: UaCallCompletionOffer): XmlElement {
  return xmlElement('call-completion', MMTEL_NS, { mode: offer.mode });
}

/** `jingle` with one more child (the elements are immutable). */
export function withChild(jingle: XmlElement, child: XmlElement): XmlElement {
  return xmlElement(jingle.name, jingle.ns, jingle.attrs, [...jingle.children, child], jingle.text);
}

/** The deflect-to URI of a client's session-terminate, when it deflects. */
export function deflectTarget(jingle: XmlElement): string | undefined {
  const to = childOf(jingle, 'deflect', MMTEL_NS)?.attrs.to;
  return to !== undefined && to.length > 0 ? to : undefined;
}

/** The failed session a session-initiate recalls, when it is a CC call. */
export function recalledSession(jingle: XmlElement): string | undefined {
  return childOf(jingle, 'call-completion', MMTEL_NS)?.attrs.sid;
}

export class CallCompletionBridge {
  readonly #link: CallCompletionLink;
  readonly #ue: VirtualUe;
  readonly #offers = new Map<string, { offer: UaCallCompletionOffer; peer: string }>();
  readonly #requests = new Map<string, UaCallCompletion>();

  constructor(link: CallCompletionLink, ue: VirtualUe) {
    this.#link = link;
    this.#ue = ue;
  }

  /** Session `sid` (with SIP party `peer`) was offered completion of calls. */
  offered(sid: string, peer: string, offer: UaCallCompletionOffer): void {
    this.#offers.delete(sid);
    this.#offers.set(sid, { offer, peer });
    if (this.#offers.size > MAX_OFFERS) this.#offers.delete(this.#offers.keys().next().value ?? '');
  }

  /** The accepted request of the failed session `sid`, for a recall. */
  request(sid: string): UaCallCompletion | undefined {
    return this.#requests.get(sid);
  }

  /** The client's <call-completion sid/> IQ: SUBSCRIBE; result or error once the monitor answered. */
  async iq(iq: XmlElement, payload: XmlElement): Promise<void> {
    const from = iq.attrs.to;
    const sid = payload.attrs.sid ?? '';
    const offered = this.#offers.get(sid);
    if (offered === undefined || this.#requests.has(sid)) {
      this.#link.send(stanzaError(iq, from, this.#link.fullJid, { condition: 'item-not-found', type: 'cancel', text: 'no completion-of-calls offer for this session' }));
      return;
    }
    let request: UaCallCompletion;
    try {
      request = await this.#ue.requestCallCompletion(offered.offer);
    } catch (error) {
      if (!(error instanceof UaRejectedError)) throw error;
      this.#link.send(stanzaError(iq, from, this.#link.fullJid, { ...SERVICE_UNAVAILABLE, text: `call-completion subscription refused (${error.status})` }));
      return;
    }
    this.#requests.set(sid, request);
    request.on('ready', (status) => {
      this.#link.send(stanza('message', { type: 'headline', from: offered.peer, to: this.#link.fullJid }, [
        xmlElement('call-completion', MMTEL_NS, { sid, state: 'ready', mode: request.offer.mode, target: status.recallUri ?? request.offer.target }),
      ]));
    });
    request.on('terminated', () => {
      if (this.#requests.get(sid) === request) this.#requests.delete(sid);
      this.#offers.delete(sid);
    });
    this.#link.send(iqResult(iq, from, this.#link.fullJid));
  }

  close(): void {
    this.#offers.clear();
    this.#requests.clear();
  }
}
