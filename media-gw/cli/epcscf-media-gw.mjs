#!/usr/bin/env node
// The `epcscf-media-gw` command (package.json "bin"): our media gateway behind the rtpengine ng
// protocol; see core/cli/launch.mjs.
import { launch } from '../../core/cli/launch.mjs';

await launch(new URL('../../dist/media-gw/cli/main.js', import.meta.url), new URL('./main.ts', import.meta.url));
