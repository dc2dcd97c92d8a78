/**
 * The one HTTP server of epcscf (fastify 5 + @fastify/websocket over ws). It owns every W2
 * upgrade: matches the path, checks Origin (403 without upgrade, R-WS-4), negotiates the
 * subprotocol (400 when the client offers none this path serves, RFC 6455 §4.2.2), enforces the
 * frame limit (1009), pings idle connections (R-WS-10), then hands the socket to the plugin
 * through a session runner. Later routes (REST admin, /metrics, /openrpc.json) are added to
 * `app` by their own modules before `listen()`.
 */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import type { Logger } from 'pino';
import type { W2Observer } from '../plugin/host.js';
import type { W2Route } from '../plugin/loader.js';
import type { SessionCloseReason, W2Session } from '../plugin/session.js';
import type { W2SipCore } from '../plugin/host.js';
import { KeepaliveMonitor } from './keepalive.js';
import { isOriginAllowed } from './origin-policy.js';
import { W2SessionRunner } from './session-runner.js';
import { chooseRoute, offeredSubprotocols } from './subprotocol.js';
import type { RouteChoice } from './subprotocol.js';

export interface W2ServerOptions {
  readonly routes: readonly W2Route[];
  readonly logger: Logger;
  readonly observer: W2Observer;
  /** PEM cert and key: wss:// (R-WS-9). Omitted: ws://. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /** The ws maxPayload ceiling: a longer message closes with 1009 before it is buffered whole. */
  readonly maxFrameBytes: number;
  /** Idle ping period; 0 disables keep-alive. */
  readonly pingIntervalMs: number;
  /** How long shutdown waits for clients to answer the 1001 close before dropping them. */
  readonly shutdownGraceMs?: number;
  /** How long onClose waits for a hung in-flight plugin hook. */
  readonly closeWaitMs?: number;
  /** The SIP core told about sessions opening and ending (it delivers SIP and cleans up). */
  readonly sip?: W2SipCore;
}

export interface W2SessionInfo {
  readonly id: string;
  readonly plugin: string;
  readonly path: string;
  readonly subprotocol: string;
  readonly remote: { readonly address: string; readonly port: number };
  readonly origin: string | undefined;
  readonly description: Record<string, unknown> | undefined;
}

export interface W2ServerStats {
  readonly sessions: number;
  /** Plugin faults (hooks that threw or rejected) per plugin name, since start. */
  readonly faults: Readonly<Record<string, number>>;
}

export interface W2Server {
  readonly app: FastifyInstance;
  readonly secure: boolean;
  /** Resolves with the bound address (port 0 picks a free port). */
  listen(address: { host: string; port: number }): Promise<{ host: string; port: number }>;
  /** Graceful stop: sessions get 1001 and onClose, then the HTTP server closes. Idempotent. */
  close(): Promise<void>;
  sessions(): W2SessionInfo[];
  stats(): W2ServerStats;
}

export async function createW2Server(options: W2ServerOptions): Promise<W2Server> {
  const { logger, observer } = options;
  const tls = options.tls;
  const runners = new Set<W2SessionRunner>();
  const faults: Record<string, number> = {};
  const choices = new WeakMap<IncomingMessage, RouteChoice>();
  const keepalive = new KeepaliveMonitor(options.pingIntervalMs);
  let closing = false;

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One factory keeps the instance type the same for ws:// and wss:// (https.Server is an http.Server).
    serverFactory: (handler) => (tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, handler) : createHttpServer(handler)) as Server,
  });

  await app.register(fastifyWebsocket, {
    options: {
      maxPayload: options.maxFrameBytes,
      // ws would otherwise pick the first offered token; echo the one the route chose (RFC 6455 §4.2.2).
      handleProtocols: (_offered, request) => choices.get(request)?.subprotocol ?? false,
    },
    // Socket errors are handled (and reported) by the session runner; ws closes the socket itself.
    errorHandler: (error, socket) => {
      logger.debug({ err: error }, 'W2 socket error');
      if (socket.readyState === socket.CONNECTING) socket.terminate();
    },
    preClose: async () => {
      closing = true;
      await Promise.all([...runners].map((runner) => runner.shutdown()));
      keepalive.stop();
      await waitForClients(app, options.shutdownGraceMs ?? 1_000);
      for (const client of app.websocketServer.clients) client.terminate();
      app.websocketServer.close();
    },
  });

  app.get('/health', async () => ({ status: closing ? 'stopping' : 'ok', sessions: runners.size }));

  const onFault = (runner: W2SessionRunner, hook: string, error: unknown): void => {
    const plugin = runner.pluginName;
    faults[plugin] = (faults[plugin] ?? 0) + 1;
    runner.route.plugin.host.log.error({ err: error, connectionId: runner.connection.id, hook }, 'plugin fault: closing the session with 1011');
    observer.emit('pluginerror', { connectionId: runner.connection.id, plugin, hook, error });
  };
  const onOpened = (runner: W2SessionRunner, session: W2Session): void => {
    options.sip?.sessionOpened(runner.connection, session);
  };
  const onEnded = (runner: W2SessionRunner, reason: SessionCloseReason): void => {
    runners.delete(runner);
    // The core releases what the session owned in SIP (flows, dialogs: R-ORIG-9, R-REG-25).
    void Promise.resolve(options.sip?.sessionClosed(runner.connection.id, reason)).catch((error: unknown) => {
      logger.error({ err: error, connectionId: runner.connection.id }, 'SIP cleanup after session close failed');
    });
    observer.emit('sessionclose', { connectionId: runner.connection.id, plugin: runner.pluginName, reason });
  };

  for (const [path, routes] of groupByPath(options.routes)) {
    app.route({
      method: 'GET',
      url: path,
      // A plain GET on a W2 path: RFC 7231 §6.5.15, this resource needs the WebSocket upgrade.
      handler: async (_request, reply) => reply.code(426).header('upgrade', 'websocket').send({ error: 'Upgrade Required', message: `${path} only accepts WebSocket upgrades` }),
      preValidation: async (request: FastifyRequest, reply: FastifyReply) => {
        if (!request.ws) return;
        if (closing) return reply.code(503).send({ error: 'Service Unavailable', message: 'server is shutting down' });
        const origin = request.headers.origin;
        const offered = offeredSubprotocols(request.headers['sec-websocket-protocol']);
        const allowedHere = routes.filter((route) => isOriginAllowed(origin, route.allowedOrigins));
        if (allowedHere.length === 0) {
          // R-WS-4: not an origin this eP-CSCF has an agreement with; no upgrade.
          return reply.code(403).send({ error: 'Forbidden', message: `origin ${origin ?? '(none)'} is not allowed on ${path}` });
        }
        const choice = chooseRoute(allowedHere, offered);
        if (choice === undefined) {
          // RFC 6455 §4.2.2: never select a subprotocol the client did not offer; without one
          // the endpoint cannot run, so refuse the handshake rather than upgrade without it.
          const served = allowedHere.flatMap((route) => route.subprotocols).join(', ');
          return reply.code(400).send({ error: 'Bad Request', message: `no supported Sec-WebSocket-Protocol offered on ${path} (serves: ${served})` });
        }
        choices.set(request.raw, choice);
        return undefined;
      },
      wsHandler: (socket, request) => {
        const choice = choices.get(request.raw);
        if (choice === undefined || closing) {
          socket.close(1001, 'server shutdown');
          return;
        }
        const runner = new W2SessionRunner({
          socket,
          route: choice.route,
          id: randomUUID(),
          subprotocol: choice.subprotocol,
          remote: { address: request.socket.remoteAddress ?? '', port: request.socket.remotePort ?? 0 },
          origin: request.headers.origin,
          secure: tls !== undefined,
          keepalive,
          closeWaitMs: options.closeWaitMs ?? 5_000,
          onFault,
          onOpened,
          onEnded,
        });
        runners.add(runner);
        observer.emit('sessionopen', { connectionId: runner.connection.id, plugin: runner.pluginName, subprotocol: choice.subprotocol, path });
        runner.start();
      },
    });
  }

  let closed: Promise<void> | undefined;
  return {
    app,
    secure: tls !== undefined,
    async listen({ host, port }) {
      await app.listen({ host, port });
      const address = app.server.address() as AddressInfo;
      return { host: address.address, port: address.port };
    },
    close: () => (closed ??= app.close()),
    sessions: () => [...runners].map((runner) => ({
      id: runner.connection.id,
      plugin: runner.pluginName,
      path: runner.connection.path,
      subprotocol: runner.connection.subprotocol,
      remote: runner.connection.remote,
      origin: runner.connection.origin,
      description: runner.describe(),
    })),
    stats: () => ({ sessions: runners.size, faults: { ...faults } }),
  };
}

function groupByPath(routes: readonly W2Route[]): Map<string, W2Route[]> {
  const byPath = new Map<string, W2Route[]>();
  for (const route of routes) {
    const list = byPath.get(route.path) ?? [];
    list.push(route);
    byPath.set(route.path, list);
  }
  return byPath;
}

async function waitForClients(app: FastifyInstance, graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs;
  while (app.websocketServer.clients.size > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
