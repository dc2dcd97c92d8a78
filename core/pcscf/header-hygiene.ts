import { getHeaders, removeHeader, setHeader, type SipMessage } from '../sip/index.js';

/**
 * Headers a WIC may not set toward the IMS (R-ORIG-7, RFC 3325 trust domain): the P-CSCF
 * removes them and inserts its own where the procedures say so.
 */
const UNTRUSTED_FROM_WIC = [
  'P-Asserted-Identity', 'P-Charging-Vector', 'P-Charging-Function-Addresses', 'P-Visited-Network-ID',
  'P-Served-User', 'P-Access-Network-Info', 'Security-Client', 'Security-Verify', 'Security-Server',
];

export function stripUntrustedHeaders<M extends SipMessage>(msg: M): M {
  let out = msg;
  for (const name of UNTRUSTED_FROM_WIC) out = removeHeader(out, name);
  return out;
}

/**
 * R-REG-15 / R-ORIG-6: `sec-agree` (RFC 3329) does not apply over WebSocket/TLS; remove it from
 * Require, Proxy-Require and Supported, dropping a header it leaves empty.
 */
export function stripSecAgree<M extends SipMessage>(msg: M): M {
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
