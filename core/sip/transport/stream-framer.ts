import { EpcError } from '../../errors.js';

/** 64 KiB: far above any sane SIP message on Mw, small enough to bound per-connection memory. */
export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024;

/** Content-Length values longer than this cannot fit any size limit we accept. */
const MAX_LENGTH_DIGITS = 10;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

export interface StreamFramerOptions {
  /** Largest message (headers + body) accepted; larger ones are a framing fault. */
  readonly maxMessageSize?: number;
  /** One complete message: start-line, headers, empty line and exactly Content-Length body bytes. */
  readonly onMessage: (message: Buffer) => void;
  /**
   * RFC 5626 §3.5.1 / §4.4.1: one or more double-CRLF pings arrived in the bytes of one `push()`;
   * the connection answers with one CRLF. Called at most once per push: a client keeps one ping
   * outstanding, so pings read together are one liveness question (or a flood), and one pong per
   * read bounds the work and the bytes a keep-alive flood can cost (issue 11 #6).
   */
  readonly onPing?: () => void;
  /**
   * A complete header section declares a message past `maxMessageSize` (RFC 3261 §21.5.14: 513
   * Message Too Large can be answered from these header bytes). Called just before `push()`
   * throws `EPC_ERR_SIP_TOO_LARGE`; the bytes are a view valid only during the call.
   */
  readonly onOversized?: (header: Buffer) => void;
}

type Phase = 'between' | 'headers' | 'body';

/**
 * Cuts a TCP/TLS byte stream into SIP messages (RFC 3261 §18.3: the end of the header section
 * is the first empty line, the body is Content-Length bytes long).
 *
 * It only scans bytes for CRLFCRLF and the Content-Length value; the message itself is parsed
 * later. Every byte is examined a bounded number of times and the reassembly buffer grows by
 * doubling, so a message delivered one byte per chunk costs O(n). Whole messages inside one
 * chunk are handed out as zero-copy views of that chunk.
 *
 * `push()` throws `EpcError('EPC_ERR_SIP_FRAMING' | 'EPC_ERR_SIP_TOO_LARGE')` when the stream
 * can no longer be framed; the framer then stays failed and the caller must close the
 * connection (there is no way to find the next message boundary again).
 */
export class StreamFramer {
  readonly maxMessageSize: number;
  #onMessage: (message: Buffer) => void;
  #onPing: (() => void) | undefined;
  #onOversized: ((header: Buffer) => void) | undefined;
  /** Pings seen during the current push, answered once after it. */
  #pinged = false;

  /** Bytes not yet handed out; `#buf[#start..#end)` is live, `#start` is the message start. */
  #buf: Buffer = Buffer.alloc(0);
  #start = 0;
  #end = 0;
  /** Whether `#buf` is our own reassembly buffer (true) or a caller's chunk (false). */
  #owned = false;

  #phase: Phase = 'between';
  /** Offset from `#start` where the CRLFCRLF search resumes. */
  #scanned = 0;
  #headerLength = 0;
  #bodyLength = 0;
  #failure: EpcError | undefined;

  /** Diagnostics (and the O(n) test): bytes searched for the header end and bytes copied. */
  #bytesExamined = 0;
  #bytesCopied = 0;

  constructor(options: StreamFramerOptions) {
    this.maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.#onMessage = options.onMessage;
    this.#onPing = options.onPing;
    this.#onOversized = options.onOversized;
  }

  get bytesExamined(): number { return this.#bytesExamined; }
  get bytesCopied(): number { return this.#bytesCopied; }
  /** Bytes received but not yet part of an emitted message. */
  get bufferedBytes(): number { return this.#end - this.#start; }
  get failed(): boolean { return this.#failure !== undefined; }

  push(chunk: Buffer): void {
    if (this.#failure) throw this.#failure;
    if (chunk.length === 0) return;
    if (this.#end === this.#start) {
      // Nothing pending: frame straight out of the caller's chunk (zero copy).
      this.#buf = chunk;
      this.#start = 0;
      this.#end = chunk.length;
      this.#owned = false;
    } else {
      this.#append(chunk);
    }
    this.#pinged = false;
    try {
      this.#drain();
    } catch (err) {
      this.#failure = err instanceof EpcError ? err : new EpcError('EPC_ERR_SIP_FRAMING', String(err), { cause: err });
      this.#release();
      throw this.#failure;
    }
    this.#keepRemainder();
    if (this.#pinged) this.#onPing?.();
  }

  #drain(): void {
    for (;;) {
      if (this.#phase === 'between' && !this.#skipKeepAlives()) return;
      if (this.#phase === 'headers' && !this.#findHeaderEnd()) return;
      if (this.#phase === 'body') {
        const total = this.#headerLength + this.#bodyLength;
        if (this.#end - this.#start < total) return;
        const message = this.#buf.subarray(this.#start, this.#start + total);
        this.#start += total;
        this.#phase = 'between';
        this.#scanned = 0;
        if (this.#owned) {
          // The message is a view of our buffer: never write into that memory again.
          this.#owned = false;
        }
        this.#onMessage(message);
      }
    }
  }

  /**
   * RFC 5626 §3.5.1 keep-alives between messages: CRLFCRLF is a ping (answered with a CRLF
   * pong), a lone CRLF (a pong, or RFC 3261 §7.5 leading noise) is ignored. A single CRLF at the
   * end of the data may be the first half of a ping, so it waits for more bytes.
   * Returns true when a message start-line begins at `#start`.
   */
  #skipKeepAlives(): boolean {
    const buf = this.#buf;
    for (;;) {
      const available = this.#end - this.#start;
      if (available === 0) return false;
      if (buf[this.#start] !== CR) break;
      if (available < 2) return false;
      if (buf[this.#start + 1] !== LF) break;
      if (available < 3) return false;
      if (buf[this.#start + 2] === CR) {
        if (available < 4) return false;
        if (buf[this.#start + 3] === LF) {
          this.#start += 4;
          this.#pinged = true;
          continue;
        }
      }
      this.#start += 2; // a lone CRLF
    }
    this.#phase = 'headers';
    this.#scanned = 0;
    return true;
  }

  #findHeaderEnd(): boolean {
    const buf = this.#buf;
    const available = this.#end - this.#start;
    // Resume three bytes back so a CRLFCRLF split across chunks is still found.
    let i = this.#start + Math.max(0, this.#scanned - 3);
    const limit = this.#end - 3;
    this.#bytesExamined += Math.max(0, this.#end - i);
    let found = -1;
    while (i < limit) {
      const at = buf.indexOf(CR, i);
      if (at === -1 || at >= limit) break;
      if (buf[at + 1] === LF && buf[at + 2] === CR && buf[at + 3] === LF) { found = at; break; }
      i = at + 1;
    }
    if (found === -1) {
      this.#scanned = available;
      if (available > this.maxMessageSize) {
        throw new EpcError('EPC_ERR_SIP_TOO_LARGE',
          `SIP header section not terminated within ${this.maxMessageSize} bytes (RFC 3261 §18.3: no empty line found)`);
      }
      return false;
    }
    this.#headerLength = found + 4 - this.#start;
    this.#bodyLength = readContentLength(buf, this.#start, found + 2);
    const total = this.#headerLength + this.#bodyLength;
    if (total > this.maxMessageSize) {
      this.#onOversized?.(buf.subarray(this.#start, found + 4));
      throw new EpcError('EPC_ERR_SIP_TOO_LARGE',
        `SIP message of ${total} bytes exceeds the ${this.maxMessageSize}-byte limit`);
    }
    this.#phase = 'body';
    return true;
  }

  #append(chunk: Buffer): void {
    const live = this.#end - this.#start;
    const needed = live + chunk.length;
    if (!this.#owned || this.#start + needed > this.#buf.length) {
      // Move the live bytes to the front of a fresh buffer that is at least twice as large,
      // so repeated appends copy each byte O(1) times on average.
      const capacity = Math.max(needed, Math.min(2 * this.#buf.length, this.maxMessageSize + 4), 256);
      const next = Buffer.allocUnsafe(Math.max(capacity, needed));
      this.#buf.copy(next, 0, this.#start, this.#end);
      this.#bytesCopied += live;
      this.#buf = next;
      this.#end = live;
      this.#start = 0;
      this.#owned = true;
    }
    chunk.copy(this.#buf, this.#end);
    this.#bytesCopied += chunk.length;
    this.#end += chunk.length;
  }

  /** After a push, keep unconsumed bytes of a caller's chunk in our own buffer. */
  #keepRemainder(): void {
    if (this.#start === this.#end) { this.#release(); return; }
    if (this.#owned) return;
    const live = this.#end - this.#start;
    const next = Buffer.allocUnsafe(Math.max(live * 2, 256));
    this.#buf.copy(next, 0, this.#start, this.#end);
    this.#bytesCopied += live;
    this.#buf = next;
    this.#start = 0;
    this.#end = live;
    this.#owned = true;
  }

  #release(): void {
    this.#buf = Buffer.alloc(0);
    this.#start = 0;
    this.#end = 0;
    this.#owned = false;
  }
}

function isWs(byte: number | undefined): boolean {
  return byte === SP || byte === HTAB;
}

/**
 * Finds Content-Length (or its compact form `l`, RFC 3261 §7.3.3) in the header lines
 * `buf[from..to)` (`to` points just past the last line's CRLF) without parsing the message.
 * RFC 3261 §18.3: on a stream it is mandatory; a missing, malformed, negative or conflicting
 * value means the message boundary is unknown, so framing is lost.
 */
function readContentLength(buf: Buffer, from: number, to: number): number {
  let value: number | undefined;
  let lineStart = buf.indexOf(LF, from) + 1; // skip the start-line
  while (lineStart > 0 && lineStart < to) {
    let lineEnd = buf.indexOf(LF, lineStart);
    if (lineEnd === -1 || lineEnd >= to) lineEnd = to - 1;
    const found = matchContentLengthName(buf, lineStart, lineEnd);
    if (found !== -1) {
      const parsed = parseLengthValue(buf, found, to);
      if (value !== undefined && value !== parsed) {
        throw new EpcError('EPC_ERR_SIP_FRAMING',
          `conflicting Content-Length values ${value} and ${parsed} (RFC 3261 §18.3: the message boundary is ambiguous)`);
      }
      value = parsed;
    }
    lineStart = lineEnd + 1;
  }
  if (value === undefined) {
    throw new EpcError('EPC_ERR_SIP_FRAMING', 'Content-Length missing on a stream transport (RFC 3261 §18.3: it is mandatory)');
  }
  return value;
}

/** When the line `[start..end)` is a Content-Length header, the offset just after its colon; else -1. */
function matchContentLengthName(buf: Buffer, start: number, end: number): number {
  if (isWs(buf[start])) return -1; // a folded continuation line
  let nameEnd = start;
  while (nameEnd < end && buf[nameEnd] !== COLON && !isWs(buf[nameEnd])) nameEnd++;
  const nameLength = nameEnd - start;
  let colon = nameEnd;
  while (colon < end && isWs(buf[colon])) colon++;
  if (buf[colon] !== COLON) return -1;
  if (nameLength === 1) return (buf[start]! | 0x20) === 0x6c /* l */ ? colon + 1 : -1;
  if (nameLength !== 14) return -1;
  return buf.toString('latin1', start, nameEnd).toLowerCase() === 'content-length' ? colon + 1 : -1;
}

/** Reads `SWS 1*DIGIT SWS` up to the end of the (possibly folded) header value. */
function parseLengthValue(buf: Buffer, from: number, to: number): number {
  let i = from;
  const skipLws = (): void => {
    for (;;) {
      if (isWs(buf[i])) { i++; continue; }
      // RFC 3261 §7.3.1: CRLF followed by whitespace continues the value.
      if (buf[i] === CR && buf[i + 1] === LF && isWs(buf[i + 2]) && i + 2 < to) { i += 3; continue; }
      return;
    }
  };
  skipLws();
  let digits = 0;
  let value = 0;
  while (i < to) {
    const b = buf[i]!;
    if (b < 0x30 || b > 0x39) break;
    value = value * 10 + (b - 0x30);
    digits++;
    i++;
  }
  skipLws();
  const atLineEnd = buf[i] === CR && buf[i + 1] === LF;
  if (digits === 0 || !atLineEnd) {
    const shown = JSON.stringify(buf.toString('latin1', from, Math.min(buf.indexOf(CR, from), from + 40)).trim());
    throw new EpcError('EPC_ERR_SIP_FRAMING', `invalid Content-Length ${shown}: not a non-negative decimal number`);
  }
  if (digits > MAX_LENGTH_DIGITS) {
    throw new EpcError('EPC_ERR_SIP_TOO_LARGE', `Content-Length with ${digits} digits exceeds any size limit`);
  }
  return value;
}
