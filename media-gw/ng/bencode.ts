/**
 * Bencode (BEP 3), the dictionary format of rtpengine's "ng" control protocol: byte strings
 * (`4:spam`), integers (`i42e`), lists (`l...e`) and dictionaries (`d...e`).
 *
 * The decoder reads untrusted datagrams, so it is strict and bounded: every malformed input
 * (leading zeros, `-0`, truncated strings, non-string keys, duplicate keys, trailing bytes,
 * integers beyond 2^53, nesting or element counts over the limits) is a coded `BencodeError`,
 * never a crash, and the work is linear in the input length (no backtracking).
 *
 * Two deliberate departures from BEP 3, both because rtpengine does the same: the decoder
 * accepts dictionary keys in any order (rtpengine's ng docs: "the requirement ... that
 * dictionary keys must be present in lexicographical order is not currently honoured"), and
 * the encoder still sorts them (BEP 3 form, which rtpengine accepts), so encoding is
 * deterministic.
 */
import { EpcError } from '../../core/errors.js';

export type BencodeValue = string | Uint8Array | number | readonly BencodeValue[] | BencodeDict;
export interface BencodeDict {
  readonly [key: string]: BencodeValue;
}

/** Decoded values: byte strings come back as `string` (UTF-8) or `Buffer`, as asked. */
export type DecodedBencode<B> = B | number | DecodedBencode<B>[] | { [key: string]: DecodedBencode<B> };

export interface BencodeLimits {
  /** Largest input accepted, in bytes. Default 1 MiB (an ng datagram is at most 64 KiB). */
  readonly maxBytes?: number;
  /** Deepest list/dictionary nesting. Default 32 (rtpengine's deepest reply nests ~6). */
  readonly maxDepth?: number;
  /** Most values (of any kind) in one document. Default 100 000. */
  readonly maxValues?: number;
}

export class BencodeError extends EpcError {
  /** Byte offset in the input where decoding failed. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super('EPC_ERR_MEDIA', `malformed bencode at offset ${offset}: ${message}`);
    this.name = 'BencodeError';
    this.offset = offset;
  }
}

const CHAR_0 = 0x30;
const CHAR_9 = 0x39;
const CHAR_COLON = 0x3a;
const CHAR_MINUS = 0x2d;
const CHAR_D = 0x64;
const CHAR_E = 0x65;
const CHAR_I = 0x69;
const CHAR_L = 0x6c;

const utf8 = new TextDecoder('utf-8', { fatal: true });

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * Encodes one value. Strings are written as their UTF-8 bytes; numbers must be safe integers
 * (bencode has no fractions); `undefined` dictionary members are left out so optional fields
 * can be spread in.
 */
export function encodeBencode(value: BencodeValue | { readonly [key: string]: BencodeValue | undefined }): Buffer {
  const parts: Buffer[] = [];
  encodeInto(value, parts, 0);
  return Buffer.concat(parts);
}

function encodeInto(value: BencodeValue | { readonly [key: string]: BencodeValue | undefined }, parts: Buffer[], depth: number): void {
  if (depth > 64) throw new EpcError('EPC_ERR_MEDIA', 'bencode: value nested too deeply to encode');
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    parts.push(Buffer.from(`${bytes.length}:`, 'latin1'), bytes);
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new EpcError('EPC_ERR_MEDIA', `bencode: ${value} is not a safe integer`);
    parts.push(Buffer.from(`i${value === 0 ? 0 : value}e`, 'latin1')); // `value === 0` folds -0 into 0
  } else if (value instanceof Uint8Array) {
    parts.push(Buffer.from(`${value.length}:`, 'latin1'), Buffer.from(value.buffer, value.byteOffset, value.length));
  } else if (Array.isArray(value)) {
    parts.push(Buffer.from('l', 'latin1'));
    for (const item of value as readonly BencodeValue[]) encodeInto(item, parts, depth + 1);
    parts.push(Buffer.from('e', 'latin1'));
  } else {
    // BEP 3: keys sorted as raw byte strings.
    const dict = value as { readonly [key: string]: BencodeValue | undefined };
    const keys = Object.keys(dict)
      .filter((k) => dict[k] !== undefined)
      .map((k) => ({ k, bytes: Buffer.from(k, 'utf8') }))
      .sort((a, b) => Buffer.compare(a.bytes, b.bytes));
    parts.push(Buffer.from('d', 'latin1'));
    for (const { k, bytes } of keys) {
      parts.push(Buffer.from(`${bytes.length}:`, 'latin1'), bytes);
      encodeInto(dict[k] as BencodeValue, parts, depth + 1);
    }
    parts.push(Buffer.from('e', 'latin1'));
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

export interface DecodeOptions extends BencodeLimits {
  /** How byte strings come back: 'string' (UTF-8, the default; invalid UTF-8 is an error) or 'buffer'. */
  readonly bytes?: 'string' | 'buffer';
}

/** Decodes exactly one value filling the whole input. */
export function decodeBencode(data: Uint8Array, options?: DecodeOptions & { bytes?: 'string' }): DecodedBencode<string>;
export function decodeBencode(data: Uint8Array, options: DecodeOptions & { bytes: 'buffer' }): DecodedBencode<Buffer>;
export function decodeBencode(data: Uint8Array, options: DecodeOptions = {}): DecodedBencode<string> | DecodedBencode<Buffer> {
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  if (data.length > maxBytes) throw new BencodeError(`input of ${data.length} bytes exceeds the ${maxBytes}-byte limit`, 0);
  const decoder = new Decoder(Buffer.from(data.buffer, data.byteOffset, data.length), options);
  const value = decoder.value(0);
  if (decoder.offset !== data.length) throw new BencodeError('trailing bytes after the value', decoder.offset);
  return value;
}

class Decoder {
  offset = 0;
  readonly #data: Buffer;
  readonly #asBuffer: boolean;
  readonly #maxDepth: number;
  #valuesLeft: number;

  constructor(data: Buffer, options: DecodeOptions) {
    this.#data = data;
    this.#asBuffer = options.bytes === 'buffer';
    this.#maxDepth = options.maxDepth ?? 32;
    this.#valuesLeft = options.maxValues ?? 100_000;
  }

  value(depth: number): DecodedBencode<string> | DecodedBencode<Buffer> {
    if (--this.#valuesLeft < 0) throw new BencodeError('too many values', this.offset);
    const byte = this.#data[this.offset];
    if (byte === undefined) throw new BencodeError('unexpected end of input', this.offset);
    if (byte === CHAR_I) return this.#integer();
    if (byte >= CHAR_0 && byte <= CHAR_9) return this.#bytes();
    if (byte === CHAR_L || byte === CHAR_D) {
      if (depth >= this.#maxDepth) throw new BencodeError(`nesting deeper than ${this.#maxDepth}`, this.offset);
      return byte === CHAR_L ? this.#list(depth) : this.#dict(depth);
    }
    throw new BencodeError(`unexpected byte 0x${byte.toString(16).padStart(2, '0')}`, this.offset);
  }

  /** Reads decimal digits up to `terminator`; BEP 3: no leading zeros, no `-0`. */
  #decimal(terminator: number, allowNegative: boolean): number {
    const start = this.offset;
    const data = this.#data;
    let negative = false;
    if (allowNegative && data[this.offset] === CHAR_MINUS) { negative = true; this.offset++; }
    const digitsStart = this.offset;
    let value = 0;
    for (;;) {
      const byte = data[this.offset];
      if (byte === undefined) throw new BencodeError('unexpected end of input in a number', this.offset);
      if (byte === terminator) break;
      if (byte < CHAR_0 || byte > CHAR_9) throw new BencodeError('invalid digit', this.offset);
      value = value * 10 + (byte - CHAR_0);
      // Stop at once on absurd lengths: the digit loop stays linear and never loses precision.
      if (value > Number.MAX_SAFE_INTEGER) throw new BencodeError('integer beyond 2^53', start);
      this.offset++;
    }
    const digits = this.offset - digitsStart;
    if (digits === 0) throw new BencodeError('empty number', start);
    if (digits > 1 && data[digitsStart] === CHAR_0) throw new BencodeError('leading zero', start);
    if (negative && value === 0) throw new BencodeError('negative zero', start);
    this.offset++; // the terminator
    return negative ? -value : value;
  }

  #integer(): number {
    this.offset++; // 'i'
    return this.#decimal(CHAR_E, true);
  }

  #rawBytes(): Buffer {
    const start = this.offset;
    const length = this.#decimal(CHAR_COLON, false);
    const end = this.offset + length;
    if (end > this.#data.length) throw new BencodeError(`byte string of ${length} bytes runs past the end`, start);
    const bytes = this.#data.subarray(this.offset, end);
    this.offset = end;
    return bytes;
  }

  #bytes(): string | Buffer {
    const start = this.offset;
    const bytes = this.#rawBytes();
    if (this.#asBuffer) return Buffer.from(bytes); // a copy: the datagram buffer may be reused
    return this.#utf8(bytes, start);
  }

  #utf8(bytes: Buffer, start: number): string {
    try {
      return utf8.decode(bytes);
    } catch {
      throw new BencodeError('byte string is not valid UTF-8', start);
    }
  }

  #list(depth: number): DecodedBencode<string>[] | DecodedBencode<Buffer>[] {
    const start = this.offset;
    this.offset++; // 'l'
    const items: (DecodedBencode<string> | DecodedBencode<Buffer>)[] = [];
    for (;;) {
      const byte = this.#data[this.offset];
      if (byte === undefined) throw new BencodeError('unterminated list', start);
      if (byte === CHAR_E) { this.offset++; return items as DecodedBencode<string>[]; }
      items.push(this.value(depth + 1));
    }
  }

  #dict(depth: number): { [key: string]: DecodedBencode<string> } | { [key: string]: DecodedBencode<Buffer> } {
    const start = this.offset;
    this.offset++; // 'd'
    // A null-prototype object: keys such as `__proto__` from the wire stay plain data.
    const dict = Object.create(null) as { [key: string]: DecodedBencode<string> | DecodedBencode<Buffer> };
    for (;;) {
      const byte = this.#data[this.offset];
      if (byte === undefined) throw new BencodeError('unterminated dictionary', start);
      if (byte === CHAR_E) { this.offset++; return dict as { [key: string]: DecodedBencode<string> }; }
      if (byte < CHAR_0 || byte > CHAR_9) throw new BencodeError('dictionary key is not a byte string', this.offset);
      if (--this.#valuesLeft < 0) throw new BencodeError('too many values', this.offset);
      const keyStart = this.offset;
      const key = this.#utf8(this.#rawBytes(), keyStart);
      if (Object.prototype.hasOwnProperty.call(dict, key)) throw new BencodeError(`duplicate key "${key}"`, keyStart);
      const next = this.#data[this.offset];
      if (next === undefined || next === CHAR_E) throw new BencodeError(`key "${key}" has no value`, this.offset);
      dict[key] = this.value(depth + 1);
    }
  }
}

/** Narrowing helpers for decoded documents. */
export function isBencodeDict<B>(value: DecodedBencode<B> | undefined): value is { [key: string]: DecodedBencode<B> } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}
