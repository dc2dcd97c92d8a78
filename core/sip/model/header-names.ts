/** Compact header forms: RFC 3261 §7.3.3 (i f t v m l c k s e), RFC 6665 (o u), RFC 3515/3892 (r b), RFC 4028 (x), RFC 3841 (a j d), RFC 4474 (y n). */
const COMPACT: Readonly<Record<string, string>> = {
  i: 'Call-ID', f: 'From', t: 'To', v: 'Via', m: 'Contact', l: 'Content-Length',
  c: 'Content-Type', k: 'Supported', s: 'Subject', e: 'Content-Encoding', o: 'Event',
  r: 'Refer-To', b: 'Referred-By', x: 'Session-Expires', u: 'Allow-Events', a: 'Accept-Contact',
  j: 'Reject-Contact', d: 'Request-Disposition', y: 'Identity', n: 'Identity-Info',
};

/** Canonical spelling of the headers this stack and IMS use; others are title-cased per token. */
const CANONICAL_LIST = [
  'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow',
  'Allow-Events', 'Authentication-Info', 'Authorization', 'Call-ID', 'Call-Info', 'Contact',
  'Content-Disposition', 'Content-Encoding', 'Content-Language', 'Content-Length',
  'Content-Type', 'CSeq', 'Date', 'Error-Info', 'Event', 'Expires', 'Flow-Timer', 'From',
  'Geolocation', 'History-Info', 'Identity', 'Identity-Info', 'In-Reply-To', 'Max-Forwards',
  'Min-Expires', 'Min-SE', 'MIME-Version', 'Organization', 'P-Access-Network-Info',
  'P-Asserted-Identity', 'P-Asserted-Service', 'P-Associated-URI', 'P-Called-Party-ID',
  'P-Charging-Function-Addresses', 'P-Charging-Vector', 'P-Early-Media',
  'P-Preferred-Identity', 'P-Preferred-Service', 'P-Served-User', 'P-Visited-Network-ID',
  'Path', 'Priority', 'Privacy', 'Proxy-Authenticate', 'Proxy-Authorization', 'Proxy-Require',
  'RAck', 'Reason', 'Record-Route', 'Refer-To', 'Referred-By', 'Reject-Contact', 'Replaces',
  'Reply-To', 'Request-Disposition', 'Require', 'Retry-After', 'Route', 'RSeq',
  'Security-Client', 'Security-Server', 'Security-Verify', 'Server', 'Service-Route',
  'Session-Expires', 'SIP-ETag', 'SIP-If-Match', 'Subject', 'Subscription-State', 'Supported',
  'Timestamp', 'To', 'Unsupported', 'User-Agent', 'Via', 'Warning', 'WWW-Authenticate',
] as const;

const CANONICAL = new Map<string, string>(CANONICAL_LIST.map((n) => [n.toLowerCase(), n]));

/**
 * Headers whose grammar is a comma-separated list (`#element`), so that several values on one
 * line are the same as several lines (RFC 3261 §7.3.1). Others (WWW-Authenticate, Date,
 * Authorization, ...) hold commas inside one value and are never split.
 */
const LIST_HEADERS = new Set([
  'accept', 'accept-contact', 'accept-encoding', 'accept-language', 'alert-info', 'allow',
  'allow-events', 'call-info', 'contact', 'content-encoding', 'content-language', 'error-info',
  'history-info', 'in-reply-to', 'p-asserted-identity', 'p-associated-uri',
  'p-charging-function-addresses', 'p-early-media', 'p-preferred-identity', 'path',
  'proxy-require', 'reason', 'record-route', 'reject-contact', 'require', 'route',
  'security-client', 'security-server', 'security-verify', 'service-route', 'supported',
  'unsupported', 'via', 'warning', 'geolocation', 'p-visited-network-id',
]);

/** Headers that may appear at most once (RFC 3261 §20 "single" plus Content-Length). */
export const SINGLE_VALUE_HEADERS: ReadonlySet<string> = new Set([
  'call-id', 'cseq', 'from', 'to', 'max-forwards', 'content-length', 'content-type',
]);

/** Canonical header name: compact forms expanded, known names spelt as the RFCs do. */
export function canonicalHeaderName(raw: string): string {
  if (raw.length === 1) {
    const full = COMPACT[raw.toLowerCase()];
    if (full) return full;
  }
  const lower = raw.toLowerCase();
  const known = CANONICAL.get(lower);
  if (known) return known;
  // Unknown header: keep its spelling; it is forwarded unchanged (RFC 3261 §16.6 step 1).
  return raw;
}

/** Canonical name from an already computed `headerKey` (saves a second lower-casing). */
export function canonicalNameForKey(key: string, raw: string): string {
  return CANONICAL.get(key) ?? raw;
}

/** The lower-case long form, the key used for all header lookups. */
export function headerKey(raw: string): string {
  if (raw.length === 1) {
    const full = COMPACT[raw.toLowerCase()];
    if (full) return full.toLowerCase();
  }
  return raw.toLowerCase();
}

export function isListHeader(key: string): boolean {
  return LIST_HEADERS.has(key);
}
