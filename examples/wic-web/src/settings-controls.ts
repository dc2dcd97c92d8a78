/**
 * The Settings card (TS 24.623 service configuration over Ut): forward all calls (CFU), block
 * incoming calls (BAIC) and hide my number (OIR default), read from the user's simservs document
 * once registered and written back element by element. Shown only where the network has Ut: a
 * protocol without it, or a server without an XCAP root (jsonrpc -32031), leaves the card hidden.
 */
import { cdivElement, icbElement, NODES, oirElement, readSettings, type ServiceSettings } from './simservs.js';
import { toUri } from './target.js';
import { byId } from './ui/dom.js';
import { UtUnavailable, WicError, type UtAccess, type UtAnswer } from './w2-client.js';

const card = (): HTMLElement => byId('settings');
const cfu = (): HTMLInputElement => byId<HTMLInputElement>('cfu-enabled');
const cfuTarget = (): HTMLInputElement => byId<HTMLInputElement>('cfu-target');
const icb = (): HTMLInputElement => byId<HTMLInputElement>('icb-enabled');
const oir = (): HTMLInputElement => byId<HTMLInputElement>('oir-default');

function status(text: string, kind: '' | 'saved' | 'failed' = ''): void {
  const element = byId('settings-status');
  element.textContent = text;
  element.className = `settings-status ${kind}`;
}

function show(settings: ServiceSettings): void {
  cfu().checked = settings.forwardAll;
  cfuTarget().value = settings.forwardTo.replace(/^sip:/, '');
  cfuTarget().disabled = !settings.forwardAll;
  icb().checked = settings.barIncoming;
  oir().checked = settings.hideNumber;
}

/** An XCAP answer that is not a success, in words (RFC 4825: 409 a rule broken, 412 changed meanwhile). */
function checked(answer: UtAnswer, what: string): void {
  if (answer.status >= 200 && answer.status < 300) return;
  throw new WicError(`${what} was not saved: the settings server answered ${answer.status}${answer.status === 409 ? ' (the setting was refused)' : answer.status === 403 ? ' (not allowed)' : ''}.`);
}

export class SettingsControls {
  private ut: UtAccess | undefined;
  private saved: ServiceSettings | undefined;

  constructor(private readonly domain: () => string, private readonly act: (action: () => Promise<void> | void) => void) {
    cfu().addEventListener('change', () => {
      cfuTarget().disabled = !cfu().checked;
      if (cfu().checked) cfuTarget().focus();
    });
    byId<HTMLFormElement>('settings-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.act(() => this.save());
    });
  }

  /** After registration: read the document; the card appears only if the network answers. */
  async load(ut: UtAccess | undefined): Promise<void> {
    this.ut = ut;
    this.saved = undefined;
    card().hidden = true;
    if (ut === undefined) return;
    status('');
    try {
      const answer = await ut.get();
      // 404: no document yet; the XCAP server creates it on the first write.
      const settings = answer.status === 200 && answer.xml !== undefined ? readSettings(answer.xml) : { forwardAll: false, forwardTo: '', barIncoming: false, hideNumber: false };
      if (this.ut !== ut) return;
      this.saved = settings;
      show(settings);
      card().hidden = false;
    } catch (error) {
      // TS 24.623 unavailable here (no XCAP server behind epcscf): no card, nothing faked.
      if (!(error instanceof UtUnavailable)) console.warn('service settings unreadable:', error);
    }
  }

  hide(): void {
    this.ut = undefined;
    card().hidden = true;
  }

  private async save(): Promise<void> {
    const ut = this.ut;
    if (ut === undefined) throw new WicError('Service settings are not available on this network.');
    const forwardTo = cfuTarget().value.trim();
    if (cfu().checked && forwardTo === '') throw new WicError('Where should your calls go? Type a number or a name like carol.');
    const next: ServiceSettings = { forwardAll: cfu().checked, forwardTo: cfu().checked ? toUri(forwardTo, this.domain()) : '', barIncoming: icb().checked, hideNumber: oir().checked };
    const before = this.saved;
    status('Saving…');
    try {
      if (before === undefined || before.forwardAll !== next.forwardAll || (next.forwardAll && before.forwardTo !== next.forwardTo)) {
        checked(await ut.put(NODES.cdiv, cdivElement(next.forwardAll, next.forwardTo)), 'Call forwarding');
      }
      if (before === undefined || before.barIncoming !== next.barIncoming) checked(await ut.put(NODES.icb, icbElement(next.barIncoming)), 'Call barring');
      if (before === undefined || before.hideNumber !== next.hideNumber) checked(await ut.put(NODES.oir, oirElement(next.hideNumber)), 'Hide my number');
    } catch (error) {
      status('Not saved', 'failed');
      throw error;
    }
    this.saved = next;
    status(next.forwardAll ? `Saved · calls go to ${next.forwardTo.replace(/^sip:/, '')}` : 'Saved', 'saved');
  }
}
