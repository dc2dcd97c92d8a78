/**
 * The factory the CLI calls: configuration in, a ready (not yet listening) server out.
 * Boot order (style-anchors §10.3): load and init the plugins → build the W2 server on their
 * routes → `listen()`. `close()` runs fastify's close: sessions get 1001 and onClose, the HTTP
 * server stops, then plugin close() hooks run in reverse load order.
 */
import { readFile } from 'node:fs/promises';
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { EpcError } from '../errors.js';
import type { EpcscfConfig } from '../config/config-types.js';
import type { BuiltinPluginRegistry } from '../plugin/plugin-source.js';
import type { W2Observer, W2ObserverEvents, W2SipCore } from '../contract/host.js';
import type { TtlStore } from '../state/state-backend.js';
import { loadPlugins } from '../plugin/loader.js';
import type { LoadedPlugins } from '../plugin/loader.js';
import { unattachedSipApi } from '../plugin/unattached-sip-api.js';
import { openOriginWarning } from './open-origin-warning.js';
import { createW2Server } from './w2-server.js';
import { registerUtRoutes, UtService } from '../ut/index.js';
import type { W2Server } from './w2-server.js';

export interface EpcscfServerOptions {
  /** Plugins known by name; core names none (the CLI passes its BUILTIN_PLUGINS catalogue). */
  readonly builtins?: BuiltinPluginRegistry;
  /** The SIP core plugins act through; without it `host.sip` rejects every call. */
  readonly sip?: W2SipCore;
  /** Defaults to a pino logger at `config.log.level`. */
  readonly logger?: Logger;
  readonly observer?: W2Observer;
  readonly initTimeoutMs?: number;
  readonly shutdownGraceMs?: number;
  /**
   * The plugins' host.state: the TTL store of a namespace (the plugin's name), e.g.
   * `name => stateBackend.namespace(name)`. Default: memory, one store per plugin of this server.
   */
  readonly stateNamespace?: (name: string) => TtlStore;
}

export interface EpcscfServer {
  readonly w2: W2Server;
  readonly plugins: LoadedPlugins;
  readonly observer: W2Observer;
  readonly logger: Logger;
  /** Listens on `config.w2.listen` (or the given address) and resolves with the bound one. */
  listen(address?: { host: string; port: number }): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
}

export async function createEpcscfServer(config: EpcscfConfig, options: EpcscfServerOptions = {}): Promise<EpcscfServer> {
  const logger = options.logger ?? pino({ level: config.log.level, name: 'epcscf' });
  const observer: W2Observer = options.observer ?? new EventEmitter<W2ObserverEvents>();
  const tls = config.w2.tls ? await readTlsFiles(config.w2.tls) : undefined;
  const ut = utServiceOf(config, options.sip);
  const plugins = await loadPlugins(config.plugins, {
    ...(options.builtins ? { builtins: options.builtins } : {}),
    ...(options.initTimeoutMs !== undefined ? { initTimeoutMs: options.initTimeoutMs } : {}),
    baseDir: config.configDir,
    log: logger,
    sip: options.sip ?? unattachedSipApi,
    observer,
    defaultAllowedOrigins: config.w2.allowedOrigins,
    maxFrameBytes: config.w2.maxFrameBytes,
    homeDomain: config.mw.domain,
    webAuth: { enabled: config.webAuth.issuers.length > 0 },
    ...(ut !== undefined ? { ut } : {}),
    mmtel: config.mmtel,
    ...(options.stateNamespace !== undefined ? { stateNamespace: options.stateNamespace } : {}),
  });
  let w2: W2Server;
  try {
    w2 = await createW2Server({
      routes: plugins.routes,
      logger,
      observer,
      ...(tls ? { tls } : {}),
      maxFrameBytes: config.w2.maxFrameBytes,
      pingIntervalMs: config.w2.pingIntervalMs,
      limits: config.w2.limits,
      ...(options.sip ? { sip: options.sip } : {}),
      ...(options.shutdownGraceMs !== undefined ? { shutdownGraceMs: options.shutdownGraceMs } : {}),
    });
  } catch (error) {
    await plugins.closeAll();
    throw error;
  }
  // Ut (TS 24.623): the REST endpoint for sip-ws clients, beside the W2 upgrades.
  if (ut !== undefined) await registerUtRoutes(w2.app, ut, {
    restPath: config.ut.restPath, passDigestToXcap: config.ut.passDigestToXcap, allowedOrigins: config.w2.allowedOrigins,
  });
  // fastify runs onClose hooks after the server stopped (and after our preClose closed sessions).
  w2.app.addHook('onClose', async () => plugins.closeAll());
  return {
    w2,
    plugins,
    observer,
    logger,
    async listen(address) {
      const bound = await w2.listen(address ?? config.w2.listen);
      // Issue 11 #12: the production stance is explicit (README "Limits and guards").
      const warning = openOriginWarning(address?.host ?? config.w2.listen.host, plugins.routes);
      if (warning !== undefined) logger.warn({ listen: bound }, warning);
      return bound;
    },
    close: () => w2.close(),
  };
}

/** Ut is on when `ut.xcapRoot` is set and the SIP core can say who a client is. */
function utServiceOf(config: EpcscfConfig, sip: W2SipCore | undefined): UtService | undefined {
  const { xcapRoot, timeoutMs, maxBodyBytes } = config.ut;
  if (xcapRoot === undefined || sip?.registeredIdentities === undefined || sip.verifyWebToken === undefined) return undefined;
  const registeredIdentities = sip.registeredIdentities.bind(sip);
  const verifyWebToken = sip.verifyWebToken.bind(sip);
  return new UtService({ xcapRoot, timeoutMs, maxBodyBytes, identities: { registeredIdentities, verifyWebToken } });
}

async function readTlsFiles(files: { cert: string; key: string }): Promise<{ cert: Buffer; key: Buffer }> {
  try {
    const [cert, key] = await Promise.all([readFile(files.cert), readFile(files.key)]);
    return { cert, key };
  } catch (error) {
    throw new EpcError('EPC_ERR_CONFIG_INVALID', `w2.tls: cannot read the PEM files: ${(error as Error).message}`, { cause: error });
  }
}
