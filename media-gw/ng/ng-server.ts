/**
 * The media gateway's ng control endpoint: a UDP server speaking rtpengine's "ng" protocol, so
 * that a controller written for rtpengine (our IMS-ALG, or Kamailio's rtpengine module) drives
 * our media-gw unchanged. It frames and decodes requests, answers `ping` itself, hands
 * offer/answer/delete/query to a MediaGatewayControl, and answers retransmissions (same
 * cookie) from a reply cache instead of running the command again.
 *
 * `handleNgDatagram` is the whole request → reply step without a socket, for tests and for
 * other transports (rtpengine also carries ng over TCP/WebSocket).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { EpcError } from '../../core/errors.js';
import { BencodeError } from './bencode.js';
import type { MediaGatewayControl } from './control.js';
import {
  MAX_NG_DATAGRAM, decodeNgRequest, encodeNgError, encodeNgReply, formatNgFrame, NgProtocolError, parseNgFrame, splitCookie,
  type NgRequest,
} from './protocol.js';
import { ReplyCache, type ReplyCacheOptions } from './reply-cache.js';

/** Runs one decoded request against the gateway and builds the reply dictionary. */
async function execute(control: MediaGatewayControl, request: NgRequest): Promise<ReturnType<typeof encodeNgReply>> {
  switch (request.command) {
    case 'ping':
      return encodeNgReply('ping', undefined);
    case 'offer': {
      const { command: _, ...offer } = request;
      return encodeNgReply('offer', await control.offer(offer));
    }
    case 'answer': {
      const { command: _, ...answer } = request;
      return encodeNgReply('answer', await control.answer(answer));
    }
    case 'delete': {
      const { command: _, ...del } = request;
      await control.delete(del);
      return encodeNgReply('delete', undefined);
    }
    case 'query': {
      const { command: _, ...query } = request;
      return encodeNgReply('query', await control.query(query));
    }
  }
}

/**
 * The `error-reason` for a failure: our coded errors say what went wrong in words a caller can
 * act on; anything else is a bug in the gateway and is not described to the network.
 */
function errorReason(error: unknown): string {
  if (error instanceof EpcError) return error.message;
  return 'internal error';
}

export interface NgHandleContext {
  readonly control: MediaGatewayControl;
  readonly cache: ReplyCache;
  /** Identifies the sender in the cache key (e.g. `127.0.0.1:5060`). */
  readonly peer: string;
  readonly log?: Logger;
}

/**
 * The reply datagram for one request datagram, or `undefined` when nothing can be answered
 * (no cookie: the sender could not match a reply anyway, so the datagram is dropped).
 */
export async function handleNgDatagram(datagram: Uint8Array, context: NgHandleContext): Promise<Buffer | undefined> {
  let cookie: string;
  try {
    cookie = splitCookie(datagram).cookie;
  } catch (error) {
    context.log?.debug({ peer: context.peer, err: error }, 'ng: datagram without a cookie dropped');
    return undefined;
  }
  const { reply, fresh } = context.cache.reply(`${context.peer} ${cookie}`, async () => {
    try {
      const { dict } = parseNgFrame(datagram);
      const request = decodeNgRequest(dict);
      context.log?.debug({ peer: context.peer, cookie, command: request.command }, 'ng: request');
      return formatNgFrame(cookie, await execute(context.control, request));
    } catch (error) {
      // rtpengine's reply to an undecodable body.
      const reason = error instanceof BencodeError ? 'Could not decode dictionary' : errorReason(error);
      if (!(error instanceof EpcError)) context.log?.error({ peer: context.peer, cookie, err: error }, 'ng: gateway fault');
      else if (!(error instanceof NgProtocolError || error instanceof BencodeError)) {
        context.log?.info({ peer: context.peer, cookie, reason }, 'ng: request failed');
      }
      return formatNgFrame(cookie, encodeNgError(reason));
    }
  });
  if (!fresh) context.log?.debug({ peer: context.peer, cookie }, 'ng: retransmission answered from the cache');
  return reply;
}

export interface NgServerOptions extends ReplyCacheOptions {
  readonly control: MediaGatewayControl;
  /** Default 127.0.0.1: the control plane is not for the open network. */
  readonly address?: string;
  /** Default 0 (any free port; read it back with `address()`). rtpengine's usual port is 22222. */
  readonly port?: number;
  readonly log?: Logger;
}

export class NgServer {
  readonly #socket: Socket;
  readonly #control: MediaGatewayControl;
  readonly #cache: ReplyCache;
  readonly #log: Logger | undefined;
  #closed: Promise<void> | undefined;

  private constructor(socket: Socket, options: NgServerOptions) {
    this.#socket = socket;
    this.#control = options.control;
    this.#cache = new ReplyCache(options);
    this.#log = options.log;
    socket.on('message', (data, remote) => this.#onMessage(data, remote));
    socket.on('error', (error) => this.#log?.error({ err: error }, 'ng: socket error'));
  }

  /** Binds the UDP socket and starts serving. */
  static async listen(options: NgServerOptions): Promise<NgServer> {
    const address = options.address ?? '127.0.0.1';
    const socket = createSocket({ type: isIP(address) === 6 ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(new EpcError('EPC_ERR_MEDIA', `ng server cannot bind ${address}:${options.port ?? 0}: ${error.message}`, { cause: error }));
      socket.once('error', onError);
      socket.bind({ address, port: options.port ?? 0 }, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    return new NgServer(socket, options);
  }

  address(): { address: string; port: number } {
    const { address, port } = this.#socket.address();
    return { address, port };
  }

  /** Stops serving. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.#cache.clear();
      this.#socket.close(() => resolve());
    });
    return this.#closed;
  }

  #onMessage(data: Buffer, remote: RemoteInfo): void {
    if (this.#closed !== undefined || data.length > MAX_NG_DATAGRAM) return;
    const peer = `${remote.address}:${remote.port}`;
    void handleNgDatagram(data, { control: this.#control, cache: this.#cache, peer, ...(this.#log ? { log: this.#log } : {}) })
      .then((reply) => {
        if (reply === undefined || this.#closed !== undefined) return;
        this.#socket.send(reply, remote.port, remote.address, (error) => {
          if (error) this.#log?.warn({ peer, err: error }, 'ng: reply not sent');
        });
      });
  }
}
