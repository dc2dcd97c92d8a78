/**
 * CDIV notification to the caller (TS 24.604 §4.5.2.6.1, R-MMTEL-*): the History-Info (RFC 7044)
 * of a 181 (or any provisional/final response) lists the targets the call went to; an entry whose
 * hi-targeted-to-uri carries `cause=` (RFC 4458: 302 unconditional, 486 busy, 408 no reply,
 * 480/503 not reachable, 487 deflection...) is a diversion to that target. The reason of the
 * diversion is the Reason header (RFC 3326) escaped into the diverting (previous) entry's URI.
 */
import { getHeaders, type SipMessage } from '../sip/index.js';

export interface UaDiversion {
  /** The diverted-to URI, without its cause parameter or escaped headers. */
  readonly target: string;
  /** The RFC 4458 cause value (TS 24.604 table 4.5.2.6.2-1). */
  readonly cause: number;
  /** The `text` of the Reason escaped into the diverting entry, when there is one. */
  readonly reason?: string;
}

/** Splits a History-Info value list on the commas outside <...> and quotes. */
function entries(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    let depth = 0; let quoted = false; let start = 0;
    for (let i = 0; i < value.length; i++) {
      const c = value[i];
      if (c === '"') quoted = !quoted;
      else if (!quoted && c === '<') depth++;
      else if (!quoted && c === '>') depth--;
      else if (!quoted && depth === 0 && c === ',') { out.push(value.slice(start, i).trim()); start = i + 1; }
    }
    out.push(value.slice(start).trim());
  }
  return out.filter((e) => e.length > 0);
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
  const list = entries(getHeaders(message, 'History-Info'));
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
