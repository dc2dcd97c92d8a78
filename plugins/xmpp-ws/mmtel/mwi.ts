/**
 * MWI (TS 24.606) for XMPP clients, as the documented `urn:epcscf:mmtel:0` extension (no XEP
 * fits; plugins/xmpp-ws/README.md "MMTel extensions"):
 *   client → <iq type='set'><mwi xmlns='urn:epcscf:mmtel:0' [account='sip:…']/></iq>
 *   gateway: SUBSCRIBE Event: message-summary (RFC 3842 §4) to `account` (default: the user's own
 *   IMPU); the IQ result follows the 2xx, an IQ error (service-unavailable) a rejection;
 *   every NOTIFY (and an unsolicited one, RFC 3842 §4.1) →
 *   <message type='headline' from='<domain>'><mwi xmlns='urn:epcscf:mmtel:0' waiting='yes'
 *     new='2' old='8' voice='2/8' account='…'/></message>
 */
import { parseMessageSummary, UaRejectedError, type MessageSummary, type UaSubscription, type VirtualUe } from '../../../core/contract/index.js';
import { MMTEL_NS } from '../calls/mmtel-identity.js';
import { iqResult, SERVICE_UNAVAILABLE, stanza, stanzaError } from '../stanza/stanza-builders.js';
import { xmlElement, type XmlElement } from '../xml/element.js';

export const MESSAGE_SUMMARY = 'message-summary';

export interface MwiLink {
  readonly domain: string;
  readonly fullJid: string;
  send(element: XmlElement): void;
}

/** The <mwi/> element for one summary: totals plus one `class='new/old'` attribute per class. */
export function mwiElement(summary: MessageSummary): XmlElement {
  const attrs: Record<string, string | number | undefined> = {
    waiting: summary.messagesWaiting ? 'yes' : 'no', new: summary.new, old: summary.old, account: summary.account,
  };
  for (const [klass, counts] of Object.entries(summary.classes)) {
    if (!(klass in attrs)) attrs[klass] = `${counts.new}/${counts.old}`;
  }
  return xmlElement('mwi', MMTEL_NS, attrs);
}

/** Answers the client's <mwi/> IQ: subscribes once per session, relays every summary as a headline. */
export class MwiBridge {
  readonly #link: MwiLink;
  readonly #ue: VirtualUe;
  #subscription: UaSubscription | undefined;

  constructor(link: MwiLink, ue: VirtualUe) {
    this.#link = link;
    this.#ue = ue;
    ue.on('unsolicitednotify', (info) => { if (info.event === MESSAGE_SUMMARY) this.#relay(info.body); });
  }

  async subscribe(iq: XmlElement, payload: XmlElement): Promise<void> {
    const from = iq.attrs.to;
    if (this.#subscription === undefined) {
      try {
        const subscription = await this.#ue.subscribe(MESSAGE_SUMMARY, payload.attrs.account);
        this.#subscription = subscription;
        subscription.on('notify', (info) => { if (info.body !== undefined) this.#relay(info.body); });
        subscription.on('terminated', () => { if (this.#subscription === subscription) this.#subscription = undefined; });
      } catch (error) {
        if (!(error instanceof UaRejectedError)) throw error;
        // The refusal's status, never peer text.
        this.#link.send(stanzaError(iq, from, this.#link.fullJid, { ...SERVICE_UNAVAILABLE, text: `message-summary subscription refused (${error.status})` }));
        return;
      }
    }
    this.#link.send(iqResult(iq, from, this.#link.fullJid));
  }

  #relay(body: string): void {
    const summary = parseMessageSummary(body);
    if (summary === undefined) return;
    this.#link.send(stanza('message', { type: 'headline', from: this.#link.domain, to: this.#link.fullJid }, [mwiElement(summary)]));
  }
}
