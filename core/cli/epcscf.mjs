#!/usr/bin/env node
// The `epcscf` command (package.json "bin"); see launch.mjs. (`npm start` is the demo: examples/quickstart.)
import { launch } from './launch.mjs';

await launch(new URL('../../dist/core/cli/main.js', import.meta.url), new URL('./main.ts', import.meta.url));
