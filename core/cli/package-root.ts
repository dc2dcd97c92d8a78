/** The epcscf package directory, from source (core/cli) or from a build (dist/core/cli). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EpcError } from '../errors.js';

export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'schemas'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new EpcError('EPC_ERR_INSTALLATION', 'epcscf: cannot find the package directory (package.json + schemas/)');
    dir = parent;
  }
}
