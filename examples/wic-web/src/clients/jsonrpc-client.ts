/**
 * JSON-RPC adapter (plugins/jsonrpc-ws, schemas/openrpc.json): the browser owns the
 * RTCPeerConnection and passes SDP; epcscf's virtual UE does the SIP. Web mode registers with
 * `session.register {impu, token}`, digest mode with `{impu, password}`.
 */
import { describeSipStatus } from '../sip-status-words.js';
import { toUri } from '../target.js';
import { microphone, PC_CONFIG, WicError, type Identity, type W2Client, type W2Events } from '../w2-client.js';
import { JsonRpcSocket, RpcError } from './json-rpc-socket.js';

interface RegistrationResult { state: string; sipStatus?: number; reason?: string }
type Params = Record<string, unknown>;

export class JsonRpcClient implements W2Client {
  readonly protocol = 'jsonrpc-ws';
  readonly unsupported = {};
  private socket: JsonRpcSocket | undefined;
  private callId: string | undefined;
  private pc: RTCPeerConnection | undefined;
  private incomingOffer: string | undefined;
  private closing = false;
  /** The call a transfer takes us away from: its call.ended no longer concerns this screen. */
  private leaving: string | undefined;
  /** Set when the user declined here: call.ended then says so. */
  private endedHere: string | undefined;

  constructor(private readonly url: string, private readonly identity: Identity, private readonly events: W2Events) {}

  async connect(): Promise<void> {
    this.events.registration('registering');
    this.socket = await JsonRpcSocket.open(this.url, (method, params) => this.onNotification(method, params), (code, reason) => {
      if (this.closing) return;
      this.endCall('connection lost');
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
  }

  async call(target: string): Promise<void> {
    const to = toUri(target, this.identity.domain);
    const pc = await this.newPeerConnection();
    await pc.setLocalDescription(await pc.createOffer());
    this.events.callState('calling');
    // No trickle: media-gw is ICE-lite and learns our address from our checks (R-SDP-9).
    const { callId } = await this.rpc().request<{ callId: string }>('call.invite', { to, sdp: pc.localDescription?.sdp ?? '' });
    this.callId = callId;
  }

  async answer(): Promise<void> {
    const callId = this.requireCall();
    const pc = await this.newPeerConnection();
    await pc.setRemoteDescription({ type: 'offer', sdp: this.incomingOffer ?? '' });
    await pc.setLocalDescription(await pc.createAnswer());
    await this.rpc().request('call.answer', { callId, sdp: pc.localDescription?.sdp ?? '' });
    this.events.callState('established');
  }

  async reject(): Promise<void> {
    this.endedHere = 'you declined';
    await this.rpc().request('call.reject', { callId: this.requireCall(), status: 603 });
  }

  async hangup(): Promise<void> {
    if (this.callId === undefined) return;
    await this.rpc().request('call.hangup', { callId: this.callId });
  }

  async hold(on: boolean): Promise<void> {
    // TS 24.610: the UE sends the re-INVITE (sendonly / sendrecv); the browser's stream stays as it is.
    await this.rpc().request(on ? 'call.hold' : 'call.resume', { callId: this.requireCall() });
  }

  async transfer(target: string): Promise<void> {
    await this.rpc().request('call.transfer', { callId: this.requireCall(), target: toUri(target, this.identity.domain) });
  }

  async dtmf(digits: string): Promise<void> {
    await this.rpc().request('call.dtmf', { callId: this.requireCall(), digits });
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
    this.pc?.close();
    if (this.socket !== undefined) {
      await this.socket.request('session.unregister').catch(() => undefined);
      this.socket.close();
    }
  }

  private onNotification(method: string, params: Params): void {
    if (this.leaving !== undefined && params['callId'] === this.leaving) return;
    const forThisCall = params['callId'] === this.callId;
    switch (method) {
      case 'session.registration': {
        const state = String(params['state']);
        if (state === 'registered') this.events.registration('registered');
        else if (state !== 'registering') this.events.registration(state === 'failed' ? 'failed' : 'offline', typeof params['reason'] === 'string' ? params['reason'] : undefined);
        return;
      }
      case 'call.incoming': {
        if (this.callId !== undefined) return; // the plugin answers busy beyond maxCallsPerClient; one call here
        this.callId = String(params['callId']);
        this.incomingOffer = typeof params['sdp'] === 'string' ? params['sdp'] : undefined;
        void this.rpc().request('call.ring', { callId: this.callId }).catch(() => undefined);
        this.events.incoming(partyUri(params['from']));
        return;
      }
      case 'call.progress':
        if (forThisCall) this.events.callState('ringing');
        return;
      case 'call.answered':
        if (forThisCall && typeof params['sdp'] === 'string' && this.pc !== undefined && this.pc.signalingState === 'have-local-offer') {
          void this.pc.setRemoteDescription({ type: 'answer', sdp: params['sdp'] })
            .then(() => this.events.callState('established'), (error: unknown) => this.events.error(`The answer could not be applied: ${String(error)}`));
        }
        return;
      case 'call.updated':
        if (forThisCall) this.events.remoteHold(params['held'] === true);
        return;
      case 'call.transferRequested':
        if (forThisCall) {
          this.acceptTransfer(String(params['target'])).catch((error: unknown) => this.events.error(`The transfer could not be followed: ${error instanceof Error ? error.message : String(error)}`));
        }
        return;
      case 'call.transferProgress':
        if (forThisCall && params['final'] === true) {
          const status = Number(params['sipStatus']);
          if (status >= 300) this.events.error(`The transfer failed: ${describeSipStatus(status, typeof params['reason'] === 'string' ? params['reason'] : undefined, 'call')}.`);
          // RFC 5589 §6: the transfer succeeded: the transferor leaves the call.
          else void this.hangup().catch(() => undefined);
        }
        return;
      case 'call.ended':
        if (forThisCall) this.endCall(this.endedHere ?? endedDetail(params));
        return;
      case 'message.received':
        this.events.message(partyUri(params['from']), String(params['body']));
        return;
      case 'session.error':
        this.events.error(`The eP-CSCF reported: ${String(params['message'])}`);
        return;
      default:
    }
  }

  /** The far end transfers us (REFER): a new call with a fresh offer replaces this one. */
  private async acceptTransfer(target: string): Promise<void> {
    const transferred = this.requireCall();
    this.leaving = transferred;
    const old = this.pc;
    const pc = await this.newPeerConnection();
    await pc.setLocalDescription(await pc.createOffer());
    const { callId } = await this.rpc().request<{ callId: string }>('call.acceptTransfer', { callId: transferred, sdp: pc.localDescription?.sdp ?? '' });
    this.callId = callId; // call.ended of the old call no longer concerns this screen
    for (const sender of old?.getSenders() ?? []) sender.track?.stop();
    old?.close();
    this.events.transferred(target);
  }

  private async newPeerConnection(): Promise<RTCPeerConnection> {
    const stream = await microphone();
    const pc = new RTCPeerConnection(PC_CONFIG);
    for (const track of stream.getTracks()) pc.addTrack(track, stream);
    this.pc = pc;
    this.events.peerConnection(pc);
    return pc;
  }

  private endCall(detail: string): void {
    if (this.callId === undefined && this.pc === undefined) return;
    this.callId = undefined;
    this.endedHere = undefined;
    this.incomingOffer = undefined;
    for (const sender of this.pc?.getSenders() ?? []) sender.track?.stop();
    this.pc?.close();
    this.pc = undefined;
    this.events.callState('ended', detail);
  }

  private requireCall(): string {
    if (this.callId === undefined) throw new WicError('There is no call.');
    return this.callId;
  }

  private rpc(): JsonRpcSocket {
    if (this.socket === undefined) throw new WicError('Not connected to the eP-CSCF.');
    return this.socket;
  }
}

/** A Party of schemas/jsonrpc ({uri, displayName?, anonymous}). */
function partyUri(party: unknown): string {
  const p = (typeof party === 'object' && party !== null ? party : {}) as { uri?: unknown; anonymous?: unknown };
  if (p.anonymous === true) return 'anonymous';
  return typeof p.uri === 'string' ? p.uri : 'unknown';
}

function endedDetail(params: Params): string {
  const cause = String(params['cause']);
  const reason = typeof params['reason'] === 'string' ? params['reason'] : undefined;
  const status = typeof params['sipStatus'] === 'number' ? params['sipStatus'] : undefined;
  if (cause === 'local') return 'you hung up';
  if (cause === 'remote') return 'the other side hung up';
  return status !== undefined ? describeSipStatus(status, reason, 'call') : reason ?? cause;
}
