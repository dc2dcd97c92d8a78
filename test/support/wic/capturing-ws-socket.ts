/**
 * A JsSIP `Socket` (https://jssip.net/documentation/api/socket/) over the `ws` package that
 * records every frame it carries. JsSIP's own WebSocketInterface needs a global W3C WebSocket;
 * this one speaks RFC 7118 directly (`Sec-WebSocket-Protocol: sip`) so each user agent in a
 * test has its own capture.
 */
import { WebSocket } from 'ws';
import { FrameCapture } from './frame-capture.js';

export class CapturingWsSocket {
  readonly capture = new FrameCapture();
  readonly url: string;
  readonly sip_uri: string;
  via_transport: string;
  /** Set by JsSIP's transport. */
  onconnect: () => void = () => undefined;
  ondisconnect: (error: boolean, code?: number, reason?: string) => void = () => undefined;
  ondata: (data: string) => void = () => undefined;
  #ws: WebSocket | undefined;
  #blocked = false;
  /** Close codes the server sent (RFC 6455 §7.4), for assertions. */
  readonly closeCodes: number[] = [];

  constructor(url: string) {
    const parsed = new URL(url);
    this.url = url;
    this.via_transport = parsed.protocol === 'wss:' ? 'WSS' : 'WS';
    this.sip_uri = `sip:${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''};transport=ws`;
  }

  connect(): void {
    if (this.#blocked || this.isConnected() || this.isConnecting()) return;
    const ws = new WebSocket(this.url, 'sip');
    this.#ws = ws;
    ws.on('open', () => this.onconnect());
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString();
      this.capture.record('received', text);
      this.ondata(text);
    });
    ws.on('close', (code, reason) => {
      this.closeCodes.push(code);
      if (this.#ws === ws) this.#ws = undefined;
      this.ondisconnect(code !== 1000, code, reason.toString());
    });
    ws.on('error', () => { /* 'close' follows and reports it */ });
  }

  disconnect(): void {
    const ws = this.#ws;
    this.#ws = undefined;
    ws?.removeAllListeners('message');
    ws?.close(1000);
  }

  send(message: string): boolean {
    if (this.#ws?.readyState !== WebSocket.OPEN) return false;
    this.capture.record('sent', message);
    this.#ws.send(message);
    return true;
  }

  /**
   * Sends arbitrary bytes as one WebSocket message behind JsSIP's back (torture input):
   * binary when `data` is a Buffer (RFC 7118 §4.2: non-UTF-8 SIP goes in binary frames).
   */
  sendRaw(data: string | Buffer): void {
    if (this.#ws?.readyState !== WebSocket.OPEN) throw new Error('sendRaw: the WebSocket is not open');
    this.capture.record('sent', data);
    this.#ws.send(data, { binary: typeof data !== 'string' });
  }

  isConnected(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  isConnecting(): boolean {
    return this.#ws?.readyState === WebSocket.CONNECTING;
  }

  /**
   * Cuts the TCP connection without a WebSocket close handshake (a browser tab that died) and
   * stops JsSIP from reconnecting, so the flow it registered stays dead.
   */
  kill(): void {
    this.#blocked = true;
    this.#ws?.terminate();
  }
}
