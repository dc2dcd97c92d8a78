/**
 * The Origin check of a W2 upgrade (R-WS-4, RFC 6455 §10.2): browsers always send Origin, so
 * a handshake from a page outside the binding's allow-list (its prior agreement with a WWSF)
 * is refused with 403 before any upgrade. An empty list allows any Origin. With a non-empty
 * list a handshake without Origin is refused too: it cannot be matched against the agreement
 * (non-browser clients can send the header).
 */

/** RFC 6454 §6.2 serialisation: lower-case scheme and host, default port dropped. */
export function normaliseOrigin(origin: string): string {
  if (origin === 'null') return origin; // an opaque origin (sandboxed frame, file:) only equals itself
  try {
    const url = new URL(origin);
    return url.origin === 'null' ? origin : url.origin;
  } catch {
    return origin;
  }
}

export function isOriginAllowed(origin: string | undefined, allowList: readonly string[]): boolean {
  if (allowList.length === 0) return true;
  if (origin === undefined) return false;
  const wanted = normaliseOrigin(origin);
  return allowList.some((allowed) => normaliseOrigin(allowed) === wanted);
}
