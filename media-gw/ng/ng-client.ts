/**
 * A client of rtpengine's "ng" control protocol over UDP: the IMS-ALG's way to drive a media
 * gateway in another process, either our media-gw (media-gw/ng/ng-server.ts) or a real
 * rtpengine. One socket serves all requests; replies are matched by cookie.
 *
 * UDP loses datagrams, so a request is retransmitted unchanged (same cookie) when no reply
 * came within `timeoutMs`, up to `retries` times; the gateway recognises the cookie and
 * answers a retransmission with its first reply instead of running the command twice
 * (rtpengine ng docs: the cookie is "used ... to detect retransmissions").
 * Every failure is an EpcError('EPC_ERR_MEDIA'): no reply after the last attempt, an `error`
 * result (its `error-reason` in the message), or a reply that breaks the protocol.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { EpcError } from '../../core/errors.js';
import type {
  NgAnswerRequest, NgDeleteRequest, NgOfferRequest, NgQueryRequest, NgQueryResult, NgSdpResult,
} from './control.js';
import {
  decodeNgReply, encodeNgRequest, formatNgFrame, parseNgFrame, type NgCommandName, type NgReplyOf, type NgRequest,
} from './protocol.js';

export interface NgClientOptions {
  /** The gateway's ng address (IPv4 or IPv6 literal). */
  readonly address: string;
  readonly port: number;
  /** Wait for a reply this long before retransmitting. Default 1000 ms. */
  readonly timeoutMs?: number;
  /** Retransmissions after the first attempt. Default 2 (three datagrams in all). */
  readonly retries?: number;
}

/**
 * No reply came after the last retransmission: the gateway is gone or unreachable (as opposed to
 * an `error` reply, which proves it is alive). A pool of gateways takes this one out (media-pool).
 */
export class NgNoReplyError extends EpcError {
  constructor(message: string) {
    super('EPC_ERR_MEDIA', message);
  }
}

interface Pending {
  readonly resolve: (dict: Parameters<typeof decodeNgReply>[1]) => void;
  readonly reject: (error: Error) => void;
}

export class NgClient {
  readonly #address: string;
  readonly #port: number;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #pending = new Map<string, Pending>();
  /** Cookie prefix unique to this client instance; a counter makes each cookie unique. */
  readonly #cookiePrefix = randomBytes(6).toString('hex');
  #counter = 0;
  #socket: Socket | undefined;
  #closed = false;

  constructor(options: NgClientOptions) {
    if (isIP(options.address) === 0) throw new EpcError('EPC_ERR_CONFIG_INVALID', `ng client: "${options.address}" is not an IP address`);
    if (!Number.isInteger(options.port) || options.port <= 0 || options.port > 65535) {
      throw new EpcError('EPC_ERR_CONFIG_INVALID', `ng client: invalid port ${options.port}`);
    }
    this.#address = options.address;
    this.#port = options.port;
    this.#timeoutMs = options.timeoutMs ?? 1000;
    this.#retries = options.retries ?? 2;
  }

  /**
   * Resolves when the gateway answers `pong`. A health check passes `retries: 0`: one
   * unanswered ping is one failure, counted by the caller.
   */
  async ping(options: { readonly retries?: number } = {}): Promise<void> {
    await this.#request({ command: 'ping' }, options.retries);
  }

  offer(request: NgOfferRequest): Promise<NgSdpResult> {
    return this.#request({ ...request, command: 'offer' });
  }

  answer(request: NgAnswerRequest): Promise<NgSdpResult> {
    return this.#request({ ...request, command: 'answer' });
  }

  async delete(request: NgDeleteRequest): Promise<void> {
    await this.#request({ ...request, command: 'delete' });
  }

  query(request: NgQueryRequest): Promise<NgQueryResult> {
    return this.#request({ ...request, command: 'query' });
  }

  /** Closes the socket; requests still waiting fail. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const error = new EpcError('EPC_ERR_MEDIA', 'ng client closed');
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket !== undefined) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  #nextCookie(): string {
    this.#counter = (this.#counter + 1) % Number.MAX_SAFE_INTEGER;
    return `${this.#cookiePrefix}_${this.#counter}`;
  }

  #ensureSocket(): Socket {
    if (this.#socket !== undefined) return this.#socket;
    const socket = createSocket({ type: isIP(this.#address) === 6 ? 'udp6' : 'udp4' });
    socket.on('message', (data) => this.#onMessage(data));
    // A send error (e.g. ICMP port unreachable surfacing as ECONNREFUSED) is not fatal: the
    // request times out and says so.
    socket.on('error', () => undefined);
    socket.unref(); // an idle control socket must not keep the process alive
    this.#socket = socket;
    return socket;
  }

  #onMessage(data: Buffer): void {
    let frame;
    try {
      frame = parseNgFrame(data);
    } catch {
      return; // not a reply we can match to anything
    }
    const pending = this.#pending.get(frame.cookie);
    if (pending === undefined) return; // late reply to a retransmitted or abandoned request
    this.#pending.delete(frame.cookie);
    pending.resolve(frame.dict);
  }

  async #request<C extends NgCommandName>(request: NgRequest & { readonly command: C }, retries = this.#retries): Promise<NgReplyOf[C]> {
    if (this.#closed) throw new EpcError('EPC_ERR_MEDIA', 'ng client closed');
    const socket = this.#ensureSocket();
    const cookie = this.#nextCookie();
    const datagram = formatNgFrame(cookie, encodeNgRequest(request));
    const target = `${this.#address}:${this.#port}`;
    const dict = await new Promise<Parameters<typeof decodeNgReply>[1]>((resolve, reject) => {
      let attempts = 0;
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => { if (timer !== undefined) clearTimeout(timer); };
      const send = (): void => {
        attempts++;
        socket.send(datagram, this.#port, this.#address);
        timer = setTimeout(() => {
          if (!this.#pending.has(cookie)) return;
          if (attempts <= retries) { send(); return; }
          this.#pending.delete(cookie);
          reject(new NgNoReplyError(
            `ng ${request.command} to ${target}: no reply after ${attempts} attempts (${this.#timeoutMs} ms each)`));
        }, this.#timeoutMs);
      };
      this.#pending.set(cookie, {
        resolve: (d) => { finish(); resolve(d); },
        reject: (e) => { finish(); reject(e); },
      });
      send();
    });
    return decodeNgReply(request.command, dict);
  }
}
