/**
 * Load-time checks of a plugin's default export, in the Janus order: contract version first
 * (nothing else can be trusted if it was written against another contract), then the
 * mandatory hooks, then the manifest data, then the options. Each refusal is a coded EpcError.
 */
import { EpcError } from '../errors.js';
import { compileSchema, readRepositorySchema } from '../config/json-schema.js';
import type { SchemaCheck } from '../config/json-schema.js';
import { W2_CONTRACT_VERSION } from '../contract/contract.js';
import type { W2Plugin, W2PluginInstance } from '../contract/contract.js';
import type { W2Session } from '../contract/session.js';

let manifestCheck: SchemaCheck | undefined;

/** Narrows an imported default export to a W2Plugin or throws the matching EPC_ERR_PLUGIN_* code. */
export function validatePluginShape(candidate: unknown, label: string): W2Plugin {
  if (typeof candidate !== 'object' || candidate === null) {
    throw new EpcError('EPC_ERR_PLUGIN_LOAD', `plugin "${label}": the default export is not a plugin object`);
  }
  const record = candidate as Record<string, unknown>;
  const meta = record['meta'] as Record<string, unknown> | undefined;
  const contract = typeof meta === 'object' && meta !== null ? meta['contract'] : undefined;
  if (contract !== W2_CONTRACT_VERSION) {
    throw new EpcError(
      'EPC_ERR_PLUGIN_CONTRACT_MISMATCH',
      `plugin "${label}": meta.contract is ${JSON.stringify(contract) ?? 'missing'}, this epcscf implements W2 contract ${W2_CONTRACT_VERSION}`
        + ` (contract 2: init(host, options) returns the instance { openSession(conn), close() }; import from 'epcscf/plugin')`,
    );
  }
  if (typeof record['init'] !== 'function') {
    throw new EpcError('EPC_ERR_PLUGIN_MISSING_HOOK', `plugin "${label}": init(host, options) is missing (it returns the instance with openSession)`);
  }
  for (const moved of ['openSession', 'close'] as const) {
    if (record[moved] !== undefined) {
      // Contract 1 put these on the plugin object; a half-migrated plugin would silently lose them.
      throw new EpcError('EPC_ERR_PLUGIN_LOAD', `plugin "${label}": ${moved}() belongs to the instance init() returns, not to the plugin object`);
    }
  }
  manifestCheck ??= compileSchema(readRepositorySchema('plugin-manifest.schema.json'));
  // Validate a data-only projection: the manifest schema must not fill defaults into the plugin.
  const problems = manifestCheck(structuredClone({
    meta: record['meta'], bindings: record['bindings'],
    ...(record['optionsSchema'] === undefined ? {} : { optionsSchema: record['optionsSchema'] }),
  }));
  if (problems.length > 0) {
    throw new EpcError('EPC_ERR_PLUGIN_LOAD', `plugin "${label}": invalid manifest: ${problems.join('; ')}`);
  }
  return candidate as W2Plugin;
}

/**
 * Validates the config's `options` for a plugin against its optionsSchema and returns them with
 * schema defaults filled in (a copy: the config object is not modified).
 */
export function validatePluginOptions(plugin: W2Plugin, options: unknown, label: string): Record<string, unknown> {
  const copy: unknown = structuredClone(options ?? {});
  if (plugin.optionsSchema === undefined) {
    if (typeof copy !== 'object' || copy === null || Array.isArray(copy)) {
      throw new EpcError('EPC_ERR_PLUGIN_OPTIONS_INVALID', `plugin "${label}": options: must be object`);
    }
    return copy as Record<string, unknown>;
  }
  let check: SchemaCheck;
  try {
    check = compileSchema(plugin.optionsSchema, 'options');
  } catch (error) {
    throw new EpcError('EPC_ERR_PLUGIN_LOAD', `plugin "${label}": optionsSchema does not compile: ${(error as Error).message}`, { cause: error });
  }
  const problems = check(copy);
  if (problems.length > 0) {
    throw new EpcError('EPC_ERR_PLUGIN_OPTIONS_INVALID', `plugin "${label}": ${problems.join('; ')}`);
  }
  return copy as Record<string, unknown>;
}

/** What init() returned must be an instance with openSession() (and close() if any). */
export function validateInstanceShape(instance: unknown, pluginName: string): W2PluginInstance {
  if (typeof instance !== 'object' || instance === null || typeof (instance as Record<string, unknown>)['openSession'] !== 'function') {
    throw new EpcError('EPC_ERR_PLUGIN_MISSING_HOOK', `plugin "${pluginName}": init() returned no instance with openSession(conn)`);
  }
  const close = (instance as Record<string, unknown>)['close'];
  if (close !== undefined && typeof close !== 'function') {
    throw new EpcError('EPC_ERR_PLUGIN_MISSING_HOOK', `plugin "${pluginName}": the instance's close must be a function`);
  }
  return instance as W2PluginInstance;
}

/** The object openSession() returned must carry both mandatory session hooks. */
export function validateSessionShape(session: unknown, pluginName: string): W2Session {
  if (typeof session !== 'object' || session === null) {
    throw new EpcError('EPC_ERR_PLUGIN_MISSING_HOOK', `plugin "${pluginName}": openSession() returned no session object`);
  }
  const record = session as Record<string, unknown>;
  for (const hook of ['onFrame', 'onClose'] as const) {
    if (typeof record[hook] !== 'function') {
      throw new EpcError('EPC_ERR_PLUGIN_MISSING_HOOK', `plugin "${pluginName}": the session from openSession() has no ${hook}() hook`);
    }
  }
  return session as W2Session;
}
