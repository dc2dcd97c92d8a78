/**
 * SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966) and an opaque form for every other
 * scheme (RFC 4475 §3.3.2: an unknown scheme is well-formed, the element answers 416).
 *
 * Values are held unescaped exactly once (RFC 4475 §3.1.1.3: `v%61lue%25%34%31` is
 * `value%41`, never `valueA`); the serializer escapes what the grammar requires.
 */
export interface SipParam {
  /** As written on the wire; compare with `paramName()` (case-insensitive, RFC 3261 §19.1.4). */
  readonly name: string;
  /** `null` for a flag parameter such as `;lr` or `;ob`. */
  readonly value: string | null;
}

export interface SipUri {
  readonly kind: 'sip';
  readonly scheme: 'sip' | 'sips';
  readonly user?: string;
  readonly password?: string;
  /** Host name, IPv4 address or IPv6 reference with its brackets (`[2001:db8::1]`, RFC 5118). */
  readonly host: string;
  readonly port?: number;
  readonly params: readonly SipParam[];
  /** URI headers (`?Route=%3Csip:x%3E`), RFC 3261 §19.1.1; never allowed in a Request-URI. */
  readonly headers: readonly SipParam[];
}

export interface TelUri {
  readonly kind: 'tel';
  readonly scheme: 'tel';
  /** The global or local number with visual separators as written (`+1-201-555-0123`). */
  readonly number: string;
  readonly params: readonly SipParam[];
}

/** Any other absoluteURI (RFC 3261 §25.1), kept opaque and forwarded unchanged. */
export interface AbsoluteUri {
  readonly kind: 'absolute';
  /** Lower-case scheme. */
  readonly scheme: string;
  /** Everything after `scheme:`, byte for byte. */
  readonly opaque: string;
}

export type Uri = SipUri | TelUri | AbsoluteUri;

export function isSipUri(uri: Uri): uri is SipUri {
  return uri.kind === 'sip';
}

/** First parameter named `name`, case-insensitively; `undefined` when absent, `null` for a flag. */
export function getParam(params: readonly SipParam[], name: string): string | null | undefined {
  const wanted = name.toLowerCase();
  for (const p of params) if (p.name.toLowerCase() === wanted) return p.value;
  return undefined;
}

export function hasParam(params: readonly SipParam[], name: string): boolean {
  return getParam(params, name) !== undefined;
}

/** A copy of `params` with `name` set to `value` (replacing the first occurrence, else appended). */
export function withParam(params: readonly SipParam[], name: string, value: string | null): SipParam[] {
  const wanted = name.toLowerCase();
  const out: SipParam[] = [];
  let replaced = false;
  for (const p of params) {
    if (p.name.toLowerCase() === wanted) {
      if (!replaced) out.push({ name, value });
      replaced = true;
    } else out.push(p);
  }
  if (!replaced) out.push({ name, value });
  return out;
}

export function withoutParam(params: readonly SipParam[], name: string): SipParam[] {
  const wanted = name.toLowerCase();
  return params.filter((p) => p.name.toLowerCase() !== wanted);
}

/** The host without IPv6 brackets, for socket APIs. */
export function socketHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
