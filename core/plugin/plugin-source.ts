/**
 * Where a configured plugin comes from. One `name` field covers the three sources:
 *   - a built-in name ('sip-ws'), looked up in the registry first;
 *   - a file path ('./my-plugin.js', '../x/index.js', '/abs/path.js', 'file:///...'),
 *     relative to the directory of the config file;
 *   - anything else is an npm package name ('@acme/epcscf-plugin-foo'), imported as is.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EpcError } from '../errors.js';

/** Returns the plugin module (whose default export is the plugin) or the plugin itself. */
export type PluginImporter = () => Promise<unknown>;

/**
 * Plugins known by name (`plugins: [{ name: sip-ws }]`). Core names no plugin: the composition
 * root (core/cli/builtin-plugins.ts) hands its catalogue to the loader; tests hand their own.
 */
export type BuiltinPluginRegistry = ReadonlyMap<string, PluginImporter>;

export type PluginOrigin = 'builtin' | 'file' | 'package';

export interface ImportedPlugin {
  readonly origin: PluginOrigin;
  /** What was imported (a file URL, a package name, or the built-in name). */
  readonly specifier: string;
  /** The module's default export (or the value itself when the importer returned a plugin). */
  readonly candidate: unknown;
}

export function pluginOriginOf(name: string, builtins: BuiltinPluginRegistry): PluginOrigin {
  if (builtins.has(name)) return 'builtin';
  if (name.startsWith('./') || name.startsWith('../') || name.startsWith('file:') || isAbsolute(name)) return 'file';
  return 'package';
}

export async function importPlugin(name: string, options: { builtins: BuiltinPluginRegistry; baseDir: string }): Promise<ImportedPlugin> {
  const origin = pluginOriginOf(name, options.builtins);
  const specifier = origin === 'file' && !name.startsWith('file:')
    ? pathToFileURL(resolve(options.baseDir, name)).href
    : name;
  let loaded: unknown;
  try {
    const builtin = options.builtins.get(name);
    loaded = builtin !== undefined ? await builtin() : await import(specifier);
  } catch (error) {
    throw new EpcError('EPC_ERR_PLUGIN_LOAD', `plugin "${name}": cannot import ${origin} ${specifier}: ${(error as Error).message}`, { cause: error });
  }
  if (isModuleNamespace(loaded) && !('default' in loaded)) {
    throw new EpcError('EPC_ERR_PLUGIN_LOAD', `plugin "${name}": ${specifier} has no default export`);
  }
  return { origin, specifier, candidate: defaultExportOf(loaded) };
}

function isModuleNamespace(value: unknown): value is object {
  return typeof value === 'object' && value !== null
    && (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'Module';
}

/** A module namespace gives its default export; a plain plugin object (from a registry) is itself. */
function defaultExportOf(loaded: unknown): unknown {
  if (typeof loaded === 'object' && loaded !== null && 'default' in loaded) {
    return (loaded as { default: unknown }).default;
  }
  return loaded;
}
