import { getHeaders, removeHeader, setHeader, type SipHeader, type SipMessage } from '../sip/index.js';
import { isBearerAuthorization } from '../webauth/bearer-authorization.js';

/**
 * Headers a WIC may not set toward the IMS (R-ORIG-7, RFC 3325 trust domain): the P-CSCF
 * removes them and inserts its own where the procedures say so.
 */
const UNTRUSTED_FROM_WIC = new Set([
  'p-asserted-identity', 'p-charging-vector', 'p-charging-function-addresses', 'p-visited-network-id',
  'p-served-user', 'p-access-network-info', 'security-client', 'security-verify', 'security-server',
]);

/**
 * All of them start with `P-` or `Security-`: other lines are kept without lower-casing them.
 * A Bearer Authorization never leaves for the IMS either (R-REG-5, R-ORIG-7).
 */
function isUntrusted(h: SipHeader): boolean {
  const c = h.name.charCodeAt(0) | 0x20;
  if (c === 0x61) return isBearerAuthorization(h);
  return (c === 0x70 || c === 0x73) && UNTRUSTED_FROM_WIC.has(h.name.toLowerCase());
}

export function stripUntrustedHeaders<M extends SipMessage>(msg: M): M {
  // One pass; the message itself when it carries none (the usual case).
  if (!msg.headers.some(isUntrusted)) return msg;
  return { ...msg, headers: msg.headers.filter((h) => !isUntrusted(h)) };
}

/**
 * R-REG-15 / R-ORIG-6: `sec-agree` (RFC 3329) does not apply over WebSocket/TLS; remove it from
 * Require, Proxy-Require and Supported, dropping a header it leaves empty.
 */
const SEC_AGREE_CARRIERS = new Set(['require', 'proxy-require', 'supported']);

function carriesSecAgree(h: SipHeader): boolean {
  // Only names of the right length are lower-cased; the value test runs on those lines alone.
  const n = h.name.length;
  return (n === 7 || n === 9 || n === 13) && SEC_AGREE_CARRIERS.has(h.name.toLowerCase()) && /sec-agree/i.test(h.value);
}

export function stripSecAgree<M extends SipMessage>(msg: M): M {
  if (!msg.headers.some(carriesSecAgree)) return msg;
  let out = msg;
  for (const name of ['Require', 'Proxy-Require', 'Supported']) {
    const values = getHeaders(out, name);
    const kept = values.filter((v) => v.toLowerCase() !== 'sec-agree');
    if (kept.length === values.length) continue;
    out = kept.length === 0 ? removeHeader(out, name) : setHeader(out, name, kept.join(', '));
  }
  return out;
}

/** Adds option tags to a header, keeping the existing ones (no duplicates). */
export function withOptionTags<M extends SipMessage>(msg: M, name: string, tags: readonly string[]): M {
  const values = getHeaders(msg, name);
  const lower = new Set(values.map((v) => v.toLowerCase()));
  const added = tags.filter((t) => !lower.has(t));
  if (added.length === 0) return msg;
  return setHeader(msg, name, [...values, ...added].join(', '));
}
