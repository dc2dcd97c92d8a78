/**
 * Completion of calls (CCBS/CCNR, TS 24.642 on RFC 6910), the caller's side:
 * - the offer: a failed call's final response (486 busy, 480 no reply…) or, for CCNR, its 180
 *   carries `Call-Info: <cc-uri>;purpose=call-completion;m=BS` (RFC 6910 §4.4, m = BS | NR | NL);
 * - the request: SUBSCRIBE `Event: call-completion` (Accept application/call-completion) to the
 *   cc URI, with the `m` URI parameter the offer gave (RFC 6910 §7.2);
 * - readiness: a NOTIFY whose application/call-completion body says `cc-state: ready` (§10),
 *   optionally naming `cc-URI` for the recall;
 * - the recall (CC call): an INVITE to the original callee, or the NOTIFY's cc-URI, carrying the
 *   `m` URI parameter of the offer (RFC 6910 §7.4), so the callee's monitor knows it is the CC call.
 */
import { getHeaders, splitList, type SipMessage } from '../sip/index.js';

export type CallCompletionMode = 'BS' | 'NR' | 'NL';

export interface UaCallCompletionOffer {
  /** The CC monitor's URI from Call-Info (the SUBSCRIBE's target). */
  readonly uri: string;
  /** RFC 6910 §4.4 `m`: BS (busy subscriber, CCBS), NR (no reply, CCNR), NL (not logged-in). */
  readonly mode: CallCompletionMode;
  /** The URI of the call that failed (the recall goes there unless the NOTIFY names a cc-URI). */
  readonly target: string;
}

export interface CallCompletionStatus {
  /** RFC 6910 §10 cc-state: queued, ready (the callee is free: recall now)… */
  readonly state: string;
  /** RFC 6910 §10 cc-URI: where to send the CC call, when the monitor says. */
  readonly recallUri?: string;
}

const MODES = new Set<string>(['BS', 'NR', 'NL']);

/** The RFC 6910 offer in `message`'s Call-Info, or undefined when it makes none. */
export function callCompletionOffer(message: SipMessage, target: string): UaCallCompletionOffer | undefined {
  for (const entry of getHeaders(message, 'Call-Info').flatMap(splitList).filter((v) => v.length > 0)) {
    const match = /^<([^>]+)>(.*)$/.exec(entry);
    if (match?.[1] === undefined) continue;
    const params = new Map<string, string>();
    for (const param of (match[2] ?? '').split(';')) {
      const [name, value] = param.split('=', 2);
      if (name !== undefined && name.trim().length > 0) params.set(name.trim().toLowerCase(), (value ?? '').trim().replace(/^"|"$/g, ''));
    }
    if (params.get('purpose')?.toLowerCase() !== 'call-completion') continue;
    // RFC 6910 §4.4: without m, the monitor serves the mode the failure implies; BS is the common one.
    const mode = (params.get('m') ?? 'BS').toUpperCase();
    if (!MODES.has(mode)) continue;
    return { uri: match[1], mode: mode as CallCompletionMode, target };
  }
  return undefined;
}

/** `uri` with the RFC 6910 `m` URI parameter set to `mode` (before any URI headers). */
export function withCallCompletionMode(uri: string, mode: CallCompletionMode): string {
  const query = uri.indexOf('?');
  const base = query < 0 ? uri : uri.slice(0, query);
  const headers = query < 0 ? '' : uri.slice(query);
  return `${base.replace(/;m=[^;?]*/i, '')};m=${mode}${headers}`;
}

/** The RFC 6910 §10 application/call-completion body: `name: value` lines. */
export function parseCallCompletionBody(body: string): CallCompletionStatus | undefined {
  let state: string | undefined;
  let recallUri: string | undefined;
  for (const line of body.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'cc-state') state = value.toLowerCase();
    else if (name === 'cc-uri') recallUri = value.replace(/^<|>$/g, '');
  }
  if (state === undefined) return undefined;
  return { state, ...(recallUri !== undefined && recallUri.length > 0 ? { recallUri } : {}) };
}
