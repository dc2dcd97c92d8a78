/**
 * Call transfer for one dialog (RFC 3515 REFER, RFC 3891 Replaces): the REFER we send and the
 * NOTIFY sipfrag progress that comes back (§2.4.5), and the REFER we receive, handed to the
 * plugin as a UaTransferRequest whose notify() sends the NOTIFYs (§2.4.4).
 */
import { bodyText, cseq, formatUri, getHeader, parseNameAddr, type SipRequest, type SipResponse } from '../sip/index.js';
import type { UaTransferRequest } from './api.js';
import type { InDialogInit } from './dialog.js';
import { readSipfragStatus } from './party-identity.js';
import { invalidArgument, invalidState } from './ua-errors.js';

export interface TransferHost {
  request(method: string, init: InDialogInit): Promise<SipResponse>;
  respond(request: SipRequest, status: number, reason?: string, init?: InDialogInit): void;
  progress(info: { status: number; reason: string; final: boolean }): void;
  referred(request: UaTransferRequest): void;
}

/** Splits a Refer-To value into the target and the Replaces of an attended transfer (RFC 3891 §5). */
export function readReferTo(value: string): { target: string; replaces?: string } {
  const uri = parseNameAddr(value, 'Refer-To').uri;
  if (uri.kind !== 'sip') return { target: formatUri(uri) };
  const replaces = uri.headers.find((h) => h.name.toLowerCase() === 'replaces')?.value ?? undefined;
  const target = formatUri({ ...uri, headers: [] });
  return replaces === undefined || replaces === null ? { target } : { target, replaces };
}

/** `Refer-To: <sip:bob@ims.test?Replaces=call%3Bto-tag%3Da%3Bfrom-tag%3Db>` (RFC 3891 §6.1). */
export function referToWithReplaces(target: string, replaces: { callId: string; toTag: string; fromTag: string }): string {
  const uri = parseNameAddr(`<${target}>`, 'Refer-To').uri;
  const value = `${replaces.callId};to-tag=${replaces.toTag};from-tag=${replaces.fromTag}`;
  if (uri.kind !== 'sip') return `<${target}>`;
  return `<${formatUri({ ...uri, headers: [{ name: 'Replaces', value }] })}>`;
}

export class TransferAgent {
  readonly #host: TransferHost;
  readonly #impu: string;
  #refersReceived = 0;

  constructor(host: TransferHost, impu: string) {
    this.#host = host;
    this.#impu = impu;
  }

  /** RFC 3515 §2.4.1: REFER with Refer-To and Referred-By (RFC 3892); resolves on the 2xx. */
  async refer(referTo: string): Promise<SipResponse> {
    return this.#host.request('REFER', { headers: [['Refer-To', referTo], ['Referred-By', `<${this.#impu}>`]] });
  }

  /**
   * A NOTIFY inside the dialog. `Event: refer` carries sipfrag progress (RFC 3515 §2.4.5);
   * other event packages are not ours here (RFC 6665 §8.2.1: 489).
   */
  onNotify(request: SipRequest): void {
    const event = (getHeader(request, 'Event') ?? '').split(';')[0]?.trim().toLowerCase();
    if (event !== 'refer') {
      this.#host.respond(request, 489, 'Bad Event');
      return;
    }
    this.#host.respond(request, 200, 'OK');
    const frag = readSipfragStatus(bodyText(request));
    if (frag === undefined) return;
    const state = (getHeader(request, 'Subscription-State') ?? '').split(';')[0]?.trim().toLowerCase();
    this.#host.progress({ ...frag, final: state === 'terminated' || frag.status >= 200 });
  }

  /** A REFER from the other party: the plugin decides (accept/reject) and reports progress. */
  onRefer(request: SipRequest): void {
    const referTo = getHeader(request, 'Refer-To');
    if (referTo === undefined) {
      this.#host.respond(request, 400, 'Missing Refer-To'); // RFC 3515 §2.4.1
      return;
    }
    let parsed: { target: string; replaces?: string };
    try {
      parsed = readReferTo(referTo);
    } catch {
      this.#host.respond(request, 400, 'Bad Refer-To');
      return;
    }
    // RFC 3515 §2.4.6: a second REFER in the same dialog has its own subscription, named by id.
    const id = ++this.#refersReceived > 1 ? `;id=${cseq(request).seq}` : '';
    let answered = false;
    let finished = false;
    const referredBy = getHeader(request, 'Referred-By');
    const host = this.#host;
    const transfer: UaTransferRequest = {
      target: parsed.target,
      ...(referredBy !== undefined ? { referredBy } : {}),
      ...(parsed.replaces !== undefined ? { replaces: parsed.replaces } : {}),
      async accept() {
        if (answered) throw invalidState('the REFER was already answered');
        answered = true;
        host.respond(request, 202, 'Accepted');
        // RFC 3515 §2.4.4: the initial NOTIFY follows the 202 at once (its answer is not awaited).
        void transfer.notify(100, 'Trying').catch(() => undefined);
      },
      async reject(status = 603) {
        if (answered) throw invalidState('the REFER was already answered');
        answered = true;
        finished = true;
        host.respond(request, status >= 300 && status <= 699 ? status : 603);
      },
      async notify(status: number, reason: string) {
        if (!answered || finished) throw invalidState('no active REFER subscription to notify');
        // RFC 3420: the sipfrag is one status line; a CR/LF in the reason would add header lines to it.
        if (!Number.isInteger(status) || status < 100 || status > 699 || /[\r\n\0]/.test(reason)) {
          throw invalidArgument('notify() needs a status 100-699 and a one-line reason phrase');
        }
        if (status >= 200) finished = true;
        await host.request('NOTIFY', {
          headers: [
            ['Event', `refer${id}`],
            // RFC 3515 §2.4.7 / RFC 6665 §4.1.3: the final NOTIFY terminates the implicit subscription.
            ['Subscription-State', status >= 200 ? 'terminated;reason=noresource' : 'active;expires=60'],
          ],
          body: `SIP/2.0 ${status} ${reason}\r\n`, contentType: 'message/sipfrag;version=2.0',
        });
      },
    };
    this.#host.referred(transfer);
  }
}
