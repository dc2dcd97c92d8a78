// Issue #12 part 1: the contract is the only door. A plugin (plugins/*, examples/plugin-*)
// imports nothing of epcscf but core/contract/index.ts — the `epcscf/plugin` package export —
// so whatever a built-in plugin can do, a third-party plugin can do from the package.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const door = join(root, 'core', 'contract', 'index.ts');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const pluginFolders = [
  ...readdirSync(join(root, 'plugins')).map((name) => join(root, 'plugins', name)),
  ...readdirSync(join(root, 'examples')).filter((name) => name.startsWith('plugin-')).map((name) => join(root, 'examples', name)),
];

t.test('issue 12 #1: plugins and example plugins import epcscf only through core/contract/index.ts (epcscf/plugin)', async (t) => {
  const strays: string[] = [];
  for (const file of pluginFolders.flatMap(sources)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) {
      const target = resolve(dirname(file), (match[1] ?? '').replace(/\.js$/, '.ts'));
      const inOwnFolder = pluginFolders.some((folder) => file.startsWith(folder + '/') && target.startsWith(folder + '/'));
      if (!inOwnFolder && target !== door) strays.push(`${relative(root, file)} imports ${match[1]}`);
    }
  }
  t.ok(pluginFolders.length >= 4, 'sip-ws, jsonrpc-ws and the example plugins are checked');
  t.same(strays, [], 'no import past the contract');
});

t.test('issue 12 #1: core names no plugin (the built-in catalogue lives in the composition root, core/cli)', async (t) => {
  const namers = sources(join(root, 'core'))
    .filter((file) => !file.startsWith(join(root, 'core', 'cli') + '/'))
    .filter((file) => /['"][./]*plugins\/|examples\/plugin-/.test(readFileSync(file, 'utf8')))
    .map((file) => relative(root, file));
  t.same(namers, []);
});
