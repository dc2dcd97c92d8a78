/**
 * JsSIP for the browser: the npm package ships no browser bundle (real-peers.md), so the tests
 * bundle lib/JsSIP.js with esbuild into an IIFE exposing `window.JsSIP`. Built in memory once
 * per process (about a second).
 */
import { build } from 'esbuild';
import { createRequire } from 'node:module';

let bundle: Promise<string> | undefined;

export function jssipBrowserBundle(): Promise<string> {
  bundle ??= (async () => {
    const entry = createRequire(import.meta.url).resolve('jssip/lib/JsSIP.js');
    const result = await build({
      entryPoints: [entry], bundle: true, format: 'iife', globalName: 'JsSIP', minify: true,
      platform: 'browser', write: false, logLevel: 'silent',
    });
    const file = result.outputFiles[0];
    if (file === undefined) throw new Error('esbuild produced no JsSIP bundle');
    return file.text;
  })();
  return bundle;
}
