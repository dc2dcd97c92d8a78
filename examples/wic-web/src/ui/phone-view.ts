/**
 * Everything the phone screen shows: registration state, the call (state, peer, timer,
 * controls), live quality and the incoming-call alert. Text the tests read (`registration-state`,
 * `call-state`, `rx-packets`) is written only here.
 */
import type { CallQuality } from '../call-quality.js';
import { displayAddress } from '../target.js';
import type { CallView } from '../call-book.js';
import type { Diversion, MessageSummary, Party, RegistrationState } from '../w2-client.js';
import { byId, initialOf } from './dom.js';

/** Which call controls the signed-in protocol offers. */
export interface CallCapabilities {
  readonly transfer: boolean;
  readonly consultativeTransfer: boolean;
  readonly multipleCalls: boolean;
  readonly dtmf: boolean;
}

/** How the screen names a party: "Restricted" when they withheld their identity (OIR/TIR), never the hidden one. */
export function partyName(party: Party): string {
  if (party.restricted) return 'Restricted';
  return party.displayName !== undefined && party.displayName !== '' ? party.displayName : displayAddress(party.uri);
}

/** The party's name, and below it the address when the name is a display name (TS 24.607 OIP shows both). */
function showParty(element: HTMLElement, party: Party): void {
  const name = document.createElement('span');
  name.className = 'party-name';
  name.textContent = partyName(party);
  element.replaceChildren(name);
  if (party.restricted || party.displayName === undefined || party.displayName === '') return;
  const address = document.createElement('span');
  address.className = 'party-address';
  address.textContent = displayAddress(party.uri);
  element.append(address);
}

function avatarOf(party: Party): string {
  return party.restricted ? '?' : initialOf(party.displayName ?? party.uri);
}

/** RFC 4458 cause values in words (TS 24.604). */
function diversionCause(cause: Diversion['cause']): string {
  switch (cause) {
    case 302: return 'unconditional';
    case 486: return 'busy';
    case 408: return 'no reply';
    case 480: case 503: return 'not reachable';
    case 487: return 'deflected';
    default: return `cause ${cause}`;
  }
}

const REGISTRATION_TEXT: Record<RegistrationState, string> = {
  registering: 'registering…', registered: 'registered', offline: 'offline', failed: 'registration failed',
};
const REGISTRATION_DOT: Record<RegistrationState, string> = { registering: 'warn', registered: 'ok', offline: '', failed: 'bad' };

export class PhoneView {
  private readonly callState = byId('call-state');
  private readonly inCall = byId('in-call');
  private readonly timer = byId('call-timer');
  private readonly hold = byId<HTMLButtonElement>('hold');
  private readonly mute = byId<HTMLButtonElement>('mute');
  private readonly dial = byId<HTMLButtonElement>('dial');
  private timerHandle: ReturnType<typeof setInterval> | undefined;
  private establishedAt: number | undefined;
  private adding = false;

  registration(state: RegistrationState, detail: string): void {
    byId('registration-state').textContent = REGISTRATION_TEXT[state];
    byId('registration-dot').className = `dot ${REGISTRATION_DOT[state]}`;
    byId('registration-detail').textContent = detail;
    this.dial.disabled = state !== 'registered';
  }

  /** MWI (TS 24.606): the voicemail count, once the protocol has given one. */
  messageSummary(summary: MessageSummary | undefined): void {
    const mwi = byId('mwi');
    mwi.hidden = summary === undefined;
    if (summary === undefined) return;
    mwi.textContent = summary.newMessages > 0 ? `Voicemail: ${summary.newMessages} new` : summary.waiting ? 'Voicemail: new messages' : 'Voicemail: none new';
    mwi.classList.toggle('unread', summary.waiting || summary.newMessages > 0);
  }

  facts(facts: readonly (readonly [string, string])[]): void {
    byId('status-facts').replaceChildren(...facts.map(([label, value]) => {
      const fact = document.createElement('span');
      fact.className = 'fact';
      const strong = document.createElement('b');
      strong.textContent = value;
      fact.append(`${label} `, strong);
      return fact;
    }));
  }

  /**
   * The focused call (state, party, controls) and the other calls; `caps` says which controls
   * this protocol offers (a control it lacks is hidden, never faked).
   */
  call(focused: CallView | undefined, others: readonly CallView[], caps: CallCapabilities): void {
    const state = focused?.state ?? 'idle';
    const held = focused?.held === true;
    const heldByPeer = focused?.heldByPeer === true;
    const label = state === 'established' && held ? 'established · on hold'
      : state === 'established' && heldByPeer ? 'established · held by the other side'
        : state === 'ended' ? `ended${focused?.detail ? ` · ${focused.detail}` : ''}`
          : state === 'idle' ? 'no call' : state === 'incoming' ? 'ringing here' : state;
    this.callState.textContent = label;
    this.callState.className = `call-state ${state === 'established' ? (held || heldByPeer ? 'held' : 'active')
      : state === 'ended' ? 'ended' : state === 'idle' ? '' : 'progress'}`;
    const live = state === 'calling' || state === 'ringing' || state === 'established';
    this.inCall.hidden = !live;
    byId('quality').classList.toggle('idle', !live);
    byId('dial-row').hidden = live && !this.adding;
    byId('keypad-caption').hidden = state !== 'established';
    if (live && focused !== undefined) this.party(focused);
    const established = state === 'established';
    this.hold.disabled = !established;
    this.hold.textContent = held ? 'Resume' : 'Hold';
    this.hold.classList.toggle('on', held);
    this.mute.disabled = !established;
    this.mute.textContent = focused?.muted === true ? 'Unmute' : 'Mute';
    this.mute.classList.toggle('on', focused?.muted === true);
    const transfer = byId<HTMLButtonElement>('transfer');
    transfer.hidden = !caps.transfer;
    transfer.disabled = !established;
    const addCall = byId<HTMLButtonElement>('add-call');
    addCall.hidden = !caps.multipleCalls;
    addCall.disabled = !established || others.length > 0;
    addCall.classList.toggle('on', this.adding);
    // TS 24.629 consultative transfer: the other established call is the one the party is connected to.
    const consult = byId<HTMLButtonElement>('transfer-consult');
    const partner = others.find((c) => c.state === 'established');
    consult.hidden = !caps.consultativeTransfer || partner === undefined;
    if (partner !== undefined) consult.textContent = `Connect to ${partyName(partner.peer)}`;
    if (!live) { byId('transfer-form').hidden = true; this.adding = false; }
    this.tones(focused);
    this.otherCalls(focused, others);
    this.clock(focused);
  }

  /** "Add call": the dial row shows during a call (the current one is held when the new one is placed). */
  toggleAdding(on: boolean): void {
    this.adding = on;
  }

  get isAdding(): boolean {
    return this.adding;
  }

  /** The first ringing call when no other is up: the full-screen alert. */
  incoming(call: CallView | undefined): void {
    byId('incoming-call').hidden = call === undefined;
    if (call === undefined) return;
    showParty(byId('caller'), call.peer);
    byId('caller-avatar').textContent = avatarOf(call.peer);
  }

  /** CW (TS 24.615): a call ringing while another is up, inline with "Busy" and "Hold & answer". */
  waiting(call: CallView | undefined): void {
    byId('waiting-call').hidden = call === undefined;
    if (call === undefined) return;
    showParty(byId('waiting-caller'), call.peer);
    byId('waiting-avatar').textContent = avatarOf(call.peer);
  }

  private party(call: CallView): void {
    showParty(byId('peer-name'), call.peer);
    byId('peer-avatar').textContent = avatarOf(call.peer);
    byId('peer-avatar').classList.toggle('restricted', call.peer.restricted);
    const note = byId('peer-note');
    note.hidden = !(call.held || call.heldByPeer);
    note.textContent = call.held ? 'you put this call on hold' : 'held by the other party';
    // TIP (TS 24.608): the answering identity, when it is not who was dialled.
    const identity = byId('peer-identity');
    const connected = call.connected;
    identity.hidden = connected === undefined || (!connected.restricted && displayAddress(connected.uri) === displayAddress(call.peer.uri));
    if (connected !== undefined) identity.textContent = `Answered by ${partyName(connected)}`;
    // CDIV notification (TS 24.604): where the call went and why.
    const diversion = byId('peer-diversion');
    const last = call.diversions[call.diversions.length - 1];
    diversion.hidden = last === undefined;
    if (last !== undefined) diversion.textContent = `Forwarded to ${displayAddress(last.target)} (${diversionCause(last.cause)}${last.reason ? `: ${last.reason}` : ''})`;
  }

  private tones(call: CallView | undefined): void {
    const sent = byId('dtmf-sent');
    sent.hidden = call === undefined || call.tonesSent === '' || call.state === 'ended';
    sent.textContent = `Tones sent: ${call?.tonesSent ?? ''}`;
    const received = byId('dtmf-received');
    received.hidden = call === undefined || call.tonesReceived === '' || call.state === 'ended';
    received.textContent = `Tones received: ${call?.tonesReceived ?? ''}`;
  }

  /** The calls not on screen, each with a "Switch" (hold this one, resume that one). */
  private otherCalls(focused: CallView | undefined, others: readonly CallView[]): void {
    const list = byId('call-list');
    const shown = others.filter((c) => c.state !== 'incoming' || focused?.state === 'incoming');
    list.hidden = shown.length === 0;
    list.replaceChildren(...shown.map((c) => {
      const item = document.createElement('li');
      item.className = 'call-item';
      item.dataset['testid'] = 'call-item';
      item.dataset['peer'] = displayAddress(c.peer.uri);
      const avatar = document.createElement('div');
      avatar.className = 'avatar small';
      avatar.textContent = avatarOf(c.peer);
      const text = document.createElement('div');
      text.className = 'call-item-text';
      const name = document.createElement('div');
      name.className = 'call-item-name';
      showParty(name, c.peer);
      const state = document.createElement('div');
      state.className = `call-item-state ${c.held || c.heldByPeer ? 'held' : ''}`;
      state.textContent = c.held ? 'on hold' : c.heldByPeer ? 'held by the other party' : c.state === 'established' ? 'in call' : c.state;
      text.append(name, state);
      const swap = document.createElement('button');
      swap.type = 'button';
      swap.className = 'secondary';
      swap.dataset['testid'] = 'switch-call';
      swap.dataset['callId'] = c.id;
      swap.textContent = c.held ? 'Switch' : 'Show';
      swap.title = c.held ? `Hold the current call and resume ${partyName(c.peer)}` : `Show the call with ${partyName(c.peer)}`;
      item.append(avatar, text, swap);
      return item;
    }));
  }

  quality(q: CallQuality | undefined): void {
    byId('quality').classList.toggle('idle', q === undefined);
    byId('rx-packets').textContent = q === undefined ? '0' : String(q.packetsReceived);
    const loss = byId('rx-loss');
    loss.textContent = q === undefined ? '–' : `${q.lossPercent.toFixed(1)} %`;
    loss.className = `metric-value ${q === undefined ? '' : q.lossPercent < 1 ? 'good' : q.lossPercent > 5 ? 'poor' : ''}`;
    byId('rx-jitter').textContent = q?.jitterMs === undefined ? '–' : `${q.jitterMs.toFixed(1)} ms`;
    byId('rtt').textContent = q?.rttMs === undefined ? '–' : `${q.rttMs.toFixed(0)} ms`;
  }

  private clock(call: CallView | undefined): void {
    const live = call !== undefined && (call.state === 'established' || call.state === 'ringing' || call.state === 'calling');
    this.establishedAt = live ? call.establishedAt : undefined;
    if (live && this.timerHandle === undefined) this.timerHandle = setInterval(() => this.tick(), 1000);
    if (!live) { clearInterval(this.timerHandle); this.timerHandle = undefined; }
    this.tick();
  }

  private tick(): void {
    if (this.establishedAt === undefined) { this.timer.textContent = 'connecting…'; return; }
    const seconds = Math.floor((Date.now() - this.establishedAt) / 1000);
    this.timer.textContent = `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
  }
}
