/**
 * One fuzz run's conversation over a fresh WebSocket: open, send the frames, then a marker the
 * server answers in order behind them, and collect every frame the server sent until the
 * marker's answer (or the close). A frame the server never finished with shows as a timeout.
 */
import { once } from 'node:events';
import WebSocket from 'ws';

export interface Exchange {
  /** Frames received before the marker's answer, as text (binary frames as latin1). */
  readonly received: string[];
  /** The marker was answered: every frame before it was handled. */
  readonly markerAnswered: boolean;
  /** Set when the server closed the connection. */
  readonly closeCode: number | undefined;
  /** Keeps listening after the marker: frames that arrive later (answers from the IMS side). */
  readonly later: string[];
  close(): Promise<void>;
}

export interface ExchangeOptions {
  readonly url: string;
  readonly subprotocol: string;
  readonly frames: readonly (string | Buffer)[];
  /** Sent after the frames (sip-ws: the CRLFCRLF keep-alive ping). */
  readonly marker: string;
  /** Recognises the marker's answer (sip-ws: the CRLF pong). */
  readonly isMarkerAnswer: (frame: string) => boolean;
  readonly timeoutMs?: number;
}

export async function exchange(options: ExchangeOptions): Promise<Exchange> {
  const ws = new WebSocket(options.url, options.subprotocol);
  await once(ws, 'open');
  const received: string[] = [];
  const later: string[] = [];
  let markerAnswered = false;
  let closeCode: number | undefined;
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, options.timeoutMs ?? 5000);
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      const text = isBinary ? Buffer.from(data as Buffer).toString('latin1') : String(data);
      if (markerAnswered) { later.push(text); return; }
      if (options.isMarkerAnswer(text)) {
        markerAnswered = true;
        clearTimeout(timer);
        resolve();
        return;
      }
      received.push(text);
    });
    ws.on('close', (code: number) => { closeCode = code; clearTimeout(timer); resolve(); });
  });
  for (const frame of options.frames) ws.send(frame, { binary: typeof frame !== 'string' });
  ws.send(options.marker);
  await done;
  return {
    received, later, get markerAnswered() { return markerAnswered; }, get closeCode() { return closeCode; },
    close: async () => {
      if (ws.readyState === WebSocket.CLOSED) return;
      const closed = once(ws, 'close');
      ws.close();
      await closed;
    },
  };
}

/** Waits until `predicate` holds or `ms` pass (polling every 10 ms): whether it held. */
export async function eventually(predicate: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}
