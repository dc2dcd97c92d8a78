import { skipQuoted } from './quoted.js';

/**
 * Splits a `#element` header value at top-level commas (RFC 3261 §7.3.1): commas inside
 * quoted strings or `<...>` do not split. Elements are trimmed; empty ones are kept so that
 * callers can reject `a,,b` where the grammar forbids it (RFC 4475 §3.1.2.1).
 */
export function splitList(value: string): string[] {
  if (value.indexOf(',') < 0) return [value.trim()];
  const out: string[] = [];
  let start = 0;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 34 /* " */) {
      i = skipQuoted(value, i) - 1;
    } else if (c === 60 /* < */) angle = true;
    else if (c === 62 /* > */) angle = false;
    else if (c === 44 /* , */ && !angle) {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out;
}
