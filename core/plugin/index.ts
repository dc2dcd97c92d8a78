/** The W2 plugin contract (what plugins import) and the loader (what the core uses). */
export { W2_CONTRACT_VERSION, defineW2Plugin } from './contract.js';
export type { JsonSchema, W2Binding, W2Plugin, W2PluginMeta } from './contract.js';
export type { SessionCloseCause, SessionCloseReason, W2Connection, W2Frame, W2Session } from './session.js';
export type {
  W2Host, W2Observer, W2ObserverEvents, W2RefusalReason, W2SipApi, W2SipCore,
} from './host.js';
export { W2_REFUSAL_REASONS } from './host.js';
export { loadPlugins } from './loader.js';
export type { LoadPluginsOptions, LoadedPlugin, LoadedPlugins, PluginReference, W2Route } from './loader.js';
export { BUILTIN_PLUGINS, extendBuiltinPlugins } from './builtin-plugins.js';
export type { BuiltinPluginRegistry, PluginImporter } from './builtin-plugins.js';
export { validateSessionShape } from './validate-plugin.js';
export { unattachedSipApi } from './unattached-sip-api.js';
export { FloodGuard } from './flood-guard.js';
export type { FloodLimits } from './flood-guard.js';
