/**
 * Built-in plugins, by the name the config uses (`plugins: [{ name: sip-ws }]`). This table
 * belongs to the composition root: core never knows a plugin by name (structure-next §1);
 * the runtime hands it to createEpcscfServer. Each entry imports lazily so an unused plugin
 * costs nothing.
 */
import type { BuiltinPluginRegistry, PluginImporter } from '../plugin/plugin-source.js';

export type { BuiltinPluginRegistry, PluginImporter } from '../plugin/plugin-source.js';

export const BUILTIN_PLUGINS: BuiltinPluginRegistry = new Map<string, PluginImporter>([
  ['sip-ws', () => import('../../plugins/sip-ws/index.js')],
  ['jsonrpc-ws', () => import('../../plugins/jsonrpc-ws/index.js')],
  ['xmpp-ws', () => import('../../plugins/xmpp-ws/index.js')],
]);

/** The built-in table plus extra entries (tests, embedders); extras win on a name clash. */
export function extendBuiltinPlugins(extra: Iterable<readonly [string, PluginImporter]>, base: BuiltinPluginRegistry = BUILTIN_PLUGINS): BuiltinPluginRegistry {
  return new Map([...base, ...extra]);
}
