/**
 * Loads the configured W2 plugins (the avvio/Janus boot sequence, docs/style-anchors.md §10.3):
 *   import → check contract, hooks, manifest → validate options → refuse duplicate
 *   (path, subprotocol) pairs → init() each in config order, under a timeout; what init()
 *   returns is the plugin's instance (contract 2).
 * Every check that needs no plugin code runs for all plugins before the first init().
 * `closeAll()` closes the instances in reverse load order (avvio's LIFO close), idempotent.
 */
import type { Logger } from 'pino';
import { EpcError } from '../errors.js';
import type { W2Plugin, W2PluginInstance } from '../contract/contract.js';
import type { W2Host, W2MmtelInfo, W2Observer, W2SipApi, W2UtCore, W2WebAuthInfo } from '../contract/host.js';
import type { TtlStore } from '../state/state-backend.js';
import { createPluginHost } from './plugin-host.js';
import { importPlugin } from './plugin-source.js';
import type { BuiltinPluginRegistry, PluginOrigin } from './plugin-source.js';
import { validateInstanceShape, validatePluginOptions, validatePluginShape } from './validate-plugin.js';

/** One `plugins[]` entry of the config. */
export interface PluginReference {
  /** Built-in name, file path (relative to the config file) or npm package name. */
  readonly name: string;
  readonly options?: Readonly<Record<string, unknown>>;
  /** Mounts every binding of the plugin on this path instead of the one it declares. */
  readonly path?: string;
  /** Replaces the Origin allow-list of every binding of the plugin (empty = any Origin). */
  readonly allowedOrigins?: readonly string[];
}

/** A binding after config overrides: what the W2 server routes on. */
export interface W2Route {
  readonly plugin: LoadedPlugin;
  readonly path: string;
  readonly subprotocols: readonly string[];
  /** Empty = any Origin. */
  readonly allowedOrigins: readonly string[];
  readonly maxFrameBytes: number;
}

export interface LoadedPlugin {
  readonly name: string;
  readonly origin: PluginOrigin;
  readonly plugin: W2Plugin;
  readonly options: Readonly<Record<string, unknown>>;
  readonly host: W2Host;
  readonly routes: readonly W2Route[];
  /** What init() returned (set before loadPlugins resolves). */
  readonly instance: W2PluginInstance;
  /**
   * Connection ids of this plugin's open sessions: the W2 server adds one before openSession
   * and removes it after onClose; `host.sip` acts only for these.
   */
  readonly sessions: Set<string>;
}

/** Until init() returned, no session can open. */
const NOT_INITIALISED: W2PluginInstance = {
  openSession: () => {
    throw new EpcError('EPC_ERR_INVALID_STATE', 'openSession before the plugin init() returned');
  },
};

export interface LoadPluginsOptions {
  /** Plugins known by name (the composition root's catalogue); default none. */
  readonly builtins?: BuiltinPluginRegistry;
  /** Directory relative file paths are resolved against (the config file's directory). */
  readonly baseDir: string;
  readonly log: Logger;
  readonly sip: W2SipApi;
  readonly observer: W2Observer;
  /** `w2.allowedOrigins`: applies to bindings that declare none. */
  readonly defaultAllowedOrigins?: readonly string[];
  /** `w2.maxFrameBytes`: the ceiling for every binding. */
  readonly maxFrameBytes: number;
  readonly initTimeoutMs?: number;
  /** `mw.domain`, handed to plugins as `host.homeDomain`. */
  readonly homeDomain?: string;
  /** Whether config `webAuth` has issuers, handed to plugins as `host.webAuth`. */
  readonly webAuth?: W2WebAuthInfo;
  /** Ut (core/ut), handed to plugins as `host.ut` when config `ut.xcapRoot` is set. */
  readonly ut?: W2UtCore;
  /** Config `mmtel`, handed to plugins as `host.mmtel`. */
  readonly mmtel?: W2MmtelInfo;
  /** host.state of each plugin: the TTL store of its name (StateBackend.namespace); default one memory store per plugin. */
  readonly stateNamespace?: (name: string) => TtlStore;
}

export interface LoadedPlugins {
  /** In load order. */
  readonly plugins: readonly LoadedPlugin[];
  readonly routes: readonly W2Route[];
  /** Calls close() of every plugin instance, last loaded first. Never rejects; faults are logged. */
  closeAll(): Promise<void>;
}

const DEFAULT_INIT_TIMEOUT_MS = 10_000;

export async function loadPlugins(references: readonly PluginReference[], options: LoadPluginsOptions): Promise<LoadedPlugins> {
  const builtins = options.builtins ?? new Map();
  const prepared: { -readonly [K in keyof LoadedPlugin]: LoadedPlugin[K] }[] = [];
  for (const reference of references) {
    const imported = await importPlugin(reference.name, { builtins, baseDir: options.baseDir });
    const plugin = validatePluginShape(imported.candidate, reference.name);
    const pluginOptions = validatePluginOptions(plugin, reference.options, reference.name);
    const name = plugin.meta.name;
    if (prepared.some((p) => p.name === name)) {
      throw new EpcError('EPC_ERR_PLUGIN_LOAD', `plugin "${reference.name}": a plugin named "${name}" is already loaded`);
    }
    const sessions = new Set<string>();
    const host: W2Host = createPluginHost({
      name, log: options.log.child({ plugin: name }), sip: options.sip, observer: options.observer, sessions,
      ...(options.homeDomain !== undefined ? { homeDomain: options.homeDomain } : {}),
      ...(options.webAuth !== undefined ? { webAuth: options.webAuth } : {}),
      ...(options.ut !== undefined ? { ut: options.ut } : {}),
      ...(options.mmtel !== undefined ? { mmtel: options.mmtel } : {}),
      ...(options.stateNamespace !== undefined ? { stateNamespace: options.stateNamespace } : {}),
    });
    const routes: W2Route[] = [];
    const loaded = { name, origin: imported.origin, plugin, options: pluginOptions, host, routes, instance: NOT_INITIALISED, sessions };
    for (const binding of plugin.bindings) {
      routes.push({
        plugin: loaded,
        path: reference.path ?? binding.path,
        subprotocols: binding.subprotocols,
        allowedOrigins: reference.allowedOrigins ?? binding.allowedOrigins ?? options.defaultAllowedOrigins ?? [],
        maxFrameBytes: Math.min(binding.maxFrameBytes ?? options.maxFrameBytes, options.maxFrameBytes),
      });
    }
    prepared.push(loaded);
  }
  const allRoutes = prepared.flatMap((p) => p.routes);
  refuseDuplicateBindings(allRoutes);

  const initialised: LoadedPlugin[] = [];
  const closeAll = once(async () => {
    for (const loaded of [...initialised].reverse()) {
      try {
        await loaded.instance.close?.();
      } catch (error) {
        loaded.host.log.error({ err: error }, 'plugin close() failed');
      }
    }
  });
  for (const loaded of prepared) {
    try {
      const instance = await withTimeout(
        Promise.resolve().then(() => loaded.plugin.init(loaded.host, loaded.options)),
        options.initTimeoutMs ?? DEFAULT_INIT_TIMEOUT_MS,
        loaded.name,
      );
      loaded.instance = validateInstanceShape(instance, loaded.name);
    } catch (error) {
      await closeAll();
      if (error instanceof EpcError && (error.code === 'EPC_ERR_PLUGIN_INIT_TIMEOUT' || error.code === 'EPC_ERR_PLUGIN_MISSING_HOOK')) throw error;
      throw new EpcError('EPC_ERR_PLUGIN_LOAD', `plugin "${loaded.name}": init() failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
    initialised.push(loaded);
  }
  return { plugins: prepared, routes: allRoutes, closeAll };
}

/** The server dispatches an upgrade by (path, subprotocol): that pair must name one plugin. */
function refuseDuplicateBindings(routes: readonly W2Route[]): void {
  const owners = new Map<string, string>();
  for (const route of routes) {
    for (const subprotocol of route.subprotocols) {
      const key = `${route.path}\u0000${subprotocol}`;
      const owner = owners.get(key);
      if (owner !== undefined) {
        throw new EpcError(
          'EPC_ERR_PLUGIN_DUPLICATE_BINDING',
          `plugins "${owner}" and "${route.plugin.name}" both claim path ${route.path} with subprotocol "${subprotocol}"`,
        );
      }
      owners.set(key, route.plugin.name);
    }
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EpcError('EPC_ERR_PLUGIN_INIT_TIMEOUT', `plugin "${name}": init() did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}
