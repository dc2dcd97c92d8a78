/**
 * JSON-RPC 2.0 framing of one WebSocket text message (F-JR-1): parse, tell a batch from a single
 * object, and check each entry's envelope before any method runs. Pure functions: the session
 * decides what to send.
 */
import type { JSONRPCID } from 'json-rpc-2.0';

export type FrameContent =
  | { readonly kind: 'parse-error'; readonly detail: string }
  | { readonly kind: 'single'; readonly entry: unknown }
  | { readonly kind: 'batch'; readonly entries: readonly unknown[] }
  | { readonly kind: 'empty-batch' }
  | { readonly kind: 'batch-too-long'; readonly length: number };

/**
 * Deepest nesting of arrays/objects accepted in one frame. No JSON-RPC method takes params
 * nested anywhere near this; a deeper value is refused before JSON.parse, so no later recursive
 * walk (schema validation, JSON.stringify in a log line) can overflow the stack (issue 11 guard).
 */
export const MAX_JSON_DEPTH = 64;

export function parseFrame(text: string, maxBatch: number): FrameContent {
  const depth = nestingDepthOver(text, MAX_JSON_DEPTH);
  if (depth) return { kind: 'parse-error', detail: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: 'parse-error', detail: (error as Error).message };
  }
  if (!Array.isArray(value)) return { kind: 'single', entry: value };
  // JSON-RPC 2.0 §6: an empty array is one Invalid Request, answered as a single object.
  if (value.length === 0) return { kind: 'empty-batch' };
  if (value.length > maxBatch) return { kind: 'batch-too-long', length: value.length };
  return { kind: 'batch', entries: value };
}

/**
 * Whether `[`/`{` nest deeper than `limit` outside strings: one linear pass over the text that
 * stops at the first level past the limit.
 */
function nestingDepthOver(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > limit) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}

/** A well-formed call: `id` undefined means a notification (JSON-RPC 2.0 §4.1: never answered). */
export interface RpcCall {
  readonly method: string;
  readonly params: unknown;
  readonly id: JSONRPCID | undefined;
}

export type EntryClass =
  | { readonly kind: 'call'; readonly call: RpcCall }
  | { readonly kind: 'invalid'; readonly id: JSONRPCID; readonly reason: string };

/** JSON-RPC 2.0 §4: checks the Request object; an invalid one is answered with the id when it is readable, else null. */
export function classifyEntry(entry: unknown): EntryClass {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    return { kind: 'invalid', id: null, reason: 'a request must be a JSON object' };
  }
  const request = entry as Record<string, unknown>;
  const hasId = Object.hasOwn(request, 'id');
  const id = request['id'];
  if (hasId && !isRpcId(id)) return { kind: 'invalid', id: null, reason: 'id must be a string, a number or null' };
  const answerId: JSONRPCID = hasId ? (id as JSONRPCID) : null;
  if (request['jsonrpc'] !== '2.0') return { kind: 'invalid', id: answerId, reason: 'jsonrpc must be exactly "2.0"' };
  if (typeof request['method'] !== 'string') return { kind: 'invalid', id: answerId, reason: 'method must be a string' };
  const params = request['params'];
  if (params !== undefined && (typeof params !== 'object' || params === null)) {
    // §4.2: params, when present, is a structured value (object or array).
    return { kind: 'invalid', id: answerId, reason: 'params must be an object or an array when present' };
  }
  return { kind: 'call', call: { method: request['method'], params, id: hasId ? (id as JSONRPCID) : undefined } };
}

function isRpcId(value: unknown): value is JSONRPCID {
  return value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/** A key that keeps 1 and "1" apart (they are different ids). */
export function idKey(id: JSONRPCID): string {
  return id === null ? 'null' : `${typeof id}:${id}`;
}
