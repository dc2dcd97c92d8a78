/**
 * XEP-0085 chat states ⇄ RFC 3994 isComposing (application/im-iscomposing+xml). RFC 3994 has two
 * states: active (composing) and idle; XEP-0085 composing ⇄ active, paused/active/inactive/gone ⇄ idle.
 */
export const IS_COMPOSING_TYPE = 'application/im-iscomposing+xml';

export type ChatState = 'active' | 'composing' | 'paused' | 'inactive' | 'gone';

export function isChatState(name: string): name is ChatState {
  return name === 'active' || name === 'composing' || name === 'paused' || name === 'inactive' || name === 'gone';
}

/** RFC 3994 §3: the isComposing document for a chat state. */
export function isComposingBody(state: ChatState): string {
  const value = state === 'composing' ? 'active' : 'idle';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>${value}</state><contenttype>text/plain</contenttype><refresh>60</refresh></isComposing>`;
}

/** The chat state an isComposing document announces (undefined when it is not one). */
export function chatStateOfIsComposing(body: string): ChatState | undefined {
  // A bounded match on a short document from the network: no entity, no parser needed.
  const match = /<(?:\w+:)?state>\s*(active|idle)\s*<\/(?:\w+:)?state>/.exec(body.slice(0, 4096));
  if (match === null) return undefined;
  return match[1] === 'active' ? 'composing' : 'paused';
}
