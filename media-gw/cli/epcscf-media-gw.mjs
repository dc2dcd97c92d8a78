#!/usr/bin/env node
// The `epcscf-media-gw` command (package.json "bin"): our media gateway behind the rtpengine ng
// protocol; see launch.mjs.
import { launch } from './launch.mjs';

await launch(new URL('../../dist/media-gw/cli/main.js', import.meta.url), new URL('./main.ts', import.meta.url));
