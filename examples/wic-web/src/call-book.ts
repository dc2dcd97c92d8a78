/**
 * The calls this phone has, and which one the screen is on. Several at once where the protocol
 * allows (TS 24.615 CW: one rings while another is up; TS 24.629 ECT: a consultation call beside a
 * held one); the focused call is the one the controls, keypad and quality panel act on. The last
 * call to end stays on screen ("ended · why") until another starts.
 */
import type { CallId, CallState, ConferenceParticipant, Diversion, Party } from './w2-client.js';

/** TS 24.605 CONF: a conference call's focus URI and its participants (RFC 4575), once reported. */
export interface ConferenceView {
  uri?: string;
  participants: ConferenceParticipant[];
}

export interface CallView {
  readonly id: CallId;
  readonly direction: 'in' | 'out';
  state: CallState;
  peer: Party;
  /** We put it on hold. */
  held: boolean;
  /** The far end put us on hold. */
  heldByPeer: boolean;
  muted: boolean;
  /** Rang while another call was up (CW). */
  waiting: boolean;
  /** TIP: who answered, when it is not who we dialled. */
  connected?: Party;
  diversions: readonly Diversion[];
  detail?: string;
  pc?: RTCPeerConnection;
  tonesSent: string;
  tonesReceived: string;
  /** Date.now() when it was established (the call timer). */
  establishedAt?: number;
  /** A call to the conference focus (TS 24.605). */
  conference?: ConferenceView;
}

export class CallBook {
  private readonly calls = new Map<CallId, CallView>();
  private focusedId: CallId | undefined;
  private lastEnded: CallView | undefined;

  add(id: CallId, direction: 'in' | 'out', peer: Party, waiting = false): CallView {
    const view: CallView = { id, direction, state: direction === 'in' ? 'incoming' : 'calling', peer, held: false, heldByPeer: false, muted: false, waiting, diversions: [], tonesSent: '', tonesReceived: '' };
    this.calls.set(id, view);
    this.lastEnded = undefined;
    // A waiting call does not take the screen from the call in progress.
    if (!waiting || this.focusedId === undefined) this.focusedId = id;
    return view;
  }

  get(id: CallId): CallView | undefined {
    return this.calls.get(id);
  }

  /** The call the controls act on; the last ended call when there is none. */
  focused(): CallView | undefined {
    return (this.focusedId !== undefined ? this.calls.get(this.focusedId) : undefined) ?? this.lastEnded;
  }

  focus(id: CallId): void {
    if (this.calls.has(id)) this.focusedId = id;
  }

  all(): CallView[] {
    return Array.from(this.calls.values());
  }

  /** Calls other than `id` that are not over. */
  others(id: CallId | undefined): CallView[] {
    return this.all().filter((c) => c.id !== id);
  }

  /** A waiting call still ringing, if any (CW). */
  waiting(): CallView | undefined {
    return this.all().find((c) => c.state === 'incoming' && c.id !== this.focusedId);
  }

  /** The far end transferred us: `next` takes `previous`'s place (and the screen, if it had it). */
  replace(previous: CallId, next: CallId, peer: Party): CallView {
    const old = this.calls.get(previous);
    this.calls.delete(previous);
    const view = this.add(next, 'out', peer);
    if (old !== undefined) view.muted = old.muted;
    return view;
  }

  end(id: CallId, detail: string | undefined): CallView | undefined {
    const view = this.calls.get(id);
    if (view === undefined) return undefined;
    this.calls.delete(id);
    view.state = 'ended';
    if (detail !== undefined) view.detail = detail;
    if (this.focusedId === id) {
      // Back to a call that is still up (a held one, typically), else the ended one stays shown.
      const next = this.all().find((c) => c.state !== 'incoming') ?? this.all()[0];
      this.focusedId = next?.id;
      if (next === undefined) this.lastEnded = view;
    }
    return view;
  }

  clear(): void {
    this.calls.clear();
    this.focusedId = undefined;
    this.lastEnded = undefined;
  }
}
