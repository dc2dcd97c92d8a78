/**
 * CONF (TS 24.605, TS 24.147 §5.3.1, RFC 4579, RFC 4575) for XMPP clients, as the documented
 * `urn:epcscf:mmtel:0` extension (plugins/xmpp-ws/README.md "MMTel extensions"; XEP-0298 Coin is
 * Deferred and has no add/remove operation, so it is not used):
 *   create: a Jingle session-initiate whose <jingle/> carries <conference xmlns='urn:epcscf:mmtel:0'/>
 *     → INVITE to the conference factory URI (config mmtel.conferenceFactoryUri); the session
 *     goes on as any Jingle call (session-accept, session-terminate ends the conference);
 *   once the focus answered with an isfocus Contact (RFC 4579 §5.3) the gateway SUBSCRIBEs
 *     `Event: conference` there and pushes every participant list (and one, empty, at once) as
 *     <message type='headline' from='<domain>'><conference xmlns='urn:epcscf:mmtel:0' sid='…'
 *       uri='<conference URI>' state='full' version='n'><user entity='sip:…' status='connected'
 *       display='…' state='full'/>…</conference></message>;
 *   add / remove: <iq type='set'><conference xmlns='urn:epcscf:mmtel:0' sid='…' action='add|remove'
 *     party='sip:…'/></iq> → REFER to the focus with Refer-To <party;method=INVITE|BYE>; the IQ
 *     result follows the 202, an IQ error a refusal.
 */
import {
  EpcError, parseConferenceInfo, targetText, UaRejectedError, type UaCall, type VirtualUe,
} from '../../../core/contract/index.js';
import { MMTEL_NS } from '../calls/mmtel-identity.js';
import type { ConferenceHook, JingleCalls } from '../calls/jingle-calls.js';
import { stanzaErrorForSipStatus } from '../interworking/stanza-error-sip.js';
import { BAD_REQUEST, iqResult, stanza, stanzaError } from '../stanza/stanza-builders.js';
import { xmlElement, type XmlElement } from '../xml/element.js';

export interface ConferenceLink {
  readonly domain: string;
  readonly fullJid: string;
  send(element: XmlElement): void;
}

/** The <conference/> push for one NOTIFY body (undefined when the body is no RFC 4575 document). */
export function conferenceElement(sid: string, conferenceUri: string, body: string | undefined): XmlElement | undefined {
  if (body === undefined) return xmlElement('conference', MMTEL_NS, { sid, uri: conferenceUri, state: 'full' });
  const info = parseConferenceInfo(body);
  if (info === undefined) return undefined;
  const users = info.participants.map((p) => xmlElement('user', MMTEL_NS, {
    entity: p.entity, state: p.state, status: p.status || undefined, display: p.displayText || undefined,
  }));
  return xmlElement('conference', MMTEL_NS, { sid, uri: conferenceUri, state: info.state, version: info.version }, users);
}

export class ConferenceBridge implements ConferenceHook {
  readonly factoryUri: string;
  readonly #link: ConferenceLink;
  readonly #ue: VirtualUe;
  readonly #calls: JingleCalls;

  constructor(link: ConferenceLink, factoryUri: string, ue: VirtualUe, calls: JingleCalls) {
    this.#link = link;
    this.factoryUri = factoryUri;
    this.#ue = ue;
    this.#calls = calls;
    calls.conference = this;
  }

  /** A conference session-initiate became a call: follow the focus's answer (TS 24.147 §5.3.1.6). */
  created(sid: string, call: UaCall): void {
    call.once('answered', (info) => {
      const conferenceUri = info.focus;
      if (conferenceUri === undefined) return; // not a focus (RFC 4579 §5.3): an ordinary call
      this.#push(conferenceElement(sid, conferenceUri, undefined));
      this.#ue.subscribe('conference', conferenceUri).then((subscription) => {
        subscription.on('notify', (notified) => {
          if (notified.body !== undefined) this.#push(conferenceElement(sid, conferenceUri, notified.body));
        });
        call.once('ended', () => { subscription.unsubscribe().catch(() => undefined); });
      }, () => undefined); // a focus without the event package: the conference works, the list stays unknown
    });
  }

  /** <conference sid action party/>: REFER the focus (RFC 4579 §5.5 add, §5.10 remove). */
  async iq(iq: XmlElement, payload: XmlElement): Promise<void> {
    const from = iq.attrs.to;
    const refuse = (text: string, spec = BAD_REQUEST): void => this.#link.send(stanzaError(iq, from, this.#link.fullJid, { ...spec, text }));
    const { sid, action, party } = payload.attrs;
    const method = action === 'add' ? 'INVITE' : action === 'remove' ? 'BYE' : undefined;
    if (sid === undefined || method === undefined || party === undefined) return refuse("<conference/> needs sid, action='add' or 'remove', and party");
    const call = this.#calls.callOf(sid);
    if (call === undefined || call.state !== 'confirmed') return refuse('no answered conference session with this sid', { condition: 'item-not-found', type: 'cancel' });
    let target: string;
    try {
      target = targetText(party, 'party');
    } catch (error) {
      if (!(error instanceof EpcError)) throw error;
      return refuse('party must be a SIP or tel URI without URI headers');
    }
    try {
      await call.referParty(target, method);
    } catch (error) {
      if (!(error instanceof UaRejectedError)) throw error;
      // The refusal's status, never peer text.
      return refuse(`the focus refused the REFER (${error.status})`, stanzaErrorForSipStatus(error.status));
    }
    this.#link.send(iqResult(iq, from, this.#link.fullJid));
  }

  #push(element: XmlElement | undefined): void {
    if (element === undefined) return;
    this.#link.send(stanza('message', { type: 'headline', from: this.#link.domain, to: this.#link.fullJid }, [element]));
  }
}
