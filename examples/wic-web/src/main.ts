/**
 * The WIC (examples/wic-web): sign in (web token or IMS digest) over the chosen W2 protocol,
 * then call, answer, hold, transfer, send tones and messages, with several calls at once where
 * the protocol allows (CW, consultation). This file wires the login form and the phone screen
 * to one `W2Client`; the protocol lives in clients/, the calls in call-book.ts.
 */
import { CallBack } from './call-back.js';
import { wireCallControls } from './call-controls.js';
import { applyParticipants, conferenceEnded, conferenceEstablished, showConference, wireConference } from './conference-controls.js';
import { SettingsControls } from './settings-controls.js';
import { CallBook, type CallView } from './call-book.js';
import { readCallQuality } from './call-quality.js';
import { JsonRpcClient } from './clients/jsonrpc-client.js';
import { JsSipClient } from './clients/jssip-client.js';
import { XmppClient } from './clients/xmpp-client.js';
import { displayAddress, toUri } from './target.js';
import { byId } from './ui/dom.js';
import { MessagesView } from './ui/messages-view.js';
import { PhoneView, type CallCapabilities } from './ui/phone-view.js';
import { loadConfig, webLogin, type WicConfig } from './wwsf-api.js';
import { isRestricted, WicError, type AuthMode, type CallId, type Identity, type Protocol, type W2Client, type W2Events } from './w2-client.js';

const PROTOCOL_NAMES: Record<Protocol, string> = { 'sip-ws': 'SIP over WebSocket', 'jsonrpc-ws': 'JSON-RPC', 'xmpp-ws': 'XMPP / Jingle' };
const PROTOCOL_HINTS: Record<Protocol, string> = {
  'sip-ws': 'SIP over WebSocket (RFC 7118): the browser is a SIP phone, JsSIP speaks SIP to the eP-CSCF.',
  'jsonrpc-ws': 'JSON-RPC 2.0 over WebSocket: no SIP in the browser, the eP-CSCF\'s virtual phone does the SIP.',
  'xmpp-ws': 'XMPP over WebSocket (RFC 7395) with Jingle calls: stanza.js, mapped to SIP by the eP-CSCF.',
};
const AUTH_HINTS: Record<AuthMode, string> = {
  web: 'Web login: this site checks your password and gives the browser a short-lived token; the eP-CSCF registers you into IMS with it (TS 24.371 scenario 2).',
  digest: 'IMS password: the browser answers the IMS core\'s digest challenge itself (TS 24.371 scenario 1).',
};
/** Ask the WWSF for a new token this long before the current one expires. */
const TOKEN_REFRESH_MARGIN_MS = 60_000;
const QUALITY_POLL_MS = 500;

const phone = new PhoneView();
const messages = new MessagesView();
const settings = new SettingsControls(() => config?.domain ?? '', act);
const callBack = new CallBack(requireClient, act);
/** The signed-in IMPU (the conference list shows it as "You"). */
let self: string | undefined;

let config: WicConfig | undefined;
let client: W2Client | undefined;
const calls = new CallBook();
/** The connection the quality panel reads (the focused call's). */
let pc: RTCPeerConnection | undefined;
let qualityTimer: ReturnType<typeof setInterval> | undefined;
let tokenTimer: ReturnType<typeof setTimeout> | undefined;
/** One audio element per call: a held call's stays silent, the other one plays. */
const audios = new Map<CallId, HTMLAudioElement>();
/** Connections an adapter announced before the call itself (JsSIP creates them in UA.call()). */
const earlyConnections = new Map<CallId, RTCPeerConnection>();

/** A new call on the book, with its connection if that came first. */
function added(call: CallView): void {
  const early = earlyConnections.get(call.id);
  earlyConnections.delete(call.id);
  if (early !== undefined) call.pc ??= early;
  render();
}

function capabilities(): CallCapabilities {
  const unsupported = client?.unsupported ?? {};
  return {
    transfer: unsupported.transfer === undefined,
    consultativeTransfer: unsupported.consultativeTransfer === undefined,
    multipleCalls: unsupported.multipleCalls === undefined,
    dtmf: unsupported.dtmf === undefined,
  };
}

function render(): void {
  const focused = calls.focused();
  phone.call(focused, calls.others(focused?.id), capabilities());
  phone.incoming(focused?.state === 'incoming' ? focused : undefined);
  phone.waiting(focused?.state === 'incoming' ? undefined : calls.waiting());
  // Issue #14 services, each only where the protocol offers it (a control it lacks is hidden).
  const ringing = focused?.state === 'incoming';
  byId('deflect').hidden = !ringing || client?.deflect === undefined;
  if (!ringing) byId('deflect-form').hidden = true;
  byId('conference').hidden = client?.createConference === undefined || focused?.state !== 'established' || focused.conference !== undefined;
  showConference(focused, self);
  followQuality(focused);
}

/** Runs `change` on a call the adapter still knows, then redraws. */
function update(callId: CallId, change: (call: CallView) => void): void {
  const call = calls.get(callId);
  if (call === undefined) return;
  change(call);
  render();
}

function showError(text: string): void {
  byId('error-text').textContent = text;
  byId('error-banner').hidden = false;
}

function describe(error: unknown): string {
  if (error instanceof WicError) return error.message;
  return `Something went wrong: ${error instanceof Error ? error.message : String(error)}`;
}

/** Runs a user action; a failure becomes a sentence on the screen. */
function act(action: () => Promise<void> | void): void {
  byId('error-banner').hidden = true;
  Promise.resolve().then(action).catch((error: unknown) => showError(describe(error)));
}

const events: W2Events = {
  registration(state, detail) {
    phone.registration(state, detail ?? (state === 'registered' ? 'Ready to call and receive calls.' : ''));
  },
  incoming(callId, from, waiting) {
    added(calls.add(callId, 'in', from, waiting || calls.all().some((c) => c.state !== 'ended')));
  },
  outgoing(callId, to) {
    added(calls.add(callId, 'out', { uri: to, restricted: isRestricted(to) }));
  },
  callState(callId, state, detail) {
    if (state === 'ended') {
      const ended = calls.end(callId, detail);
      if (ended?.conference !== undefined) conferenceEnded({ calls, client: requireClient, act, render }, ended, detail);
      audios.get(callId)?.remove();
      audios.delete(callId);
      earlyConnections.delete(callId);
      if (ended !== undefined) render();
      return;
    }
    update(callId, (call) => {
      call.state = state;
      if (state === 'established') call.establishedAt ??= Date.now();
    });
    if (state === 'established') conferenceEstablished({ calls, client: requireClient, act, render }, callId);
  },
  connected(callId, party) {
    update(callId, (call) => { call.connected = party; });
  },
  diverted(callId, diversions) {
    update(callId, (call) => { call.diversions = diversions; });
  },
  transferred(previous, next, to) {
    added(calls.replace(previous, next, { uri: to, restricted: isRestricted(to) }));
  },
  remoteHold(callId, held) {
    update(callId, (call) => { call.heldByPeer = held; });
  },
  dtmfReceived(callId, tone) {
    update(callId, (call) => { call.tonesReceived += tone; });
  },
  peerConnection(callId, connection) {
    const call = calls.get(callId);
    if (call !== undefined) call.pc = connection;
    else earlyConnections.set(callId, connection);
    connection.addEventListener('track', (event) => {
      let audio = audios.get(callId);
      if (audio === undefined) {
        audio = document.createElement('audio');
        audio.autoplay = true;
        audios.set(callId, audio);
        document.body.append(audio);
      }
      audio.srcObject = event.streams[0] ?? new MediaStream([event.track]);
      void audio.play().catch(() => undefined);
    });
    render();
  },
  messageSummary(summary) {
    phone.messageSummary(summary);
  },
  message(from, text) {
    messages.add('in', from, text);
    const target = byId<HTMLInputElement>('message-target');
    if (target.value.trim() === '') target.value = displayAddress(from);
  },
  callCompletion(callId, state, target) {
    callBack.update(callId, state, target);
  },
  conferenceParticipants(callId, conferenceUri, full, participants) {
    update(callId, (call) => applyParticipants(call, conferenceUri, full, participants));
  },
  error: showError,
};

/** The quality panel follows the focused call; the figures of the call that just ended stay on screen. */
function followQuality(focused: CallView | undefined): void {
  const connection = focused?.state === 'ended' ? undefined : focused?.pc;
  if (connection === pc) return;
  clearInterval(qualityTimer);
  qualityTimer = undefined;
  pc = connection;
  if (connection === undefined) return;
  phone.quality(undefined);
  qualityTimer = setInterval(() => {
    readCallQuality(connection).then((q) => { if (pc === connection) phone.quality(q); }, () => undefined);
  }, QUALITY_POLL_MS);
}

function stopQuality(): void {
  clearInterval(qualityTimer);
  qualityTimer = undefined;
  pc = undefined;
  phone.quality(undefined);
}

function createClient(protocol: Protocol, url: string, identity: Identity): W2Client {
  switch (protocol) {
    case 'sip-ws': return new JsSipClient(url, identity, events);
    case 'jsonrpc-ws': return new JsonRpcClient(url, identity, events);
    case 'xmpp-ws': return new XmppClient(url, identity, events);
  }
}

async function identityFor(mode: AuthMode, user: string, password: string, domain: string): Promise<{ identity: Identity; expiresAt?: number }> {
  if (mode === 'web') {
    const login = await webLogin(user, password);
    const impi = login.impi !== '' ? login.impi : `${user}@${domain}`;
    return { identity: { impu: login.impu, impi, domain, token: login.token, ...(login.displayName !== undefined ? { displayName: login.displayName } : {}) }, expiresAt: login.expiresAt };
  }
  if (password === '') throw new WicError('Type your IMS password (or choose "Web login").');
  const impu = user.includes('@') ? toUri(user, domain) : `sip:${user}@${domain}`;
  return { identity: { impu, impi: impu.replace(/^sips?:/, ''), domain, password } };
}

/** Web mode: a fresh token before this one expires (the WWSF's tokens are short-lived). */
function scheduleTokenRefresh(user: string, password: string, expiresAt: number): void {
  clearTimeout(tokenTimer);
  const delay = Math.max(10_000, expiresAt - Date.now() - TOKEN_REFRESH_MARGIN_MS);
  tokenTimer = setTimeout(() => {
    webLogin(user, password).then(async (login) => {
      await client?.updateToken?.(login.token);
      scheduleTokenRefresh(user, password, login.expiresAt);
    }, (error: unknown) => showError(`Your web session could not be renewed: ${describe(error)}`));
  }, delay);
}

async function signIn(): Promise<void> {
  const user = byId<HTMLInputElement>('login-user').value.trim();
  const password = byId<HTMLInputElement>('login-password').value;
  const protocol = byId<HTMLSelectElement>('protocol').value as Protocol;
  const mode = byId<HTMLSelectElement>('auth-mode').value as AuthMode;
  if (user === '') throw new WicError('Type your user name, for example alice.');
  config ??= await loadConfig();
  const url = config.endpoints[protocol];
  if (url === undefined) throw new WicError(`This server does not offer ${PROTOCOL_NAMES[protocol]}.`);
  const { identity, expiresAt } = await identityFor(mode, user, password, config.domain);
  const next = createClient(protocol, url, identity);
  client = next;
  showPhone(identity, protocol, mode, expiresAt);
  try {
    await next.connect();
  } catch (error) {
    client = undefined;
    await next.close().catch(() => undefined);
    showLogin();
    throw error;
  }
  if (expiresAt !== undefined) scheduleTokenRefresh(user, password, expiresAt);
  // TS 24.623: the Settings card, only where this network answers Ut.
  void settings.load(next.ut);
}

function showPhone(identity: Identity, protocol: Protocol, mode: AuthMode, expiresAt: number | undefined): void {
  byId('login-view').hidden = true;
  byId('phone-view').hidden = false;
  byId('who').hidden = false;
  byId('who-name').textContent = identity.displayName ?? displayAddress(identity.impu);
  self = identity.impu;
  byId('who-protocol').textContent = PROTOCOL_NAMES[protocol];
  phone.registration('registering', `Signing in as ${identity.impu}…`);
  phone.facts([
    ['IMPU', identity.impu],
    ['via', PROTOCOL_NAMES[protocol]],
    ['auth', mode === 'web' ? `web token${expiresAt !== undefined ? ` until ${new Date(expiresAt).toLocaleTimeString()}` : ''}` : 'IMS digest'],
  ]);
  calls.clear();
  render();
  phone.quality(undefined);
  phone.messageSummary(undefined);
  messages.clear();
}

function showLogin(): void {
  byId('login-view').hidden = false;
  byId('phone-view').hidden = true;
  byId('who').hidden = true;
  calls.clear();
  settings.hide();
  callBack.hide();
  for (const audio of audios.values()) audio.remove();
  audios.clear();
  earlyConnections.clear();
  render();
  stopQuality();
}

function requireClient(): W2Client {
  if (client === undefined) throw new WicError('You are not signed in.');
  return client;
}

function wire(): void {
  const mode = byId<HTMLSelectElement>('auth-mode');
  const protocol = byId<HTMLSelectElement>('protocol');
  const hint = (): void => {
    byId('auth-hint').textContent = AUTH_HINTS[mode.value as AuthMode];
    byId('protocol-hint').textContent = PROTOCOL_HINTS[protocol.value as Protocol];
  };
  mode.addEventListener('change', hint);
  protocol.addEventListener('change', hint);
  hint();

  byId<HTMLFormElement>('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const submit = byId<HTMLButtonElement>('login-submit');
    const error = byId('login-error');
    error.hidden = true;
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    signIn().catch((failure: unknown) => {
      error.textContent = describe(failure);
      error.hidden = false;
    }).finally(() => {
      submit.disabled = false;
      submit.textContent = 'Sign in';
    });
  });

  byId('sign-out').addEventListener('click', () => act(async () => {
    clearTimeout(tokenTimer);
    const closing = client;
    client = undefined;
    showLogin();
    await closing?.close();
  }));
  byId('error-dismiss').addEventListener('click', () => { byId('error-banner').hidden = true; });

  wireCallControls({ calls, phone, client: requireClient, act, render, domain: () => config?.domain ?? '' });
  wireConference({ calls, client: requireClient, act, render });
  // TS 24.604 CD: a ringing call sent elsewhere before answering (302 with the deflect-to Contact).
  byId('deflect').addEventListener('click', () => {
    const form = byId('deflect-form');
    form.hidden = !form.hidden;
    if (!form.hidden) byId<HTMLInputElement>('deflect-target').focus();
  });
  byId<HTMLFormElement>('deflect-form').addEventListener('submit', (event) => {
    event.preventDefault();
    act(async () => {
      const c = requireClient();
      const call = calls.focused();
      const target = byId<HTMLInputElement>('deflect-target').value.trim();
      if (call?.state !== 'incoming') throw new WicError('The call is no longer ringing.');
      if (target === '') throw new WicError('Forward to whom? Type a name like carol or a number.');
      if (c.deflect === undefined) throw new WicError('Forwarding a ringing call is not available with this protocol.');
      toUri(target, config?.domain ?? '');
      phone.incoming(undefined);
      await c.deflect(call.id, target);
      byId<HTMLInputElement>('deflect-target').value = '';
    });
  });

  byId<HTMLFormElement>('compose').addEventListener('submit', (event) => {
    event.preventDefault();
    act(async () => {
      const to = byId<HTMLInputElement>('message-target').value.trim();
      const text = byId<HTMLInputElement>('message-text');
      if (to === '') throw new WicError('Who is the message for? Type a name like bob in "To".');
      if (text.value.trim() === '') return;
      const body = text.value;
      const item = messages.add('out', toUri(to, config?.domain ?? ''), body);
      text.value = '';
      await requireClient().sendMessage(to, body).catch((error: unknown) => {
        messages.markFailed(item, describe(error));
        throw error;
      });
    });
  });
  render();
}

wire();
loadConfig().then((loaded) => {
  config = loaded;
  const mode = byId<HTMLSelectElement>('auth-mode');
  for (const option of Array.from(mode.options)) option.disabled = !loaded.authModes.includes(option.value as AuthMode);
  if (mode.selectedOptions[0]?.disabled === true) mode.value = loaded.authModes[0] ?? 'digest';
  mode.dispatchEvent(new Event('change'));
}, (error: unknown) => {
  const alert = byId('login-error');
  alert.textContent = describe(error);
  alert.hidden = false;
});
