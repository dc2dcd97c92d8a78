/**
 * Everything the phone screen shows: registration state, the call (state, peer, timer,
 * controls), live quality and the incoming-call alert. Text the tests read (`registration-state`,
 * `call-state`, `rx-packets`) is written only here.
 */
import type { CallQuality } from '../call-quality.js';
import { displayAddress } from '../target.js';
import type { CallState, RegistrationState } from '../w2-client.js';
import { byId, initialOf } from './dom.js';

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

  registration(state: RegistrationState, detail: string): void {
    byId('registration-state').textContent = REGISTRATION_TEXT[state];
    byId('registration-dot').className = `dot ${REGISTRATION_DOT[state]}`;
    byId('registration-detail').textContent = detail;
    this.dial.disabled = state !== 'registered';
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

  /** `held`: we put the call on hold; `heldByPeer`: they did. */
  call(state: CallState | 'idle', peer: string, flags: { held: boolean; heldByPeer: boolean; muted: boolean; detail?: string }): void {
    const label = state === 'established' && flags.held ? 'established · on hold'
      : state === 'established' && flags.heldByPeer ? 'established · held by the other side'
        : state === 'ended' ? `ended${flags.detail ? ` · ${flags.detail}` : ''}`
          : state === 'idle' ? 'no call' : state === 'incoming' ? 'ringing here' : state;
    this.callState.textContent = label;
    this.callState.className = `call-state ${state === 'established' ? (flags.held || flags.heldByPeer ? 'held' : 'active')
      : state === 'ended' ? 'ended' : state === 'idle' ? '' : 'progress'}`;
    const live = state === 'calling' || state === 'ringing' || state === 'established';
    this.inCall.hidden = !live;
    byId('quality').classList.toggle('idle', !live);
    byId('dial-row').hidden = live;
    byId('keypad-caption').hidden = state !== 'established';
    if (live) {
      byId('peer-name').textContent = displayAddress(peer);
      byId('peer-avatar').textContent = initialOf(peer);
    }
    this.hold.disabled = state !== 'established';
    this.hold.textContent = flags.held ? 'Resume' : 'Hold';
    this.hold.classList.toggle('on', flags.held);
    this.mute.disabled = state !== 'established';
    this.mute.textContent = flags.muted ? 'Unmute' : 'Mute';
    this.mute.classList.toggle('on', flags.muted);
    byId<HTMLButtonElement>('transfer').disabled = state !== 'established';
    if (!live) byId('transfer-form').hidden = true;
    this.clock(state);
  }

  incoming(from: string | undefined): void {
    byId('incoming-call').hidden = from === undefined;
    if (from === undefined) return;
    byId('caller').textContent = displayAddress(from);
    byId('caller-avatar').textContent = initialOf(from);
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

  dtmfSent(digits: string): void {
    const line = byId('dtmf-sent');
    line.hidden = digits === '';
    line.textContent = `Tones sent: ${digits}`;
  }

  private clock(state: CallState | 'idle'): void {
    if (state === 'established' && this.establishedAt === undefined) {
      this.establishedAt = Date.now();
      this.timerHandle = setInterval(() => this.tick(), 1000);
    }
    if (state !== 'established' && state !== 'ringing' && state !== 'calling') {
      clearInterval(this.timerHandle);
      this.timerHandle = undefined;
      this.establishedAt = undefined;
    }
    this.tick();
  }

  private tick(): void {
    if (this.establishedAt === undefined) { this.timer.textContent = 'connecting…'; return; }
    const seconds = Math.floor((Date.now() - this.establishedAt) / 1000);
    this.timer.textContent = `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
  }
}
