/**
 * A SIP final status in words a user understands, with the status and reason phrase kept
 * for whoever has to look into it: "busy (SIP 486 Busy Here)". Web-token refusals carry their
 * own words in the reason phrase (403 "Token expired", R-REG-4), so those are shown as they are.
 */
const CALL_WORDS: Readonly<Record<number, string>> = {
  404: 'no such user', 408: 'no answer', 410: 'this number is gone', 480: 'not reachable right now', 430: 'not reachable right now',
  484: 'incomplete number', 486: 'busy', 487: 'cancelled', 488: 'the call\'s audio could not be agreed', 503: 'the service is unavailable',
  600: 'busy', 603: 'declined', 604: 'no such user',
};

/** `register-token`: a REGISTER carrying a web token (a challenge then means web login is not accepted). */
export function describeSipStatus(status: number, reason: string | undefined, context: 'call' | 'register' | 'register-token' | 'message'): string {
  const code = `SIP ${status}${reason ? ` ${reason}` : ''}`;
  if (reason !== undefined && /^Token /.test(reason)) return `${reason} (SIP ${status})`;
  if (context === 'register' && (status === 401 || status === 403)) return `wrong user name or password (${code})`;
  if (context === 'register-token' && (status === 401 || status === 407)) return `this eP-CSCF does not take web login tokens: it asked for an IMS password (${code})`;
  const words = CALL_WORDS[status];
  return words !== undefined ? `${words} (${code})` : code;
}
