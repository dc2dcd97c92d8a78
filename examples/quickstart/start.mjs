#!/usr/bin/env node
// `npm start` (package.json "scripts"): the epcscf demo (examples/quickstart/main.ts); see
// core/cli/launch.mjs for how it runs (compiled when built, else from source through tsx).
import { launch } from '../../core/cli/launch.mjs';

await launch(new URL('../../dist/examples/quickstart/main.js', import.meta.url), new URL('./main.ts', import.meta.url));
