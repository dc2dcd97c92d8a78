export { loadConfigFile, resolveConfig } from './load-config.js';
export type { ResolveConfigOptions } from './load-config.js';
export type { EpcscfConfig, HostPort, LogLevel, MmtelConfig, MwConfig, MwListenPoint, MwTransport, TlsFiles, W2Config, W2Limits } from './config-types.js';
export { ENV_OVERRIDE_VARIABLES, applyEnvOverrides } from './env-overrides.js';
export type { Environment } from './env-overrides.js';
export { parseHostPort, parseMwListen } from './listen-address.js';
export { configPathFromArgs } from './cli-args.js';
