/**
 * Builds the browser WIC (examples/wic-web) into `outDir`: index.html plus its bundled script
 * and styles. Placeholder until the WIC lands (issue #13); the demo WWSF serves `outDir`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function buildWic(outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'index.html'), '<!doctype html><title>epcscf WIC</title><p>The WIC is being built.</p>\n');
}
