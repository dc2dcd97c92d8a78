/** The W2 plugin contract (what plugins import) and the loader (what the core uses). */
export { W2_CONTRACT_VERSION, defineW2Plugin } from '../contract/contract.js';
export type { JsonSchema, W2Binding, W2Plugin, W2PluginMeta } from '../contract/contract.js';
export type { SessionCloseCause, SessionCloseReason, W2Connection, W2Frame, W2Session } from '../contract/session.js';
export type {
  W2Host, W2Observer, W2ObserverEvents, W2SipApi, W2SipCore,
} from '../contract/host.js';
export { loadPlugins } from './loader.js';
export type { LoadPluginsOptions, LoadedPlugin, LoadedPlugins, PluginReference, W2Route } from './loader.js';
export { BUILTIN_PLUGINS, extendBuiltinPlugins } from '../cli/builtin-plugins.js';
export type { BuiltinPluginRegistry, PluginImporter } from '../cli/builtin-plugins.js';
export { validateSessionShape } from './validate-plugin.js';
export { unattachedSipApi } from './unattached-sip-api.js';
export { FloodGuard } from '../contract/flood-guard.js';
export type { FloodLimits } from '../contract/flood-guard.js';
