/**
 * rtpengine's "ng" control protocol on the wire (rtpengine docs/ng_control_protocol.md):
 * one datagram is `<cookie> <bencoded dictionary>`. The cookie matches a reply to its request
 * and identifies retransmissions; requests carry `command`, replies carry `result` (`ok`,
 * `pong` for ping, or `error` with `error-reason`).
 *
 * This module maps the typed commands of control.ts to and from those dictionaries, for both
 * ends: the client (core/pcscf/alg) encodes requests and decodes replies, the server
 * (ng-server.ts) decodes requests and encodes replies. Both ends use the key spellings a
 * Kamailio rtpengine module sends (`transport-protocol`, `rtcp-mux`, `media-address`...), and
 * the decoder also accepts rtpengine's documented space spellings (`transport protocol`).
 */
import { EpcError } from '../../core/errors.js';
import { decodeBencode, encodeBencode, isBencodeDict, type BencodeDict, type BencodeValue, type DecodedBencode } from './bencode.js';
import type {
  DtlsMode, IceMode, NgAnswerRequest, NgDeleteRequest, NgMediaOptions, NgOfferRequest, NgQueryRequest, NgQueryResult,
  NgSdpResult, RtcpMuxFlag,
} from './control.js';

export type NgCommandName = 'ping' | 'offer' | 'answer' | 'delete' | 'query';

export type NgRequest =
  | { readonly command: 'ping' }
  | ({ readonly command: 'offer' } & NgOfferRequest)
  | ({ readonly command: 'answer' } & NgAnswerRequest)
  | ({ readonly command: 'delete' } & NgDeleteRequest)
  | ({ readonly command: 'query' } & NgQueryRequest);

/** What a successful reply carries, per command. */
export interface NgReplyOf {
  readonly ping: undefined;
  readonly offer: NgSdpResult;
  readonly answer: NgSdpResult;
  readonly delete: undefined;
  readonly query: NgQueryResult;
}

type WireDict = { [key: string]: DecodedBencode<string> };

/** A request or reply that does not follow the protocol; its message is the `error-reason`. */
export class NgProtocolError extends EpcError {
  constructor(message: string) {
    super('EPC_ERR_MEDIA', message);
    this.name = 'NgProtocolError';
  }
}

// ---------------------------------------------------------------------------------------------
// Framing

/** rtpengine takes everything before the first space as the cookie; we also bound and check it. */
const MAX_COOKIE_LENGTH = 128;
/** An ng datagram: UDP payloads stop at 65 507 bytes. */
export const MAX_NG_DATAGRAM = 65_507;

export interface NgFrame {
  readonly cookie: string;
  readonly dict: WireDict;
}

/** Splits `<cookie> <dictionary>`. Throws NgProtocolError when no usable cookie is present. */
export function splitCookie(datagram: Uint8Array): { cookie: string; body: Buffer } {
  const data = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.length);
  const space = data.indexOf(0x20);
  if (space <= 0 || space > MAX_COOKIE_LENGTH) throw new NgProtocolError('ng message has no cookie');
  for (let i = 0; i < space; i++) {
    const byte = data[i] as number;
    if (byte < 0x21 || byte > 0x7e) throw new NgProtocolError('ng cookie must be printable ASCII');
  }
  return { cookie: data.toString('latin1', 0, space), body: data.subarray(space + 1) };
}

/** Parses one datagram; the dictionary must be a bencoded dictionary (JSON is not offered). */
export function parseNgFrame(datagram: Uint8Array): NgFrame {
  if (datagram.length > MAX_NG_DATAGRAM) throw new NgProtocolError('ng message too large');
  const { cookie, body } = splitCookie(datagram);
  const dict = decodeBencode(body, { maxBytes: MAX_NG_DATAGRAM });
  if (!isBencodeDict(dict)) throw new NgProtocolError('ng message body is not a dictionary');
  return { cookie, dict };
}

export function formatNgFrame(cookie: string, dict: BencodeDict | { readonly [key: string]: BencodeValue | undefined }): Buffer {
  return Buffer.concat([Buffer.from(`${cookie} `, 'latin1'), encodeBencode(dict)]);
}

// ---------------------------------------------------------------------------------------------
// Requests

function mediaOptionsToWire(o: NgMediaOptions): { [key: string]: BencodeValue | undefined } {
  return {
    'transport-protocol': o.transportProtocol,
    ICE: o.ice,
    DTLS: o.dtls,
    'DTLS-reverse': o.dtlsReverse,
    'rtcp-mux': o.rtcpMux,
    replace: o.replace,
    direction: o.direction,
    'media-address': o.mediaAddress,
    flags: o.flags,
  };
}

/** The wire dictionary of a request (without the cookie). */
export function encodeNgRequest(request: NgRequest): { [key: string]: BencodeValue | undefined } {
  switch (request.command) {
    case 'ping':
      return { command: 'ping' };
    case 'offer':
      return { command: 'offer', 'call-id': request.callId, 'from-tag': request.fromTag, sdp: request.sdp, ...mediaOptionsToWire(request) };
    case 'answer':
      return {
        command: 'answer', 'call-id': request.callId, 'from-tag': request.fromTag, 'to-tag': request.toTag, sdp: request.sdp,
        ...mediaOptionsToWire(request),
      };
    case 'delete':
      return { command: 'delete', 'call-id': request.callId, 'from-tag': request.fromTag, 'to-tag': request.toTag };
    case 'query':
      return { command: 'query', 'call-id': request.callId };
  }
}

/** Looks a key up under its hyphen spelling or rtpengine's space spelling. */
function field(dict: WireDict, key: string): DecodedBencode<string> | undefined {
  return dict[key] ?? (key.includes('-') ? dict[key.replaceAll('-', ' ')] : undefined);
}

function optionalString(dict: WireDict, key: string): string | undefined {
  const value = field(dict, key);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new NgProtocolError(`"${key}" must be a string`);
  return value;
}

function requiredString(dict: WireDict, key: string, missing: string): string {
  const value = optionalString(dict, key);
  if (value === undefined || value === '') throw new NgProtocolError(missing);
  return value;
}

function optionalStringList(dict: WireDict, key: string): string[] | undefined {
  const value = field(dict, key);
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
    throw new NgProtocolError(`"${key}" must be a list of strings`);
  }
  return value;
}

function oneOf<T extends string>(dict: WireDict, key: string, allowed: readonly T[], aliases: Readonly<Record<string, T>> = {}): T | undefined {
  const value = optionalString(dict, key);
  if (value === undefined) return undefined;
  const resolved = (allowed as readonly string[]).includes(value) ? value as T : aliases[value];
  if (resolved === undefined) throw new NgProtocolError(`unsupported ${key} value "${value}"`);
  return resolved;
}

const TRANSPORT_PROTOCOLS = ['RTP/AVP', 'RTP/AVPF', 'UDP/TLS/RTP/SAVP', 'UDP/TLS/RTP/SAVPF'] as const;
const ICE_MODES: readonly IceMode[] = ['remove', 'force', 'default'];
const DTLS_MODES: readonly DtlsMode[] = ['off', 'passive', 'active'];
const DTLS_REVERSE_MODES: readonly ('active' | 'passive')[] = ['passive', 'active'];
const RTCP_MUX_FLAGS: readonly RtcpMuxFlag[] = ['offer', 'demux', 'accept', 'require'];

/** Adds `key: value` only when defined (exactOptionalPropertyTypes: no explicit undefined). */
function put<T extends object, K extends string, V>(target: T, key: K, value: V | undefined): T & { [P in K]?: V } {
  if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  return target as T & { [P in K]?: V };
}

function decodeMediaOptions(dict: WireDict): NgMediaOptions {
  const options: { -readonly [K in keyof NgMediaOptions]: NgMediaOptions[K] } = {};
  put(options, 'transportProtocol', oneOf(dict, 'transport-protocol', TRANSPORT_PROTOCOLS));
  put(options, 'ice', oneOf(dict, 'ICE', ICE_MODES));
  // rtpengine: `off`, `no` and `disable` all turn DTLS off.
  put(options, 'dtls', oneOf(dict, 'DTLS', DTLS_MODES, { no: 'off', disable: 'off' }));
  put(options, 'dtlsReverse', oneOf(dict, 'DTLS-reverse', DTLS_REVERSE_MODES));
  const rtcpMux = optionalStringList(dict, 'rtcp-mux');
  if (rtcpMux !== undefined) {
    const unknown = rtcpMux.find((f) => !(RTCP_MUX_FLAGS as readonly string[]).includes(f));
    if (unknown !== undefined) throw new NgProtocolError(`unsupported rtcp-mux value "${unknown}"`);
    options.rtcpMux = rtcpMux as RtcpMuxFlag[];
  }
  put(options, 'replace', optionalStringList(dict, 'replace'));
  const direction = optionalStringList(dict, 'direction');
  if (direction !== undefined) {
    // rtpengine: "a list of two strings", the interface of the sender, then of the recipient.
    if (direction.length !== 2) throw new NgProtocolError('"direction" must list exactly two interfaces');
    options.direction = [direction[0] as string, direction[1] as string];
  }
  put(options, 'mediaAddress', optionalString(dict, 'media-address'));
  put(options, 'flags', optionalStringList(dict, 'flags'));
  return options;
}

/** Reads a request dictionary; the NgProtocolError message is the reply's `error-reason`. */
export function decodeNgRequest(dict: WireDict): NgRequest {
  const command = optionalString(dict, 'command');
  if (command === undefined) throw new NgProtocolError('No command in message');
  switch (command) {
    case 'ping':
      return { command: 'ping' };
    case 'offer':
    case 'answer': {
      const callId = requiredString(dict, 'call-id', 'No call-id in message');
      const fromTag = requiredString(dict, 'from-tag', 'No from-tag in message');
      const sdp = requiredString(dict, 'sdp', 'No SDP body in message');
      const options = decodeMediaOptions(dict);
      if (command === 'offer') return { command, callId, fromTag, sdp, ...options };
      const toTag = requiredString(dict, 'to-tag', 'No to-tag in message');
      return { command, callId, fromTag, toTag, sdp, ...options };
    }
    case 'delete': {
      const request = { command, callId: requiredString(dict, 'call-id', 'No call-id in message') };
      put(request, 'fromTag', optionalString(dict, 'from-tag'));
      put(request, 'toTag', optionalString(dict, 'to-tag'));
      return request;
    }
    case 'query':
      return { command, callId: requiredString(dict, 'call-id', 'No call-id in message') };
    default:
      // rtpengine's own reply to an unknown command.
      throw new NgProtocolError('Unrecognized command');
  }
}

// ---------------------------------------------------------------------------------------------
// Replies

export function encodeNgError(reason: string): BencodeDict {
  return { result: 'error', 'error-reason': reason };
}

/** The wire dictionary of a successful reply. */
export function encodeNgReply<C extends NgCommandName>(command: C, reply: NgReplyOf[C]): BencodeDict {
  switch (command) {
    case 'ping':
      return { result: 'pong' };
    case 'offer':
    case 'answer':
      return { result: 'ok', sdp: (reply as NgSdpResult).sdp };
    case 'delete':
      return { result: 'ok' };
    case 'query':
      return { result: 'ok', ...encodeQueryResult(reply as NgQueryResult) };
  }
  throw new NgProtocolError(`unknown command ${String(command)}`);
}

/**
 * Reads a reply. `result: error` becomes an EpcError('EPC_ERR_MEDIA') carrying the
 * `error-reason`; a reply that does not fit the command is an NgProtocolError.
 */
export function decodeNgReply<C extends NgCommandName>(command: C, dict: WireDict): NgReplyOf[C] {
  const result = dict['result'];
  if (result === 'error') {
    const reason = dict['error-reason'];
    throw new EpcError('EPC_ERR_MEDIA', `ng ${command} failed: ${typeof reason === 'string' ? reason : 'no error-reason given'}`);
  }
  if (command === 'ping') {
    if (result !== 'pong' && result !== 'ok') throw new NgProtocolError(`ng ping: unexpected result ${JSON.stringify(result)}`);
    return undefined as NgReplyOf[C];
  }
  if (result !== 'ok') throw new NgProtocolError(`ng ${command}: unexpected result ${JSON.stringify(result)}`);
  switch (command) {
    case 'offer':
    case 'answer': {
      const sdp = dict['sdp'];
      if (typeof sdp !== 'string' || sdp === '') throw new NgProtocolError(`ng ${command}: reply has no SDP`);
      return { sdp } as NgReplyOf[C];
    }
    case 'delete':
      return undefined as NgReplyOf[C];
    default:
      return decodeQueryResult(dict) as NgReplyOf[C];
  }
}

// ---------------------------------------------------------------------------------------------
// Query results. rtpengine answers `query` with per-tag media and per-stream `stats` counting
// what arrived from that tag's endpoint. NgQueryResult keeps one row per tag.

const MS = 1000;

function encodeQueryResult(q: NgQueryResult): { [key: string]: BencodeValue } {
  const tags: { [tag: string]: BencodeValue } = {};
  const totals = { packets: 0, bytes: 0, errors: 0 };
  for (const s of q.streams) {
    totals.packets += s.packetsIn;
    totals.bytes += s.bytesIn;
    const stream: { [key: string]: BencodeValue } = {
      stats: { packets: s.packetsIn, bytes: s.bytesIn, errors: 0 },
      // Not in rtpengine 10.5's reply; ours carries it so `packetsOut` survives the wire.
      stats_out: { packets: s.packetsOut, bytes: s.bytesOut, errors: 0 },
      flags: ['RTP'],
    };
    if (s.lastPacketAt !== undefined) stream['last packet'] = Math.floor(s.lastPacketAt / MS);
    tags[s.tag] = { tag: s.tag, created: Math.floor(q.created / MS), medias: [{ index: 1, streams: [stream] }] };
  }
  return {
    created: Math.floor(q.created / MS),
    created_us: (q.created % MS) * 1000,
    tags,
    totals: { RTP: totals, RTCP: { packets: 0, bytes: 0, errors: 0 } },
  };
}

function count(value: DecodedBencode<string> | undefined, key: string): number {
  if (!isBencodeDict(value)) return 0;
  const n = value[key];
  return typeof n === 'number' ? n : 0;
}

function decodeQueryResult(dict: WireDict): NgQueryResult {
  const createdSeconds = dict['created'];
  if (typeof createdSeconds !== 'number') throw new NgProtocolError('ng query: reply has no "created"');
  const createdUs = typeof dict['created_us'] === 'number' ? dict['created_us'] : 0;
  const tagsDict = dict['tags'];
  const rows: { tag: string; packetsIn: number; bytesIn: number; packetsOut?: number; bytesOut?: number; lastPacketAt?: number; peers: string[] }[] = [];
  if (isBencodeDict(tagsDict)) {
    for (const [tag, entry] of Object.entries(tagsDict)) {
      if (!isBencodeDict(entry)) continue;
      const row: (typeof rows)[number] = { tag, packetsIn: 0, bytesIn: 0, peers: [] };
      let packetsOut = 0;
      let bytesOut = 0;
      let hasOut = false;
      let last = 0;
      for (const media of Array.isArray(entry['medias']) ? entry['medias'] : []) {
        if (!isBencodeDict(media)) continue;
        for (const stream of Array.isArray(media['streams']) ? media['streams'] : []) {
          if (!isBencodeDict(stream)) continue;
          row.packetsIn += count(stream['stats'], 'packets');
          row.bytesIn += count(stream['stats'], 'bytes');
          if (isBencodeDict(stream['stats_out'])) {
            hasOut = true;
            packetsOut += count(stream['stats_out'], 'packets');
            bytesOut += count(stream['stats_out'], 'bytes');
          }
          // rtpengine stamps `last packet` at signalling time too: only count it once packets came.
          const lastPacket = stream['last packet'];
          if (typeof lastPacket === 'number' && lastPacket > last && count(stream['stats'], 'packets') > 0) last = lastPacket;
        }
      }
      if (hasOut) { row.packetsOut = packetsOut; row.bytesOut = bytesOut; }
      if (last > 0) row.lastPacketAt = last * MS;
      // Who this tag talks to: `in dialogue with` (older rtpengine) or `subscribers` (10.x).
      const peer = entry['in dialogue with'];
      if (typeof peer === 'string') row.peers.push(peer);
      for (const s of Array.isArray(entry['subscribers']) ? entry['subscribers'] : []) {
        if (isBencodeDict(s) && typeof s['tag'] === 'string') row.peers.push(s['tag']);
      }
      rows.push(row);
    }
  }
  const byTag = new Map(rows.map((r) => [r.tag, r]));
  return {
    created: createdSeconds * MS + Math.floor(createdUs / 1000),
    streams: rows.map((r) => {
      // Without per-stream output counters, what went out toward a tag is what came in from
      // the tags it is in dialogue with (the relay forwards it).
      const peers = [...new Set(r.peers)].map((p) => byTag.get(p)).filter((p) => p !== undefined);
      const stream = {
        tag: r.tag,
        packetsIn: r.packetsIn,
        bytesIn: r.bytesIn,
        packetsOut: r.packetsOut ?? peers.reduce((n, p) => n + p.packetsIn, 0),
        bytesOut: r.bytesOut ?? peers.reduce((n, p) => n + p.bytesIn, 0),
      };
      return r.lastPacketAt === undefined ? stream : { ...stream, lastPacketAt: r.lastPacketAt };
    }),
  };
}
