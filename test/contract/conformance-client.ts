/**
 * A WebSocket client for the conformance suite: text messages queue up until a test takes
 * them, and the close code is remembered.
 */
import WebSocket from 'ws';

export class ConformanceClient {
  readonly ws: WebSocket;
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #queue: string[] = [];
  #wake: (() => void) | undefined;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      this.#queue.push(data.toString('utf8'));
      this.#wake?.();
    });
    this.closed = new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
  }

  static async connect(url: string, subprotocol: string): Promise<ConformanceClient> {
    const ws = new WebSocket(url, subprotocol);
    await new Promise<void>((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    return new ConformanceClient(ws);
  }

  send(text: string | Buffer): void {
    this.ws.send(text);
  }

  /** The first queued (or future) message `match` accepts; earlier ones are dropped. */
  async next(match: (text: string) => boolean = () => true, ms = 10_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const text = this.#queue.shift();
      if (text !== undefined) {
        if (match(text)) return text;
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => { clearTimeout(timer); this.#wake = undefined; resolve(); };
      });
    }
  }

  terminate(): void {
    this.ws.terminate();
  }
}
