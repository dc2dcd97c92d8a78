/**
 * stanza.js for the browser: the npm package ships CommonJS only, so the tests bundle its index
 * with esbuild into an IIFE exposing `window.Stanza` (the package's "browser" field swaps in its
 * browser platform: the page's own WebSocket and RTCPeerConnection). Built in memory once per
 * process, as jssip-bundle.ts does for JsSIP.
 */
import { build } from 'esbuild';
import { createRequire } from 'node:module';

let bundle: Promise<string> | undefined;

export function stanzaBrowserBundle(): Promise<string> {
  bundle ??= (async () => {
    const entry = createRequire(import.meta.url).resolve('stanza');
    const result = await build({
      entryPoints: [entry], bundle: true, format: 'iife', globalName: 'Stanza', minify: true,
      platform: 'browser', write: false, logLevel: 'silent', define: { global: 'globalThis' },
    });
    const file = result.outputFiles[0];
    if (file === undefined) throw new Error('esbuild produced no stanza.js bundle');
    return file.text;
  })();
  return bundle;
}
