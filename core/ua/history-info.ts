/**
 * CDIV notification to the caller (TS 24.604 §4.5.2.6.1, R-MMTEL-*): the History-Info (RFC 7044)
 * of a 181 (or any provisional/final response) lists the targets the call went to; an entry whose
 * hi-targeted-to-uri carries `cause=` (RFC 4458: 302 unconditional, 486 busy, 408 no reply,
 * 480/503 not reachable, 487 deflection...) is a diversion to that target. The reason of the
 * diversion is the Reason header (RFC 3326) escaped into the diverting (previous) entry's URI.
 */
import { getHeaders, splitList, type SipMessage } from '../sip/index.js';

export interface UaDiversion {
  /** The diverted-to URI, without its cause parameter or escaped headers. */
  readonly target: string;
  /** The RFC 4458 cause value (TS 24.604 table 4.5.2.6.2-1). */
  readonly cause: number;
  /** The `text` of the Reason escaped into the diverting entry, when there is one. */
  readonly reason?: string;
}

function uriOf(entry: string): string {
  const match = /<([^>]*)>/.exec(entry);
  return match?.[1] ?? entry.split(';')[0] ?? '';
}

function reasonTextOf(uri: string): string | undefined {
  const query = uri.indexOf('?');
  if (query < 0) return undefined;
  for (const pair of uri.slice(query + 1).split('&')) {
    const [name, value] = pair.split('=', 2);
    if (name?.toLowerCase() !== 'reason' || value === undefined) continue;
    const decoded = decodeURIComponent(value);
    return /;\s*text="([^"]*)"/i.exec(decoded)?.[1];
  }
  return undefined;
}

/** The diversions a response's History-Info reports, in order; empty when there is none. */
export function diversionsOf(message: SipMessage): UaDiversion[] {
  const list = getHeaders(message, 'History-Info').flatMap(splitList).filter((v) => v.length > 0);
  const diversions: UaDiversion[] = [];
  list.forEach((entry, i) => {
    const uri = uriOf(entry);
    const bare = uri.split('?')[0] ?? uri;
    const cause = /;cause=(\d{3})\b/i.exec(bare);
    if (cause?.[1] === undefined) return;
    const reason = i > 0 ? reasonTextOf(uriOf(list[i - 1] ?? '')) : undefined;
    diversions.push({ target: bare.replace(/;cause=\d{3}/i, ''), cause: Number(cause[1]), ...(reason !== undefined ? { reason } : {}) });
  });
  return diversions;
}
