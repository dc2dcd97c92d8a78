/**
 * JSON-RPC adapter (plugins/jsonrpc-ws, schemas/openrpc.json): the browser owns the
 * RTCPeerConnection and passes SDP; epcscf's virtual UE does the SIP. Web mode registers with
 * `session.register {impu, token}`, digest mode with `{impu, password}`.
 */
import { describeSipStatus } from '../sip-status-words.js';
import { displayAddress, toUri } from '../target.js';
import { isRestricted, microphone, PC_CONFIG, UtUnavailable, WicError, type CallId, type ConferenceParticipant, type Diversion, type Identity, type Party, type UtAccess, type UtAnswer, type W2Client, type W2Events } from '../w2-client.js';
import { JsonRpcSocket, RpcError } from './json-rpc-socket.js';

/** plugins/jsonrpc-ws rpc-errors.ts: UT_UNAVAILABLE, the server has no XCAP root (ut.xcapRoot). */
const UT_UNAVAILABLE = -32031;

interface RegistrationResult { state: string; sipStatus?: number; reason?: string }
type Params = Record<string, unknown>;

/** One call of this session: its browser media and, while it rings, the caller's offer. */
interface RpcCall { pc: RTCPeerConnection | undefined; offer: string | undefined; endedHere?: string }

export class JsonRpcClient implements W2Client {
  readonly protocol = 'jsonrpc-ws';
  readonly unsupported = {};
  private socket: JsonRpcSocket | undefined;
  /** Live calls by the plugin's callId (it allows maxCallsPerClient at once: CW, consultation). */
  private readonly calls = new Map<CallId, RpcCall>();
  private closing = false;
  /** TS 24.642: failed calls whose call.ended offered completion of calls, by their callId → the callee. */
  private readonly completionOffers = new Map<CallId, string>();
  /** Calls to a conference focus: their REFERs add and remove parties, they are no transfer (TS 24.605). */
  private readonly conferences = new Set<CallId>();
  /** Callees of outgoing calls, for the completion offer of their failure. */
  private readonly callees = new Map<CallId, string>();
  /** TS 24.623 over JSON-RPC: ut.get / ut.put, proxied by epcscf to the XCAP server for the registered IMPU. */
  readonly ut: UtAccess = {
    get: (node) => this.utRequest('ut.get', node !== undefined ? { node } : {}),
    put: (node, xml) => this.utRequest('ut.put', { node, xml }),
  };

  constructor(private readonly url: string, private readonly identity: Identity, private readonly events: W2Events) {}

  async connect(): Promise<void> {
    this.events.registration('registering');
    this.socket = await JsonRpcSocket.open(this.url, (method, params) => this.onNotification(method, params), (code, reason) => {
      if (this.closing) return;
      for (const callId of Array.from(this.calls.keys())) this.endCall(callId, 'connection lost');
      this.events.registration('offline', `The connection to the eP-CSCF closed (${code}${reason ? ` ${reason}` : ''}).`);
    });
    const credential = this.identity.token !== undefined ? { token: this.identity.token } : { password: this.identity.password ?? '' };
    const result = await this.socket.request<RegistrationResult>('session.register', { impu: this.identity.impu, ...credential }).catch((error: unknown) => {
      // A refused token is an error of the request, with the P-CSCF's 403 in its data (R-REG-4).
      const data = error instanceof RpcError ? error.failure.data : undefined;
      if (typeof data?.['sipStatus'] === 'number') {
        const reason = typeof data['reason'] === 'string' ? data['reason'] : undefined;
        throw new WicError(`Registration refused: ${describeSipStatus(data['sipStatus'], reason, 'register-token')}.`);
      }
      throw error;
    });
    if (result.state !== 'registered') {
      throw new WicError(`Registration refused: ${result.sipStatus !== undefined ? describeSipStatus(result.sipStatus, result.reason, this.identity.token !== undefined ? 'register-token' : 'register') : result.reason ?? result.state}.`);
    }
    this.events.registration('registered');
    // TS 24.606 MWI: counts arrive as subscription.notify; a core without a voicemail server refuses, which is fine.
    void this.socket.request('subscription.subscribe', { event: 'message-summary' }).catch(() => undefined);
  }

  async call(target: string): Promise<void> {
    const to = toUri(target, this.identity.domain);
    const pc = await newPeerConnection();
    await pc.setLocalDescription(await pc.createOffer());
    // No trickle: media-gw is ICE-lite and learns our address from our checks (R-SDP-9).
    const { callId } = await this.rpc().request<{ callId: string }>('call.invite', { to, sdp: pc.localDescription?.sdp ?? '' }).catch((error: unknown) => {
      closePeerConnection(pc);
      throw error;
    });
    this.calls.set(callId, { pc, offer: undefined });
    this.callees.set(callId, to);
    this.events.outgoing(callId, to);
    this.events.peerConnection(callId, pc);
    this.events.callState(callId, 'calling');
  }

  async deflect(callId: CallId, target: string): Promise<void> {
    // TS 24.604 CD: the virtual UE answers the INVITE 302 with the deflect-to URI as its only Contact.
    const to = toUri(target, this.identity.domain);
    this.requireCall(callId).endedHere = `forwarded to ${displayAddress(to)}`;
    await this.rpc().request('call.deflect', { callId, target: to });
  }

  async requestCallCompletion(callId: CallId): Promise<void> {
    // TS 24.642 / RFC 6910 §7.2: epcscf SUBSCRIBEs to the CC monitor the busy answer named.
    if (!this.completionOffers.has(callId)) throw new WicError('The network no longer offers a call back for that call.');
    await this.rpc().request('callCompletion.request', { callId });
    this.events.callCompletion?.(callId, 'requested', this.completionOffers.get(callId));
  }

  async recall(callId: CallId): Promise<void> {
    // RFC 6910 §7.4: the CC call, an INVITE carrying the offer's m= parameter, reported like any call.
    const to = this.completionOffers.get(callId) ?? 'the callee';
    await this.placeCall(to, (sdp) => this.rpc().request<{ callId: string }>('callCompletion.recall', { callId, sdp }));
    this.completionOffers.delete(callId);
  }

  async cancelCallCompletion(callId: CallId): Promise<void> {
    this.completionOffers.delete(callId);
    await this.rpc().request('callCompletion.cancel', { callId }).catch(() => undefined);
  }

  async createConference(): Promise<CallId> {
    // TS 24.605 §4.5.2: INVITE to the conference factory URI; the focus's participants follow as conference.participants.
    let factory = 'conference';
    return this.placeCall(() => factory, async (sdp) => {
      const created = await this.rpc().request<{ callId: string; factoryUri: string }>('conference.create', { sdp });
      factory = created.factoryUri;
      this.conferences.add(created.callId);
      return created;
    });
  }

  async conferenceAdd(callId: CallId, party: string): Promise<void> {
    this.requireCall(callId);
    await this.rpc().request('conference.add', { callId, party: toUri(party, this.identity.domain) });
  }

  async conferenceRemove(callId: CallId, party: string): Promise<void> {
    this.requireCall(callId);
    await this.rpc().request('conference.remove', { callId, party: toUri(party, this.identity.domain) });
  }

  /** An outgoing call whose INVITE some method places with our SDP offer (a recall, a conference). */
  private async placeCall(to: string | (() => string), invite: (sdp: string) => Promise<{ callId: string }>): Promise<CallId> {
    const pc = await newPeerConnection();
    await pc.setLocalDescription(await pc.createOffer());
    const { callId } = await invite(pc.localDescription?.sdp ?? '').catch((error: unknown) => {
      closePeerConnection(pc);
      throw error;
    });
    const target = typeof to === 'string' ? to : to();
    this.calls.set(callId, { pc, offer: undefined });
    this.callees.set(callId, target);
    this.events.outgoing(callId, target);
    this.events.peerConnection(callId, pc);
    this.events.callState(callId, 'calling');
    return callId;
  }

  private async utRequest(method: 'ut.get' | 'ut.put', params: Params): Promise<UtAnswer> {
    return this.rpc().request<UtAnswer>(method, params).catch((error: unknown) => {
      if (error instanceof RpcError && error.failure.code === UT_UNAVAILABLE) throw new UtUnavailable('Service settings are not available on this network.');
      throw error;
    });
  }

  async answer(callId: CallId): Promise<void> {
    const call = this.requireCall(callId);
    const pc = await newPeerConnection();
    call.pc = pc;
    this.events.peerConnection(callId, pc);
    await pc.setRemoteDescription({ type: 'offer', sdp: call.offer ?? '' });
    await pc.setLocalDescription(await pc.createAnswer());
    await this.rpc().request('call.answer', { callId, sdp: pc.localDescription?.sdp ?? '' });
    this.events.callState(callId, 'established');
  }

  async reject(callId: CallId, busy = false): Promise<void> {
    this.requireCall(callId).endedHere = busy ? 'you were busy' : 'you declined';
    // TS 24.615: a waiting call refused is 486 Busy Here; a declined one 603.
    await this.rpc().request('call.reject', { callId, status: busy ? 486 : 603 });
  }

  async hangup(callId: CallId): Promise<void> {
    if (!this.calls.has(callId)) return;
    await this.rpc().request('call.hangup', { callId });
  }

  async hold(callId: CallId, on: boolean): Promise<void> {
    // TS 24.610: the UE sends the re-INVITE (sendonly / sendrecv); the browser's stream stays as it is.
    this.requireCall(callId);
    await this.rpc().request(on ? 'call.hold' : 'call.resume', { callId });
  }

  async transfer(callId: CallId, target: string): Promise<void> {
    this.requireCall(callId);
    await this.rpc().request('call.transfer', { callId, target: toUri(target, this.identity.domain) });
  }

  async consultativeTransfer(callId: CallId, consultation: CallId): Promise<void> {
    // TS 24.629 consultative ECT: REFER to callId's party with Replaces of the consultation dialog (RFC 3891).
    this.requireCall(callId);
    this.requireCall(consultation);
    await this.rpc().request('call.transfer', { callId, replacesCallId: consultation });
  }

  async dtmf(callId: CallId, digits: string): Promise<void> {
    this.requireCall(callId);
    await this.rpc().request('call.dtmf', { callId, digits });
  }

  async sendMessage(to: string, text: string): Promise<void> {
    const result = await this.rpc().request<{ accepted: boolean; sipStatus?: number; reason?: string }>('message.send', { to: toUri(to, this.identity.domain), body: text });
    if (!result.accepted) throw new WicError(`The message was not delivered: ${result.sipStatus !== undefined ? describeSipStatus(result.sipStatus, result.reason, 'message') : result.reason ?? 'refused'}.`);
  }

  async updateToken(token: string): Promise<void> {
    await this.rpc().request('session.updateToken', { token });
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const call of this.calls.values()) if (call.pc !== undefined) closePeerConnection(call.pc);
    if (this.socket !== undefined) {
      await this.socket.request('session.unregister').catch(() => undefined);
      this.socket.close();
    }
  }

  private onNotification(method: string, params: Params): void {
    const callId = typeof params['callId'] === 'string' ? params['callId'] : '';
    const call = this.calls.get(callId);
    switch (method) {
      case 'session.registration': {
        const state = String(params['state']);
        if (state === 'registered') this.events.registration('registered');
        else if (state !== 'registering') this.events.registration(state === 'failed' ? 'failed' : 'offline', typeof params['reason'] === 'string' ? params['reason'] : undefined);
        return;
      }
      case 'call.incoming': {
        // TS 24.615 CW: a call while another is up is a waiting call (the plugin may flag it itself).
        const waiting = params['waiting'] === true || this.calls.size > 0;
        this.calls.set(callId, { pc: undefined, offer: typeof params['sdp'] === 'string' ? params['sdp'] : undefined });
        void this.rpc().request('call.ring', { callId }).catch(() => undefined);
        this.events.incoming(callId, partyOf(params['from']), waiting);
        return;
      }
      case 'call.progress':
        if (call === undefined) return;
        this.events.callState(callId, 'ringing');
        if (Array.isArray(params['diversion'])) this.events.diverted(callId, params['diversion'] as Diversion[]);
        return;
      case 'call.answered':
        if (call === undefined) return;
        if (params['connected'] !== undefined) this.events.connected(callId, partyOf(params['connected']));
        if (typeof params['sdp'] === 'string' && call.pc !== undefined && call.pc.signalingState === 'have-local-offer') {
          void call.pc.setRemoteDescription({ type: 'answer', sdp: params['sdp'] })
            .then(() => this.events.callState(callId, 'established'), (error: unknown) => this.events.error(`The answer could not be applied: ${String(error)}`));
        }
        return;
      case 'call.updated':
        if (call !== undefined) this.events.remoteHold(callId, params['held'] === true);
        return;
      case 'call.transferRequested':
        if (call !== undefined) {
          this.acceptTransfer(callId, String(params['target'])).catch((error: unknown) => this.events.error(`The transfer could not be followed: ${error instanceof Error ? error.message : String(error)}`));
        }
        return;
      case 'call.transferProgress':
        // RFC 4579 §5.5: the focus's NOTIFY about a party we added or removed; only a failure is news.
        if (call !== undefined && this.conferences.has(callId)) {
          const status = Number(params['sipStatus']);
          if (params['final'] === true && status >= 300) this.events.error(`The conference could not reach that party: ${describeSipStatus(status, typeof params['reason'] === 'string' ? params['reason'] : undefined, 'call')}.`);
          return;
        }
        if (call !== undefined && params['final'] === true) {
          const status = Number(params['sipStatus']);
          if (status >= 300) this.events.error(`The transfer failed: ${describeSipStatus(status, typeof params['reason'] === 'string' ? params['reason'] : undefined, 'call')}.`);
          // RFC 5589 §6: the transfer succeeded: the transferor leaves the call.
          else void this.hangup(callId).catch(() => undefined);
        }
        return;
      case 'call.ended':
        // TS 24.605: a factory that refuses the INVITE (no focus on this network) is said so, not as a failed call.
        if (call !== undefined && this.conferences.has(callId) && params['cause'] !== 'local' && params['cause'] !== 'remote') {
          this.endCall(callId, `conferences are not available on this network${typeof params['sipStatus'] === 'number' ? ` (SIP ${params['sipStatus']})` : ''}`);
        }
        if (call !== undefined) this.endCall(callId, call.endedHere ?? endedDetail(params));
        // TS 24.642: the busy answer offered completion of calls (Call-Info purpose=call-completion).
        if (params['callCompletion'] !== undefined && this.callees.has(callId)) {
          this.completionOffers.set(callId, this.callees.get(callId) ?? '');
          this.events.callCompletion?.(callId, 'offered', this.callees.get(callId));
        }
        this.callees.delete(callId);
        return;
      case 'callCompletion.ready':
        if (this.completionOffers.has(callId)) this.events.callCompletion?.(callId, 'ready', typeof params['target'] === 'string' ? params['target'] : this.completionOffers.get(callId));
        return;
      case 'callCompletion.ended':
        if (this.completionOffers.delete(callId)) this.events.callCompletion?.(callId, 'ended');
        return;
      case 'conference.participants': {
        const list = Array.isArray(params['participants']) ? params['participants'] as Params[] : [];
        const participants: ConferenceParticipant[] = list.map((p) => ({
          uri: String(p['uri']), left: p['state'] === 'deleted',
          ...(typeof p['displayText'] === 'string' ? { displayText: p['displayText'] } : {}),
          ...(typeof p['status'] === 'string' ? { status: p['status'] } : {}),
        }));
        if (call !== undefined) this.events.conferenceParticipants?.(callId, String(params['conferenceUri']), params['state'] !== 'partial', participants);
        return;
      }
      case 'subscription.notify': {
        const summary = params['messageSummary'] as { messagesWaiting?: boolean; new?: number; old?: number } | undefined;
        if (params['event'] === 'message-summary' && summary !== undefined) {
          this.events.messageSummary({ waiting: summary.messagesWaiting === true, newMessages: summary.new ?? 0, oldMessages: summary.old ?? 0 });
        }
        return;
      }
      case 'message.received':
        this.events.message(partyOf(params['from']).uri, String(params['body']));
        return;
      case 'session.error':
        this.events.error(`The eP-CSCF reported: ${String(params['message'])}`);
        return;
      default:
    }
  }

  /** The far end transfers us (REFER): a new call with a fresh offer replaces this one. */
  private async acceptTransfer(transferred: CallId, target: string): Promise<void> {
    const old = this.requireCall(transferred);
    const pc = await newPeerConnection();
    await pc.setLocalDescription(await pc.createOffer());
    const { callId } = await this.rpc().request<{ callId: string }>('call.acceptTransfer', { callId: transferred, sdp: pc.localDescription?.sdp ?? '' });
    // The old call's call.ended no longer concerns this screen.
    this.calls.delete(transferred);
    if (old.pc !== undefined) closePeerConnection(old.pc);
    this.calls.set(callId, { pc, offer: undefined });
    this.events.transferred(transferred, callId, target);
    this.events.peerConnection(callId, pc);
    this.events.callState(callId, 'calling');
  }

  private endCall(callId: CallId, detail: string): void {
    const call = this.calls.get(callId);
    if (call === undefined) return;
    this.calls.delete(callId);
    this.conferences.delete(callId);
    if (call.pc !== undefined) closePeerConnection(call.pc);
    this.events.callState(callId, 'ended', detail);
  }

  private requireCall(callId: CallId): RpcCall {
    const call = this.calls.get(callId);
    if (call === undefined) throw new WicError('That call is over.');
    return call;
  }

  private rpc(): JsonRpcSocket {
    if (this.socket === undefined) throw new WicError('Not connected to the eP-CSCF.');
    return this.socket;
  }
}

async function newPeerConnection(): Promise<RTCPeerConnection> {
  const stream = await microphone();
  const pc = new RTCPeerConnection(PC_CONFIG);
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  return pc;
}

function closePeerConnection(pc: RTCPeerConnection): void {
  for (const sender of pc.getSenders()) sender.track?.stop();
  pc.close();
}

/** A Party of schemas/jsonrpc ({uri, displayName?, anonymous}); anonymous is shown as restricted (OIR/TIR). */
function partyOf(party: unknown): Party {
  const p = (typeof party === 'object' && party !== null ? party : {}) as { uri?: unknown; anonymous?: unknown; displayName?: unknown };
  const uri = typeof p.uri === 'string' ? p.uri : 'unknown';
  return { uri, restricted: p.anonymous === true || isRestricted(uri), ...(typeof p.displayName === 'string' ? { displayName: p.displayName } : {}) };
}

function endedDetail(params: Params): string {
  const cause = String(params['cause']);
  const reason = typeof params['reason'] === 'string' ? params['reason'] : undefined;
  const status = typeof params['sipStatus'] === 'number' ? params['sipStatus'] : undefined;
  if (cause === 'local') return 'you hung up';
  if (cause === 'remote') return 'the other side hung up';
  return status !== undefined ? describeSipStatus(status, reason, 'call') : reason ?? cause;
}
