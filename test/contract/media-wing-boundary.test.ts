// Issue #15 / structure-next §2: a one-way media wing. media-gw (the SDP rules, the ng protocol
// both ends, the gateway and its launcher) imports nothing of core but the error table
// (core/errors.ts); core reaches media-gw only through a folder's index.ts (media-gw/sdp,
// media-gw/ng, media-gw/gateway); the dev IMS core is an example the composition root (core/cli)
// loads, never imported by the rest of core.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const core = join(root, 'core');
const mediaGw = join(root, 'media-gw');
const errorTable = join(core, 'errors.ts');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.(ts|mjs)$/.test(entry.name) ? [path] : [];
  });
}

interface Import {
  readonly file: string;
  readonly specifier: string;
  /** The file imported (a `.js` specifier names its `.ts` source). */
  readonly target: string;
}

/** Every relative import of a file: static (`from '…'`, `import '…'`, `export … from '…'`) and dynamic (`import('…')`). */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.[^'"]+)['"]/g)].map((match) => {
    const specifier = match[1] ?? '';
    return { file, specifier, target: resolve(dirname(file), specifier.replace(/\.js$/, '.ts')) };
  });
}

const inside = (folder: string, path: string): boolean => path.startsWith(folder + '/');
const describe = (found: Import): string => `${relative(root, found.file)} imports ${found.specifier}`;

t.test('structure-next §2: media-gw imports nothing of core but core/errors.ts (its launcher not core/cli either)', async (t) => {
  const files = sources(mediaGw);
  const imports = files.flatMap(importsOf);
  const strays = imports.filter((found) => !inside(mediaGw, found.target) && found.target !== errorTable).map(describe);
  t.ok(files.length > 50, `media-gw scanned (${files.length} files)`);
  t.ok(imports.some((found) => found.target === errorTable), 'the scan sees the one allowed import (core/errors.ts)');
  t.ok(files.some((file) => file.endsWith('epcscf-media-gw.mjs')), 'the launcher is scanned');
  t.same(strays, [], 'media-gw does not reach into core');
});

t.test('structure-next §2: core imports media-gw only through a folder index (media-gw/sdp, media-gw/ng, media-gw/gateway)', async (t) => {
  const imports = sources(core).flatMap(importsOf).filter((found) => inside(mediaGw, found.target));
  const strays = imports.filter((found) => basename(found.target) !== 'index.ts').map(describe);
  t.ok(imports.some((found) => found.target === join(mediaGw, 'sdp', 'index.ts')), 'the IMS-ALG reads SDP through media-gw/sdp/index.ts');
  t.ok(imports.some((found) => found.target === join(mediaGw, 'ng', 'index.ts')), 'the IMS-ALG drives a gateway through media-gw/ng/index.ts');
  t.same(strays, [], 'no import of a media-gw file past its folder index');
});

t.test('structure-next §2: only the composition root (core/cli) loads an example (the dev IMS core)', async (t) => {
  const examples = join(root, 'examples');
  const cli = join(core, 'cli');
  const imports = sources(core).flatMap(importsOf).filter((found) => inside(examples, found.target));
  const strays = imports.filter((found) => !inside(cli, found.file)).map(describe);
  t.ok(imports.some((found) => found.target === join(examples, 'dev-ims-core', 'index.ts')), 'core/cli loads examples/dev-ims-core');
  t.same(strays, [], 'no other core code imports examples/');
});
