/**
 * One-to-one chat (RFC 7572): <message type='chat'> ⇄ SIP MESSAGE (RFC 3428) text/plain through
 * the virtual UE. A SIP failure comes back as an error message with the RFC 7247 §6 condition;
 * a 2xx answers an XEP-0184 receipt request; XEP-0085 chat states ⇄ RFC 3994 isComposing.
 */
import { randomUUID } from 'node:crypto';
import type { UaIncomingMessage, VirtualUe } from '../../../core/contract/index.js';
import { jidOfParty, mappedPeer } from '../address/peer-jid.js';
import type { ClientLink } from '../client-link.js';
import { stanzaErrorForSipStatus } from '../interworking/stanza-error-sip.js';
import { SERVICE_UNAVAILABLE, stanza, stanzaError } from '../stanza/stanza-builders.js';
import { childOf, xmlElement, type XmlElement } from '../xml/element.js';
import { NS } from '../xml/namespaces.js';
import { IS_COMPOSING_TYPE, chatStateOfIsComposing, isChatState, isComposingBody, type ChatState } from './chat-states.js';

export class ChatBridge {
  readonly #link: ClientLink;
  readonly #ue: VirtualUe;

  constructor(link: ClientLink, ue: VirtualUe) {
    this.#link = link;
    this.#ue = ue;
  }

  /** A <message/> from the client that is not XEP-0353 call signalling. */
  async fromClient(message: XmlElement): Promise<void> {
    const type = message.attrs.type ?? 'normal';
    // RFC 6121 §5.2.2: error messages are never answered; headlines need no delivery.
    if (type === 'error' || type === 'headline') return;
    const peer = mappedPeer(message.attrs.to, this.#link.domain);
    if (peer === undefined || type === 'groupchat') {
      this.#link.send(stanzaError(message, message.attrs.to, this.#link.fullJid, { ...SERVICE_UNAVAILABLE, text: 'only users of this domain are reachable (RFC 7247 §5)' }));
      return;
    }
    const body = childOf(message, 'body', NS.client)?.text;
    const state = message.children.find((child) => child.ns === NS.chatStates && isChatState(child.name))?.name as ChatState | undefined;
    if (body === undefined || body === '') {
      // XEP-0085 standalone notification → RFC 3994 isComposing; its outcome is not reported.
      if (state !== undefined) await this.#ue.message(peer.uri, isComposingBody(state), IS_COMPOSING_TYPE).catch((error: unknown) => this.#link.log.debug({ err: error }, 'xmpp-ws: isComposing MESSAGE failed'));
      return;
    }
    let outcome: { status: number; reason: string };
    try {
      outcome = await this.#ue.message(peer.uri, body, 'text/plain;charset=UTF-8');
    } catch (error) {
      this.#link.log.info({ err: error }, 'xmpp-ws: MESSAGE not sent');
      this.#link.send(stanzaError(message, peer.bare, this.#link.fullJid, { condition: 'internal-server-error', type: 'cancel' }));
      return;
    }
    if (outcome.status >= 200 && outcome.status < 300) {
      // XEP-0184 §5: the receipt names the id of the message it acknowledges; the SIP 2xx is the delivery.
      const id = message.attrs.id;
      if (id !== undefined && childOf(message, 'request', NS.receipts) !== undefined) {
        this.#link.send(stanza('message', { from: peer.bare, to: this.#link.fullJid, id: randomUUID() }, [xmlElement('received', NS.receipts, { id })]));
      }
      return;
    }
    // RFC 7247 §6.2: the SIP failure as a stanza error, from the party that could not be reached.
    const mapped = stanzaErrorForSipStatus(outcome.status);
    this.#link.send(stanzaError(message, peer.bare, this.#link.fullJid, { ...mapped, text: `SIP ${outcome.status} ${outcome.reason}` }));
  }

  /** A SIP MESSAGE the UE received (and already answered 200). */
  fromSip(message: UaIncomingMessage): void {
    const from = jidOfParty(message.from.uri, this.#link.domain);
    if (from === undefined) {
      this.#link.log.info({ from: message.from.uri }, 'xmpp-ws: MESSAGE from a party with no JID form dropped');
      return;
    }
    const mediaType = message.contentType.split(';')[0]?.trim().toLowerCase();
    const attrs = { type: 'chat', from, to: this.#link.fullJid, id: randomUUID() };
    if (mediaType === 'text/plain') {
      this.#link.send(stanza('message', attrs, [xmlElement('body', NS.client, {}, [], message.body), xmlElement('active', NS.chatStates)]));
      return;
    }
    if (mediaType === IS_COMPOSING_TYPE) {
      const state = chatStateOfIsComposing(message.body);
      if (state !== undefined) this.#link.send(stanza('message', attrs, [xmlElement(state, NS.chatStates)]));
      return;
    }
    this.#link.log.info({ contentType: message.contentType }, 'xmpp-ws: MESSAGE body type not rendered in XMPP, dropped');
  }
}
