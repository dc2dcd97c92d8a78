#!/usr/bin/env node
// The `epcscf-media-gw` command (package.json "bin"): our media gateway behind the rtpengine ng
// protocol. Runs the compiled CLI when `npm run build` produced one, else the TypeScript source
// through tsx. EPCSCF_FROM_SOURCE=1 forces the source (a stale dist/ is ignored).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../../dist/media-gw/cli/main.js', import.meta.url);
let cli;
if (process.env.EPCSCF_FROM_SOURCE !== '1' && existsSync(fileURLToPath(compiled))) {
  cli = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('./main.ts', import.meta.url).href);
}
process.exit(await cli.main(process.argv.slice(2)));
