#!/usr/bin/env node
// The `epcscf` command (package.json "bin") and `npm start`. Runs the compiled CLI when
// `npm run build` produced one, else the TypeScript source through tsx, so that
// `npx epcscf --config FILE` works on a fresh checkout without a build.
// EPCSCF_FROM_SOURCE=1 forces the source (a dist/ left over from an older build is ignored).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../../dist/core/cli/main.js', import.meta.url);
let cli;
if (process.env.EPCSCF_FROM_SOURCE !== '1' && existsSync(fileURLToPath(compiled))) {
  cli = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('./main.ts', import.meta.url).href);
}
process.exit(await cli.main(process.argv.slice(2)));
