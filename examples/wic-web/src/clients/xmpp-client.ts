/**
 * XMPP over WebSocket adapter (RFC 7395, plugins/xmpp-ws) with stanza.js: chat (RFC 7572) and
 * Jingle calls on the browser's RTCPeerConnection. Digest mode logs in with SASL PLAIN (the IMS
 * password); web mode with SASL OAUTHBEARER (RFC 7628) carrying the WWSF's token, the JID being
 * the token's IMPU (RFC 7247 §5). Incoming calls ring as an XEP-0353 <propose/>: stanza.js has no
 * XEP-0353 for urn:xmpp:jingle-message:0 and no XEP-0181 DTMF, so those frames are read and
 * written as XML here.
 */
import * as Stanza from 'stanza';
import type { MediaSession } from 'stanza/jingle/index.js';
import { toJid } from '../target.js';
import { isRestricted, microphone, WicError, type CallId, type Identity, type Party, type W2Client, type W2Events } from '../w2-client.js';

const JMI = 'urn:xmpp:jingle-message:0';

interface Proposal { readonly id: string; readonly from: string }

export class XmppClient implements W2Client {
  readonly protocol = 'xmpp-ws';
  readonly unsupported = {
    transfer: 'Transfer is not available over XMPP: the gateway maps no Jingle transfer.',
    consultativeTransfer: 'Transfer is not available over XMPP: the gateway maps no Jingle transfer.',
    multipleCalls: 'One call at a time over XMPP: a second call gets busy.',
  };
  private client: Stanza.Agent | undefined;
  private session: MediaSession | undefined;
  private proposal: Proposal | undefined;
  /** The <proceed/> went out: the session-initiate with this sid is accepted at once. */
  private proceeded: string | undefined;
  private saslFailure = '';
  /** The user ended the session here (stanza.js reports both ends the same way). */
  private endedHere: string | undefined;

  constructor(private readonly url: string, private readonly identity: Identity, private readonly events: W2Events) {}

  connect(): Promise<void> {
    this.events.registration('registering');
    const jid = toJid(this.identity.impu, this.identity.domain);
    const web = this.identity.token !== undefined;
    const client = Stanza.createClient({
      jid, resource: `wic-${Math.random().toString(36).slice(2, 8)}`,
      ...(web ? { credentials: { token: this.identity.token, username: jid.split('@')[0] ?? '' } } : { password: this.identity.password ?? '' }),
      transports: { websocket: this.url, bosh: false },
      jingle: { iceServers: [], trickleIce: true },
    });
    // The mechanism follows the auth mode, whatever the server offers first.
    client.sasl.disable(web ? 'PLAIN' : 'OAUTHBEARER');
    client.disco.addFeature(JMI);
    this.client = client;
    client.on('raw:incoming', (data: string) => this.onRaw(data));
    client.on('sasl', (sasl) => {
      if (sasl.type === 'failure') this.saslFailure = sasl.text ?? sasl.condition ?? '';
    });
    client.on('chat', (message) => { if (message.body) this.events.message(String(message.from), message.body); });
    client.on('message:error', (message) => this.events.error(`The message to ${String(message.from)} was not delivered${message.error?.text ? `: ${message.error.text}` : ''}.`));
    client.on('jingle:incoming', (session) => this.onIncoming(session as MediaSession));
    client.on('jingle:ringing', (session) => { if (session === this.session) this.events.callState(session.sid, 'ringing'); });
    client.on('jingle:accepted', (session) => { if (session === this.session) this.events.callState(session.sid, 'established'); });
    client.on('jingle:hold', (session) => { if (session === this.session) this.events.remoteHold(session.sid, true); });
    client.on('jingle:resumed', (session) => { if (session === this.session) this.events.remoteHold(session.sid, false); });
    client.on('jingle:terminated', (session, reason) => {
      if (session !== this.session) return;
      this.session = undefined;
      const here = this.endedHere;
      this.endedHere = undefined;
      this.events.callState(session.sid, 'ended', here ?? describeReason(reason?.condition, reason?.text, session.isInitiator));
    });
    return new Promise((resolve, reject) => {
      let settled = false;
      client.once('session:started', () => {
        client.sendPresence();
        settled = true;
        this.events.registration('registered');
        resolve();
      });
      client.once('auth:failed', () => {
        settled = true;
        const text = `Sign-in refused: ${this.saslFailure || 'not authorized'}.`;
        this.events.registration('failed', text);
        reject(new WicError(text));
      });
      client.on('disconnected', () => {
        if (!settled) { settled = true; reject(new WicError(`Could not connect to ${this.url}: the eP-CSCF is not reachable.`)); return; }
        this.events.registration('offline', 'The XMPP stream to the eP-CSCF ended.');
      });
      client.connect();
    });
  }

  async call(target: string): Promise<void> {
    const client = this.requireClient();
    const peer = toJid(target, this.identity.domain);
    const stream = await microphone();
    const session = client.jingle.createMediaSession(peer, undefined, stream) as MediaSession;
    this.session = session;
    this.events.outgoing(session.sid, peer);
    this.events.peerConnection(session.sid, session.pc);
    this.events.callState(session.sid, 'calling');
    await session.start();
  }

  async answer(_callId: CallId): Promise<void> {
    if (this.session !== undefined && this.session.state === 'pending') {
      await this.acceptSession(this.session);
      return;
    }
    const proposal = this.proposal;
    if (proposal === undefined) throw new WicError('There is no call to answer.');
    this.proceeded = proposal.id;
    this.writeJmi('proceed', proposal);
  }

  async reject(_callId: CallId, busy = false): Promise<void> {
    if (this.session !== undefined) { this.endedHere = busy ? 'you were busy' : 'you declined'; this.session.end(busy ? 'busy' : 'decline'); return; }
    const proposal = this.proposal;
    if (proposal === undefined) return;
    this.proposal = undefined;
    this.writeJmi('reject', proposal);
    this.events.callState(proposal.id, 'ended', 'you declined');
  }

  async hangup(_callId: CallId): Promise<void> {
    this.endedHere = 'you hung up';
    this.session?.end('success');
  }

  async hold(_callId: CallId, on: boolean): Promise<void> {
    const session = this.requireSession();
    if (on) { await session.hold(); return; }
    // XEP-0167 §7: stanza.js resumes with <active/>, which epcscf's gateway only acknowledges;
    // <unhold/> is what it maps to the re-INVITE back to sendrecv (TS 24.610).
    session.send('session-info', { info: { infoType: Stanza.Constants.JINGLE_INFO_UNHOLD } });
  }

  async transfer(): Promise<void> {
    throw new WicError(this.unsupported.transfer);
  }

  async consultativeTransfer(): Promise<void> {
    throw new WicError(this.unsupported.consultativeTransfer);
  }

  async dtmf(_callId: CallId, digits: string): Promise<void> {
    // XEP-0181: one session-info <dtmf/> per tone; the gateway sends SIP INFO (application/dtmf-relay).
    // stanza.js has no XEP-0181 element, so the IQ is written as XML.
    const session = this.requireSession();
    for (const code of digits) {
      const iq = document.implementation.createDocument('jabber:client', 'iq', null);
      const root = iq.documentElement;
      root.setAttribute('type', 'set');
      root.setAttribute('to', String(session.peerID));
      root.setAttribute('id', `dtmf-${Math.random().toString(36).slice(2, 10)}`);
      const jingle = iq.createElementNS('urn:xmpp:jingle:1', 'jingle');
      jingle.setAttribute('action', 'session-info');
      jingle.setAttribute('sid', session.sid);
      const tone = iq.createElementNS('urn:xmpp:jingle:dtmf:0', 'dtmf');
      tone.setAttribute('code', code);
      tone.setAttribute('duration', '100');
      jingle.appendChild(tone);
      root.appendChild(jingle);
      this.writeRaw(new XMLSerializer().serializeToString(root));
    }
  }

  async sendMessage(to: string, text: string): Promise<void> {
    this.requireClient().sendMessage({ to: toJid(to, this.identity.domain), type: 'chat', body: text });
  }

  async close(): Promise<void> {
    this.session?.end('success');
    const client = this.client;
    if (client === undefined) return;
    await new Promise<void>((resolve) => {
      client.once('disconnected', () => resolve());
      void client.disconnect();
      setTimeout(resolve, 2000);
    });
  }

  private onIncoming(session: MediaSession): void {
    if (this.session !== undefined) { session.end('busy'); return; }
    this.session = session;
    this.events.peerConnection(session.sid, session.pc);
    if (this.proceeded === session.sid) {
      // XEP-0353 §3.2: the user already answered the <propose/>.
      this.proceeded = undefined;
      this.proposal = undefined;
      void this.acceptSession(session);
      return;
    }
    this.events.incoming(session.sid, partyOf(String(session.peerID)), false);
  }

  private async acceptSession(session: MediaSession): Promise<void> {
    const stream = await microphone();
    for (const track of stream.getTracks()) await session.addTrack(track, stream);
    await session.accept();
    this.events.callState(session.sid, 'established');
  }

  /** XEP-0353: <propose/> rings, <retract/> stops ringing. */
  private onRaw(data: string): void {
    if (!data.includes(JMI)) return;
    const message = new DOMParser().parseFromString(data, 'application/xml').documentElement;
    if (message.localName !== 'message') return;
    const from = message.getAttribute('from') ?? '';
    for (const child of Array.from(message.children)) {
      if (child.namespaceURI !== JMI) continue;
      const id = child.getAttribute('id') ?? '';
      if (child.localName === 'propose' && this.session === undefined && this.proposal === undefined) {
        this.proposal = { id, from };
        this.events.incoming(id, partyOf(from), false);
      } else if (child.localName === 'retract' && this.proposal?.id === id) {
        this.proposal = undefined;
        this.events.callState(id, 'ended', 'the caller hung up');
      }
    }
  }

  private writeJmi(element: 'proceed' | 'reject', proposal: Proposal): void {
    const out = document.implementation.createDocument('jabber:client', 'message', null);
    out.documentElement.setAttribute('to', proposal.from);
    out.documentElement.setAttribute('type', 'chat');
    const child = out.createElementNS(JMI, element);
    child.setAttribute('id', proposal.id);
    out.documentElement.appendChild(child);
    this.writeRaw(new XMLSerializer().serializeToString(out.documentElement));
  }

  private writeRaw(xml: string): void {
    // stanza.js's WebSocket transport is a Duplex stream: write() sends one frame as is.
    const transport = this.requireClient().transport as unknown as { write(frame: string): void } | undefined;
    if (transport === undefined) throw new WicError('Not connected to the eP-CSCF.');
    transport.write(xml);
  }

  private requireClient(): Stanza.Agent {
    if (this.client === undefined) throw new WicError('Not connected to the eP-CSCF.');
    return this.client;
  }

  private requireSession(): MediaSession {
    if (this.session === undefined) throw new WicError('There is no call.');
    return this.session;
  }
}

function partyOf(jid: string): Party {
  return { uri: jid, restricted: isRestricted(jid) };
}

function describeReason(condition: string | undefined, text: string | undefined, initiator: boolean): string {
  switch (condition) {
    case 'success': return text ?? 'the other side hung up';
    case 'busy': return 'busy';
    case 'decline': return initiator ? 'declined' : 'you declined';
    case 'timeout': return 'no answer';
    case 'gone': return 'not reachable';
    default: return text ?? condition ?? 'the call ended';
  }
}
