// How `epcscf-media-gw` starts (package.json "bin"): the compiled CLI when `npm run build`
// produced one, else the TypeScript source through tsx, so the command works on a fresh checkout
// without a build. EPCSCF_FROM_SOURCE=1 forces the source (a dist/ left over from an older build
// is ignored). The gateway keeps its own copy of core/cli/launch.mjs: its launcher imports
// nothing of core's (structure-next §2; test/contract/media-wing-boundary.test.ts).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Loads the CLI module, runs its `main(argv)` and exits with its status. */
export async function launch(compiled, source) {
  let cli;
  if (process.env.EPCSCF_FROM_SOURCE !== '1' && existsSync(fileURLToPath(compiled))) {
    cli = await import(compiled.href);
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    cli = await import(source.href);
  }
  process.exit(await cli.main(process.argv.slice(2)));
}
