/**
 * Call back when free (CCBS, TS 24.642): when a call fails busy and the network offers completion
 * of calls, the call card offers "Call back when free"; once the callee is free (RFC 6910
 * cc-state ready) the WIC says so and places the recall itself. One offer at a time: the latest.
 */
import { displayAddress } from './target.js';
import { byId } from './ui/dom.js';
import type { CallCompletionState, CallId, W2Client } from './w2-client.js';

export class CallBack {
  private callId: CallId | undefined;
  private requested = false;

  constructor(private readonly client: () => W2Client, private readonly act: (action: () => Promise<void> | void) => void) {
    byId('call-back-request').addEventListener('click', () => act(async () => {
      const callId = this.callId;
      if (callId === undefined) return;
      await this.client().requestCallCompletion?.(callId);
    }));
    byId('call-back-cancel').addEventListener('click', () => act(async () => {
      const callId = this.callId;
      const requested = this.requested;
      this.hide();
      if (callId !== undefined && requested) await this.client().cancelCallCompletion?.(callId);
    }));
  }

  /** What the network said about completing `callId` (target: the callee). */
  update(callId: CallId, state: CallCompletionState, target: string | undefined): void {
    if (state !== 'offered' && callId !== this.callId) return;
    const who = target !== undefined && target !== '' ? displayAddress(target) : 'The other party';
    const banner = byId('call-back');
    const text = byId('call-back-text');
    const request = byId('call-back-request');
    banner.classList.remove('ready');
    switch (state) {
      case 'offered':
        this.callId = callId;
        this.requested = false;
        text.textContent = `${who} is busy. The network can call them back for you.`;
        request.hidden = false;
        banner.hidden = false;
        return;
      case 'requested':
        this.requested = true;
        text.textContent = `We will call ${who} when they are free.`;
        request.hidden = true;
        return;
      case 'ready':
        // TS 24.642 §4.5.4.4: the callee is free; the recall goes out now.
        text.textContent = `${who} is free now: calling back…`;
        banner.classList.add('ready');
        request.hidden = true;
        this.act(async () => {
          await this.client().recall?.(callId);
          if (this.callId === callId) this.hide();
        });
        return;
      case 'ended':
        this.hide();
    }
  }

  /** Only where the protocol carries completion of calls. */
  hide(): void {
    this.callId = undefined;
    this.requested = false;
    byId('call-back').hidden = true;
  }
}
