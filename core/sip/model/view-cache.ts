import type { SipMessage } from './message.js';

/**
 * Parsed header views, computed once per (immutable) message. The parser primes the views it
 * validates anyway (Via, From, To, CSeq, Call-ID, Contact), so accessors cost nothing after it.
 *
 * The cache is a non-enumerable symbol property: invisible to equality checks and JSON, and
 * dropped by `{ ...msg }` (so an edited copy never sees stale views). A WeakMap would do the
 * same, but its ephemeron entries cost the GC dearly at 100k messages/s.
 */
const VIEWS = Symbol('epcscf.sip.views');

type Views = Record<string, unknown>;
type WithViews = { [VIEWS]?: Views };

export function cachedView<T>(msg: SipMessage, key: string, compute: () => T): T {
  let views = (msg as WithViews)[VIEWS];
  if (views === undefined) {
    views = {};
    primeViews(msg, views);
  } else if (key in views) {
    return views[key] as T;
  }
  const value = compute();
  views[key] = value;
  return value;
}

export function primeViews(msg: SipMessage, views: Views): void {
  Object.defineProperty(msg, VIEWS, { value: views, writable: true, enumerable: false, configurable: true });
}
