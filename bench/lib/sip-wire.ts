/**
 * The load generator's own view of SIP text: a lean reader for the messages it receives and
 * nothing else. It trusts its peers (epcscf or Kamailio on loopback), so it only splits the
 * header block into lines and indexes header values by lower-case name; it does not validate.
 * Keeping the generator cheap matters: it shares the 2 cores of the bench machine with the
 * system under test, and the same generator drives both targets.
 */

/** A received SIP message as the generator needs it. */
export interface WireMessage {
  /** 0 for a request. */
  readonly status: number;
  /** The reason phrase of a response ('' for a request). */
  readonly reason: string;
  /** The request method, or the CSeq method of a response. */
  readonly method: string;
  /** The Request-URI of a request ('' for a response). */
  readonly requestUri: string;
  /** Lower-case full header name → values in order (one entry per header line). */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  readonly body: string;
}

// RFC 3261 §7.3.3: compact forms the peers may use.
const COMPACT: Readonly<Record<string, string>> = {
  v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type', k: 'supported',
};

export function readWireMessage(text: string): WireMessage {
  const headEnd = text.indexOf('\r\n\r\n');
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  const body = headEnd < 0 ? '' : text.slice(headEnd + 4);
  const lines = head.split('\r\n');
  const startLine = lines[0] ?? '';
  const headers = new Map<string, string[]>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const raw = line.slice(0, colon).trim().toLowerCase();
    const name = COMPACT[raw] ?? raw;
    const value = line.slice(colon + 1).trim();
    const list = headers.get(name);
    if (list) list.push(value); else headers.set(name, [value]);
  }
  const cseqMethod = (headers.get('cseq')?.[0] ?? '').split(/\s+/)[1] ?? '';
  if (startLine.startsWith('SIP/2.0 ')) {
    return { status: Number(startLine.slice(8, 11)), reason: startLine.slice(12), method: cseqMethod, requestUri: '', headers, body };
  }
  const [method = '', requestUri = ''] = startLine.split(' ');
  return { status: 0, reason: '', method, requestUri, headers, body };
}

export function firstHeader(message: WireMessage, name: string): string | undefined {
  return message.headers.get(name)?.[0];
}

export function allHeaders(message: WireMessage, name: string): readonly string[] {
  return message.headers.get(name) ?? [];
}

/** The branch parameter of the topmost Via (RFC 3261 §17.1.3: how a client matches responses). */
export function topBranch(message: WireMessage): string | undefined {
  const via = firstHeader(message, 'via');
  if (via === undefined) return undefined;
  const match = /;\s*branch=([^;,\s]+)/i.exec(via);
  return match?.[1];
}

/**
 * Splits comma-separated name-addr values (Record-Route may carry several in one line, as
 * epcscf's double Record-Route does) at commas outside <...> and quotes.
 */
export function splitNameAddrs(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    let depth = 0;
    let quoted = false;
    let start = 0;
    for (let i = 0; i < value.length; i++) {
      const ch = value[i];
      if (ch === '"' && value[i - 1] !== '\\') quoted = !quoted;
      else if (!quoted && ch === '<') depth++;
      else if (!quoted && ch === '>') depth--;
      else if (!quoted && depth === 0 && ch === ',') {
        out.push(value.slice(start, i).trim());
        start = i + 1;
      }
    }
    const last = value.slice(start).trim();
    if (last.length > 0) out.push(last);
  }
  return out;
}

/** The URI inside `<...>` of a name-addr, or the whole value up to the first ';'. */
export function uriOf(nameAddr: string): string {
  const open = nameAddr.indexOf('<');
  if (open >= 0) return nameAddr.slice(open + 1, nameAddr.indexOf('>', open));
  const semi = nameAddr.indexOf(';');
  return (semi < 0 ? nameAddr : nameAddr.slice(0, semi)).trim();
}

/** The value of `;tag=` in a From/To header. */
export function tagParam(value: string): string | undefined {
  const close = value.indexOf('>');
  const match = /;\s*tag=([^;\s]+)/i.exec(close >= 0 ? value.slice(close) : value);
  return match?.[1];
}

/** Joins header lines into a request or response with Content-Length (RFC 3261 §20.14). */
export function composeMessage(startLine: string, headers: readonly string[], body = ''): string {
  return `${startLine}\r\n${headers.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
