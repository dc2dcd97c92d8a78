/**
 * Builds the browser WIC (examples/wic-web) into `outDir`: index.html, styles.css and app.js —
 * src/main.ts bundled by esbuild with JsSIP, stanza.js and the JSON-RPC client inside (one
 * IIFE, no module loader, no CDN). The demo WWSF serves `outDir`; about a second on a laptop.
 */
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../../core/cli/package-root.js';

// The sources, from the package root: a build (dist/) has no copy of src/ and public/.
const HERE = join(packageRoot(), 'examples', 'wic-web');

export async function buildWic(outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [join(HERE, 'src', 'main.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true, format: 'iife', platform: 'browser', target: ['chrome110', 'firefox110', 'safari16'],
    minify: true, sourcemap: false, logLevel: 'silent', legalComments: 'none',
    // stanza.js reads `global` (Node style); the browser's is globalThis.
    define: { global: 'globalThis' },
  });
  await copyFile(join(HERE, 'public', 'index.html'), join(outDir, 'index.html'));
  await copyFile(join(HERE, 'public', 'styles.css'), join(outDir, 'styles.css'));
}
