/**
 * Built-in plugins, by the name the config uses (`plugins: [{ name: sip-ws }]`). The core
 * never imports a plugin statically (architecture.md: "core never knows a plugin by name"
 * beyond this table); each entry imports lazily so an unused plugin costs nothing.
 */

/** Returns the plugin module (whose default export is the plugin) or the plugin itself. */
export type PluginImporter = () => Promise<unknown>;

export type BuiltinPluginRegistry = ReadonlyMap<string, PluginImporter>;

function importRelative(path: string): PluginImporter {
  // A computed specifier: the plugin folders are built by other work and may not exist yet;
  // a missing one fails at load time with EPC_ERR_PLUGIN_LOAD, not at compile time.
  const url = new URL(path, import.meta.url).href;
  return () => import(url) as Promise<unknown>;
}

export const BUILTIN_PLUGINS: BuiltinPluginRegistry = new Map([
  ['sip-ws', importRelative('../../plugins/sip-ws/index.js')],
  ['jsonrpc-ws', importRelative('../../plugins/jsonrpc-ws/index.js')],
  ['xmpp-ws', importRelative('../../plugins/xmpp-ws/index.js')],
]);

/** The built-in table plus extra entries (tests, embedders); extras win on a name clash. */
export function extendBuiltinPlugins(extra: Iterable<readonly [string, PluginImporter]>, base: BuiltinPluginRegistry = BUILTIN_PLUGINS): BuiltinPluginRegistry {
  return new Map([...base, ...extra]);
}
