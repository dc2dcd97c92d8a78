/**
 * The call controls of the phone screen (TS 24.610 HOLD, TS 24.615 CW, TS 24.629 ECT, DTMF):
 * each button acts on the focused call of the `CallBook` through the one `W2Client`.
 */
import type { CallBook, CallView } from './call-book.js';
import { toUri } from './target.js';
import { byId } from './ui/dom.js';
import type { PhoneView } from './ui/phone-view.js';
import { WicError, type CallId, type W2Client } from './w2-client.js';

export interface CallControlsContext {
  readonly calls: CallBook;
  readonly phone: PhoneView;
  /** The signed-in client (throws a readable error when there is none). */
  client(): W2Client;
  /** Runs a user action; a failure becomes a sentence on the screen. */
  act(action: () => Promise<void> | void): void;
  render(): void;
  domain(): string;
}

async function holdCall(ctx: CallControlsContext, call: CallView, on: boolean): Promise<void> {
  await ctx.client().hold(call.id, on);
  call.held = on;
  ctx.render();
}

/** "Switch": the current call is held and the chosen one resumed (if we held it) and shown. */
async function switchTo(ctx: CallControlsContext, callId: CallId): Promise<void> {
  const { calls } = ctx;
  const target = calls.get(callId);
  if (target === undefined) throw new WicError('That call is over.');
  const current = calls.focused();
  if (current !== undefined && current.id !== callId && current.state === 'established' && !current.held) await holdCall(ctx, current, true);
  calls.focus(callId);
  ctx.render();
  if (target.held) await holdCall(ctx, target, false);
}

export function wireCallControls(ctx: CallControlsContext): void {
  const { calls, phone, client, act, render, domain } = ctx;
  const dialTarget = byId<HTMLInputElement>('dial-target');
  const dial = (): void => act(async () => {
    const c = client();
    const target = dialTarget.value;
    toUri(target, domain()); // a typo is refused before anything is held
    // A second call while one is up (consultation, TS 24.629): the current one is held first.
    const current = calls.focused();
    if (current?.state === 'established' && !current.held) await holdCall(ctx, current, true);
    phone.toggleAdding(false);
    await c.call(target);
  });
  byId('dial').addEventListener('click', dial);
  dialTarget.addEventListener('keydown', (event) => { if (event.key === 'Enter') dial(); });

  const focusedCall = (): CallView => {
    const call = calls.focused();
    if (call === undefined || call.state === 'ended') throw new WicError('There is no call.');
    return call;
  };
  byId('answer').addEventListener('click', () => act(async () => {
    const call = focusedCall();
    phone.incoming(undefined);
    await client().answer(call.id);
  }));
  byId('reject').addEventListener('click', () => act(async () => {
    const call = focusedCall();
    phone.incoming(undefined);
    await client().reject(call.id);
  }));
  // TS 24.615 CW: the waiting call is answered with the current one held, or refused busy (486).
  byId('answer-hold').addEventListener('click', () => act(async () => {
    const waiting = calls.waiting();
    if (waiting === undefined) throw new WicError('The waiting call has gone.');
    phone.waiting(undefined);
    const current = calls.focused();
    if (current !== undefined && current.state === 'established' && !current.held) await holdCall(ctx, current, true);
    calls.focus(waiting.id);
    render();
    await client().answer(waiting.id);
  }));
  byId('reject-busy').addEventListener('click', () => act(async () => {
    const waiting = calls.waiting();
    if (waiting === undefined) return;
    phone.waiting(undefined);
    await client().reject(waiting.id, true);
  }));
  byId('call-list').addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-call-id]');
    const target = button?.dataset['callId'];
    if (target !== undefined) act(() => switchTo(ctx, target));
  });
  byId('hangup').addEventListener('click', () => act(() => client().hangup(focusedCall().id)));
  byId('hold').addEventListener('click', () => act(async () => {
    const call = focusedCall();
    await holdCall(ctx, call, !call.held);
  }));
  byId('mute').addEventListener('click', () => act(() => {
    const call = focusedCall();
    const on = !call.muted;
    for (const sender of call.pc?.getSenders() ?? []) if (sender.track?.kind === 'audio') sender.track.enabled = !on;
    call.muted = on;
    render();
  }));
  byId('add-call').addEventListener('click', () => act(() => {
    phone.toggleAdding(!phone.isAdding);
    render();
    if (phone.isAdding) dialTarget.focus();
  }));
  byId('transfer').addEventListener('click', () => act(() => {
    const c = client();
    if (c.unsupported.transfer !== undefined) throw new WicError(c.unsupported.transfer);
    const form = byId('transfer-form');
    form.hidden = !form.hidden;
    if (!form.hidden) byId<HTMLInputElement>('transfer-target').focus();
  }));
  byId<HTMLFormElement>('transfer-form').addEventListener('submit', (event) => {
    event.preventDefault();
    act(async () => {
      await client().transfer(focusedCall().id, byId<HTMLInputElement>('transfer-target').value);
      byId('transfer-form').hidden = true;
    });
  });
  // TS 24.629 consultative transfer: the focused call's party is connected to the other call's.
  byId('transfer-consult').addEventListener('click', () => act(async () => {
    const call = focusedCall();
    const partner = calls.others(call.id).find((c) => c.state === 'established');
    if (partner === undefined) throw new WicError('Consultative transfer needs a second call in progress.');
    await client().consultativeTransfer(call.id, partner.id);
    byId('transfer-form').hidden = true;
  }));
  for (const key of Array.from(byId('dialpad').querySelectorAll<HTMLButtonElement>('button[data-key]'))) {
    key.addEventListener('click', () => act(async () => {
      const digit = key.dataset['key'] ?? '';
      const call = calls.focused();
      if (call?.state !== 'established' || phone.isAdding) { dialTarget.value += digit; return; }
      await client().dtmf(call.id, digit);
      call.tonesSent += digit;
      render();
    }));
  }
}
