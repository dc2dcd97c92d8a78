/**
 * The W2 plugin contract (docs/architecture.md, "The plugin contract"). This file and its
 * siblings `session.ts` and `host.ts` are the only part of core a plugin author must read.
 *
 * A plugin is one default-exported object. Everything the loader checks (meta, bindings,
 * options schema) is plain data, read and validated before any plugin code runs (the
 * kamailio/Janus "manifest first" rule). `init(host, options)` returns the plugin's per-load
 * instance, which holds whatever state the load needs (contract 2). Hook order, fixed:
 *   boot:        validate manifest → validate options → init() (with a timeout) → listen
 *   connection:  instance.openSession() → onFrame* / onSipRequest* → onClose exactly once
 *   shutdown:    onClose({cause:'shutdown'}) for every session → instance.close() in reverse load order
 */
import type { W2Host } from './host.js';
import type { W2Connection, W2Session } from './session.js';

/**
 * The integer version of this contract. The loader refuses a plugin whose `meta.contract`
 * is not exactly this value (the Janus plugin-API rule): bump it on any breaking change to
 * the files of core/contract/.
 *   1: openSession(conn, host) and close() on the plugin object; init() returned nothing.
 *   2: init(host, options) returns the per-load instance { openSession(conn), close?() };
 *      host.sip acts only for the plugin's own sessions; host.ua creates virtual UEs.
 * Additions a contract-2 plugin may ignore keep the number (host.homeDomain, host.ut,
 * host.mmtel, host.state): a plugin written before them runs unchanged.
 */
export const W2_CONTRACT_VERSION = 2;

export interface W2PluginMeta {
  /** Unique id (lower-case, `[a-z0-9][a-z0-9-]*`): also the log namespace. e.g. 'sip-ws'. */
  readonly name: string;
  /** The plugin's own version (semver), for logs and admin views. Unrelated to `contract`. */
  readonly version: string;
  /** MUST equal W2_CONTRACT_VERSION, else the loader refuses the plugin. */
  readonly contract: number;
  readonly description?: string;
}

/**
 * One WebSocket endpoint the plugin serves. The core, not the plugin, owns the HTTP server and
 * the upgrade: it matches `path`, picks a subprotocol, checks Origin and frame size, and only
 * then calls `openSession`. No two loaded plugins may claim the same (path, subprotocol).
 */
export interface W2Binding {
  /** URL path the upgrade must target, e.g. '/sip'. Starts with '/'. */
  readonly path: string;
  /**
   * Sec-WebSocket-Protocol tokens this binding accepts, in preference order, e.g. ['sip']
   * (RFC 7118 §4.1) or ['xmpp'] (RFC 7395 §3.1). The client MUST offer one of them: the core
   * refuses an upgrade that offers none (RFC 6455 §4.2.2: the server never picks a value the
   * client did not offer, and a SIP/XMPP endpoint cannot run without one).
   */
  readonly subprotocols: readonly string[];
  /**
   * Origins allowed to open this binding (the prior agreement with a WWSF, TS 24.371 / R-WS-4),
   * e.g. ['https://wwsf.example.com']. Omitted: the server-wide `w2.allowedOrigins` applies.
   * An empty list allows any Origin.
   */
  readonly allowedOrigins?: readonly string[];
  /** Largest message accepted on this binding, in bytes; a bigger one closes with 1009 (RFC 6455 §7.4.1). */
  readonly maxFrameBytes?: number;
}

/** A JSON Schema object (draft 2020-12 subset that ajv understands). */
export type JsonSchema = Readonly<Record<string, unknown>>;

export interface W2Plugin<Opts = Record<string, unknown>> {
  readonly meta: W2PluginMeta;
  readonly bindings: readonly W2Binding[];
  /**
   * JSON Schema for this plugin's `options` in the config. The loader validates (and fills
   * `default`s) before `init`; invalid options refuse the plugin with EPC_ERR_PLUGIN_OPTIONS_INVALID.
   */
  readonly optionsSchema?: JsonSchema;
  /**
   * App start, mandatory: returns this load's instance (its options, caches, timers live there,
   * not in module globals, so two servers in one process stay apart). Reject to abort boot.
   * Runs under the loader's init timeout.
   */
  init(host: W2Host, options: Opts): W2PluginInstance | Promise<W2PluginInstance>;
}

/** One loaded plugin: what `init` returned. */
export interface W2PluginInstance {
  /**
   * A client connected on one of this plugin's bindings. Mandatory. The returned session MUST
   * have `onFrame` and `onClose`. Throwing here refuses the connection with 1011.
   */
  openSession(conn: W2Connection): W2Session | Promise<W2Session>;
  /** App stop: called once, in reverse load order, after every session got its onClose. */
  close?(): void | Promise<void>;
}

/**
 * Identity at runtime (it freezes the top-level object); its value is type inference for
 * `Opts` and `conn`/`frame` parameters, like fastify-plugin. The loader does the real checks.
 */
export function defineW2Plugin<Opts = Record<string, unknown>>(plugin: W2Plugin<Opts>): W2Plugin<Opts> {
  return Object.freeze(plugin);
}
