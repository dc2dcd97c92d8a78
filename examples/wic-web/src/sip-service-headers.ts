/**
 * What the SIP WIC reads out of MMTel signalling itself (JsSIP hands over raw headers and bodies):
 * the diversions of a History-Info (TS 24.604 CDIV) and the counts of a message-summary (TS 24.606 MWI).
 */
import type { Diversion, MessageSummary } from './mmtel-types.js';

/**
 * RFC 7044 History-Info: the entries whose URI carries an RFC 4458 `cause` are the diversion
 * targets (TS 24.604 §4.5.2.6.2), in order. (The Reason of the retargeted entry is not read.)
 */
export function historyInfoDiversions(values: readonly string[]): Diversion[] {
  const diversions: Diversion[] = [];
  for (const entry of values.flatMap((v) => v.split(/,(?=\s*<)/))) {
    const uri = /<([^>]+)>/.exec(entry)?.[1];
    const cause = uri !== undefined ? /;cause=(\d{3})/.exec(uri)?.[1] : undefined;
    if (uri === undefined || cause === undefined) continue;
    diversions.push({ target: uri.replace(/[;?].*$/, ''), cause: Number(cause) });
  }
  return diversions;
}

/** RFC 3842 §5.2 message-summary: `Messages-Waiting: yes`, `Voice-Message: 2/8 (0/2)`. */
export function parseMessageSummary(body: string): MessageSummary | undefined {
  const waiting = /^Messages-Waiting:\s*(yes|no)/im.exec(body)?.[1];
  if (waiting === undefined) return undefined;
  let newMessages = 0;
  let oldMessages = 0;
  for (const [, n, o] of body.matchAll(/^[a-z-]+-Message:\s*(\d+)\/(\d+)/gim)) {
    newMessages += Number(n);
    oldMessages += Number(o);
  }
  return { waiting: waiting.toLowerCase() === 'yes', newMessages, oldMessages };
}
