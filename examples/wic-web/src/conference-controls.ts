/**
 * Ad-hoc conference (CONF, TS 24.605): "Conference" with a call up creates a conference at the
 * network's factory (the current calls are held meanwhile), and once the focus answers invites the
 * parties of those calls into it (REFER to the focus, RFC 4579 §5.5) and leaves the private calls;
 * the panel shows the focus's participant list (RFC 4575) with a Remove each and an Add field.
 */
import type { CallBook, CallView } from './call-book.js';
import { displayAddress } from './target.js';
import { byId } from './ui/dom.js';
import { WicError, type CallId, type ConferenceParticipant, type W2Client } from './w2-client.js';

export interface ConferenceContext {
  readonly calls: CallBook;
  client(): W2Client;
  act(action: () => Promise<void> | void): void;
  render(): void;
}

/** The calls to merge into each conference, until its focus answers. */
const merging = new Map<CallId, CallView[]>();
/** The calls Merge put on hold for each conference (resumed if no conference comes of it). */
const heldFor = new Map<CallId, CallView[]>();

/** No conference after all: the calls held for it come back. */
function resume(ctx: ConferenceContext, held: readonly CallView[]): void {
  for (const party of held) {
    if (ctx.calls.get(party.id) === undefined) continue;
    ctx.client().hold(party.id, false).then(() => { party.held = false; ctx.render(); }, () => undefined);
  }
}

/** A conference call ended before its focus answered (a network without one refuses the factory URI): said in words. */
export function conferenceEnded(ctx: ConferenceContext, call: CallView, detail: string | undefined): void {
  const pending = merging.has(call.id);
  merging.delete(call.id);
  const held = heldFor.get(call.id) ?? [];
  heldFor.delete(call.id);
  if (!pending || call.establishedAt !== undefined) return;
  resume(ctx, held);
  ctx.act(() => { throw new WicError(`Could not start the conference: ${detail ?? 'the network refused it'}.`); });
}

function conferenceCall(calls: CallBook): CallView {
  const call = calls.focused();
  if (call?.conference === undefined || call.state === 'ended') throw new WicError('There is no conference on screen.');
  return call;
}

/** The focus answered: each merged party is invited in, and our own call with them ends. */
async function merge(ctx: ConferenceContext, conference: CallView): Promise<void> {
  const parties = merging.get(conference.id) ?? [];
  merging.delete(conference.id);
  heldFor.delete(conference.id);
  for (const party of parties) {
    await ctx.client().conferenceAdd?.(conference.id, (party.connected ?? party.peer).uri);
    await ctx.client().hangup(party.id).catch(() => undefined);
  }
}

export function conferenceEstablished(ctx: ConferenceContext, callId: CallId): void {
  const call = ctx.calls.get(callId);
  if (call?.conference !== undefined && merging.has(callId)) ctx.act(() => merge(ctx, call));
}

/** RFC 4575 §4.6: a full list replaces the shown one; a partial one changes (or removes) the users it names. */
export function applyParticipants(call: CallView, uri: string, full: boolean, participants: readonly ConferenceParticipant[]): void {
  const view = call.conference ?? { participants: [] };
  view.uri = uri;
  const next = full ? [] : view.participants.slice();
  for (const p of participants) {
    const at = next.findIndex((q) => q.uri === p.uri);
    if (at >= 0) next.splice(at, 1);
    if (!p.left) next.splice(at >= 0 ? at : next.length, 0, p);
  }
  view.participants = next;
  call.conference = view;
}

export function wireConference(ctx: ConferenceContext): void {
  const { calls, client, act, render } = ctx;
  byId('conference').addEventListener('click', () => act(async () => {
    const c = client();
    if (c.createConference === undefined) throw new WicError('Conferences are not available with this protocol.');
    const parties = calls.all().filter((call) => call.state === 'established' && call.conference === undefined);
    const heldHere: CallView[] = [];
    for (const party of parties) {
      if (party.held) continue;
      await c.hold(party.id, true);
      party.held = true;
      heldHere.push(party);
    }
    render();
    const callId = await c.createConference().catch((error: unknown) => {
      resume(ctx, heldHere);
      throw error;
    });
    const conference = calls.get(callId);
    if (conference === undefined) {
      resume(ctx, heldHere);
      throw new WicError('Could not start the conference: conferences are not available on this network.');
    }
    conference.conference ??= { participants: [] };
    conference.peer = { ...conference.peer, displayName: 'Conference call' };
    merging.set(callId, parties);
    heldFor.set(callId, heldHere);
    render();
    if (conference.state === 'established') await merge(ctx, conference);
  }));
  byId<HTMLFormElement>('conference-add-form').addEventListener('submit', (event) => {
    event.preventDefault();
    act(async () => {
      const input = byId<HTMLInputElement>('conference-add-target');
      const party = input.value.trim();
      if (party === '') throw new WicError('Who should join? Type a name like carol or a number.');
      await client().conferenceAdd?.(conferenceCall(calls).id, party);
      input.value = '';
    });
  });
  byId('conference-participants').addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-party]');
    const party = button?.dataset['party'];
    if (party === undefined) return;
    act(async () => {
      button?.setAttribute('disabled', '');
      await client().conferenceRemove?.(conferenceCall(calls).id, party);
    });
  });
}

/** The conference panel of the call on screen (hidden for an ordinary call); `self` is our IMPU, shown as "You". */
export function showConference(call: CallView | undefined, self: string | undefined): void {
  const panel = byId('conference-panel');
  const conference = call?.state === 'ended' ? undefined : call?.conference;
  panel.hidden = conference === undefined;
  if (conference === undefined) return;
  const others = conference.participants.filter((p) => displayAddress(p.uri) !== (self !== undefined ? displayAddress(self) : ''));
  byId('conference-count').textContent = conference.uri === undefined ? 'connecting…' : `${conference.participants.length} in the conference`;
  byId('conference-participants').replaceChildren(...conference.participants.map((p) => {
    const me = !others.includes(p);
    const item = document.createElement('li');
    item.className = 'participant';
    item.dataset['testid'] = 'participant';
    item.dataset['uri'] = p.uri;
    const avatar = document.createElement('div');
    avatar.className = 'avatar small';
    avatar.textContent = (/[a-z0-9]/i.exec(displayAddress(p.uri))?.[0] ?? '?').toUpperCase();
    const text = document.createElement('div');
    text.className = 'participant-text';
    const name = document.createElement('div');
    name.className = 'participant-name';
    name.textContent = me ? 'You' : p.displayText !== undefined && p.displayText !== '' ? p.displayText : displayAddress(p.uri);
    const status = document.createElement('div');
    status.className = `participant-status ${p.status ?? ''}`;
    status.textContent = p.status === undefined ? displayAddress(p.uri) : p.status.replace(/-/g, ' ');
    text.append(name, status);
    item.append(avatar, text);
    if (!me) {
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'ghost';
      remove.dataset['testid'] = 'participant-remove';
      remove.dataset['party'] = p.uri;
      remove.textContent = 'Remove';
      item.append(remove);
    }
    return item;
  }));
}
