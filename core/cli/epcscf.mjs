#!/usr/bin/env node
// The `epcscf` command (package.json "bin") and `npm start`; see launch.mjs.
import { launch } from './launch.mjs';

await launch(new URL('../../dist/core/cli/main.js', import.meta.url), new URL('./main.ts', import.meta.url));
