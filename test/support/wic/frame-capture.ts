/**
 * A record of the raw SIP frames one WebSocket client sent and received, parsed with our own
 * codec so tests can assert headers (the frames themselves are kept byte-exact too). Waiting
 * helpers give a test a deadline instead of a hang.
 */
import { parseMessage, type SipMessage, type SipRequest, type SipResponse, cseq } from '../../../core/sip/index.js';

export type FrameDirection = 'sent' | 'received';

export interface CapturedFrame {
  readonly direction: FrameDirection;
  /** The frame as text (binary frames decoded as UTF-8, RFC 7118 §4.2 allows both). */
  readonly text: string;
  /** Parsed with core/sip; undefined when the frame is not valid SIP (e.g. torture input). */
  readonly message: SipMessage | undefined;
  readonly at: number;
}

export class FrameCapture {
  readonly frames: CapturedFrame[] = [];
  #waiters: (() => void)[] = [];

  record(direction: FrameDirection, data: string | Uint8Array | ArrayBuffer | Buffer[]): void {
    const text = typeof data === 'string' ? data
      : Array.isArray(data) ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
    let message: SipMessage | undefined;
    try { message = parseMessage(text); } catch { message = undefined; }
    this.frames.push({ direction, text, message, at: Date.now() });
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Requests seen in `direction`, optionally only those of `method`. */
  requests(direction: FrameDirection, method?: string): SipRequest[] {
    return this.frames.flatMap((f) => f.direction === direction && f.message?.kind === 'request'
      && (method === undefined || f.message.method === method) ? [f.message] : []);
  }

  /** Responses seen in `direction`, optionally only those to `method`. */
  responses(direction: FrameDirection, method?: string): SipResponse[] {
    return this.frames.flatMap((f) => f.direction === direction && f.message?.kind === 'response'
      && (method === undefined || cseq(f.message).method === method) ? [f.message] : []);
  }

  /** Frames received since index `from` (use `frames.length` as a bookmark). */
  since(from: number): CapturedFrame[] {
    return this.frames.slice(from);
  }

  /** Resolves with the first frame (from index `from`) matching `predicate`; rejects after `timeoutMs`. */
  waitFor(predicate: (frame: CapturedFrame) => boolean, options: { from?: number; timeoutMs?: number; what?: string } = {}): Promise<CapturedFrame> {
    const from = options.from ?? 0;
    const timeoutMs = options.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      let index = from;
      const check = (): boolean => {
        for (; index < this.frames.length; index++) {
          const frame = this.frames[index];
          if (frame !== undefined && predicate(frame)) {
            clearTimeout(timer);
            resolve(frame);
            return true;
          }
        }
        return false;
      };
      const timer = setTimeout(() => {
        reject(new Error(`no ${options.what ?? 'matching frame'} within ${timeoutMs} ms; frames:\n${this.dump(from)}`));
      }, timeoutMs);
      const wait = (): void => { if (!check()) this.#waiters.push(wait); };
      wait();
    });
  }

  /** A short transcript (first line of each frame) for failure messages. */
  dump(from = 0): string {
    return this.frames.slice(from).map((f) => `${f.direction === 'sent' ? '>>' : '<<'} ${f.text.split('\r\n', 1)[0] ?? ''}`).join('\n');
  }
}
