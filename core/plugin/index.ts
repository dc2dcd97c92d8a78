/**
 * The W2 plugin loader and its checks (what the core uses). What a plugin may use is
 * core/contract/ (package export `epcscf/plugin`); the built-in catalogue is core/cli's.
 */
export { loadPlugins } from './loader.js';
export type { LoadPluginsOptions, LoadedPlugin, LoadedPlugins, PluginReference, W2Route } from './loader.js';
export type { BuiltinPluginRegistry, PluginImporter } from './plugin-source.js';
export { validateInstanceShape, validateSessionShape } from './validate-plugin.js';
export { createPluginHost } from './plugin-host.js';
export { unattachedSipApi } from './unattached-sip-api.js';
