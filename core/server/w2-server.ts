/**
 * The one HTTP server of epcscf (fastify 5 for HTTP routes, `ws` for the W2 upgrades). It owns
 * every W2 upgrade: matches the path, checks Origin (403 without upgrade, R-WS-4), negotiates the
 * subprotocol (400 when the client offers none this path serves, RFC 6455 §4.2.2), enforces the
 * frame limit (1009), pings idle connections (R-WS-10), then hands the socket to the plugin
 * through a session runner. It bounds what clients can hold (issue 11, w2.limits): connections
 * per node and per source IP and the upgrade deadline (connection-guard.ts), the first-frame
 * deadline (first-frame-deadline.ts) and how long a close we start may take (session-runner.ts). Later routes (REST admin, /metrics, /openrpc.json) are added to
 * `app` by their own modules before `listen()`.
 *
 * Upgrades bypass fastify's router (upgrade-gate.ts says why): per idle WebSocket the server
 * keeps only the socket, the ws framing state and the session runner.
 */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { Logger } from 'pino';
import type { W2Observer, W2RefusalReason } from '../contract/host.js';
import type { W2Limits } from '../config/config-types.js';
import type { W2Route } from '../plugin/loader.js';
import type { SessionCloseReason, W2Session } from '../contract/session.js';
import type { W2SipCore } from '../contract/host.js';
import { ConnectionGuard, httpTimeoutOptions } from './connection-guard.js';
import { FirstFrameDeadline } from './first-frame-deadline.js';
import { KeepaliveMonitor } from './keepalive.js';
import { W2SessionRunner } from './session-runner.js';
import type { SessionRunnerEnvironment } from './session-runner.js';
import { ReadThrottle } from './read-throttle.js';
import { ownCopy } from '../sip/own-copy.js';
import type { RouteChoice } from './subprotocol.js';
import { decideUpgrade, refuseUpgrade, routesByPath } from './upgrade-gate.js';

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
  /** Connection caps and deadlines (w2.limits); the call caps are the P-CSCF's. Defaults: DEFAULT_W2_SERVER_LIMITS. */
  readonly limits?: W2ServerLimits;
}

export type W2ServerLimits = Pick<W2Limits, 'maxConnections' | 'maxConnectionsPerIp' | 'upgradeTimeoutMs' | 'firstFrameTimeoutMs' | 'closeTimeoutMs'>
  // Issue 15: read budgets (bytes/s and frames/s per connection, frames/s per IP; without the
  // bytes and per-IP ones sockets are read freely) and new connections/s per IP (omitted: any).
  & Partial<Pick<W2Limits, 'bytesPerConnection' | 'framesPerConnection' | 'sustainedFlood' | 'framesPerIp' | 'connectionRatePerIp'>>;

/** The schema's defaults (schemas/config.schema.json, w2.limits), for embedders that pass none. */
export const DEFAULT_W2_SERVER_LIMITS: W2ServerLimits = {
  maxConnections: 10_000, maxConnectionsPerIp: 100, upgradeTimeoutMs: 10_000, firstFrameTimeoutMs: 30_000, closeTimeoutMs: 2_000,
};

export interface W2SessionInfo {
  readonly id: string;
  readonly plugin: string;
  readonly path: string;
  readonly subprotocol: string;
  readonly remote: { readonly address: string; readonly port: number };
  readonly origin: string | undefined;
  /** Epoch ms of the upgrade. */
  readonly openedAt: number;
  readonly description: Record<string, unknown> | undefined;
}

export interface W2ServerStats {
  readonly sessions: number;
  /** False once shutdown began: upgrades are refused with 503. */
  readonly accepting: boolean;
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
  /**
   * Closes one session from the server side (an operator action): the client gets `code` and
   * `reason` (RFC 6455 §7.4), the plugin its onClose. False when no such session is open.
   */
  closeSession(connectionId: string, code?: number, reason?: string): boolean;
  stats(): W2ServerStats;
}

export async function createW2Server(options: W2ServerOptions): Promise<W2Server> {
  const { logger, observer } = options;
  const tls = options.tls;
  const runners = new Set<W2SessionRunner>();
  /** Upgraded sockets not yet closed (a session may end before its close handshake does). */
  const sockets = new Set<WebSocket>();
  const faults: Record<string, number> = {};
  const choices = new WeakMap<IncomingMessage, RouteChoice>();
  function forgetSocket(this: WebSocket): void {
    sockets.delete(this);
  }
  const keepalive = new KeepaliveMonitor(options.pingIntervalMs);
  const limits = options.limits ?? DEFAULT_W2_SERVER_LIMITS;
  const firstFrame = new FirstFrameDeadline(limits.firstFrameTimeoutMs);
  const refused = (reason: W2RefusalReason, remoteAddress: string | undefined, connectionId?: string): void => {
    // A connect or frame flood refuses thousands a second: no log object unless debug is on (the counters say it all).
    if (logger.isLevelEnabled('debug')) logger.debug({ reason, remoteAddress, connectionId }, 'W2 guard refused a client');
    observer.emit('refused', { reason, remoteAddress, ...(connectionId !== undefined ? { connectionId } : {}) });
  };
  const guard = new ConnectionGuard(limits, refused);
  const readThrottle = limits.bytesPerConnection !== undefined && limits.framesPerIp !== undefined
    ? new ReadThrottle({
      bytesPerConnection: limits.bytesPerConnection, framesPerIp: limits.framesPerIp,
      ...(limits.framesPerConnection !== undefined ? { framesPerConnection: limits.framesPerConnection } : {}),
      ...(limits.sustainedFlood !== undefined ? { sustainedFlood: limits.sustainedFlood } : {}),
    }, options.maxFrameBytes)
    : undefined;
  const byPath = routesByPath(options.routes);
  let closing = false;

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One factory keeps the instance type the same for ws:// and wss:// (https.Server is an http.Server).
    serverFactory: (handler) => {
      const timeouts = httpTimeoutOptions(limits);
      return (tls ? createHttpsServer({ ...timeouts, cert: tls.cert, key: tls.key }, handler) : createHttpServer(timeouts, handler)) as Server;
    },
  });
  guard.attach(app.server);

  const wss = new WebSocketServer({
    noServer: true,
    // The runners are the one list of sessions; ws's own client Set would be a second one.
    clientTracking: false,
    // RFC 7118 needs no compression, and a zlib context per socket costs tens of KiB.
    perMessageDeflate: false,
    maxPayload: options.maxFrameBytes,
    // ws would otherwise pick the first offered token; echo the one the route chose (RFC 6455 §4.2.2).
    handleProtocols: (_offered, request) => choices.get(request)?.subprotocol ?? false,
  });
  wss.on('wsClientError', (error, socket) => {
    logger.debug({ err: error }, 'W2 handshake refused by ws');
    socket.destroy();
  });

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const decision = decideUpgrade(request, byPath, closing);
    if (!decision.accept) {
      refuseUpgrade(socket, decision.status, decision.message);
      return;
    }
    choices.set(request, decision.choice);
    wss.handleUpgrade(request, socket, head, (ws) => startSession(ws, request, decision.choice));
  };
  app.server.on('upgrade', onUpgrade);

  app.addHook('preClose', async () => {
    closing = true;
    await Promise.all([...runners].map((runner) => runner.shutdown()));
    keepalive.stop();
    firstFrame.stop();
    await waitForClients(sockets, options.shutdownGraceMs ?? 1_000);
    for (const socket of sockets) socket.terminate();
    app.server.off('upgrade', onUpgrade);
    wss.close();
  });

  // /health, /ready and the admin routes are core/admin's (registered on `app` by the runtime).

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

  const onRefused = (runner: W2SessionRunner, reason: W2RefusalReason): void => refused(reason, runner.connection.remote.address, runner.connection.id);
  const env: SessionRunnerEnvironment = {
    keepalive, firstFrame, closeWaitMs: options.closeWaitMs ?? 5_000, closeTimeoutMs: limits.closeTimeoutMs, onFault, onOpened, onEnded, onRefused,
    ...(readThrottle ? { readThrottle } : {}),
  };
  const startSession = (socket: WebSocket, request: IncomingMessage, choice: RouteChoice): void => {
    if (closing) {
      socket.close(1001, 'server shutdown');
      return;
    }
    sockets.add(socket);
    socket.once('close', forgetSocket);
    const runner = new W2SessionRunner({
      socket,
      route: choice.route,
      // randomUUID() returns a rope of 14 pieces (~450 bytes kept per connection): keep it flat.
      id: ownCopy(randomUUID()),
      subprotocol: choice.subprotocol,
      remote: { address: request.socket.remoteAddress ?? '', port: request.socket.remotePort ?? 0 },
      origin: request.headers.origin,
      secure: tls !== undefined,
      env,
    });
    runners.add(runner);
    observer.emit('sessionopen', { connectionId: runner.connection.id, plugin: runner.pluginName, subprotocol: choice.subprotocol, path: choice.route.path });
    runner.start();
  };

  for (const path of byPath.keys()) {
    // A plain GET on a W2 path: RFC 7231 §6.5.15, this resource needs the WebSocket upgrade.
    app.get(path, async (_request, reply) => reply.code(426).header('upgrade', 'websocket').send({ error: 'Upgrade Required', message: `${path} only accepts WebSocket upgrades` }));
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
      openedAt: runner.openedAt,
      description: runner.describe(),
    })),
    closeSession(connectionId, code = 1000, reason = '') {
      for (const runner of runners) {
        if (runner.connection.id !== connectionId || runner.closeReason !== undefined) continue;
        runner.closeFromServer(code, reason);
        return true;
      }
      return false;
    },
    stats: () => ({ sessions: runners.size, accepting: !closing, faults: { ...faults } }),
  };
}

async function waitForClients(sockets: ReadonlySet<WebSocket>, graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs;
  while (sockets.size > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
