/**
 * RFC 7247 §6: XMPP stanza error conditions (RFC 6120 §8.3.3) ⇄ SIP status codes, for MESSAGE
 * and other requests the gateway interworks. [U] The two tables below were written from the
 * RFC as remembered: the RFC text was not in the stored sources when this was written
 * (spec-digest §14 style); confirm before relying on a rarely used row.
 */
export const STANZA_ERROR_CONDITIONS = [
  'bad-request', 'conflict', 'feature-not-implemented', 'forbidden', 'gone', 'internal-server-error', 'item-not-found',
  'jid-malformed', 'not-acceptable', 'not-allowed', 'not-authorized', 'policy-violation', 'recipient-unavailable',
  'redirect', 'registration-required', 'remote-server-not-found', 'remote-server-timeout', 'resource-constraint',
  'service-unavailable', 'subscription-required', 'undefined-condition', 'unexpected-request',
] as const;

export type StanzaErrorCondition = (typeof STANZA_ERROR_CONDITIONS)[number];

/** RFC 6120 §8.3.2 error types. */
export type StanzaErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

export interface StanzaErrorMapping {
  readonly condition: StanzaErrorCondition;
  /** The type RFC 6120 §8.3.3 gives the condition. */
  readonly type: StanzaErrorType;
}

/** RFC 6120 §8.3.3: the error type each defined condition carries. */
const TYPE_OF: Readonly<Record<StanzaErrorCondition, StanzaErrorType>> = {
  'bad-request': 'modify', conflict: 'cancel', 'feature-not-implemented': 'cancel', forbidden: 'auth', gone: 'cancel',
  'internal-server-error': 'cancel', 'item-not-found': 'cancel', 'jid-malformed': 'modify', 'not-acceptable': 'modify',
  'not-allowed': 'cancel', 'not-authorized': 'auth', 'policy-violation': 'modify', 'recipient-unavailable': 'wait',
  redirect: 'modify', 'registration-required': 'auth', 'remote-server-not-found': 'cancel', 'remote-server-timeout': 'wait',
  'resource-constraint': 'wait', 'service-unavailable': 'cancel', 'subscription-required': 'auth', 'undefined-condition': 'cancel',
  'unexpected-request': 'wait',
};

/** RFC 7247 §6.2 (SIP response code -> XMPP error condition). [U] */
const FROM_SIP: ReadonlyMap<number, StanzaErrorCondition> = new Map<number, StanzaErrorCondition>([
  [300, 'redirect'],
  [400, 'bad-request'], [401, 'not-authorized'], [402, 'bad-request'], [403, 'forbidden'], [404, 'item-not-found'],
  [405, 'feature-not-implemented'], [406, 'not-acceptable'], [407, 'not-authorized'], [408, 'remote-server-timeout'],
  [410, 'gone'], [413, 'policy-violation'], [414, 'jid-malformed'], [415, 'bad-request'], [416, 'jid-malformed'],
  [420, 'feature-not-implemented'], [421, 'not-acceptable'], [423, 'resource-constraint'], [430, 'recipient-unavailable'],
  [433, 'policy-violation'], [436, 'bad-request'], [437, 'not-acceptable'], [438, 'not-acceptable'],
  [439, 'feature-not-implemented'], [440, 'policy-violation'], [470, 'forbidden'], [480, 'recipient-unavailable'],
  [481, 'item-not-found'], [482, 'not-acceptable'], [483, 'not-acceptable'], [484, 'item-not-found'],
  [485, 'item-not-found'], [486, 'recipient-unavailable'], [487, 'service-unavailable'], [488, 'not-acceptable'],
  [489, 'policy-violation'], [491, 'unexpected-request'], [493, 'bad-request'], [494, 'not-authorized'],
  [500, 'internal-server-error'], [501, 'feature-not-implemented'], [502, 'remote-server-not-found'],
  [503, 'service-unavailable'], [504, 'remote-server-timeout'], [505, 'not-acceptable'], [513, 'policy-violation'],
  [600, 'service-unavailable'], [603, 'service-unavailable'], [604, 'item-not-found'], [606, 'not-acceptable'],
]);

/**
 * A SIP error response -> the stanza error to return to the XMPP sender. A status missing from
 * the table is read as the x00 of its class (RFC 3261 §8.1.3.2), so 499 is bad-request.
 */
export function stanzaErrorForSipStatus(status: number): StanzaErrorMapping {
  const condition = (status >= 300 && status < 400 ? 'redirect' : FROM_SIP.get(status))
    ?? FROM_SIP.get(Math.floor(status / 100) * 100)
    ?? 'undefined-condition';
  return { condition, type: TYPE_OF[condition] };
}

/** RFC 7247 §6.1 (XMPP error condition -> SIP response code). [U] */
const TO_SIP: Readonly<Record<StanzaErrorCondition, number>> = {
  'bad-request': 400, conflict: 400, 'feature-not-implemented': 501, forbidden: 403, gone: 410,
  'internal-server-error': 500, 'item-not-found': 404, 'jid-malformed': 400, 'not-acceptable': 406, 'not-allowed': 405,
  'not-authorized': 401, 'policy-violation': 403, 'recipient-unavailable': 480, redirect: 302,
  'registration-required': 400, 'remote-server-not-found': 404, 'remote-server-timeout': 408, 'resource-constraint': 500,
  'service-unavailable': 503, 'subscription-required': 400, 'undefined-condition': 400, 'unexpected-request': 491,
};

export function sipStatusForStanzaError(condition: StanzaErrorCondition): number {
  return TO_SIP[condition];
}
