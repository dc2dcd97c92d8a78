/**
 * The framing messages a server sends (RFC 7395 §3.3-3.6): the <open/> reply, <close/> (plain
 * or with a see-other-uri redirect) and a stream error, each its own WebSocket message.
 */
import { EpcError } from '../../../core/contract/index.js';
import { xmlElement } from './element.js';
import { NS } from './namespaces.js';
import { serializeElement } from './serialize.js';
import type { StreamErrorCondition } from './stream-error.js';

export interface OpenReply {
  /** The domain the server serves (RFC 7395 §3.4: `from`). */
  readonly from: string;
  /** The stream id, fresh for every stream including restarts (RFC 6120 §4.7.3). */
  readonly id: string;
  readonly lang?: string;
}

/** RFC 7395 §3.4: the server's answer to the client's <open/>. */
export function openFrame(reply: OpenReply): string {
  return serializeElement(xmlElement('open', NS.framing, {
    from: reply.from, id: reply.id, 'xml:lang': reply.lang ?? 'en', version: '1.0',
  }));
}

/**
 * RFC 7395 §3.6: <close/>; with `seeOtherUri`, the §3.6.1 redirect. The URI must be a WebSocket
 * URI (ws: or wss:); anything else would send the client to a different kind of endpoint.
 */
export function closeFrame(seeOtherUri?: string): string {
  if (seeOtherUri !== undefined && !isWebSocketUri(seeOtherUri)) {
    throw new EpcError('EPC_ERR_INVALID_STATE', `see-other-uri must be a ws: or wss: URI, not ${seeOtherUri}`);
  }
  return serializeElement(xmlElement('close', NS.framing, { 'see-other-uri': seeOtherUri }));
}

function isWebSocketUri(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'wss:' || url.protocol === 'ws:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * RFC 6120 §4.9.2 stream error, written in the unprefixed form RFC 7395 §3.3.3 allows
 * (`<error xmlns="http://etherx.jabber.org/streams">`). `text` is optional human-readable text;
 * never put peer input in it.
 */
export function streamErrorFrame(condition: StreamErrorCondition, text?: string): string {
  const children = [xmlElement(condition, NS.streamErrors)];
  if (text !== undefined) children.push(xmlElement('text', NS.streamErrors, { 'xml:lang': 'en' }, [], text));
  return serializeElement(xmlElement('error', NS.stream, {}, children));
}

/**
 * R-XWS-7 (RFC 7395 §3.5-3.6): a stream error is fatal; it goes in its own message, followed by
 * <close/> in another. Send them in this order, then wait for the peer's <close/> or close the
 * WebSocket.
 */
export function streamErrorFrames(condition: StreamErrorCondition, text?: string): readonly [string, string] {
  return [streamErrorFrame(condition, text), closeFrame()];
}
