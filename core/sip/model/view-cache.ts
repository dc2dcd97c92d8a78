import type { SipMessage } from './message.js';

/**
 * Parsed header views, computed once per (immutable) message. The parser primes the views it
 * validates anyway (Via, From, To, CSeq, Call-ID, Contact), so accessors cost nothing after it.
 */
const views = new WeakMap<SipMessage, Map<string, unknown>>();

export function cachedView<T>(msg: SipMessage, key: string, compute: () => T): T {
  let map = views.get(msg);
  if (map === undefined) {
    map = new Map();
    views.set(msg, map);
  }
  if (map.has(key)) return map.get(key) as T;
  const value = compute();
  map.set(key, value);
  return value;
}

export function primeViews(msg: SipMessage, entries: Map<string, unknown>): void {
  views.set(msg, entries);
}
