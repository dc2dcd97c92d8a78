import { isIPv6 } from 'node:net';
import { malformed } from '../codec/parse-error.js';
import { getParam } from '../model/uri.js';
import type { Via } from '../model/views.js';
import { HOST, TOKEN, inClass, isDigit, skipWs } from './chars.js';
import { formatHeaderParams, parseHeaderParams } from './params.js';

function readToken(s: string, i: number, what: string): { text: string; end: number } {
  const start = i;
  while (i < s.length && inClass(TOKEN, s.charCodeAt(i))) i++;
  if (i === start) throw malformed(`missing ${what} in Via`);
  return { text: s.slice(start, i), end: i };
}

function expectSlash(s: string, i: number): number {
  i = skipWs(s, i);
  if (s.charCodeAt(i) !== 47 /* / */) throw malformed("expected '/' in Via protocol");
  return skipWs(s, i + 1);
}

/**
 * One via-parm: `protocol-name SLASH version SLASH transport LWS sent-by *(SEMI via-params)`
 * (RFC 3261 §20.42, LWS allowed around the slashes, RFC 4475 §3.1.1.1). Unknown transport
 * tokens are legal (RFC 4475 §3.1.1.10); `received` may be IPv6 with or without brackets
 * (RFC 5118 §4.5).
 */
export function parseVia(text: string): Via {
  let i = skipWs(text, 0);
  const name = readToken(text, i, 'protocol name');
  i = expectSlash(text, name.end);
  const version = readToken(text, i, 'protocol version');
  i = expectSlash(text, version.end);
  const transport = readToken(text, i, 'transport');
  i = transport.end;
  const afterTransport = i;
  i = skipWs(text, i);
  if (i === afterTransport) throw malformed('missing whitespace before Via sent-by');
  let host: string;
  if (text.charCodeAt(i) === 91) {
    const close = text.indexOf(']', i);
    if (close < 0 || !isIPv6(text.slice(i + 1, close))) throw malformed('invalid IPv6 reference in Via');
    host = text.slice(i, close + 1);
    i = close + 1;
  } else {
    const start = i;
    while (i < text.length && inClass(HOST, text.charCodeAt(i))) i++;
    host = text.slice(start, i);
    if (host.length === 0) throw malformed('missing sent-by host in Via');
  }
  let port: number | undefined;
  i = skipWs(text, i);
  if (text.charCodeAt(i) === 58) {
    i = skipWs(text, i + 1);
    const start = i;
    while (i < text.length && isDigit(text.charCodeAt(i))) i++;
    if (i === start || i - start > 5 || Number(text.slice(start, i)) > 65535) throw malformed('invalid port in Via');
    port = Number(text.slice(start, i));
  }
  const params = parseHeaderParams(text, i, 'Via');
  const branch = getParam(params, 'branch');
  const via: { -readonly [K in keyof Via]: Via[K] } = {
    protocol: `${name.text}/${version.text}`.toUpperCase(),
    transport: transport.text.toUpperCase(),
    host,
    params,
  };
  if (port !== undefined) via.port = port;
  if (typeof branch === 'string') via.branch = branch;
  return via;
}

export function formatVia(via: Via): string {
  const port = via.port !== undefined ? `:${via.port}` : '';
  return `${via.protocol}/${via.transport} ${via.host}${port}${formatHeaderParams(via.params)}`;
}
